"""DynamoDB global and local secondary indexes through unmodified boto3."""

import time

import pytest
from compat_util import aws_error

S = "S"
N = "N"


def defs(*pairs):
    return [{"AttributeName": a, "AttributeType": t} for a, t in pairs]


def keys(hash, range=None):
    ks = [{"AttributeName": hash, "KeyType": "HASH"}]
    if range:
        ks.append({"AttributeName": range, "KeyType": "RANGE"})
    return ks


def gsi(name, hash, range=None, projection=None):
    return {
        "IndexName": name,
        "KeySchema": keys(hash, range),
        "Projection": projection or {"ProjectionType": "ALL"},
    }


@pytest.fixture
def queue(table):
    """The LIFO task-queue table: keyed by taskId, GSI (status, created)."""
    return table(
        hash=("taskId", S),
        AttributeDefinitions=defs(("taskId", S), ("status", S), ("created", N)),
        GlobalSecondaryIndexes=[gsi("byStatus", "status", "created")],
    )


def put_task(dynamodb, name, task_id, status, created, **extra):
    item = {"taskId": {"S": task_id}, "created": {"N": str(created)}}
    if status is not None:
        item["status"] = {"S": status}
    item.update(extra)
    dynamodb.put_item(TableName=name, Item=item)


def newest(dynamodb, name, status):
    out = dynamodb.query(
        TableName=name,
        IndexName="byStatus",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}},
        ScanIndexForward=False,
        Limit=1,
    )
    return out["Items"][0] if out["Items"] else None


def test_lifo_task_queue(dynamodb, queue):
    for i, created in enumerate([100, 300, 200]):
        put_task(dynamodb, queue, f"t{i}", "pending", created, payload={"S": f"job {i}"})
    put_task(dynamodb, queue, "unqueued", None, 999)

    claimed = []
    while True:
        top = newest(dynamodb, queue, "pending")
        if top is None:
            break
        # Claim it only if nobody else did: a conditional status update.
        dynamodb.update_item(
            TableName=queue,
            Key={"taskId": top["taskId"]},
            UpdateExpression="SET #s = :running",
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":running": {"S": "running"}, ":pending": {"S": "pending"}},
        )
        claimed.append(top["taskId"]["S"])
        # A second claim of the same task fails.
        with aws_error("ConditionalCheckFailedException", "The conditional request failed"):
            dynamodb.update_item(
                TableName=queue,
                Key={"taskId": top["taskId"]},
                UpdateExpression="SET #s = :running",
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":running": {"S": "running"},
                    ":pending": {"S": "pending"},
                },
            )
    assert claimed == ["t1", "t2", "t0"]
    running = dynamodb.query(
        TableName=queue,
        IndexName="byStatus",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "running"}},
    )
    assert [i["taskId"]["S"] for i in running["Items"]] == ["t0", "t2", "t1"]
    assert running["Items"][0]["payload"] == {"S": "job 0"}


def test_describe_table_shows_indexes(dynamodb, table, account_id):
    name = table(
        hash=("pk", S),
        range=("sk", S),
        AttributeDefinitions=defs(("pk", S), ("sk", S), ("g", S), ("l", N)),
        GlobalSecondaryIndexes=[
            gsi("byG", "g", projection={"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a"]})
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "byL",
                "KeySchema": keys("pk", "l"),
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    dynamodb.put_item(
        TableName=name,
        Item={"pk": {"S": "p"}, "sk": {"S": "1"}, "g": {"S": "x"}, "l": {"N": "5"}, "a": {"S": "A"}},
    )
    desc = dynamodb.describe_table(TableName=name)["Table"]
    arn = f"arn:aws:dynamodb:us-east-1:{account_id}:table/{name}"
    (g,) = desc["GlobalSecondaryIndexes"]
    assert g["IndexName"] == "byG"
    assert g["IndexStatus"] == "ACTIVE"
    assert g["IndexArn"] == f"{arn}/index/byG"
    assert g["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a"]}
    assert g["KeySchema"] == keys("g")
    assert g["ItemCount"] == 1
    assert g["IndexSizeBytes"] > 0
    assert g["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    (lsi,) = desc["LocalSecondaryIndexes"]
    assert lsi["IndexName"] == "byL"
    assert lsi["IndexArn"] == f"{arn}/index/byL"
    assert lsi["KeySchema"] == keys("pk", "l")
    assert lsi["ItemCount"] == 1

    out = dynamodb.query(
        TableName=name,
        IndexName="byG",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "x"}},
    )
    assert out["Items"] == [{"pk": {"S": "p"}, "sk": {"S": "1"}, "g": {"S": "x"}, "a": {"S": "A"}}]
    out = dynamodb.query(
        TableName=name,
        IndexName="byL",
        KeyConditionExpression="pk = :p AND l > :l",
        ExpressionAttributeValues={":p": {"S": "p"}, ":l": {"N": "1"}},
    )
    assert out["Items"] == [{"pk": {"S": "p"}, "sk": {"S": "1"}, "l": {"N": "5"}}]


