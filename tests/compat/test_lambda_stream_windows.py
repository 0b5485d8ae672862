"""Tumbling windows on DynamoDB stream event source mappings
(TumblingWindowInSeconds) through unmodified boto3: the window's state
passes from one invocation to the next, a final invocation with
isFinalInvokeForWindow hands over the total when the window is over, a
state over 1 MB ends the window early, a response without a state is a
failed invocation, and the open window survives kill -9.

The module has its own server because it moves the clock."""

import io
import json
import os
import signal
import time
import urllib.request
import zipfile

import pytest
from botocore.exceptions import ClientError
from compat_util import DROP_PY, advance_clock
from conftest import _CONFIG, _session, _start_nimbus, own_nimbus, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
WINDOW = 60

# Logs every invocation to the test's file OUT_NAME (through its file drop:
# functions run isolated); counts records and their keys in the state. A
# record with pk "big" makes the state larger than 1 MB; with NO_STATE set
# the function answers without a state.
HANDLER = DROP_PY + """
import json, os
def handler(event, context):
    state = event.get("state") or {}
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    drop(os.environ["OUT_NAME"], json.dumps({
        "final": event["isFinalInvokeForWindow"], "early": event["isWindowTerminatedEarly"],
        "window": event["window"], "shard": event["shardId"], "arn": event["eventSourceARN"],
        "count": state.get("count", 0), "seen": state.get("keys", []), "keys": keys,
    }) + "\\n", append=True)
    if os.environ.get("NO_STATE"):
        return {"batchItemFailures": []}
    if event["isFinalInvokeForWindow"]:
        return {}
    new = {"count": state.get("count", 0) + len(keys), "keys": state.get("keys", []) + keys}
    if "big" in keys:
        new["padding"] = "x" * (1024 * 1024 + 1)
    return {"state": new}
"""


@pytest.fixture(scope="module")
def endpoint():
    yield from own_nimbus()


@pytest.fixture(scope="module")
def lam(endpoint):
    return _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="module")
def ddb(endpoint):
    return _session().client("dynamodb", endpoint_url=endpoint, config=_CONFIG)


def _zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", HANDLER)
    return buf.getvalue()


def _make(lam, ddb, tmp_path, drop_url, env=None, table=None, name=None):
    table = table or unique_name("windowed")
    ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    stream = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    out = tmp_path / f"{table}.jsonl"
    name = name or unique_name("aggregator")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": _zip()},
        Environment={"Variables": {"OUT_URL": drop_url, "OUT_NAME": out.name, **(env or {})}},
    )
    return table, stream, name, out


def _calls(out, pred, timeout=20):
    """The logged invocations once `pred` holds of them (or at the timeout)."""
    deadline = time.time() + timeout
    got = []
    while time.time() < deadline:
        got = [json.loads(l) for l in out.read_text().splitlines()] if out.exists() else []
        if pred(got):
            return got
        time.sleep(0.1)
    return got


def _to_window_start(endpoint):
    """Moves the clock to one second after the next window boundary, so the
    puts that follow land in one window."""
    with urllib.request.urlopen(endpoint + "/_nimbus/clock", timeout=5) as r:
        now_ms = json.loads(r.read())["now"]
    to_next = WINDOW * 1000 - now_ms % (WINDOW * 1000)
    advance_clock(endpoint, (to_next + 1000) / 1000)


def _put(ddb, table, *keys):
    for k in keys:
        ddb.put_item(TableName=table, Item={"pk": {"S": k}})


def test_state_passes_between_invocations_and_final_invocation_has_the_total(endpoint, lam, ddb, tmp_path, file_drop):
    table, stream, name, out = _make(lam, ddb, tmp_path, file_drop(tmp_path))
    m = lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON", BatchSize=1,
        TumblingWindowInSeconds=WINDOW,
    )
    assert m["TumblingWindowInSeconds"] == WINDOW
    assert lam.get_event_source_mapping(UUID=m["UUID"])["TumblingWindowInSeconds"] == WINDOW
    _to_window_start(endpoint)
    _put(ddb, table, "a", "b", "c")
    got = _calls(out, lambda c: len(c) >= 3)
    assert [c["keys"] for c in got] == [["a"], ["b"], ["c"]]
    # Each invocation gets the state the one before returned.
    assert [c["count"] for c in got] == [0, 1, 2]
    assert [c["seen"] for c in got] == [[], ["a"], ["a", "b"]]
    assert all(not c["final"] and not c["early"] for c in got)
    assert got[0]["arn"] == stream and got[0]["shard"].startswith("shardId-")
    window = got[0]["window"]
    assert all(c["window"] == window for c in got)
    start = time.strptime(window["start"], "%Y-%m-%dT%H:%M:%SZ")
    end = time.strptime(window["end"], "%Y-%m-%dT%H:%M:%SZ")
    assert start.tm_sec == 0 and (time.mktime(end) - time.mktime(start)) == WINDOW
    time.sleep(0.5)
    assert len(_calls(out, lambda c: False, timeout=0.1)) == 3, "no final invocation before the window ends"

    advance_clock(endpoint, WINDOW)
    got = _calls(out, lambda c: len(c) >= 4)
    final = got[3]
    assert final["final"] is True and final["early"] is False
    assert final["keys"] == [] and final["count"] == 3 and final["seen"] == ["a", "b", "c"]
    assert final["window"] == window

    # The next window starts with a fresh state.
    _put(ddb, table, "d")
    got = _calls(out, lambda c: len(c) >= 5)
    assert got[4]["keys"] == ["d"] and got[4]["count"] == 0 and got[4]["final"] is False
    assert got[4]["window"]["start"] == window["end"]
    time.sleep(0.3)
    assert len(_calls(out, lambda c: False, timeout=0.1)) == 5


