"""SQS event source mappings through unmodified boto3: an SQS-triggered
function with partial batch failures and a dead-letter queue (the seed's
order-processing pattern), the mapping operations and their errors.

Failed messages come back after the queue's visibility timeout; this module
moves nimbus's test clock instead of waiting, so it runs on a nimbus of its
own."""

import io
import json
import os
import time
import zipfile

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from compat_util import DROP_PY
from compat_util import advance_clock as advance
from conftest import own_nimbus, _CONFIG, _session, _start_nimbus, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

# Sends each message it handled to the test's file drop (a file per
# message id); reports bodies containing "bad" as failed items.
HANDLER = DROP_PY + """
import json
def handler(event, context):
    failures = []
    for record in event["Records"]:
        assert record["eventSource"] == "aws:sqs"
        if "bad" in record["body"]:
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        drop(record["messageId"], json.dumps(record))
    return {"batchItemFailures": failures}
"""


@pytest.fixture(scope="module")
def endpoint():
    yield from own_nimbus()


@pytest.fixture(scope="module")
def lam(endpoint):
    return _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="module")
def sqs(endpoint):
    return _session().client("sqs", endpoint_url=endpoint, config=_CONFIG)


def queue(sqs, **attributes):
    url = sqs.create_queue(QueueName=unique_name("q"), Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


@pytest.fixture
def function(lam, file_drop):
    made = []

    def make(out_dir, timeout=3):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("app.py", HANDLER)
        name = unique_name("consumer")
        lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": buf.getvalue()}, Timeout=timeout,
            Environment={"Variables": {"OUT_URL": file_drop(out_dir)}},
        )
        made.append(name)
        return name

    yield make
    for m in lam.list_event_source_mappings()["EventSourceMappings"]:
        lam.delete_event_source_mapping(UUID=m["UUID"])
    for name in made:
        lam.delete_function(FunctionName=name)


def wait_for(predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def count(sqs, url, attribute):
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[attribute])["Attributes"]
    return int(attrs[attribute])


def error_of(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_partial_batch_failures_and_dead_letter_queue(endpoint, lam, sqs, function, tmp_path):
    dlq_url, dlq_arn = queue(sqs)
    url, arn = queue(
        sqs, VisibilityTimeout=30,
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
    )
    name = function(tmp_path)
    created = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    assert created["State"] == "Creating"
    assert created["EventSourceArn"] == arn
    assert created["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    uuid = created["UUID"]
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"

    good = [sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"order": i}),
                             MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}})["MessageId"]
            for i in range(5)]
    bad = [sqs.send_message(QueueUrl=url, MessageBody=f"bad {i}")["MessageId"] for i in range(2)]
    done = wait_for(lambda: len(list(tmp_path.iterdir())) == 5)
    assert done, f"processed: {sorted(p.name for p in tmp_path.iterdir())}"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(good)
    record = json.loads((tmp_path / good[0]).read_text())
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "order", "stringListValues": [], "binaryListValues": [], "dataType": "String",
    }
    assert record["md5OfBody"]
    # The failed ones stay in flight; the successes are gone.
    assert wait_for(lambda: count(sqs, url, "ApproximateNumberOfMessagesNotVisible") == 2)
    assert count(sqs, url, "ApproximateNumberOfMessages") == 0
    # Visible again after the timeout, received a second time, failed again,
    # then moved to the dead-letter queue on the next receive.
    for _ in range(2):
        advance(endpoint, 31)
        time.sleep(1.5)
    assert wait_for(lambda: count(sqs, dlq_url, "ApproximateNumberOfMessages") == 2, timeout=30)
    got = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["MessageId"] for m in got) == sorted(bad)
    result = lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"]
    assert result.startswith("PROBLEM") or result == "OK"


def test_disable_update_list_delete(lam, sqs, function, tmp_path):
    url, arn = queue(sqs)
    name = function(tmp_path)
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, Enabled=False)["UUID"]
    got = lam.get_event_source_mapping(UUID=uuid)
    assert got["State"] == "Disabled"
    assert got["BatchSize"] == 10
    assert got["MaximumBatchingWindowInSeconds"] == 0
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    time.sleep(1)
    assert list(tmp_path.iterdir()) == []
    updated = lam.update_event_source_mapping(UUID=uuid, Enabled=True, BatchSize=50, MaximumBatchingWindowInSeconds=1)
    assert updated["State"] == "Enabling"
    assert updated["BatchSize"] == 50
    assert wait_for(lambda: len(list(tmp_path.iterdir())) == 1)
    listed = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uuid]
    assert lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"][0]["UUID"] == uuid
    assert lam.update_event_source_mapping(UUID=uuid, BatchSize=20)["State"] == "Updating"
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    assert lam.delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"
    with pytest.raises(ClientError) as e:
        lam.get_event_source_mapping(UUID=uuid)
    assert error_of(e) == ("ResourceNotFoundException", "The resource you requested does not exist.")