def test_index_pagination_and_filter(dynamodb, queue):
    for i in range(10):
        put_task(dynamodb, queue, f"t{i:02}", "open", i % 3, n={"N": str(i)})
    seen = []
    kwargs = {}
    while True:
        out = dynamodb.query(
            TableName=queue,
            IndexName="byStatus",
            KeyConditionExpression="#s = :s",
            FilterExpression="n >= :min",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "open"}, ":min": {"N": "2"}},
            Limit=3,
            **kwargs,
        )
        seen += [(int(i["created"]["N"]), i["taskId"]["S"]) for i in out["Items"]]
        if "LastEvaluatedKey" not in out:
            break
        assert set(out["LastEvaluatedKey"]) == {"taskId", "status", "created"}
        kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]
    assert len(seen) == 8
    assert seen == sorted(seen)


def test_index_write_validation(dynamodb, queue):
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: Type mismatch for Index Key status "
        "Expected: S Actual: N IndexName: byStatus",
    ):
        dynamodb.put_item(TableName=queue, Item={"taskId": {"S": "x"}, "status": {"N": "1"}})
    with aws_error("ValidationException", "Consistent reads are not supported on global secondary indexes"):
        dynamodb.scan(TableName=queue, IndexName="byStatus", ConsistentRead=True)
    with aws_error("ValidationException", "The table does not have the specified index: nope"):
        dynamodb.query(
            TableName=queue,
            IndexName="nope",
            KeyConditionExpression="taskId = :t",
            ExpressionAttributeValues={":t": {"S": "x"}},
        )


def test_create_table_index_validation(dynamodb):
    base = {
        "TableName": f"idx-bad-{time.monotonic_ns()}",
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": keys("pk"),
    }
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: ProjectionType is INCLUDE, "
        "but NonKeyAttributes is not specified",
    ):
        dynamodb.create_table(
            **base,
            AttributeDefinitions=defs(("pk", S), ("g", S)),
            GlobalSecondaryIndexes=[gsi("byG", "g", projection={"ProjectionType": "INCLUDE"})],
        )
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
        "AttributeDefinitions: [pk, g, x], keys used: [pk, g]",
    ):
        dynamodb.create_table(
            **base,
            AttributeDefinitions=defs(("pk", S), ("g", S), ("x", S)),
            GlobalSecondaryIndexes=[gsi("byG", "g")],
        )


def test_update_table_adds_and_removes_a_gsi(dynamodb, table):
    name = table(hash=("pk", S))
    for i in range(4):
        item = {"pk": {"S": f"p{i}"}, "n": {"N": str(i)}}
        if i != 2:
            item["g"] = {"S": "x"}
        dynamodb.put_item(TableName=name, Item=item)
    out = dynamodb.update_table(
        TableName=name,
        AttributeDefinitions=defs(("g", S), ("n", N)),
        GlobalSecondaryIndexUpdates=[{"Create": gsi("byG", "g", "n")}],
    )
    created = out["TableDescription"]["GlobalSecondaryIndexes"][0]
    assert created["IndexName"] == "byG"
    assert (created["IndexStatus"], created["Backfilling"]) == ("CREATING", True)
    assert out["TableDescription"]["TableStatus"] == "UPDATING"
    waiter = dynamodb.get_waiter("table_exists")
    waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
    assert desc["GlobalSecondaryIndexes"][0]["ItemCount"] == 3
    out = dynamodb.query(
        TableName=name,
        IndexName="byG",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "x"}},
        ScanIndexForward=False,
    )
    assert [i["pk"]["S"] for i in out["Items"]] == ["p3", "p1", "p0"]

    out = dynamodb.update_table(
        TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byG"}}]
    )
    assert out["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexStatus"] == "DELETING"
    waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert "GlobalSecondaryIndexes" not in desc
    assert desc["AttributeDefinitions"] == defs(("pk", S))
    with aws_error("ValidationException", "The table does not have the specified index: byG"):
        dynamodb.scan(TableName=name, IndexName="byG")


def test_gsi_reads_are_limited_to_projected_attributes(dynamodb, table):
    name = table(
        hash=("pk", S),
        AttributeDefinitions=defs(("pk", S), ("g", S)),
        GlobalSecondaryIndexes=[gsi("byG", "g", projection={"ProjectionType": "KEYS_ONLY"})],
    )
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "1"}, "g": {"S": "x"}, "v": {"N": "1"}})
    query = {
        "TableName": name,
        "IndexName": "byG",
        "KeyConditionExpression": "g = :g",
    }
    out = dynamodb.query(**query, ExpressionAttributeValues={":g": {"S": "x"}})
    assert out["Items"] == [{"pk": {"S": "1"}, "g": {"S": "x"}}]
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported "
        "for global secondary index byG because its projection type is not ALL",
    ):
        dynamodb.query(**query, ExpressionAttributeValues={":g": {"S": "x"}}, Select="ALL_ATTRIBUTES")
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: Global secondary index byG does not project [v]",
    ):
        dynamodb.query(**query, ExpressionAttributeValues={":g": {"S": "x"}}, ProjectionExpression="pk, v")
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: Secondary index byG does not project one or "
        "more filter attributes: [v]",
    ):
        dynamodb.query(
            **query,
            FilterExpression="v = :v",
            ExpressionAttributeValues={":g": {"S": "x"}, ":v": {"N": "1"}},
        )
