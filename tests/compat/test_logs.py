"""CloudWatch Logs over awsJson 1.1 through unmodified boto3: every
operation nimbus implements, and every bad input with its exact error.

botocore checks some constraints itself (required members, minimum lengths
and values) before sending; the bad-input tests use a client with
parameter_validation off so the request reaches the server, as one from a
client without that check (or the AWS CLI with a raw payload) would.
"""

import json
import time
import uuid

import boto3
import pytest
from botocore.config import Config

from compat_util import aws_error

DAY = 86_400_000
NO_GROUP = ("ResourceNotFoundException", "The specified log group does not exist.")
NO_STREAM = ("ResourceNotFoundException", "The specified log stream does not exist.")
BAD_TOKEN = ("InvalidParameterException", "The specified nextToken is invalid.")


def now_ms():
    return int(time.time() * 1000)


def gname(prefix="/compat/logs"):
    return f"{prefix}/{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def raw(endpoint):
    """A logs client that sends whatever it is given."""
    session = boto3.session.Session(
        aws_access_key_id="AKIDCOMPATTEST",
        aws_secret_access_key="compat-secret",
        region_name="us-east-1",
    )
    return session.client(
        "logs",
        endpoint_url=endpoint,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


@pytest.fixture
def group(logs_client):
    """Factory: group(*streams) -> name; deletes the groups afterwards."""
    made = []

    def make(*streams, name=None):
        name = name or gname()
        logs_client.create_log_group(logGroupName=name)
        for s in streams:
            logs_client.create_log_stream(logGroupName=name, logStreamName=s)
        made.append(name)
        return name

    yield make
    for name in made:
        try:
            logs_client.delete_log_group(logGroupName=name)
        except logs_client.exceptions.ResourceNotFoundException:
            pass


def put(client, group, stream, events):
    return client.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": t, "message": m} for t, m in events],
    )


def messages(resp):
    return [e["message"] for e in resp["events"]]


# --- log groups ---------------------------------------------------------------


def test_create_describe_delete_log_group(logs_client, account_id):
    prefix = gname()
    names = [f"{prefix}/{c}" for c in "abc"]
    for n in names:
        logs_client.create_log_group(logGroupName=n, tags={"team": "core"})
    with aws_error("ResourceAlreadyExistsException", "The specified log group already exists"):
        logs_client.create_log_group(logGroupName=names[0])

    page1 = logs_client.describe_log_groups(logGroupNamePrefix=prefix, limit=2)
    assert [g["logGroupName"] for g in page1["logGroups"]] == names[:2]
    page2 = logs_client.describe_log_groups(
        logGroupNamePrefix=prefix, limit=2, nextToken=page1["nextToken"]
    )
    assert [g["logGroupName"] for g in page2["logGroups"]] == names[2:]
    assert "nextToken" not in page2
    g = page1["logGroups"][0]
    assert g["arn"] == f"arn:aws:logs:us-east-1:{account_id}:log-group:{names[0]}:*"
    assert g["logGroupArn"] == f"arn:aws:logs:us-east-1:{account_id}:log-group:{names[0]}"
    assert g["logGroupClass"] == "STANDARD"
    assert g["storedBytes"] == 0 and g["metricFilterCount"] == 0
    assert "retentionInDays" not in g

    paginator = logs_client.get_paginator("describe_log_groups")
    seen = [
        g["logGroupName"]
        for page in paginator.paginate(logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 1})
        for g in page["logGroups"]
    ]
    assert seen == names

    for n in names:
        logs_client.delete_log_group(logGroupName=n)
    with aws_error(*NO_GROUP):
        logs_client.delete_log_group(logGroupName=names[0])
    assert logs_client.describe_log_groups(logGroupNamePrefix=prefix)["logGroups"] == []


