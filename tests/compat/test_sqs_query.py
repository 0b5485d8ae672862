"""SQS over the awsQuery protocol (what AWS CLI v1 and botocore before 1.31
speak): form-encoded `Action=...` requests, XML responses and
`<ErrorResponse>` errors with the legacy query codes.

Two kinds of client:

- `qsqs`: an unmodified boto3 client whose SQS model is switched to the query
  protocol (see sqs_query.py), so botocore's own QuerySerializer builds the
  flattened form (`MessageAttribute.1.Value.BinaryValue`,
  `SendMessageBatchRequestEntry.2.Id`) and its QueryParser reads our XML.
- `raw`: hand-built signed form requests, for what a client library would
  never send (no Action, unknown Action, GET with a query string, a request
  addressed by the queue's path) and for checking the XML itself.
"""

import hashlib
import json
import os
import subprocess
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import REGION
from sqs_query import NS, X, Raw, query_client, xml_error

# The query API's own text for a missing queue (awsJson's ends after "exist").
NO_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist for this wsdl version.")


@pytest.fixture(scope="session")
def qsqs(endpoint):
    return query_client(endpoint)


@pytest.fixture(scope="session")
def raw(endpoint):
    return Raw(endpoint)


def qname(prefix="query"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def queue(qsqs):
    made = []

    def make(name=None, **attributes):
        url = qsqs.create_queue(
            QueueName=name or qname(), Attributes={k: str(v) for k, v in attributes.items()}
        )["QueueUrl"]
        made.append(url)
        return url

    yield make
    for url in made:
        try:
            qsqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


def error_of(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def test_queue_lifecycle(qsqs, queue, account_id):
    name = qname("life")
    url = queue(name, VisibilityTimeout=45, DelaySeconds=2)
    assert url.endswith(f"/{account_id}/{name}")
    # Re-creating with the same attributes is idempotent.
    assert qsqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45", "DelaySeconds": "2"})[
        "QueueUrl"
    ] == url
    assert qsqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert url in qsqs.list_queues(QueueNamePrefix="life-")["QueueUrls"]
    attrs = qsqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "45"
    assert attrs["DelaySeconds"] == "2"
    assert attrs["QueueArn"] == f"arn:aws:sqs:{REGION}:{account_id}:{name}"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    one = qsqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "DelaySeconds"])
    assert set(one["Attributes"]) == {"QueueArn", "DelaySeconds"}
    qsqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "10"})
    assert qsqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])[
        "Attributes"
    ] == {"VisibilityTimeout": "10"}
    with pytest.raises(ClientError) as e:
        qsqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "46"})
    assert error_of(e) == (
        "QueueAlreadyExists",
        "A queue already exists with the same name and a different value for attribute VisibilityTimeout",
    )
    qsqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as e:
        qsqs.get_queue_url(QueueName=name)
    assert error_of(e) == NO_QUEUE
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["Error"]["Type"] == "Sender"


def test_tags(qsqs, account_id):
    name = qname("tags")
    url = qsqs.create_queue(QueueName=name, tags={"team": "a&b", "env": "<dev>"})["QueueUrl"]
    try:
        assert qsqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a&b", "env": "<dev>"}
        qsqs.tag_queue(QueueUrl=url, Tags={"cost": "1"})
        qsqs.untag_queue(QueueUrl=url, TagKeys=["env"])
        assert qsqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a&b", "cost": "1"}
        qsqs.untag_queue(QueueUrl=url, TagKeys=["team", "cost"])
        assert "Tags" not in qsqs.list_queue_tags(QueueUrl=url)
    finally:
        qsqs.delete_queue(QueueUrl=url)


def test_message_attributes_round_trip_with_md5s(qsqs, sqs, queue):
    url = queue()
    body = "tab\there & <there> \"quoted\" 'single' é 😀\r\nline"
    attrs = {
        "s": {"DataType": "String", "StringValue": "v<&>"},
        "n": {"DataType": "Number", "StringValue": "-12.5"},
        "b": {"DataType": "Binary", "BinaryValue": bytes([0, 1, 2, 255])},
        "meta.kind": {"DataType": "String.json", "StringValue": "{}"},
    }
    sent = qsqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attrs)
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    # The same message over awsJson has the same attribute digest.
    json_sent = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attrs)
    assert sent["MD5OfMessageAttributes"] == json_sent["MD5OfMessageAttributes"]
    got = qsqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
        WaitTimeSeconds=1,
    )["Messages"]
    assert len(got) == 2
    for msg in got:
        assert msg["Body"] == body
        assert msg["MD5OfBody"] == sent["MD5OfMessageBody"]
        assert msg["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
        assert msg["MessageAttributes"] == attrs
        assert msg["Attributes"]["ApproximateReceiveCount"] == "1"
        assert int(msg["Attributes"]["SentTimestamp"]) > 0
    # Attribute selection by prefix.
    qsqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attrs)
    (msg,) = qsqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["meta.*", "s"], WaitTimeSeconds=1
    )["Messages"]
    assert set(msg["MessageAttributes"]) == {"meta.kind", "s"}
    assert "Attributes" not in msg


