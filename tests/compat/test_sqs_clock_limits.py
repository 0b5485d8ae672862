"""SQS rules that need a nimbus of this module's own, over awsJson (`sqs`)
and awsQuery (`qsqs`, see sqs_query.py):

- timed by the clock, which the tests move with POST /_nimbus/clock/advance:
  QueueDeletedRecently for 60 seconds after DeleteQueue, and the FIFO
  deduplication window of 5 minutes;
- the in-flight limit, lowered for this server with the test-only
  `--sqs-max-inflight 5` (AWS's is about 120,000): OverLimit (HTTP 403) on a
  short poll of a standard queue, no messages and no error on a long poll
  or on a FIFO queue, as the SQS developer guide's quotas say.

Texts: QueueDeletedRecently's is localstack's and local-aws's (both check
theirs against AWS); OverLimit's ReceiveMessage text is from an AWS response
quoted in a bug report (with its line break).
"""

import threading
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from compat_util import advance_clock, aws_error
from conftest import _CONFIG, _session, own_nimbus
from sqs_query import Raw, query_client, xml_error

LIMIT = 5
DELETED_RECENTLY = (
    "AWS.SimpleQueueService.QueueDeletedRecently",
    "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
)
OVER_LIMIT = (
    "OverLimit",
    "Too many messages have been received without being deleted.\n"
    "Please delete your received messages or let them timeout before receiving more.",
)


@pytest.fixture(scope="module")
def endpoint():
    yield from own_nimbus(("--in-memory", "--sqs-max-inflight", str(LIMIT)))


@pytest.fixture(scope="module")
def sqs(endpoint):
    return _session().client("sqs", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="module")
def qsqs(endpoint):
    return query_client(endpoint)


def qname(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize("protocol", ["json", "query"])
def test_a_deleted_name_is_held_for_60_seconds(sqs, qsqs, endpoint, protocol):
    client = sqs if protocol == "json" else qsqs
    name = qname("phoenix")
    url = client.create_queue(QueueName=name)["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="before")
    client.delete_queue(QueueUrl=url)
    with aws_error(*DELETED_RECENTLY):
        client.create_queue(QueueName=name)
    # Other names are free.
    other = client.create_queue(QueueName=qname("other"))["QueueUrl"]
    client.delete_queue(QueueUrl=other)
    advance_clock(endpoint, 59)
    with aws_error(*DELETED_RECENTLY):
        client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "5"})
    advance_clock(endpoint, 1)
    assert client.create_queue(QueueName=name)["QueueUrl"] == url
    # A new queue: nothing of the old one is left in it.
    assert "Messages" not in client.receive_message(QueueUrl=url)
    client.delete_queue(QueueUrl=url)


def test_deleted_recently_raw_query(endpoint):
    raw = Raw(endpoint)
    name = qname("raw-phoenix")
    assert raw.send({"Action": "CreateQueue", "QueueName": name}).status_code == 200
    url = f"{endpoint}/000000000000/{name}"
    assert raw.send({"Action": "DeleteQueue", "QueueUrl": url}).status_code == 200
    assert xml_error(raw.send({"Action": "CreateQueue", "QueueName": name})) == (400, "Sender", *DELETED_RECENTLY)


