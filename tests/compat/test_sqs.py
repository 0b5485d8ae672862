"""SQS over awsJson 1.0 through unmodified boto3 (botocore verifies the
MD5OfMessageBody / MD5OfMessageAttributes of sends and receives, so these
tests fail if a digest is off by one bit).

Error codes are what botocore reports: the legacy query code from the
x-amzn-query-error header (AWS.SimpleQueueService.NonExistentQueue), which is
also what the exception classes are matched on.
"""

import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

NO_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")


def qname(prefix="compat"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def queue(sqs):
    """Factory: queue(**attributes) -> url; deletes the queues afterwards."""
    made = []

    def make(name=None, **attributes):
        url = sqs.create_queue(
            QueueName=name or qname(), Attributes={k: str(v) for k, v in attributes.items()}
        )["QueueUrl"]
        made.append(url)
        return url

    yield make
    for url in made:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


def error_of(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def test_create_get_list_delete(sqs, queue, endpoint, account_id):
    name = qname("lifecycle")
    url = queue(name=name)
    assert url == f"{endpoint}/{account_id}/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    listed = sqs.list_queues(QueueNamePrefix="lifecycle-")["QueueUrls"]
    assert url in listed
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.get_queue_url(QueueName=name)
    assert error_of(e) == NO_QUEUE
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_list_queues_pages(sqs, queue):
    prefix = qname("page")
    urls = sorted(queue(name=f"{prefix}-{i}") for i in range(3))
    first = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert len(first["QueueUrls"]) == 2
    second = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert sorted(first["QueueUrls"] + second["QueueUrls"]) == urls
    paged = [u for page in sqs.get_paginator("list_queues").paginate(
        QueueNamePrefix=prefix, PaginationConfig={"PageSize": 1}) for u in page.get("QueueUrls", [])]
    assert sorted(paged) == urls


def test_create_queue_idempotence(sqs, queue):
    name = qname()
    url = queue(name=name, VisibilityTimeout=60)
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "60"})["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists) as e:
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "61"})
    assert error_of(e) == (
        "QueueAlreadyExists",
        "A queue already exists with the same name and a different value for attribute VisibilityTimeout",
    )


@pytest.mark.parametrize(
    "attribute,value",
    [
        ("DelaySeconds", "901"),
        ("MaximumMessageSize", "1023"),
        ("MaximumMessageSize", "1048577"),
        ("MessageRetentionPeriod", "59"),
        ("MessageRetentionPeriod", "1209601"),
        ("ReceiveMessageWaitTimeSeconds", "21"),
        ("VisibilityTimeout", "43201"),
        ("VisibilityTimeout", "x"),
    ],
)
def test_create_queue_attribute_ranges(sqs, attribute, value):
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=qname(), Attributes={attribute: value})
    assert error_of(e) == ("InvalidAttributeValue", f"Invalid value for the parameter {attribute}.")


def test_create_queue_bad_names_and_unknown_attribute(sqs):
    for bad in ["has space", "x" * 81, "q.fifo"]:
        with pytest.raises(ClientError) as e:
            sqs.create_queue(QueueName=bad)
        assert error_of(e) == (
            "InvalidParameterValue",
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        )
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=qname(), Attributes={"Colour": "blue"})
    assert error_of(e) == ("InvalidAttributeName", "Unknown Attribute Colour.")


def test_queue_attributes(sqs, queue, account_id):
    name = qname()
    url = queue(name=name, DelaySeconds=0)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "30"
    assert attrs["MaximumMessageSize"] == "1048576"
    assert attrs["MessageRetentionPeriod"] == "345600"
    assert attrs["ReceiveMessageWaitTimeSeconds"] == "0"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:{account_id}:{name}"
    assert int(attrs["CreatedTimestamp"]) <= int(time.time()) + 1
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "7"})
    only = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert only["Attributes"] == {"VisibilityTimeout": "7"}
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "-1"})
    assert error_of(e) == ("InvalidAttributeValue", "Invalid value for the parameter VisibilityTimeout.")


def test_send_receive_delete_with_attributes(sqs, queue):
    url = queue()
    attributes = {
        "attribName1": {"DataType": "String", "StringValue": "attribValue 1"},
        "customNumberTypeAttrib": {
            "DataType": "Number.float",
            "StringValue": "4563442423554324324264524243.32543234",
        },
        "binaryAttribute": {"DataType": "Binary", "BinaryValue": b"Hello binary world!"},
    }
    # botocore checks both digests of the response against what it sent.
    sent = sqs.send_message(QueueUrl=url, MessageBody="héllo ✓", MessageAttributes=attributes)
    assert sent["MD5OfMessageAttributes"] == "c932db14a896c663f83c260297d594ff"
    got = sqs.receive_message(
        QueueUrl=url,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    )["Messages"]
    assert len(got) == 1
    m = got[0]
    assert m["Body"] == "héllo ✓"
    assert m["MessageId"] == sent["MessageId"]
    assert m["MessageAttributes"]["binaryAttribute"]["BinaryValue"] == b"Hello binary world!"
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    assert int(m["Attributes"]["SentTimestamp"]) > 1_600_000_000_000
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attrs == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_send_errors(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="bad \x07")
    assert error_of(e) == (
        "InvalidMessageContents",
        "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF"
        " | #xE000 to #xFFFD | #x10000 to #x10FFFF",
    )
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1048577)
    assert error_of(e) == (
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.",
    )
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    assert error_of(e) == (
        "InvalidParameterValue",
        "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.",
    )
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="")
    assert error_of(e) == ("MissingParameter", "The request must contain the parameter MessageBody.")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.send_message(QueueUrl=url.rsplit("/", 1)[0] + "/missing-queue", MessageBody="x")
    assert error_of(e) == NO_QUEUE