def test_visibility_delete_and_purge(qsqs, queue):
    url = queue()
    qsqs.send_message(QueueUrl=url, MessageBody="one", DelaySeconds=0)
    (msg,) = qsqs.receive_message(QueueUrl=url, VisibilityTimeout=30, WaitTimeSeconds=1)["Messages"]
    assert "Messages" not in qsqs.receive_message(QueueUrl=url)
    qsqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0)
    (again,) = qsqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert again["MessageId"] == msg["MessageId"]
    qsqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    assert "Messages" not in qsqs.receive_message(QueueUrl=url)
    with pytest.raises(ClientError) as e:
        qsqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")
    assert error_of(e) == (
        "ReceiptHandleIsInvalid",
        'The input receipt handle "garbage" is not a valid receipt handle.',
    )
    qsqs.send_message(QueueUrl=url, MessageBody="two")
    qsqs.purge_queue(QueueUrl=url)
    with pytest.raises(ClientError) as e:
        qsqs.purge_queue(QueueUrl=url)
    code, message = error_of(e)
    assert code == "AWS.SimpleQueueService.PurgeQueueInProgress"
    assert message.startswith("Only one PurgeQueue operation on ")


def test_batches_with_partial_failures(qsqs, queue):
    url = queue()
    sent = qsqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": "a",
                "MessageBody": "body-a",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {"Id": "b", "MessageBody": "body-b", "DelaySeconds": 0},
            {"Id": "bad", "MessageBody": "x", "DelaySeconds": 901},
        ],
    )
    ok = {e["Id"]: e for e in sent["Successful"]}
    assert set(ok) == {"a", "b"}
    assert ok["b"]["MD5OfMessageBody"] == hashlib.md5(b"body-b").hexdigest()
    assert "MD5OfMessageAttributes" in ok["a"]
    (failed,) = sent["Failed"]
    assert failed["Id"] == "bad"
    assert failed["SenderFault"] is True
    assert failed["Code"] == "InvalidParameterValue"

    msgs = qsqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert sorted(m["Body"] for m in msgs) == ["body-a", "body-b"]
    changed = qsqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[{"Id": "c0", "ReceiptHandle": msgs[0]["ReceiptHandle"], "VisibilityTimeout": 60}]
        + [{"Id": "cx", "ReceiptHandle": "garbage", "VisibilityTimeout": 60}],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["c0"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in changed["Failed"]] == [
        ("cx", "ReceiptHandleIsInvalid", True)
    ]
    deleted = qsqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
        + [{"Id": "dx", "ReceiptHandle": "garbage"}],
    )
    assert sorted(e["Id"] for e in deleted["Successful"]) == ["d0", "d1"]
    assert [(e["Id"], e["Code"]) for e in deleted["Failed"]] == [("dx", "ReceiptHandleIsInvalid")]

    with pytest.raises(ClientError) as e:
        qsqs.delete_message_batch(QueueUrl=url, Entries=[])
    # botocore sends an empty list as `DeleteMessageBatchRequestEntry=`.
    assert error_of(e) == (
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "There should be at least one DeleteMessageBatchRequestEntry in the request.",
    )
    with pytest.raises(ClientError) as e:
        qsqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": "same", "MessageBody": "1"}, {"Id": "same", "MessageBody": "2"}]
        )
    assert error_of(e) == ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id same repeated.")
    with pytest.raises(ClientError) as e:
        qsqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": f"i{i}", "MessageBody": "m"} for i in range(11)]
        )
    assert error_of(e) == (
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "Maximum number of entries per request are 10. You have sent 11.",
    )


