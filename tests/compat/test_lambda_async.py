"""Lambda asynchronous invocation through unmodified boto3: Event invokes,
retries, maximum event age, OnSuccess / OnFailure destinations (SQS queues
and Lambda functions) with AWS's invocation record, the dead-letter queue,
and the EventInvokeConfig operations with their errors.

Retries wait minutes on AWS (1 then 2 minutes); these tests move nimbus's
test clock (POST /_nimbus/clock/advance) instead of sleeping, so the module
runs on a nimbus of its own (the clock only moves forward).
"""

import io
import json
import time
import zipfile

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from compat_util import advance_clock as advance
from conftest import own_nimbus, _CONFIG, _session, _start_nimbus, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

HANDLER = """
import json
def handler(event, context):
    print("event", json.dumps(event))
    if event.get("fail"):
        raise RuntimeError("failed on purpose")
    return {"ok": event}
"""


@pytest.fixture(scope="module")
def endpoint():
    yield from own_nimbus()


@pytest.fixture(scope="module")
def lam(endpoint):
    return _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="module")
def lam_unchecked(endpoint):
    """A client that sends out-of-range values instead of refusing them."""
    return _session().client(
        "lambda", endpoint_url=endpoint, config=_CONFIG.merge(Config(parameter_validation=False))
    )


@pytest.fixture(scope="module")
def sqs(endpoint):
    return _session().client("sqs", endpoint_url=endpoint, config=_CONFIG)


def package(source=HANDLER):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("lambda_function.py", source)
    return buf.getvalue()


@pytest.fixture
def function(lam):
    made = []

    def make(**kwargs):
        name = unique_name("async")
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="lambda_function.handler",
            Code={"ZipFile": package()},
            **kwargs,
        )
        made.append(name)
        return name

    yield make
    for name in made:
        lam.delete_function(FunctionName=name)


@pytest.fixture
def queue(sqs):
    def make():
        url = sqs.create_queue(QueueName=unique_name("dest"))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    return make


def receive(sqs, url, wait=10):
    deadline = time.time() + wait
    while time.time() < deadline:
        got = sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"], MaxNumberOfMessages=10
        ).get("Messages", [])
        if got:
            return got
    return []


def error_of(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_event_invoke_success_goes_to_on_success(lam, sqs, function, queue):
    url, arn = queue()
    name = function()
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}}
    )
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')
    assert r["StatusCode"] == 202
    msgs = receive(sqs, url)
    assert len(msgs) == 1
    record = json.loads(msgs[0]["Body"])
    assert record["version"] == "1.0"
    ctx = record["requestContext"]
    assert ctx["condition"] == "Success"
    assert ctx["approximateInvokeCount"] == 1
    assert ctx["functionArn"].endswith(f":function:{name}:$LATEST")
    assert record["requestPayload"] == {"n": 1}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"ok": {"n": 1}}


def test_failure_without_retries_goes_to_on_failure(lam, sqs, function, queue):
    url, arn = queue()
    name = function()
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"fail": true}')
    msgs = receive(sqs, url)
    assert len(msgs) == 1
    record = json.loads(msgs[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "failed on purpose"


def test_retries_follow_the_clock(endpoint, lam, sqs, function, queue):
    url, arn = queue()
    name = function()
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"fail": true}')
    # First attempt now, a retry after 1 minute, another after 2 more.
    assert receive(sqs, url, wait=3) == []
    advance(endpoint, 61)
    assert receive(sqs, url, wait=3) == []
    advance(endpoint, 121)
    msgs = receive(sqs, url)
    assert len(msgs) == 1
    assert json.loads(msgs[0]["Body"])["requestContext"]["approximateInvokeCount"] == 3


def test_dead_letter_queue_gets_the_event(lam, sqs, function, queue):
    url, arn = queue()
    name = function(DeadLetterConfig={"TargetArn": arn})
    assert lam.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {"TargetArn": arn}
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"fail": true, "id": 7}')
    msgs = receive(sqs, url)
    assert len(msgs) == 1
    assert json.loads(msgs[0]["Body"]) == {"fail": True, "id": 7}
    attrs = msgs[0]["MessageAttributes"]
    assert attrs["ErrorCode"]["StringValue"] == "200"
    assert attrs["ErrorMessage"]["StringValue"] == "failed on purpose"
    assert attrs["RequestID"]["StringValue"] == r["ResponseMetadata"]["RequestId"]


