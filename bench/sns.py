"""SNS fan-out benchmark: Publish -> SQS delivery throughput with 1 and 10
subscriptions, against a durable nimbus it starts itself.

Usage: .venv/bin/python bench/sns.py target/release/nimbus [messages]
(needs boto3, e.g. the compat suite venv). For each fan-out it publishes
`messages` (default 5,000) from 8 threads over keep-alive connections,
then waits until every copy is in its queue (GetQueueAttributes) and the
SNS outbox is empty, and prints publishes/s (acknowledged, so durable) and
delivered messages/s (copies in queues per second of the whole run)."""
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import boto3
from botocore.config import Config

binary = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
THREADS = 8

log = tempfile.NamedTemporaryFile(delete=False)
proc = subprocess.Popen(
    [binary, "serve", "--bind", "127.0.0.1:0", "--data-dir", tempfile.mkdtemp()],
    stdout=log,
    stderr=subprocess.STDOUT,
)
url = None
for _ in range(200):
    m = re.search(r"listening on (http://\S+)", open(log.name).read())
    if m:
        url = m.group(1)
        break
    time.sleep(0.05)
cfg = Config(max_pool_connections=THREADS * 2, retries={"max_attempts": 1})
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y", config=cfg)
sns, sqs = boto3.client("sns", **kw), boto3.client("sqs", **kw)


def outbox():
    with urllib.request.urlopen(url + "/_nimbus/sns/outbox") as r:
        return json.loads(r.read())["pending"]


def run(fanout):
    topic = sns.create_topic(Name=f"bench-{fanout}")["TopicArn"]
    queues = []
    for i in range(fanout):
        q = sqs.create_queue(QueueName=f"bench-{fanout}-{i}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        queues.append(q)
    errors = []

    def publisher(k):
        for n in range(k, N, THREADS):
            try:
                sns.publish(TopicArn=topic, Message=f"m{n}")
            except Exception as e:  # counted, not fatal: the output says so
                errors.append(e)

    t0 = time.time()
    threads = [threading.Thread(target=publisher, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    published = time.time() - t0
    want = N * fanout
    while True:
        have = sum(
            int(sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
            for q in queues
        )
        if have >= want and outbox() == 0:
            break
        if time.time() - t0 > 600:
            print(f"fan-out {fanout}: timed out with {have}/{want} delivered")
            return
        time.sleep(0.05)
    total = time.time() - t0
    print(
        f"fan-out {fanout:>2}: {N} publishes in {published:.2f}s = {N / published:,.0f} publish/s; "
        f"{want} deliveries done in {total:.2f}s = {want / total:,.0f} delivered msg/s; errors {len(errors)}"
    )


if __name__ == "__main__":
    try:
        run(1)
        run(10)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