def test_dead_letter_sources_and_fifo(qsqs, sqs, queue, account_id):
    dlq = queue()
    dlq_arn = qsqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = queue(RedrivePolicy=f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"3"}}')
    src_arn = qsqs.get_queue_attributes(QueueUrl=src, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert qsqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]

    # Move a dead-lettered message back with a move task.
    qsqs.send_message(QueueUrl=dlq, MessageBody="dead")
    handle = qsqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=src_arn)["TaskHandle"]
    assert handle
    (moved,) = qsqs.receive_message(QueueUrl=src, WaitTimeSeconds=5)["Messages"]
    assert moved["Body"] == "dead"
    (task,) = qsqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert task["SourceArn"] == dlq_arn
    assert task["DestinationArn"] == src_arn
    assert task["Status"] in ("RUNNING", "COMPLETED")
    assert isinstance(task["StartedTimestamp"], int)
    with pytest.raises(ClientError) as e:
        qsqs.cancel_message_move_task(TaskHandle="bogus")
    with pytest.raises(ClientError) as json_e:
        sqs.cancel_message_move_task(TaskHandle="bogus")
    assert error_of(e) == error_of(json_e)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == json_e.value.response[
        "ResponseMetadata"
    ]["HTTPStatusCode"]
    fifo = queue(qname("f") + ".fifo", FifoQueue="true", ContentBasedDeduplication="true")
    first = qsqs.send_message(QueueUrl=fifo, MessageBody="m", MessageGroupId="g")
    dup = qsqs.send_message(QueueUrl=fifo, MessageBody="m", MessageGroupId="g")
    assert dup["MessageId"] == first["MessageId"]
    assert first["SequenceNumber"] == dup["SequenceNumber"]
    (msg,) = qsqs.receive_message(
        QueueUrl=fifo, AttributeNames=["MessageGroupId", "SequenceNumber"], WaitTimeSeconds=1
    )["Messages"]
    assert msg["Attributes"] == {"MessageGroupId": "g", "SequenceNumber": first["SequenceNumber"]}
    with pytest.raises(ClientError) as e:
        qsqs.send_message(QueueUrl=fifo, MessageBody="m")
    assert error_of(e) == (
        "MissingParameter",
        "The request must contain the parameter MessageGroupId.",
    )


