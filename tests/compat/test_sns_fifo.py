"""SNS FIFO topics through unmodified boto3: FIFO topic to FIFO queue in
order per message group, with group and deduplication ids carried over;
deduplication within five minutes by id or by content (the window follows
nimbus's test clock, so the module runs a nimbus of its own); PublishBatch
on FIFO topics; standard queues on FIFO topics; and FIFO's bad inputs.

Texts marked "observed on AWS" are those AWS returned in recorded runs of
LocalStack's AWS-validated SNS test suite; "not documented; assumed" marks
nimbus's best knowledge.
"""

import hashlib
import json

import pytest
from compat_util import advance_clock, aws_error
from sns_util import create_queue, drain
from conftest import _CONFIG, _session, own_nimbus, unique_name


@pytest.fixture(scope="module")
def endpoint():
    yield from own_nimbus()


@pytest.fixture(scope="module")
def sns(endpoint):
    return _session().client("sns", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="module")
def sqs(endpoint):
    return _session().client("sqs", endpoint_url=endpoint, config=_CONFIG)


def fifo_topic(sns, content_based=False):
    attrs = {"FifoTopic": "true"}
    if content_based:
        attrs["ContentBasedDeduplication"] = "true"
    return sns.create_topic(Name=unique_name("t") + ".fifo", Attributes=attrs)["TopicArn"]


def make_queue(sqs, fifo=True):
    return create_queue(sqs, fifo)


def test_fifo_topic_to_fifo_queue_keeps_group_order(sns, sqs):
    t = fifo_topic(sns)
    url, q = make_queue(sqs)
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=q)
    sequence = []
    for i in range(12):
        group = "a" if i % 3 else "b"
        r = sns.publish(
            TopicArn=t,
            Message=f"{group}-{i}",
            MessageGroupId=group,
            MessageDeduplicationId=f"d-{i}",
        )
        sequence.append(int(r["SequenceNumber"]))
    assert sequence == sorted(sequence) and len(set(sequence)) == 12
    got = drain(sqs, url, 12)
    assert len(got) == 12
    bodies = [json.loads(m["Body"]) for m in got]
    for group in "ab":
        in_group = [b["Message"] for b in bodies if b["Message"].startswith(group)]
        assert in_group == [f"{group}-{i}" for i in range(12) if (("a" if i % 3 else "b") == group)]
    first = got[0]
    body = bodies[0]
    # FIFO notifications carry the sequence number and are not signed
    # (observed on AWS).
    assert list(body) == ["Type", "MessageId", "SequenceNumber", "TopicArn", "Message", "Timestamp", "UnsubscribeURL"]
    assert first["Attributes"]["MessageGroupId"] in ("a", "b")
    assert first["Attributes"]["MessageDeduplicationId"].startswith("d-")


def test_deduplication_window_follows_the_clock(endpoint, sns, sqs):
    t = fifo_topic(sns)
    url, q = make_queue(sqs)
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=q, Attributes={"RawMessageDelivery": "true"})
    first = sns.publish(TopicArn=t, Message="once", MessageGroupId="g", MessageDeduplicationId="dup")
    again = sns.publish(TopicArn=t, Message="twice", MessageGroupId="g", MessageDeduplicationId="dup")
    # A duplicate answers with the first message's ids.
    assert again["MessageId"] == first["MessageId"]
    assert again["SequenceNumber"] == first["SequenceNumber"]
    got = drain(sqs, url, 2, wait=3)
    assert [m["Body"] for m in got] == ["once"]
    advance_clock(endpoint, 301)
    later = sns.publish(TopicArn=t, Message="after the window", MessageGroupId="g", MessageDeduplicationId="dup")
    assert later["MessageId"] != first["MessageId"]
    assert int(later["SequenceNumber"]) > int(first["SequenceNumber"])
    got = drain(sqs, url, 1)
    assert [m["Body"] for m in got] == ["after the window"]
    assert got[0]["Attributes"]["MessageDeduplicationId"] == "dup"


def test_content_based_deduplication(sns, sqs):
    t = fifo_topic(sns, content_based=True)
    url, q = make_queue(sqs)
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=q, Attributes={"RawMessageDelivery": "true"})
    a = sns.publish(TopicArn=t, Message="Test", MessageGroupId="message-group-id-1")
    b = sns.publish(TopicArn=t, Message="Test", MessageGroupId="message-group-id-1")
    assert (b["MessageId"], b["SequenceNumber"]) == (a["MessageId"], a["SequenceNumber"])
    got = drain(sqs, url, 2, wait=3)
    assert len(got) == 1
    # The SHA-256 of the message, as observed on AWS.
    assert got[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"Test").hexdigest()
    assert got[0]["Attributes"]["MessageGroupId"] == "message-group-id-1"


def test_publish_batch_on_a_fifo_topic(sns, sqs):
    t = fifo_topic(sns)
    url, q = make_queue(sqs)
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=q, Attributes={"RawMessageDelivery": "true"})
    entries = [
        {"Id": str(i), "Message": f"m{i}", "MessageGroupId": "complexMessageGroupId", "MessageDeduplicationId": f"MessageDeduplicationId-{i}"}
        for i in range(3)
    ]
    first = sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=entries)
    assert first["Failed"] == []
    seqs = [int(s["SequenceNumber"]) for s in first["Successful"]]
    assert seqs == sorted(seqs)
    # Republishing the batch answers with the same ids (observed on AWS) and
    # delivers nothing new.
    again = sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=entries)
    assert again["Successful"] == first["Successful"]
    got = drain(sqs, url, 6, wait=3)
    assert [m["Body"] for m in got] == ["m0", "m1", "m2"]


def test_standard_queue_on_a_fifo_topic(sns, sqs):
    t = fifo_topic(sns, content_based=True)
    url, q = make_queue(sqs, fifo=False)
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=q)
    sns.publish(TopicArn=t, Message="Test", MessageGroupId="g")
    got = drain(sqs, url, 1)
    body = json.loads(got[0]["Body"])
    assert body["Message"] == "Test"
    assert "SequenceNumber" in body
    assert "MessageGroupId" not in got[0]["Attributes"]


def test_fifo_errors(sns, sqs):
    t = fifo_topic(sns)
    _, q = make_queue(sqs)
    # texts as observed on AWS
    with aws_error("InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"):
        sns.publish(TopicArn=t, Message="m", MessageDeduplicationId="d")
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly",
    ):
        sns.publish(TopicArn=t, Message="m", MessageGroupId="g")
    with aws_error("InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"):
        sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=[{"Id": "1", "Message": "m"}])
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly",
    ):
        sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=[{"Id": "1", "Message": "m", "MessageGroupId": "g"}])
    _, standard_dlq = make_queue(sqs, fifo=False)
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.",
    ):
        sns.subscribe(
            TopicArn=t,
            Protocol="sqs",
            Endpoint=q,
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": standard_dlq})},
        )
    # text not documented; assumed
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: Endpoint Reason: FIFO topics deliver only to SQS queues, not to lambda endpoints",
    ):
        sns.subscribe(TopicArn=t, Protocol="lambda", Endpoint="arn:aws:lambda:us-east-1:000000000000:function:f")
