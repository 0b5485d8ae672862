"""Event source mapping benchmark (issue 8): SQS -> Lambda throughput with
batches of 10, SendMessage -> handler start latency, and PutItem -> stream
handler start latency, against a durable nimbus it starts itself.

Usage: .venv/bin/python bench/esm.py target/release/nimbus
(needs boto3, e.g. the compat suite venv; prints one line per measurement)."""
import boto3, io, json, os, subprocess, re, sys, time, zipfile, tempfile, statistics
binary = sys.argv[1]
log = tempfile.NamedTemporaryFile(delete=False)
proc = subprocess.Popen([binary, "serve", "--bind", "127.0.0.1:0", "--data-dir", tempfile.mkdtemp()], stdout=log, stderr=subprocess.STDOUT)
url = None
for _ in range(200):
    m = re.search(r"listening on (http://\S+)", open(log.name).read())
    if m: url = m.group(1); break
    time.sleep(0.05)
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
lam, sqs, ddb = boto3.client("lambda", **kw), boto3.client("sqs", **kw), boto3.client("dynamodb", **kw)
out = tempfile.mkdtemp()
code = """
import time, os, json
def handler(event, context):
    now = time.time()
    recs = event["Records"]
    with open(os.path.join(os.environ["OUT"], context.aws_request_id), "w") as f:
        json.dump({"start": now, "n": len(recs), "first": recs[0].get("body") or recs[0]["dynamodb"]["Keys"]["pk"]["S"]}, f)
    return {}
"""
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z: z.writestr("app.py", code)
def fn(name):
    lam.create_function(FunctionName=name, Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r", Handler="app.handler", Code={"ZipFile": buf.getvalue()}, Environment={"Variables": {"OUT": out}})
# 1. SQS throughput: preload 20,000 messages, then map with batches of 10.
q = sqs.create_queue(QueueName="load")["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
N = 20000
for i in range(0, N, 10):
    sqs.send_message_batch(QueueUrl=q, Entries=[{"Id": str(j), "MessageBody": str(i + j)} for j in range(10)])
fn("drain")
t0 = time.time()
lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="drain", BatchSize=10)
while True:
    a = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    if int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]) == 0: break
    time.sleep(0.05)
elapsed = time.time() - t0
print(f"SQS->Lambda: {N} messages in {elapsed:.2f}s = {N/elapsed:.0f} msg/s (batches of 10)")
for m in lam.list_event_source_mappings()["EventSourceMappings"]: lam.delete_event_source_mapping(UUID=m["UUID"])
time.sleep(1)
for f in os.listdir(out): os.unlink(os.path.join(out, f))
# 2. SendMessage -> handler start latency, no batching window.
q2 = sqs.create_queue(QueueName="latency")["QueueUrl"]
arn2 = sqs.get_queue_attributes(QueueUrl=q2, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
fn("lat")
lam.create_event_source_mapping(EventSourceArn=arn2, FunctionName="lat", BatchSize=1)
time.sleep(1)
sent = {}
for i in range(100):
    body = f"m{i}"
    sent[body] = time.time()
    sqs.send_message(QueueUrl=q2, MessageBody=body)
    time.sleep(0.03)
time.sleep(2)
lat = []
for f in os.listdir(out):
    d = json.load(open(os.path.join(out, f)))
    if d["first"] in sent: lat.append((d["start"] - sent[d["first"]]) * 1000)
lat.sort()
print(f"SendMessage->handler start: n={len(lat)} p50 {statistics.median(lat):.1f} ms p90 {lat[int(len(lat)*0.9)]:.1f} ms")
for f in os.listdir(out): os.unlink(os.path.join(out, f))
# 3. PutItem -> stream handler start.
ddb.create_table(TableName="ttt", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
stream = ddb.describe_table(TableName="ttt")["Table"]["LatestStreamArn"]
fn("streamlat")
lam.create_event_source_mapping(EventSourceArn=stream, FunctionName="streamlat", StartingPosition="LATEST", BatchSize=1)
time.sleep(1)
put = {}
for i in range(100):
    k = f"k{i}"
    put[k] = time.time()
    ddb.put_item(TableName="ttt", Item={"pk": {"S": k}})
    time.sleep(0.03)
time.sleep(2)
lat = []
for f in os.listdir(out):
    d = json.load(open(os.path.join(out, f)))
    if d["first"] in put: lat.append((d["start"] - put[d["first"]]) * 1000)
lat.sort()
print(f"PutItem->stream handler start: n={len(lat)} p50 {statistics.median(lat):.1f} ms p90 {lat[int(len(lat)*0.9)]:.1f} ms")
proc.terminate(); proc.wait()