def test_errors_have_query_codes(qsqs, account_id, endpoint):
    missing = f"{endpoint}/{account_id}/{qname('none')}"
    with pytest.raises(ClientError) as e:
        qsqs.send_message(QueueUrl=missing, MessageBody="x")
    assert error_of(e) == NO_QUEUE
    with pytest.raises(ClientError) as e:
        qsqs.get_queue_attributes(QueueUrl=missing)
    assert error_of(e) == NO_QUEUE
    with pytest.raises(ClientError) as e:
        qsqs.create_queue(QueueName="bad name!")
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_raw_xml_and_protocol_errors(raw, qsqs, queue, account_id):
    url = queue()
    path = urllib.parse.urlparse(url).path
    # Addressed by the queue's path, no QueueUrl, GET with a query string.
    r = raw.send({"Action": "SendMessage", "MessageBody": "a<b>&c", "Version": "2012-11-05"}, path=path)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/xml"
    root = ET.fromstring(r.text)
    assert root.tag == f"{{{NS}}}SendMessageResponse"
    result = root.find("q:SendMessageResult", X)
    assert result.find("q:MD5OfMessageBody", X).text == hashlib.md5(b"a<b>&c").hexdigest()
    assert root.find("q:ResponseMetadata/q:RequestId", X).text == r.headers["x-amzn-RequestId"]
    r = raw.send(
        {"Action": "ReceiveMessage", "QueueUrl": url, "AttributeName.1": "All", "WaitTimeSeconds": "1"},
        method="GET",
    )
    assert r.status_code == 200
    msg = ET.fromstring(r.text).find("q:ReceiveMessageResult/q:Message", X)
    assert msg.find("q:Body", X).text == "a<b>&c"
    names = {a.find("q:Name", X).text for a in msg.findall("q:Attribute", X)}
    assert {"SentTimestamp", "ApproximateReceiveCount", "SenderId"} <= names
    r = raw.send({"Action": "DeleteMessage", "ReceiptHandle": msg.find("q:ReceiptHandle", X).text}, path=path)
    assert r.status_code == 200
    root = ET.fromstring(r.text)
    assert root.tag == f"{{{NS}}}DeleteMessageResponse"
    assert [child.tag for child in root] == [f"{{{NS}}}ResponseMetadata"]
    # An empty receive has an empty result element.
    r = raw.send({"Action": "ReceiveMessage", "QueueUrl": url})
    assert [c.tag for c in ET.fromstring(r.text)] == [
        f"{{{NS}}}ReceiveMessageResult",
        f"{{{NS}}}ResponseMetadata",
    ]
    assert len(ET.fromstring(r.text).find("q:ReceiveMessageResult", X)) == 0

    assert xml_error(raw.send({"QueueUrl": url})) == (
        400,
        "Sender",
        "MissingAction",
        "The request must contain the parameter Action.",
    )
    assert xml_error(raw.send({"Action": "Frobnicate"})) == (
        400,
        "Sender",
        "InvalidAction",
        "The action Frobnicate is not valid for this endpoint.",
    )
    # AddPermission addressed by the queue's path, with the query API's own
    # list names (AWSAccountId.N, ActionName.N); its response has no result.
    r = raw.send(
        {
            "Action": "AddPermission",
            "Label": "raw",
            "AWSAccountId.1": "111111111111",
            "ActionName.1": "SendMessage",
            "ActionName.2": "GetQueueUrl",
        },
        path=path,
    )
    assert r.status_code == 200
    root = ET.fromstring(r.text)
    assert root.tag == f"{{{NS}}}AddPermissionResponse"
    assert [child.tag for child in root] == [f"{{{NS}}}ResponseMetadata"]
    policy = json.loads(qsqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Statement"][0]["Action"] == ["SQS:SendMessage", "SQS:GetQueueUrl"]
    assert xml_error(raw.send({"Action": "RemovePermission", "QueueUrl": url, "Label": "l"})) == (
        400,
        "Sender",
        "InvalidParameterValue",
        "Value l for parameter Label is invalid. Reason: can't find label on existing policy.",
    )
    assert xml_error(raw.send({"Action": "SendMessage", "QueueUrl": url})) == (
        400,
        "Sender",
        "MissingParameter",
        "The request must contain the parameter MessageBody.",
    )
    assert xml_error(raw.send({"Action": "GetQueueUrl", "QueueName": "no-such-queue-q"})) == (
        400,
        "Sender",
        *NO_QUEUE,
    )
    assert xml_error(
        raw.send({"Action": "ReceiveMessage", "QueueUrl": url, "MaxNumberOfMessages": "many"})
    ) == (400, "Sender", "InvalidParameterValue", "The value for parameter MaxNumberOfMessages is not valid.")


# AWS CLI v1 before 1.29.x-era botocore 1.31 speaks query to SQS. Install one
# beside the suite (see README.md) and point AWSCLI_V1 at its `aws`.
AWSCLI_V1 = os.environ.get("AWSCLI_V1", "/tmp/awscli-v1/bin/aws")


def test_aws_cli_v1(endpoint):
    if not Path(AWSCLI_V1).is_file():
        pytest.skip(f"AWS CLI v1 not installed at {AWSCLI_V1} (set AWSCLI_V1)")

    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="AKIDCOMPATTEST",
        AWS_SECRET_ACCESS_KEY="compat-secret",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )

    def aws(*args):
        out = subprocess.run(
            [AWSCLI_V1, "--endpoint-url", endpoint, "--output", "json", "sqs", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return out.returncode, out.stdout, out.stderr

    version = subprocess.run([AWSCLI_V1, "--version"], capture_output=True, text=True).stdout
    assert version.startswith("aws-cli/1."), version
    name = qname("cli")
    rc, out, err = aws("create-queue", "--queue-name", name, "--attributes", "VisibilityTimeout=40")
    assert rc == 0, err
    url = json.loads(out)["QueueUrl"]
    try:
        rc, out, err = aws(
            "send-message",
            "--queue-url",
            url,
            "--message-body",
            "hello <cli> & co",
            "--message-attributes",
            '{"k": {"DataType": "String", "StringValue": "v"}}',
        )
        assert rc == 0, err
        sent = json.loads(out)
        assert sent["MD5OfMessageBody"] == hashlib.md5(b"hello <cli> & co").hexdigest()
        rc, out, err = aws(
            "receive-message",
            "--queue-url",
            url,
            "--attribute-names",
            "All",
            "--message-attribute-names",
            "All",
            "--wait-time-seconds",
            "1",
        )
        assert rc == 0, err
        (msg,) = json.loads(out)["Messages"]
        assert msg["Body"] == "hello <cli> & co"
        assert msg["MessageId"] == sent["MessageId"]
        assert msg["MessageAttributes"] == {"k": {"DataType": "String", "StringValue": "v"}}
        assert msg["Attributes"]["ApproximateReceiveCount"] == "1"
        rc, out, err = aws("get-queue-attributes", "--queue-url", url, "--attribute-names", "VisibilityTimeout")
        assert rc == 0, err
        assert json.loads(out)["Attributes"] == {"VisibilityTimeout": "40"}
        rc, out, err = aws("delete-message", "--queue-url", url, "--receipt-handle", msg["ReceiptHandle"])
        assert rc == 0, err
    finally:
        aws("delete-queue", "--queue-url", url)
    rc, out, err = aws("get-queue-url", "--queue-name", name)
    assert rc == 255
    assert (
        "An error occurred (AWS.SimpleQueueService.NonExistentQueue) when calling the GetQueueUrl "
        "operation: The specified queue does not exist for this wsdl version." in err
    )