def test_a_record_of_the_next_window_closes_the_open_one(endpoint, lam, ddb, tmp_path, file_drop):
    table, stream, name, out = _make(lam, ddb, tmp_path, file_drop(tmp_path))
    lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON", BatchSize=100,
        TumblingWindowInSeconds=WINDOW, Enabled=False,
    )
    _to_window_start(endpoint)
    _put(ddb, table, "w1a", "w1b")
    advance_clock(endpoint, WINDOW)
    _put(ddb, table, "w2a")
    # Enabled only now: the first read sees both windows' records, and a
    # batch must not span them.
    uuid = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"][0]["UUID"]
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    got = _calls(out, lambda c: len(c) >= 3)
    assert [(c["keys"], c["final"], c["count"]) for c in got[:3]] == [
        (["w1a", "w1b"], False, 0),
        ([], True, 2),
        (["w2a"], False, 0),
    ]
    assert got[1]["window"] == got[0]["window"]
    assert got[2]["window"]["start"] == got[0]["window"]["end"]


def test_a_state_over_1_mb_ends_the_window_early(endpoint, lam, ddb, tmp_path, file_drop):
    table, stream, name, out = _make(lam, ddb, tmp_path, file_drop(tmp_path))
    lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON", BatchSize=1,
        TumblingWindowInSeconds=WINDOW,
    )
    _to_window_start(endpoint)
    _put(ddb, table, "x", "big", "y")
    got = _calls(out, lambda c: len(c) >= 4)
    assert [(c["keys"], c["final"], c["early"], c["count"]) for c in got[:4]] == [
        (["x"], False, False, 0),
        (["big"], False, False, 1),
        # The early end hands over the oversized state ...
        ([], True, True, 2),
        # ... and the same window goes on with a fresh one.
        (["y"], False, False, 0),
    ]
    assert len({json.dumps(c["window"]) for c in got[:4]}) == 1


def test_a_response_without_state_is_a_failed_invocation(endpoint, lam, ddb, tmp_path, file_drop):
    table, stream, name, out = _make(lam, ddb, tmp_path, file_drop(tmp_path), env={"NO_STATE": "1"})
    m = lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON", BatchSize=1,
        TumblingWindowInSeconds=WINDOW, MaximumRetryAttempts=2,
    )
    _put(ddb, table, "s1")
    # One try and two retries, then the record is given up on.
    got = _calls(out, lambda c: len(c) >= 3)
    assert [c["keys"] for c in got[:3]] == [["s1"]] * 3
    deadline = time.time() + 10
    result = ""
    while time.time() < deadline:
        result = lam.get_event_source_mapping(UUID=m["UUID"])["LastProcessingResult"]
        if "state" in result:
            break
        time.sleep(0.1)
    assert result == "PROBLEM: Function response has no state for its tumbling window"


def test_tumbling_window_bad_input(lam, ddb, tmp_path, endpoint, file_drop):
    table, stream, name, out = _make(lam, ddb, tmp_path, file_drop(tmp_path))
    # (boto3 refuses negative values itself, before sending.)
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(
            EventSourceArn=stream, FunctionName=name, StartingPosition="LATEST", TumblingWindowInSeconds=901
        )
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"] == (
        "1 validation error detected: Value '901' at 'tumblingWindowInSeconds' failed to satisfy "
        "constraint: Member must have value less than or equal to 900"
    )
    sqs = _session().client("sqs", endpoint_url=endpoint, config=_CONFIG)
    queue = sqs.create_queue(QueueName=unique_name("windowless"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, TumblingWindowInSeconds=10)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert e.value.response["Error"]["Message"] == "Unsupported parameter for SQS event source: TumblingWindowInSeconds"
    # 0 means no windows: events carry no window members.
    m = lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=name, StartingPosition="LATEST", TumblingWindowInSeconds=0
    )
    assert m["TumblingWindowInSeconds"] == 0
    updated = lam.update_event_source_mapping(UUID=m["UUID"], TumblingWindowInSeconds=120)
    assert updated["TumblingWindowInSeconds"] == 120


def test_open_window_survives_sigkill(tmp_path, file_drop):
    """The open window's state is stored with the checkpoint: after kill -9
    the final invocation still has every record counted exactly once."""
    data = tmp_path / "data"

    def start():
        proc, url, log = _start_nimbus(("--data-dir", str(data)))
        s = _session()
        return proc, url, log, s.client("lambda", endpoint_url=url, config=_CONFIG), s.client(
            "dynamodb", endpoint_url=url, config=_CONFIG
        )

    proc, url, log, lam, ddb = start()
    try:
        table, stream, name, out = _make(lam, ddb, tmp_path, file_drop(tmp_path), table="events", name="aggregator")
        lam.create_event_source_mapping(
            EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON", BatchSize=1,
            TumblingWindowInSeconds=900,
        )
        _put(ddb, table, "k1", "k2")
        _calls(out, lambda c: len(c) >= 2)
        time.sleep(0.3)  # the checkpoint and state are written after the invocation
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        os.unlink(log)
    proc, url, log, lam, ddb = start()
    try:
        advance_clock(url, 901)
        got = _calls(out, lambda c: sum(x["count"] for x in c if x["final"]) >= 2)
        finals = [c for c in got if c["final"]]
        # (Two finals only if the puts straddled a window boundary.)
        assert sum(c["count"] for c in finals) == 2
        assert [k for c in finals for k in c["seen"]] == ["k1", "k2"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        os.unlink(log)