def test_receive_errors(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as e:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert error_of(e) == (
        "InvalidParameterValue",
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.",
    )
    with pytest.raises(ClientError) as e:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)
    assert error_of(e) == (
        "InvalidParameterValue",
        "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.",
    )
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid) as e:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")
    assert error_of(e) == (
        "ReceiptHandleIsInvalid",
        'The input receipt handle "garbage" is not a valid receipt handle.',
    )


def test_long_polling_returns_early(sqs, queue):
    url = queue()
    threading.Timer(0.5, lambda: sqs.send_message(QueueUrl=url, MessageBody="ping")).start()
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])
    elapsed = time.monotonic() - started
    assert [m["Body"] for m in got] == ["ping"]
    assert 0.3 < elapsed < 5


def test_empty_receive_has_no_messages_key(sqs, queue):
    url = queue()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_visibility_timeout_and_change_visibility(sqs, queue):
    url = queue(VisibilityTimeout=1)
    sqs.send_message(QueueUrl=url, MessageBody="v")
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    time.sleep(1.2)
    second = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert second["MessageId"] == first["MessageId"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0)
    third = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=5)
    assert error_of(e) == (
        "InvalidParameterValue",
        f"Value {first['ReceiptHandle']} for parameter ReceiptHandle is invalid. Reason: Message does not"
        " exist or is not available for visibility timeout change.",
    )
    sqs.delete_message(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"])


def test_batches(sqs, queue):
    url = queue()
    out = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "one"},
            {"Id": "b", "MessageBody": "two", "MessageAttributes": {
                "k": {"DataType": "String", "StringValue": "v"}}},
            {"Id": "c", "MessageBody": "bad \x01"},
        ],
    )
    assert sorted(s["Id"] for s in out["Successful"]) == ["a", "b"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in out["Failed"]] == [
        ("c", "InvalidMessageContents", True)
    ]
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct) as e:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}])
    assert error_of(e) == ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id x repeated.")
    with pytest.raises(sqs.exceptions.EmptyBatchRequest) as e:
        sqs.send_message_batch(QueueUrl=url, Entries=[])
    assert error_of(e) == (
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "There should be at least one SendMessageBatchRequestEntry in the request.",
    )
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest) as e:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"i{i}", "MessageBody": "m"} for i in range(11)])
    assert error_of(e) == (
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "Maximum number of entries per request are 10. You have sent 11.",
    )
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    assert sorted(m["Body"] for m in got) == ["one", "two"]
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        + [{"Id": "junk", "ReceiptHandle": "garbage"}],
    )
    assert len(deleted["Successful"]) == 2
    assert [(f["Id"], f["Code"]) for f in deleted["Failed"]] == [("junk", "ReceiptHandleIsInvalid")]


def test_purge_queue(sqs, queue):
    url = queue()
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress) as e:
        sqs.purge_queue(QueueUrl=url)
    name = url.rsplit("/", 1)[1]
    assert error_of(e) == (
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        f"Only one PurgeQueue operation on {name} is allowed every 60 seconds.",
    )


def test_queue_resource_api(endpoint):
    """The boto3 resource layer (Queue objects) works as written for AWS."""
    import boto3
    from botocore.config import Config

    resource = boto3.session.Session(
        aws_access_key_id="AKIDCOMPATTEST", aws_secret_access_key="compat-secret", region_name="us-east-1"
    ).resource("sqs", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))
    q = resource.create_queue(QueueName=qname("resource"))
    try:
        q.send_message(MessageBody="r")
        msgs = q.receive_messages(WaitTimeSeconds=1)
        assert [m.body for m in msgs] == ["r"]
        msgs[0].delete()
        assert q.attributes["ApproximateNumberOfMessages"] == "0"
    finally:
        q.delete()


def test_aws_trace_header(sqs, queue):
    url = queue()
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="t",
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": trace}},
    )
    assert len(sent["MD5OfMessageSystemAttributes"]) == 32
    got = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"][0]
    assert got["Attributes"] == {"AWSTraceHeader": trace}