def test_log_group_bad_input(raw):
    bad = "bad name!"
    with aws_error(
        "InvalidParameterException",
        f"1 validation error detected: Value '{bad}' at 'logGroupName' failed to satisfy "
        r"constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+",
    ):
        raw.create_log_group(logGroupName=bad)
    long = "a" * 513
    with aws_error(
        "InvalidParameterException",
        f"1 validation error detected: Value '{long}' at 'logGroupName' failed to satisfy "
        "constraint: Member must have length less than or equal to 512",
    ):
        raw.create_log_group(logGroupName=long)
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value '' at 'logGroupName' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1",
    ):
        raw.create_log_group(logGroupName="")
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value null at 'logGroupName' failed to satisfy "
        "constraint: Member must not be null",
    ):
        raw.create_log_group()
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value 'COLD' at 'logGroupClass' failed to satisfy "
        "constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]",
    ):
        raw.create_log_group(logGroupName=gname(), logGroupClass="COLD")
    for limit, text in [
        (0, "greater than or equal to 1"),
        (51, "less than or equal to 50"),
    ]:
        with aws_error(
            "InvalidParameterException",
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value {text}",
        ):
            raw.describe_log_groups(limit=limit)
    with aws_error(*BAD_TOKEN):
        raw.describe_log_groups(nextToken="not-hex")
    with aws_error(
        "InvalidParameterException",
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
    ):
        raw.describe_log_groups(logGroupNamePrefix="a", logGroupNamePattern="b")
    with aws_error("SerializationException"):
        raw.describe_log_groups(limit="ten")


def test_describe_log_groups_pattern_and_class(logs_client, group):
    tag = uuid.uuid4().hex[:8]
    name = group(name=f"/compat/Pattern-{tag}/x")
    found = logs_client.describe_log_groups(logGroupNamePattern=f"pattern-{tag}")["logGroups"]
    assert [g["logGroupName"] for g in found] == [name]
    logs_client.create_log_group(logGroupName=name + "-ia", logGroupClass="INFREQUENT_ACCESS")
    try:
        ia = logs_client.describe_log_groups(
            logGroupNamePrefix=name, logGroupClass="INFREQUENT_ACCESS"
        )["logGroups"]
        assert [g["logGroupName"] for g in ia] == [name + "-ia"]
    finally:
        logs_client.delete_log_group(logGroupName=name + "-ia")


# --- retention ----------------------------------------------------------------


def test_retention_policy(logs_client, raw, group):
    g = group("s")
    now = now_ms()
    # Separate batches: one batch may not span more than 24 hours.
    put(logs_client, g, "s", [(now - 3 * DAY, "old")])
    put(logs_client, g, "s", [(now, "new")])
    logs_client.put_retention_policy(logGroupName=g, retentionInDays=1)
    desc = logs_client.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]
    assert desc["retentionInDays"] == 1
    got = logs_client.get_log_events(logGroupName=g, logStreamName="s", startFromHead=True)
    assert messages(got) == ["new"]
    out = put(logs_client, g, "s", [(now - 2 * DAY, "expired"), (now, "ok")])
    assert out["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}
    logs_client.delete_retention_policy(logGroupName=g)
    desc = logs_client.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]
    assert "retentionInDays" not in desc

    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy "
        "constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, "
        "150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]",
    ):
        raw.put_retention_policy(logGroupName=g, retentionInDays=2)
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value null at 'retentionInDays' failed to satisfy "
        "constraint: Member must not be null",
    ):
        raw.put_retention_policy(logGroupName=g)
    with aws_error(*NO_GROUP):
        logs_client.put_retention_policy(logGroupName=g + "-nope", retentionInDays=1)
    with aws_error(*NO_GROUP):
        logs_client.delete_retention_policy(logGroupName=g + "-nope")


# --- tags ---------------------------------------------------------------------


