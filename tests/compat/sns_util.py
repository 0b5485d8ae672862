"""Helpers shared by the SNS compatibility tests (imported as a plain module)."""

import time

import pytest
from conftest import unique_name


@pytest.fixture
def topic(sns):
    """Factory: topic(name=None, **create_topic_kwargs) -> ARN; the topics
    are deleted when the test ends. Import it into a test module to use it."""
    made = []

    def make(name=None, **kwargs):
        arn = sns.create_topic(Name=name or unique_name("t"), **kwargs)["TopicArn"]
        made.append(arn)
        return arn

    yield make
    for arn in made:
        sns.delete_topic(TopicArn=arn)


def create_queue(sqs, fifo=False):
    """A new SQS queue: (url, arn)."""
    name = unique_name("q") + (".fifo" if fifo else "")
    url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"} if fifo else {})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def drain(sqs, url, want=1, wait=10):
    """Receives (and deletes) until `want` messages arrived or `wait`
    seconds passed; message and system attributes included."""
    got = []
    deadline = time.time() + wait
    while len(got) < want and time.time() < deadline:
        batch = sqs.receive_message(
            QueueUrl=url,
            WaitTimeSeconds=1,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        got.extend(batch)
    return got
