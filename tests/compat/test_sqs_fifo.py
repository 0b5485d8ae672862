"""SQS FIFO queues through unmodified boto3 (botocore verifies the MD5 digests
of every send and receive, duplicates included).

Error texts: the FIFO name, MessageGroupId, deduplication and DelaySeconds
messages are the ones AWS returns as reported in public issues; the texts for
FifoThroughputLimit / DeduplicationScope values and for FifoQueue on an
existing queue are `# text not documented; assumed`.
"""

import hashlib
import time
import uuid

import pytest
from compat_util import aws_error


def qname(prefix="fifo"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}.fifo"


@pytest.fixture
def fifo(sqs):
    """Factory: fifo(**attributes) -> url of a new FIFO queue; deleted afterwards."""
    made = []

    def make(name=None, **attributes):
        attrs = {"FifoQueue": "true", **{k: str(v) for k, v in attributes.items()}}
        url = sqs.create_queue(QueueName=name or qname(), Attributes=attrs)["QueueUrl"]
        made.append(url)
        return url

    yield make
    for url in made:
        sqs.delete_queue(QueueUrl=url)


def receive(sqs, url, n=10, visibility=30):
    return sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=n,
        VisibilityTimeout=visibility,
        MessageSystemAttributeNames=["All"],
    ).get("Messages", [])


def bodies(messages):
    return [m["Body"] for m in messages]