def test_tags_by_arn_and_by_name(logs_client, raw, group, account_id):
    g = group()
    arn = f"arn:aws:logs:us-east-1:{account_id}:log-group:{g}"
    logs_client.tag_resource(resourceArn=arn, tags={"team": "core", "env": "dev"})
    assert logs_client.list_tags_log_group(logGroupName=g)["tags"] == {
        "team": "core",
        "env": "dev",
    }
    logs_client.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert logs_client.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "core"}
    logs_client.tag_log_group(logGroupName=g, tags={"x": "1"})
    logs_client.untag_log_group(logGroupName=g, tags=["team"])
    assert logs_client.list_tags_for_resource(resourceArn=arn + ":*")["tags"] == {"x": "1"}

    with aws_error(*NO_GROUP):
        logs_client.list_tags_for_resource(resourceArn=arn + "-nope")
    with aws_error(*NO_GROUP):
        logs_client.list_tags_log_group(logGroupName=g + "-nope")
    with aws_error("InvalidParameterException", "Invalid ARN: arn:aws:sqs:us-east-1:1:q"):
        logs_client.tag_resource(resourceArn="arn:aws:sqs:us-east-1:1:q", tags={"a": "b"})
    with aws_error("TooManyTagsException", "A resource can have no more than 50 tags."):
        logs_client.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value 'bad!key' at 'tags.bad!key.member.key' failed to "
        r"satisfy constraint: Member must satisfy regular expression pattern: "
        r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$",
    ):
        raw.tag_resource(resourceArn=arn, tags={"bad!key": "v"})
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    ):
        raw.untag_resource(resourceArn=arn, tagKeys=[])


# --- log streams --------------------------------------------------------------


def test_log_streams(logs_client, raw, group, account_id):
    g = group("b", "a", "c")
    with aws_error("ResourceAlreadyExistsException", "The specified log stream already exists"):
        logs_client.create_log_stream(logGroupName=g, logStreamName="a")
    with aws_error(*NO_GROUP):
        logs_client.create_log_stream(logGroupName=g + "-nope", logStreamName="a")
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value 'a*b' at 'logStreamName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [^:*]*",
    ):
        raw.create_log_stream(logGroupName=g, logStreamName="a*b")
    now = now_ms()
    put(logs_client, g, "c", [(now - 3000, "c1")])
    put(logs_client, g, "a", [(now - 2000, "a1")])
    put(logs_client, g, "b", [(now - 1000, "b1")])

    streams = logs_client.describe_log_streams(logGroupName=g)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a", "b", "c"]
    a = streams[0]
    assert a["arn"] == f"arn:aws:logs:us-east-1:{account_id}:log-group:{g}:log-stream:a"
    assert a["firstEventTimestamp"] == a["lastEventTimestamp"] == now - 2000
    assert a["lastIngestionTime"] >= a["creationTime"]

    latest = logs_client.describe_log_streams(
        logGroupName=g, orderBy="LastEventTime", descending=True, limit=1
    )
    assert [s["logStreamName"] for s in latest["logStreams"]] == ["b"]
    paginator = logs_client.get_paginator("describe_log_streams")
    ordered = [
        s["logStreamName"]
        for page in paginator.paginate(
            logGroupName=g, orderBy="LastEventTime", PaginationConfig={"PageSize": 1}
        )
        for s in page["logStreams"]
    ]
    assert ordered == ["c", "a", "b"]
    by_prefix = logs_client.describe_log_streams(logGroupIdentifier=g, logStreamNamePrefix="b")
    assert [s["logStreamName"] for s in by_prefix["logStreams"]] == ["b"]

    with aws_error(
        "InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix."
    ):
        logs_client.describe_log_streams(
            logGroupName=g, orderBy="LastEventTime", logStreamNamePrefix="b"
        )
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value 'Size' at 'orderBy' failed to satisfy constraint: "
        "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
    ):
        raw.describe_log_streams(logGroupName=g, orderBy="Size")
    with aws_error(
        "InvalidParameterException",
        "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
    ):
        logs_client.describe_log_streams(logGroupName=g, logGroupIdentifier=g)
    with aws_error(*BAD_TOKEN):
        logs_client.describe_log_streams(logGroupName=g, nextToken="zz")
    with aws_error(*NO_GROUP):
        logs_client.describe_log_streams(logGroupName=g + "-nope")

    logs_client.delete_log_stream(logGroupName=g, logStreamName="a")
    with aws_error(*NO_STREAM):
        logs_client.delete_log_stream(logGroupName=g, logStreamName="a")
    with aws_error(*NO_GROUP):
        logs_client.delete_log_stream(logGroupName=g + "-nope", logStreamName="a")
    assert messages(logs_client.filter_log_events(logGroupName=g)) == ["c1", "b1"]


