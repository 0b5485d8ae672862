"""SNS topics as Lambda targets through unmodified boto3: an asynchronous
invocation's OnFailure destination, a function's dead-letter target, and a
DynamoDB stream mapping's OnFailure destination publish to a topic, and an
SQS subscription of the topic receives AWS's records."""

import io
import json
import time
import zipfile

import pytest
from conftest import _CONFIG, _session, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
FAILING = """
def handler(event, context):
    raise RuntimeError("always fails")
"""


@pytest.fixture(scope="module")
def clients(endpoint):
    s = _session()
    return {n: s.client(n, endpoint_url=endpoint, config=_CONFIG) for n in ("lambda", "sns", "sqs", "dynamodb")}


def topic_with_queue(clients):
    sns, sqs = clients["sns"], clients["sqs"]
    topic = sns.create_topic(Name=unique_name("lambda-failures"))["TopicArn"]
    url = sqs.create_queue(QueueName=unique_name("from-topic"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return topic, url


def failing_function(clients, **extra):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", FAILING)
    name = unique_name("fails")
    clients["lambda"].create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": buf.getvalue()}, **extra,
    )
    return name


def receive_one(sqs, url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MessageAttributeNames=["All"]).get("Messages", [])
        if msgs:
            return msgs[0]
    raise AssertionError("nothing arrived through the topic")


def test_async_on_failure_destination_is_a_topic(clients):
    topic, url = topic_with_queue(clients)
    name = failing_function(clients)
    clients["lambda"].put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    clients["lambda"].invoke(FunctionName=name, InvocationType="Event", Payload=b'{"order": 7}')
    record = json.loads(receive_one(clients["sqs"], url)["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["functionArn"].endswith(f":function:{name}:$LATEST")
    assert record["requestPayload"] == {"order": 7}
    assert record["responsePayload"]["errorMessage"] == "always fails"


def test_dead_letter_target_is_a_topic(clients):
    topic, url = topic_with_queue(clients)
    name = failing_function(clients, DeadLetterConfig={"TargetArn": topic})
    assert clients["lambda"].get_function_configuration(FunctionName=name)["DeadLetterConfig"]["TargetArn"] == topic
    clients["lambda"].put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    clients["lambda"].invoke(FunctionName=name, InvocationType="Event", Payload=b'{"dead": true}')
    msg = receive_one(clients["sqs"], url)
    assert json.loads(msg["Body"]) == {"dead": True}
    assert msg["MessageAttributes"]["ErrorMessage"]["StringValue"] == "always fails"


def test_stream_mapping_on_failure_is_a_topic(clients):
    topic, url = topic_with_queue(clients)
    ddb = clients["dynamodb"]
    table = unique_name("failing-stream")
    ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    stream = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    name = failing_function(clients)
    m = clients["lambda"].create_event_source_mapping(
        EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON", BatchSize=1,
        MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    assert m["DestinationConfig"]["OnFailure"]["Destination"] == topic
    ddb.put_item(TableName=table, Item={"pk": {"S": "poison"}})
    record = json.loads(receive_one(clients["sqs"], url)["Body"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["DDBStreamBatchInfo"]["streamArn"] == stream
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1
    clients["lambda"].delete_event_source_mapping(UUID=m["UUID"])
