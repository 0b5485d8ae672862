"""The seed's LIFO task queue ("Implementing a LIFO task queue using AWS
Lambda and Amazon DynamoDB"), end to end on nimbus: a QueueTable with a
task-status-created-index GSI, TTL and a stream; a stream-triggered Python
function with reserved concurrency 1 that queries the GSI for the newest
PENDING tasks (ScanIndexForward=false) and claims each with a conditional
update PENDING -> TAKEN before finishing it as SUCCESS, using boto3 inside
the function against nimbus (AWS_ENDPOINT_URL). Tasks are processed newest
first, each exactly once. (The seed relays through SNS topics, which nimbus
does not have yet; the stream invokes the processing function directly.)"""

import io
import json
import sysconfig
import time
import zipfile

from compat_util import DROP_PY
from conftest import _CONFIG, _session, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

PROCESS_TASKS = DROP_PY + """
import os, time
import boto3
from botocore.exceptions import ClientError

table = boto3.resource("dynamodb").Table(os.environ["QUEUE_TABLE"])

def handler(event, context):
    # Any queue activity triggers processing of the newest PENDING tasks.
    while True:
        page = table.query(
            IndexName="task-status-created-index",
            KeyConditionExpression="taskStatus = :p",
            ExpressionAttributeValues={":p": "PENDING"},
            ScanIndexForward=False,
            Limit=10,
        )["Items"]
        if not page:
            return {"done": True}
        for task in page:
            try:
                table.update_item(
                    Key={"taskId": task["taskId"]},
                    UpdateExpression="SET taskStatus = :t, taskUpdated = :now",
                    ConditionExpression="taskStatus = :p",
                    ExpressionAttributeValues={":t": "TAKEN", ":p": "PENDING", ":now": int(time.time() * 1000)},
                )
            except ClientError as e:
                if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
                    continue  # someone else took it
                raise
            drop("processed.txt", task["taskId"] + "\\n", append=True)
            table.update_item(
                Key={"taskId": task["taskId"]},
                UpdateExpression="SET taskStatus = :s",
                ConditionExpression="taskStatus = :t",
                ExpressionAttributeValues={":s": "SUCCESS", ":t": "TAKEN"},
            )
"""


def test_lifo_queue_processes_newest_first(endpoint, tmp_path, file_drop):
    s = _session()
    ddb = s.client("dynamodb", endpoint_url=endpoint, config=_CONFIG)
    lam = s.client("lambda", endpoint_url=endpoint, config=_CONFIG)
    table = unique_name("QueueTable")
    ddb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "taskId", "AttributeType": "S"},
            {"AttributeName": "taskStatus", "AttributeType": "S"},
            {"AttributeName": "taskCreated", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "taskId", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "task-status-created-index",
            "KeySchema": [
                {"AttributeName": "taskStatus", "KeyType": "HASH"},
                {"AttributeName": "taskCreated", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"AttributeName": "taskExpiry", "Enabled": True})
    stream = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]

    # Tasks created before processing starts: the oldest first.
    now = int(time.time())
    for i in range(20):
        ddb.put_item(
            TableName=table,
            Item={
                "taskId": {"S": f"task-{i:02d}"},
                "taskStatus": {"S": "PENDING"},
                "taskCreated": {"N": str(now * 1000 + i)},
                "taskExpiry": {"N": str(now + 3600)},
            },
            ConditionExpression="attribute_not_exists(taskId)",
        )

    out = tmp_path / "processed.txt"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("process_tasks.py", PROCESS_TASKS)
    name = unique_name("ProcessTasks")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="process_tasks.handler",
        Code={"ZipFile": buf.getvalue()}, Timeout=60,
        Environment={"Variables": {
            "QUEUE_TABLE": table,
            "OUT_URL": file_drop(tmp_path),
            "PYTHONPATH": sysconfig.get_paths()["purelib"],
        }},
    )
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=name, StartingPosition="TRIM_HORIZON", BatchSize=100
    )
    try:
        deadline = time.time() + 60
        done = []
        while time.time() < deadline:
            done = out.read_text().split() if out.exists() else []
            if len(done) >= 20:
                break
            time.sleep(0.2)
        assert sorted(done) == [f"task-{i:02d}" for i in range(20)], done  # each exactly once
        assert done == [f"task-{i:02d}" for i in reversed(range(20))]  # newest first
        items = ddb.scan(TableName=table)["Items"]
        assert {i["taskStatus"]["S"] for i in items} == {"SUCCESS"}
        # A task created now is processed too (the stream triggers again).
        ddb.put_item(TableName=table, Item={
            "taskId": {"S": "task-late"}, "taskStatus": {"S": "PENDING"},
            "taskCreated": {"N": str(int(time.time() * 1000))}, "taskExpiry": {"N": str(now + 3600)},
        })
        deadline = time.time() + 30
        while time.time() < deadline and "task-late" not in out.read_text().split():
            time.sleep(0.2)
        assert out.read_text().split().count("task-late") == 1
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
        lam.delete_function(FunctionName=name)
        ddb.delete_table(TableName=table)