# --- PutLogEvents -------------------------------------------------------------


def test_put_log_events_rules(logs_client, raw, group):
    g = group("s")
    now = now_ms()

    def send(events, client=logs_client, **kw):
        return client.put_log_events(
            logGroupName=g,
            logStreamName="s",
            logEvents=[{"timestamp": t, "message": m} for t, m in events],
            **kw,
        )

    with aws_error(
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
    ):
        send([(now, "b"), (now - 1, "a")])
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    ):
        send([], client=raw)
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value '' at 'logEvents.2.member.message' failed to "
        "satisfy constraint: Member must have length greater than or equal to 1",
    ):
        send([(now, "a"), (now, "")], client=raw)
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value null at 'logEvents.1.member.timestamp' failed to "
        "satisfy constraint: Member must not be null",
    ):
        raw.put_log_events(logGroupName=g, logStreamName="s", logEvents=[{"message": "x"}])
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value '-5' at 'logEvents.1.member.timestamp' failed to "
        "satisfy constraint: Member must have value greater than or equal to 0",
    ):
        send([(-5, "x")], client=raw)
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value 'list of 10001 events' at 'logEvents' failed to "
        "satisfy constraint: Member must have length less than or equal to 10000",
    ):
        send([(now, "x")] * 10_001)
    # Each event counts its UTF-8 message plus 26 bytes.
    at_limit = "x" * (1_048_576 - 2 * 26 - 2)
    with aws_error(
        "InvalidParameterException", "Upload too large: 1048577 bytes exceeds limit of 1048576"
    ):
        send([(now, at_limit + "x"), (now, "ab")])
    send([(now, at_limit), (now, "ab")])
    with aws_error(
        "InvalidParameterException",
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
    ):
        send([(now - 25 * 3_600_000, "a"), (now, "b")])
    with aws_error(*NO_STREAM):
        logs_client.put_log_events(
            logGroupName=g, logStreamName="nope", logEvents=[{"timestamp": now, "message": "x"}]
        )
    with aws_error(*NO_GROUP):
        logs_client.put_log_events(
            logGroupName=g + "-nope",
            logStreamName="s",
            logEvents=[{"timestamp": now, "message": "x"}],
        )

    out = send(
        [
            (now - 15 * DAY, "too old"),
            (now, "kept 1"),
            (now + 1, "kept 2"),
            (now + 3 * 3_600_000, "too new"),
        ],
        sequenceToken="ignored",
    )
    assert out["rejectedLogEventsInfo"] == {
        "tooOldLogEventEndIndex": 1,
        "tooNewLogEventStartIndex": 3,
    }
    assert out["nextSequenceToken"]
    got = logs_client.get_log_events(logGroupName=g, logStreamName="s", limit=2)
    assert messages(got) == ["kept 1", "kept 2"]
    desc = logs_client.describe_log_streams(logGroupName=g)["logStreams"][0]
    assert desc["lastEventTimestamp"] == now + 1


# --- GetLogEvents -------------------------------------------------------------


