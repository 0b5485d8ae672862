"""DynamoDB Streams latency benchmark (issue 5): the time from PutItem
acknowledged to the record being returned by GetRecords, for a reader that
polls GetRecords in a loop as the Kinesis Client Library and Lambda do.
Runs against a durable nimbus it starts itself and, when installed by
`bench/compare` (bench/.peers/venv), moto in server mode, side by side.

Usage: .venv/bin/python bench/streams.py target/release/nimbus [N]
(needs boto3, e.g. the compat suite venv; prints one line per server)."""
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
N = int(sys.argv[2]) if len(sys.argv) > 2 else 300


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nimbus(binary):
    log = tempfile.NamedTemporaryFile(delete=False)
    proc = subprocess.Popen(
        [binary, "serve", "--bind", "127.0.0.1:0", "--data-dir", tempfile.mkdtemp()],
        stdout=log, stderr=subprocess.STDOUT,
    )
    for _ in range(400):
        m = re.search(r"listening on (http://\S+)", open(log.name).read())
        if m:
            return proc, m.group(1)
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("nimbus did not start")


def start_moto():
    server = os.path.join(HERE, ".peers", "venv", "bin", "moto_server")
    if not os.path.exists(server):
        return None, None
    port = free_port()
    proc = subprocess.Popen([server, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    return None, None


def measure(name, url):
    kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    ddb = boto3.client("dynamodb", **kw)
    streams = boto3.client("dynamodbstreams", **kw)
    ddb.create_table(
        TableName="lag", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    arn = ddb.describe_table(TableName="lag")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    acked = {}
    seen = {}
    done = threading.Event()

    def reader():
        nonlocal it
        while not done.is_set():
            out = streams.get_records(ShardIterator=it, Limit=1000)
            now = time.perf_counter()
            for r in out["Records"]:
                seen.setdefault(r["dynamodb"]["Keys"]["pk"]["S"], now)
            it = out.get("NextShardIterator") or it

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    for i in range(N):
        key = f"k{i}"
        ddb.put_item(TableName="lag", Item={"pk": {"S": key}, "v": {"N": str(i)}})
        acked[key] = time.perf_counter()
        # One write at a time, spaced, so each is measured on its own.
        deadline = time.perf_counter() + 2
        while key not in seen and time.perf_counter() < deadline:
            time.sleep(0.0002)
    done.set()
    t.join(timeout=5)
    lags = sorted((seen[k] - acked[k]) * 1000 for k in acked if k in seen)
    missing = N - len(lags)
    if not lags:
        print(f"{name}: no record seen in GetRecords ({missing} missing)")
        return
    p = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]
    print(
        f"{name}: PutItem acknowledged -> record in GetRecords: p50 {statistics.median(lags):.2f} ms, "
        f"p90 {p(0.9):.2f} ms, p99 {p(0.99):.2f} ms over {len(lags)} writes"
        + (f", {missing} not seen within 2 s" if missing else "")
        + " (target: p50 < 20 ms)" * (name == "nimbus")
    )


def main():
    proc, url = start_nimbus(sys.argv[1])
    try:
        measure("nimbus", url)
    finally:
        proc.terminate()
        proc.wait()
    proc, url = start_moto()
    if proc is None:
        print("moto: not installed (run bench/compare once to install peers)")
        return
    try:
        measure("moto", url)
    finally:
        proc.terminate()
        proc.wait()


main()