def test_mapping_errors(lam, sqs, function, tmp_path):
    url, arn = queue(sqs, VisibilityTimeout=5)
    name = function(tmp_path, timeout=10)
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    assert error_of(e) == (
        "InvalidParameterValueException",
        "Queue visibility timeout: 5 seconds is less than Function timeout: 10 seconds",
    )
    ok_url, ok_arn = queue(sqs, VisibilityTimeout=60)
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=ok_arn, FunctionName=name, BatchSize=11)
    assert error_of(e) == (
        "InvalidParameterValueException",
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
    )
    missing = ok_arn.rsplit(":", 1)[0] + ":no-such-queue"
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=missing, FunctionName=name)
    assert error_of(e)[0] == "InvalidParameterValueException"
    assert "NonExistentQueue" in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=ok_arn, FunctionName="no-such-function")
    assert error_of(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=ok_arn, FunctionName=name, StartingPosition="LATEST")
    assert error_of(e)[0] == "InvalidParameterValueException"
    unchecked = _session().client(
        "lambda", endpoint_url=lam.meta.endpoint_url,
        config=_CONFIG.merge(Config(parameter_validation=False)),
    )
    with pytest.raises(ClientError) as e:
        unchecked.create_event_source_mapping(
            EventSourceArn=ok_arn, FunctionName=name, ScalingConfig={"MaximumConcurrency": 1}
        )
    assert error_of(e) == (
        "ValidationException",
        "1 validation error detected: Value '1' at 'scalingConfig.maximumConcurrency' failed to "
        "satisfy constraint: Member must have value greater than or equal to 2",
    )
    first = lam.create_event_source_mapping(EventSourceArn=ok_arn, FunctionName=name)["UUID"]
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=ok_arn, FunctionName=name)
    code, message = error_of(e)
    assert code == "ResourceConflictException"
    assert first in message


def test_deleted_queue_is_reported_not_spun_on(lam, sqs, function, tmp_path):
    url, arn = queue(sqs)
    name = function(tmp_path)
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"]
    sqs.delete_queue(QueueUrl=url)
    got = wait_for(
        lambda: (m := lam.get_event_source_mapping(UUID=uuid))["StateTransitionReason"] != "USER_INITIATED" and m,
        timeout=30,
    )
    assert "NonExistentQueue" in got["StateTransitionReason"]
    assert got["LastProcessingResult"].startswith("PROBLEM")


def test_filter_criteria(lam, sqs, function, tmp_path):
    url, arn = queue(sqs)
    name = function(tmp_path)
    pattern = json.dumps({"body": {"kind": ["order"], "total": [{"numeric": [">", 10]}]}})
    m = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, FilterCriteria={"Filters": [{"Pattern": pattern}]}
    )
    assert m["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}
    wanted = sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "order", "total": 12}))["MessageId"]
    for body in [json.dumps({"kind": "order", "total": 5}), json.dumps({"kind": "refund", "total": 50}), "plain text"]:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    assert wait_for(lambda: len(list(tmp_path.iterdir())) == 1)
    # Filtered-out messages are deleted, as on AWS.
    assert wait_for(lambda: count(sqs, url, "ApproximateNumberOfMessages") == 0
                    and count(sqs, url, "ApproximateNumberOfMessagesNotVisible") == 0)
    time.sleep(0.5)
    assert [p.name for p in tmp_path.iterdir()] == [wanted]


def test_invalid_filter_pattern(lam, sqs, function, tmp_path):
    url, arn = queue(sqs)
    name = function(tmp_path)
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName=name,
            FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": "order"}})}]},
        )
    assert error_of(e) == ("InvalidParameterValueException", "Invalid filter pattern definition.")


def test_throttled_function_leaves_messages_for_later(endpoint, lam, sqs, function, tmp_path):
    url, arn = queue(sqs, VisibilityTimeout=30)
    name = function(tmp_path)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    got = wait_for(lambda: "throttled" in lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"])
    assert got
    assert list(tmp_path.iterdir()) == []
    # Once the function may run, the message comes back and is processed.
    lam.delete_function_concurrency(FunctionName=name)
    advance(endpoint, 31)
    assert wait_for(lambda: len(list(tmp_path.iterdir())) == 1)


def test_timing_out_function_retries_then_dead_letters(endpoint, lam, sqs, tmp_path):
    dlq_url, dlq_arn = queue(sqs)
    url, arn = queue(sqs, VisibilityTimeout=30,
                     RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "import time\ndef handler(e, c):\n    time.sleep(5)\n")
    name = unique_name("slow")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": buf.getvalue()}, Timeout=1)
    try:
        uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"]
        sqs.send_message(QueueUrl=url, MessageBody="slow")
        assert wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"]
                        == "PROBLEM: Function call failed")
        advance(endpoint, 31)
        assert wait_for(lambda: count(sqs, dlq_url, "ApproximateNumberOfMessages") == 1, timeout=30)
    finally:
        lam.delete_event_source_mapping(UUID=uuid)
        lam.delete_function(FunctionName=name)


def test_deleted_function_is_reported_not_spun_on(lam, sqs, tmp_path, file_drop):
    url, arn = queue(sqs)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", HANDLER)
    name = unique_name("doomed")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": buf.getvalue()}, Environment={"Variables": {"OUT_URL": file_drop(tmp_path)}})
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"]
    try:
        lam.delete_function(FunctionName=name)
        sqs.send_message(QueueUrl=url, MessageBody="{}")
        got = wait_for(
            lambda: (m := lam.get_event_source_mapping(UUID=uuid))["StateTransitionReason"] != "USER_INITIATED" and m,
            timeout=30,
        )
        assert "does not exist" in got["StateTransitionReason"]
        assert got["LastProcessingResult"].startswith("PROBLEM")
        # The message is left in the queue, not lost.
        assert count(sqs, url, "ApproximateNumberOfMessages") + count(
            sqs, url, "ApproximateNumberOfMessagesNotVisible") == 1
    finally:
        lam.delete_event_source_mapping(UUID=uuid)