def test_get_log_events_tokens(logs_client, raw, group):
    g = group("s")
    base = now_ms() - 60_000
    put(logs_client, g, "s", [(base + i, f"e{i}") for i in range(10)])

    def get(**kw):
        return logs_client.get_log_events(logGroupName=g, logStreamName="s", **kw)

    p1 = get(startFromHead=True, limit=4)
    assert messages(p1) == ["e0", "e1", "e2", "e3"]
    assert all(e["ingestionTime"] >= e["timestamp"] for e in p1["events"])
    p2 = get(limit=4, nextToken=p1["nextForwardToken"])
    assert messages(p2) == ["e4", "e5", "e6", "e7"]
    p3 = get(limit=4, nextToken=p2["nextForwardToken"])
    assert messages(p3) == ["e8", "e9"]
    end = get(limit=4, nextToken=p3["nextForwardToken"])
    assert end["events"] == [] and end["nextForwardToken"] == p3["nextForwardToken"]

    tail = get(limit=3)
    assert messages(tail) == ["e7", "e8", "e9"]
    back = get(limit=3, nextToken=tail["nextBackwardToken"])
    assert messages(back) == ["e4", "e5", "e6"]
    head = get(limit=100, nextToken=back["nextBackwardToken"])
    assert messages(head) == ["e0", "e1", "e2", "e3"]
    start = get(limit=100, nextToken=head["nextBackwardToken"])
    assert start["events"] == [] and start["nextBackwardToken"] == head["nextBackwardToken"]

    window = get(startTime=base + 2, endTime=base + 5, startFromHead=True)
    assert messages(window) == ["e2", "e3", "e4"]
    by_arn = logs_client.get_log_events(
        logGroupIdentifier=f"arn:aws:logs:us-east-1:000000000000:log-group:{g}",
        logStreamName="s",
        limit=1,
    )
    assert messages(by_arn) == ["e9"]

    with aws_error(*BAD_TOKEN):
        get(nextToken="q/abc")
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000",
    ):
        raw.get_log_events(logGroupName=g, logStreamName="s", limit=10_001)
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value '-1' at 'startTime' failed to satisfy constraint: "
        "Member must have value greater than or equal to 0",
    ):
        raw.get_log_events(logGroupName=g, logStreamName="s", startTime=-1)
    with aws_error(*NO_STREAM):
        logs_client.get_log_events(logGroupName=g, logStreamName="nope")
    with aws_error(*NO_GROUP):
        logs_client.get_log_events(logGroupName=g + "-nope", logStreamName="s")


# --- FilterLogEvents ----------------------------------------------------------


def test_filter_log_events(logs_client, raw, group):
    g = group("web-1", "web-2", "db")
    base = now_ms() - 60_000
    put(logs_client, g, "web-1", [(base, "ERROR disk full"), (base + 2, '{"level":"INFO","ms":12}')])
    put(
        logs_client,
        g,
        "web-2",
        [(base + 1, "WARN slow request"), (base + 3, '{"level":"ERROR","ms":900}')],
    )
    put(logs_client, g, "db", [(base + 4, "ERROR timeout")])

    def filt(**kw):
        return logs_client.filter_log_events(logGroupName=g, **kw)

    everything = filt()
    assert [e["logStreamName"] for e in everything["events"]] == [
        "web-1",
        "web-2",
        "web-1",
        "web-2",
        "db",
    ]
    assert len({e["eventId"] for e in everything["events"]}) == 5
    assert messages(filt(filterPattern="ERROR")) == [
        "ERROR disk full",
        '{"level":"ERROR","ms":900}',
        "ERROR timeout",
    ]
    assert messages(filt(filterPattern='"disk full"')) == ["ERROR disk full"]
    assert messages(filt(filterPattern="ERROR -timeout -disk")) == ['{"level":"ERROR","ms":900}']
    assert messages(filt(filterPattern="?WARN ?timeout")) == ["WARN slow request", "ERROR timeout"]
    assert messages(filt(filterPattern="{ $.ms > 100 }")) == ['{"level":"ERROR","ms":900}']
    assert messages(filt(filterPattern='{ $.level = "INF*" || $.ms >= 900 }')) == [
        '{"level":"INFO","ms":12}',
        '{"level":"ERROR","ms":900}',
    ]
    assert len(filt(logStreamNames=["db", "web-2"])["events"]) == 3
    assert len(filt(logStreamNamePrefix="web")["events"]) == 4
    assert len(filt(startTime=base + 1, endTime=base + 3)["events"]) == 3

    paginator = logs_client.get_paginator("filter_log_events")
    paged = [
        e["message"]
        for page in paginator.paginate(logGroupName=g, PaginationConfig={"PageSize": 2})
        for e in page["events"]
    ]
    assert paged == messages(everything)

    with aws_error(
        "InvalidParameterException",
        "You cannot specify both logStreamNames and logStreamNamePrefix.",
    ):
        filt(logStreamNames=["db"], logStreamNamePrefix="web")
    with aws_error(
        "InvalidParameterException", "Invalid filter pattern: missing ')'"
    ):
        filt(filterPattern="{ ($.ms > 1 }")
    with aws_error(
        "InvalidParameterException",
        "Invalid filter pattern: <, <=, > and >= compare numbers only",
    ):
        filt(filterPattern="{ $.level > abc }")
    with aws_error(
        "InvalidParameterException",
        "Invalid filter pattern: parentheses nest deeper than 32 levels",
    ):
        filt(filterPattern="{ " + "(" * 40 + "$.a = 1" + ")" * 40 + " }")
    with aws_error(
        "InvalidParameterException",
        "nimbus does not support space-delimited filter patterns ([...]) yet",
    ):
        filt(filterPattern="[ip, user]")
    with aws_error(
        "InvalidParameterException",
        "1 validation error detected: Value '[]' at 'logStreamNames' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1",
    ):
        raw.filter_log_events(logGroupName=g, logStreamNames=[])
    with aws_error(*BAD_TOKEN):
        filt(nextToken="abc")
    with aws_error(*NO_GROUP):
        logs_client.filter_log_events(logGroupName=g + "-nope")