def test_lambda_destination_receives_the_record(lam, sqs, function, queue):
    url, arn = queue()
    # The destination function forwards what it received to the queue via
    # its own OnSuccess destination.
    sink = function()
    lam.put_function_event_invoke_config(
        FunctionName=sink, DestinationConfig={"OnSuccess": {"Destination": arn}}
    )
    sink_arn = lam.get_function(FunctionName=sink)["Configuration"]["FunctionArn"]
    source = function()
    lam.put_function_event_invoke_config(
        FunctionName=source, DestinationConfig={"OnSuccess": {"Destination": sink_arn}}
    )
    lam.invoke(FunctionName=source, InvocationType="Event", Payload=b'{"hop": 1}')
    msgs = receive(sqs, url)
    assert len(msgs) == 1
    outer = json.loads(msgs[0]["Body"])
    inner = outer["requestPayload"]
    assert inner["requestContext"]["condition"] == "Success"
    assert inner["requestPayload"] == {"hop": 1}


def test_throttled_event_ages_out(endpoint, lam, sqs, function, queue):
    url, arn = queue()
    name = function()
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumEventAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 2}')
    assert receive(sqs, url, wait=2) == []
    advance(endpoint, 400)
    msgs = receive(sqs, url, wait=15)
    assert len(msgs) == 1
    record = json.loads(msgs[0]["Body"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert "responseContext" not in record


def test_event_invoke_config_operations(lam, function, queue):
    _, arn = queue()
    name = function()
    lam.publish_version(FunctionName=name)
    put = lam.put_function_event_invoke_config(
        FunctionName=name, Qualifier="1", MaximumRetryAttempts=1, MaximumEventAgeInSeconds=120
    )
    assert put["FunctionArn"].endswith(f":function:{name}:1")
    assert put["MaximumRetryAttempts"] == 1
    assert put["MaximumEventAgeInSeconds"] == 120
    updated = lam.update_function_event_invoke_config(
        FunctionName=name, Qualifier="1", DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    assert updated["MaximumRetryAttempts"] == 1
    assert updated["DestinationConfig"]["OnFailure"] == {"Destination": arn}
    got = lam.get_function_event_invoke_config(FunctionName=name, Qualifier="1")
    assert got["DestinationConfig"]["OnFailure"] == {"Destination": arn}
    # Put replaces everything.
    replaced = lam.put_function_event_invoke_config(FunctionName=name, Qualifier="1", MaximumRetryAttempts=0)
    assert "MaximumEventAgeInSeconds" not in replaced
    assert replaced["DestinationConfig"]["OnFailure"] == {}
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[1] for c in listed] == ["1"]
    lam.delete_function_event_invoke_config(FunctionName=name, Qualifier="1")
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name, Qualifier="1")
    code, message = error_of(e)
    assert code == "ResourceNotFoundException"
    assert message == (
        f"The function arn:aws:lambda:us-east-1:000000000000:function:{name}:1 "
        "doesn't have an EventInvokeConfig"
    )


@pytest.mark.parametrize(
    "kwargs, code, message",
    [
        (
            {"MaximumRetryAttempts": 3},
            "ValidationException",
            "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy "
            "constraint: Member must have value less than or equal to 2",
        ),
        (
            {"MaximumEventAgeInSeconds": 59},
            "ValidationException",
            "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' failed to satisfy "
            "constraint: Member must have value greater than or equal to 60",
        ),
        (
            {"MaximumEventAgeInSeconds": 21601},
            "ValidationException",
            "1 validation error detected: Value '21601' at 'maximumEventAgeInSeconds' failed to "
            "satisfy constraint: Member must have value less than or equal to 21600",
        ),
        (
            {"DestinationConfig": {"OnFailure": {"Destination": "not-an-arn"}}},
            "InvalidParameterValueException",
            "The destination ARN not-an-arn is invalid.",
        ),
    ],
)
def test_event_invoke_config_bad_input(lam_unchecked, function, kwargs, code, message):
    name = function()
    with pytest.raises(ClientError) as e:
        lam_unchecked.put_function_event_invoke_config(FunctionName=name, **kwargs)
    assert error_of(e) == (code, message)


def test_unknown_qualifier_and_update_without_config(lam, function):
    name = function()
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name, Qualifier="9", MaximumRetryAttempts=1)
    assert error_of(e) == (
        "ResourceNotFoundException",
        f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}:9",
    )
    with pytest.raises(ClientError) as e:
        lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_eventbridge_destination_is_refused_until_eventbridge_exists(lam, function):
    name = function()
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(
            FunctionName=name,
            DestinationConfig={"OnFailure": {"Destination": "arn:aws:events:us-east-1:000000000000:event-bus/default"}},
        )
    assert error_of(e) == (
        "InvalidParameterValueException",
        "nimbus does not support EventBridge destinations yet (the service does not exist in nimbus); "
        "use an SQS queue, an SNS topic or a Lambda function",
    )
