"""Global secondary indexes added to (and removed from) a table with items,
through unmodified boto3: UpdateTable answers CREATING with Backfilling while
the table is UPDATING, reads of the index are refused with AWS's text until
the backfill ends, writes during the backfill leave the index exactly right
(checked against a full scan), and a deleted index is DELETING until gone.

This module runs its own durable nimbus with --dynamodb-backfill-batch 1 (one
item per backfill write), so a backfill lasts long enough to be watched.
"""

import os
import tempfile
import threading

import pytest
from botocore.exceptions import ClientError
from conftest import own_nimbus, _CONFIG, _session, unique_name, wait_active

VE = "ValidationException"
COUNT = 1000


@pytest.fixture(scope="module")
def endpoint():
    if os.environ.get("NIMBUS_ENDPOINT"):
        pytest.skip("needs a nimbus of its own with one-item backfill writes")
    with tempfile.TemporaryDirectory(prefix="nimbus-backfill-") as data:
        yield from own_nimbus(("--data-dir", data, "--dynamodb-backfill-batch", "1"))


@pytest.fixture(scope="module")
def dynamodb(endpoint):
    return _session().client("dynamodb", endpoint_url=endpoint, config=_CONFIG)


def error(exc_info):
    err = exc_info.value.response["Error"]
    return err["Code"], err["Message"]


def numbered(i):
    item = {"pk": {"S": f"p{i:05}"}, "n": {"N": str(i)}}
    if i % 5:
        item["gk"] = {"S": f"g{i % 7}"}
    return item


def loaded_table(dynamodb):
    name = unique_name("backfill")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    wait_active(dynamodb, name)
    for start in range(0, COUNT, 25):
        requests = [{"PutRequest": {"Item": numbered(i)}} for i in range(start, start + 25)]
        out = dynamodb.batch_write_item(RequestItems={name: requests})
        assert not out["UnprocessedItems"]
    return name


def add_index(dynamodb, name):
    return dynamodb.update_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "gk", "AttributeType": "S"},
            {"AttributeName": "n", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "byGk",
                    "KeySchema": [
                        {"AttributeName": "gk", "KeyType": "HASH"},
                        {"AttributeName": "n", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            }
        ],
    )["TableDescription"]


def index_of(desc):
    return next(g for g in desc.get("GlobalSecondaryIndexes", []) if g["IndexName"] == "byGk")


def settle(dynamodb, name):
    """The table_exists waiter, as applications use it after UpdateTable."""
    dynamodb.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    return dynamodb.describe_table(TableName=name)["Table"]


def scan_all(dynamodb, name, **kwargs):
    items, start = {}, {}
    while True:
        page = dynamodb.scan(TableName=name, **kwargs, **start)
        for item in page["Items"]:
            assert item["pk"]["S"] not in items, "an item twice"
            items[item["pk"]["S"]] = item
        if "LastEvaluatedKey" not in page:
            return items
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def churn(dynamodb, name, writer, rounds, done):
    for r in range(rounds):
        key = {"pk": {"S": f"p{(r * 97 + writer * 389) % COUNT:05}"}}
        op = r % 4
        if op == 0:
            dynamodb.update_item(
                TableName=name,
                Key=key,
                UpdateExpression="SET gk = :g, n = :n",
                ExpressionAttributeValues={
                    ":g": {"S": f"g{(r + writer) % 7}"},
                    ":n": {"N": str(100_000 + r)},
                },
            )
        elif op == 1:
            dynamodb.update_item(TableName=name, Key=key, UpdateExpression="REMOVE gk")
        elif op == 2:
            dynamodb.delete_item(TableName=name, Key=key)
        else:
            dynamodb.put_item(
                TableName=name,
                Item={"pk": {"S": f"new-{writer}-{r}"}, "gk": {"S": "g3"}, "n": {"N": str(r)}},
            )
        done.append(1)


def test_backfill_with_concurrent_writes_matches_a_full_scan(dynamodb):
    name = loaded_table(dynamodb)
    desc = add_index(dynamodb, name)
    assert desc["TableStatus"] == "UPDATING"
    g = index_of(desc)
    assert (g["IndexStatus"], g["Backfilling"]) == ("CREATING", True)

    done = []
    writers = [
        threading.Thread(target=churn, args=(dynamodb, name, w, 100, done)) for w in range(3)
    ]
    for t in writers:
        t.start()
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["TableStatus"] == "UPDATING"
    assert (index_of(desc)["IndexStatus"], index_of(desc)["Backfilling"]) == ("CREATING", True)
    with pytest.raises(ClientError) as e:
        dynamodb.query(
            TableName=name,
            IndexName="byGk",
            KeyConditionExpression="gk = :g",
            ExpressionAttributeValues={":g": {"S": "g1"}},
        )
    assert error(e) == (VE, "Cannot read from backfilling global secondary index: byGk")
    with pytest.raises(ClientError) as e:
        dynamodb.scan(TableName=name, IndexName="byGk")
    assert error(e) == (VE, "Cannot read from backfilling global secondary index: byGk")
    for t in writers:
        t.join()
    assert len(done) == 300

    desc = settle(dynamodb, name)
    g = index_of(desc)
    assert (g["IndexStatus"], g["Backfilling"]) == ("ACTIVE", False)
    expected = {k: v for k, v in scan_all(dynamodb, name).items() if "gk" in v and "n" in v}
    indexed = scan_all(dynamodb, name, IndexName="byGk")
    assert indexed == expected
    assert g["ItemCount"] == len(expected)


def test_deleted_index_is_deleting_then_gone(dynamodb):
    name = loaded_table(dynamodb)
    add_index(dynamodb, name)
    settle(dynamodb, name)
    desc = dynamodb.update_table(
        TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byGk"}}]
    )["TableDescription"]
    assert desc["TableStatus"] == "UPDATING"
    assert index_of(desc)["IndexStatus"] == "DELETING"
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert index_of(desc)["IndexStatus"] == "DELETING"
    with pytest.raises(ClientError) as e:
        dynamodb.scan(TableName=name, IndexName="byGk")
    assert error(e) == (VE, "The table does not have the specified index: byGk")
    desc = settle(dynamodb, name)
    assert "GlobalSecondaryIndexes" not in desc
    # Created again, it is filled from the table as it is now.
    add_index(dynamodb, name)
    desc = settle(dynamodb, name)
    assert index_of(desc)["ItemCount"] == sum(1 for i in range(COUNT) if i % 5)