def test_fifo_deduplication_window_follows_the_clock(sqs, endpoint):
    url = sqs.create_queue(QueueName=qname("dedup") + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    first = sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1")
    # A duplicate inside the window is accepted, answered with the first
    # send's ids, and dropped: also after the original was deleted.
    dup = sqs.send_message(QueueUrl=url, MessageBody="two", MessageGroupId="g", MessageDeduplicationId="d1")
    assert (dup["MessageId"], dup["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])
    (msg,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert msg["Body"] == "one"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    advance_clock(endpoint, 299)
    dup = sqs.send_message(QueueUrl=url, MessageBody="three", MessageGroupId="g", MessageDeduplicationId="d1")
    assert dup["MessageId"] == first["MessageId"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    # Five minutes after the first send the id is forgotten.
    advance_clock(endpoint, 1)
    again = sqs.send_message(QueueUrl=url, MessageBody="four", MessageGroupId="g", MessageDeduplicationId="d1")
    assert again["MessageId"] != first["MessageId"]
    assert int(again["SequenceNumber"]) > int(first["SequenceNumber"])
    (msg,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert msg["Body"] == "four"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])

    # Content-based deduplication: the body's SHA-256 is the id.
    cbd = sqs.create_queue(
        QueueName=qname("cbd") + ".fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    a = sqs.send_message(QueueUrl=cbd, MessageBody="same", MessageGroupId="g")
    assert sqs.send_message(QueueUrl=cbd, MessageBody="same", MessageGroupId="g")["MessageId"] == a["MessageId"]
    advance_clock(endpoint, 300)
    assert sqs.send_message(QueueUrl=cbd, MessageBody="same", MessageGroupId="g")["MessageId"] != a["MessageId"]
    assert len(sqs.receive_message(QueueUrl=cbd, MaxNumberOfMessages=10)["Messages"]) == 2


def fill(client, url, n, fifo=False):
    for i in range(n):
        extra = {"MessageGroupId": f"g{i}", "MessageDeduplicationId": f"d{i}"} if fifo else {}
        client.send_message(QueueUrl=url, MessageBody=f"m{i}", **extra)


@pytest.mark.parametrize("protocol", ["json", "query"])
def test_in_flight_limit_on_a_standard_queue(sqs, qsqs, endpoint, protocol):
    client = sqs if protocol == "json" else qsqs
    url = client.create_queue(QueueName=qname("limit"))["QueueUrl"]
    fill(client, url, LIMIT + 3)
    got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == LIMIT
    # At the limit: a short poll is refused ...
    with aws_error(*OVER_LIMIT, status=403) as caught:
        client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    assert caught.response["Error"]["Type"] == "Sender"
    # ... a long poll waits and answers with no messages.
    started = time.monotonic()
    assert "Messages" not in client.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert time.monotonic() - started >= 0.9
    # A delete makes room for exactly one, and wakes a waiting long poll.
    result = {}

    def wait():
        result["r"] = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=10)

    waiter = threading.Thread(target=wait)
    started = time.monotonic()
    waiter.start()
    time.sleep(0.3)
    client.delete_message(QueueUrl=url, ReceiptHandle=got.pop()["ReceiptHandle"])
    waiter.join(timeout=15)
    assert time.monotonic() - started < 5
    assert len(result["r"]["Messages"]) == 1
    got += result["r"]["Messages"]
    with aws_error(*OVER_LIMIT, status=403):
        client.receive_message(QueueUrl=url)
    # Messages whose visibility timeout ran out are no longer in flight.
    advance_clock(endpoint, 31)
    again = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(again) == LIMIT
    client.delete_queue(QueueUrl=url)


def test_over_limit_xml(endpoint, qsqs):
    url = qsqs.create_queue(QueueName=qname("limit-xml"))["QueueUrl"]
    # One more than the limit: the limit is met when a receive would take a
    # visible message beyond it.
    fill(qsqs, url, LIMIT + 1)
    assert len(qsqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == LIMIT
    response = Raw(endpoint).send({"Action": "ReceiveMessage", "QueueUrl": url})
    assert xml_error(response) == (403, "Sender", *OVER_LIMIT)
    assert ET.fromstring(response.text).tag.endswith("ErrorResponse")
    qsqs.delete_queue(QueueUrl=url)


def test_in_flight_limit_on_a_fifo_queue_is_silent(sqs):
    url = sqs.create_queue(QueueName=qname("limit") + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    fill(sqs, url, LIMIT + 2, fifo=True)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == LIMIT
    # No error on a FIFO queue, short poll or long: just no messages.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 1
    sqs.delete_queue(QueueUrl=url)