def _raw_logs(endpoint, operation, body):
    """One signed Logs request with an arbitrary body: (status, JSON)."""
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"Logs_20140328.{operation}",
    }
    request = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
    SigV4Auth(Credentials("AKIDCOMPATTEST", "compat-secret"), "logs", "us-east-1").add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(
        prepared.url, data=body, method="POST", headers=dict(prepared.headers)
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_unknown_operation_and_malformed_body(endpoint):
    status, body = _raw_logs(endpoint, "StartQuery", b"{}")
    assert status == 400
    assert body["__type"].endswith("#UnknownOperationException")
    assert body["message"] == "nimbus does not implement the CloudWatch Logs operation StartQuery yet."
    status, body = _raw_logs(endpoint, "DescribeLogGroups", b"[1, 2]")
    assert status == 400
    assert body["__type"].endswith("#SerializationException")
    assert body["message"] == "The request body is not a JSON object."
    status, body = _raw_logs(endpoint, "CreateLogGroup", b'{"logGroupName": 5}')
    assert status == 400
    assert body["message"] == "Expected a string for member 'logGroupName'"


def test_aws_logs_tail_call_sequence(logs_client, group):
    """What AWS CLI v2's `aws logs tail GROUP [--follow]` sends: FilterLogEvents
    with interleaved=True and startTime ten minutes back, paginated; to follow,
    it polls again from the newest timestamp seen and drops eventIds it has
    already printed (so eventIds must be stable across calls)."""
    g = group("2026/11/23/[$LATEST]abc", "2026/11/23/[$LATEST]def")
    now = now_ms()
    put(logs_client, g, "2026/11/23/[$LATEST]abc", [(now - 700_000, "too early for tail")])
    put(logs_client, g, "2026/11/23/[$LATEST]abc", [(now - 2, "START RequestId: r1"), (now, "END")])
    put(logs_client, g, "2026/11/23/[$LATEST]def", [(now - 1, "START RequestId: r2")])
    kwargs = {"logGroupName": g, "interleaved": True, "startTime": now - 600_000}
    pages = logs_client.get_paginator("filter_log_events").paginate(**kwargs)
    printed = [e for page in pages for e in page["events"]]
    assert [e["message"] for e in printed] == ["START RequestId: r1", "START RequestId: r2", "END"]

    # --follow: the next poll starts at the newest timestamp and skips seen ids.
    seen = {e["eventId"] for e in printed if e["timestamp"] == now}
    put(logs_client, g, "2026/11/23/[$LATEST]def", [(now + 5, "later")])
    again = logs_client.filter_log_events(**{**kwargs, "startTime": now})["events"]
    fresh = [e["message"] for e in again if e["eventId"] not in seen]
    assert fresh == ["later"]