def test_create_fifo_queue_and_attributes(sqs, fifo, account_id):
    name = qname()
    url = fifo(name=name)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    assert attrs["DeduplicationScope"] == "messageQueue"
    assert attrs["FifoThroughputLimit"] == "perQueue"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:{account_id}:{name}"
    high = fifo(DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    got = sqs.get_queue_attributes(
        QueueUrl=high, AttributeNames=["DeduplicationScope", "FifoThroughputLimit"]
    )["Attributes"]
    assert got == {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}


@pytest.mark.parametrize(
    "name,attributes,code,message",
    [
        ("x.fifo", {}, "InvalidParameterValue",
         "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"),
        ("plain", {"FifoQueue": "true"}, "InvalidParameterValue",
         "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
         "underscores, must end with .fifo suffix and be 1 to 80 in length."),
        ("x" * 76 + ".fifo", {"FifoQueue": "true"}, "InvalidParameterValue",
         "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
         "underscores, must end with .fifo suffix and be 1 to 80 in length."),
        ("plain", {"FifoQueue": "false"}, "InvalidAttributeName", "Unknown Attribute FifoQueue."),
        ("plain", {"ContentBasedDeduplication": "true"}, "InvalidAttributeName",
         "Unknown Attribute ContentBasedDeduplication."),
        ("plain", {"FifoThroughputLimit": "perQueue"}, "InvalidAttributeName",
         "Unknown Attribute FifoThroughputLimit."),
        # text not documented; assumed (the generic invalid-value text)
        ("q.fifo", {"FifoQueue": "true", "DeduplicationScope": "x"}, "InvalidAttributeValue",
         "Invalid value for the parameter DeduplicationScope."),
        ("q.fifo", {"FifoQueue": "true", "FifoThroughputLimit": "perMessageGroupId"},
         "InvalidAttributeValue", "Invalid value for the parameter FifoThroughputLimit."),
        ("q.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "1"},
         "InvalidAttributeValue", "Invalid value for the parameter ContentBasedDeduplication."),
    ],
)
def test_create_queue_fifo_rules(sqs, name, attributes, code, message):
    with aws_error(code, message):
        sqs.create_queue(QueueName=name, Attributes=attributes)


def test_send_requires_group_and_deduplication(sqs, fifo):
    url = fifo()
    with aws_error("MissingParameter", "The request must contain the parameter MessageGroupId."):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    with aws_error(
        "InvalidParameterValue",
        "The queue should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly",
    ):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    with aws_error(
        "InvalidParameterValue",
        "Value 3 for parameter DelaySeconds is invalid. Reason: The request include parameter "
        "that is not valid for this queue type.",
    ):
        sqs.send_message(
            QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d",
            DelaySeconds=3,
        )
    with aws_error(
        "InvalidParameterValue",
        "Value g\u00e9 for parameter MessageGroupId is invalid. Reason: MessageGroupId can only "
        "include alphanumeric and punctuation characters. 1 to 128 in length.",
    ):
        sqs.send_message(
            QueueUrl=url, MessageBody="x", MessageGroupId="g\u00e9", MessageDeduplicationId="d"
        )


def test_standard_queue_refuses_deduplication_id(sqs):
    url = sqs.create_queue(QueueName=f"std-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    try:
        with aws_error(
            "InvalidParameterValue",
            "Value dd for parameter MessageDeduplicationId is invalid. Reason: The request "
            "include parameter that is not valid for this queue type.",
        ):
            sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="dd")
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_deduplication_explicit_and_content_based(sqs, fifo):
    url = fifo()
    first = sqs.send_message(
        QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="k"
    )
    dup = sqs.send_message(
        QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="k"
    )
    assert dup["MessageId"] == first["MessageId"]
    assert dup["SequenceNumber"] == first["SequenceNumber"]
    got = receive(sqs, url)
    assert bodies(got) == ["one"]
    assert got[0]["Attributes"]["MessageDeduplicationId"] == "k"
    assert got[0]["Attributes"]["SequenceNumber"] == first["SequenceNumber"]

    cb = fifo(ContentBasedDeduplication="true")
    a = sqs.send_message(QueueUrl=cb, MessageBody="same", MessageGroupId="g")
    b = sqs.send_message(QueueUrl=cb, MessageBody="same", MessageGroupId="g")
    assert a["MessageId"] == b["MessageId"]
    got = receive(sqs, cb)
    assert len(got) == 1
    assert got[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()


def test_order_within_group_and_group_held_in_flight(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    for body, group in [("a1", "A"), ("b1", "B"), ("a2", "A"), ("b2", "B"), ("a3", "A")]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    first = receive(sqs, url, n=1)
    assert bodies(first) == ["a1"]
    assert first[0]["Attributes"]["MessageGroupId"] == "A"
    # Group A is held while a1 is in flight.
    assert bodies(receive(sqs, url)) == ["b1", "b2"]
    assert receive(sqs, url) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    rest = receive(sqs, url)
    assert bodies(rest) == ["a2", "a3"]
    numbers = [int(m["Attributes"]["SequenceNumber"]) for m in rest]
    assert numbers == sorted(numbers)


def test_batch_send_on_fifo(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    out = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "1", "MessageBody": "p", "MessageGroupId": "g"},
            {"Id": "2", "MessageBody": "q", "MessageGroupId": "g"},
            {"Id": "3", "MessageBody": "p", "MessageGroupId": "g"},
            {"Id": "4", "MessageBody": "r"},
        ],
    )
    ok = {e["Id"]: e for e in out["Successful"]}
    assert sorted(ok) == ["1", "2", "3"]
    assert ok["3"]["MessageId"] == ok["1"]["MessageId"]
    assert int(ok["2"]["SequenceNumber"]) > int(ok["1"]["SequenceNumber"])
    assert out["Failed"] == [
        {
            "Id": "4",
            "SenderFault": True,
            "Code": "MissingParameter",
            "Message": "The request must contain the parameter MessageGroupId.",
        }
    ]
    assert bodies(receive(sqs, url)) == ["p", "q"]


def test_visibility_timeout_returns_message_first(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    for body in ["m1", "m2"]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    assert bodies(receive(sqs, url, n=1, visibility=1)) == ["m1"]
    time.sleep(1.2)
    again = receive(sqs, url)
    assert bodies(again) == ["m1", "m2"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_receive_request_attempt_id(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    for body in ["r1", "r2"]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, ReceiveRequestAttemptId="a-1")
    retry = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, ReceiveRequestAttemptId="a-1")
    assert bodies(first["Messages"]) == bodies(retry["Messages"]) == ["r1"]
    assert first["Messages"][0]["ReceiptHandle"] == retry["Messages"][0]["ReceiptHandle"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="a-2")
    with aws_error(
        "InvalidParameterValue",
        "Value a\tb for parameter ReceiveRequestAttemptId is invalid. Reason: "
        "ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. "
        "1 to 128 in length.",
    ):
        sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="a\tb")
