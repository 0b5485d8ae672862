"""DynamoDB control plane: CreateTable, DescribeTable, ListTables, UpdateTable,
DeleteTable, tags, DescribeLimits, DescribeEndpoints, waiters."""

import datetime
import re
import uuid

import pytest

from compat_util import aws_error
from conftest import unique_name, wait_active

HASH_ONLY = dict(
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
)


def _not_found_text(name):
    # text as observed on AWS (DescribeTable/DeleteTable/UpdateTable on a missing table)
    return f"Requested resource not found: Table: {name} not found"


# ---------------------------------------------------------------- CreateTable


def test_create_table_returns_description(dynamodb, account_id):
    name = unique_name()
    try:
        resp = dynamodb.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        desc = resp["TableDescription"]
        assert desc["TableName"] == name
        assert desc["TableStatus"] in ("CREATING", "ACTIVE")
        assert desc["TableArn"] == f"arn:aws:dynamodb:us-east-1:{account_id}:table/{name}"
        assert desc["KeySchema"] == [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ]
        assert sorted(desc["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ]
        assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert isinstance(desc["CreationDateTime"], datetime.datetime)
    finally:
        wait_active(dynamodb, name)
        dynamodb.delete_table(TableName=name)


def test_describe_table_fields(dynamodb, table, account_id):
    name = table(hash=("pk", "S"), range=("sk", "N"))
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["TableName"] == name
    assert desc["TableStatus"] == "ACTIVE"
    assert desc["TableArn"] == f"arn:aws:dynamodb:us-east-1:{account_id}:table/{name}"
    # TableId is a UUID.
    uuid.UUID(desc["TableId"])
    assert isinstance(desc["ItemCount"], int) and desc["ItemCount"] >= 0
    assert isinstance(desc["TableSizeBytes"], int) and desc["TableSizeBytes"] >= 0
    assert isinstance(desc["CreationDateTime"], datetime.datetime)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - desc["CreationDateTime"]).total_seconds()) < 600
    assert desc["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # On-demand tables report zero provisioned throughput.
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 0
    assert desc["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 0


def test_describe_table_id_is_stable_and_distinct(dynamodb, table):
    a = table()
    b = table()
    id_a = dynamodb.describe_table(TableName=a)["Table"]["TableId"]
    assert dynamodb.describe_table(TableName=a)["Table"]["TableId"] == id_a
    assert dynamodb.describe_table(TableName=b)["Table"]["TableId"] != id_a


def test_create_provisioned_table(dynamodb, table):
    name = table(ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4})
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    # AWS omits BillingModeSummary for tables that were always provisioned;
    # when present it must say PROVISIONED.
    if "BillingModeSummary" in desc:
        assert desc["BillingModeSummary"]["BillingMode"] == "PROVISIONED"


def test_create_table_duplicate_name(dynamodb, table):
    name = table()
    # text as observed on AWS
    with aws_error("ResourceInUseException", f"Table already exists: {name}"):
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_ONLY)


def test_create_table_key_attribute_without_definition(dynamodb):
    name = unique_name()
    # text as observed on AWS
    with aws_error("ValidationException", "Invalid KeySchema: Some index key attribute have no definition"):
        dynamodb.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


def test_create_table_unused_attribute_definition(dynamodb):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: Number of attributes in KeySchema does not "
        "exactly match number of attributes defined in AttributeDefinitions",
    ):
        dynamodb.create_table(
            TableName=unique_name(),
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "other", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )


def test_create_table_definitions_do_not_cover_key(dynamodb):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: Some index key attributes are not defined in "
        "AttributeDefinitions. Keys: [pk], AttributeDefinitions: [other]",
    ):
        dynamodb.create_table(
            TableName=unique_name(),
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "other", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


def test_create_table_first_key_must_be_hash(dynamodb):
    # text as observed on AWS
    with aws_error("ValidationException", "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"):
        dynamodb.create_table(
            TableName=unique_name(),
            KeySchema=[
                {"AttributeName": "sk", "KeyType": "RANGE"},
                {"AttributeName": "pk", "KeyType": "HASH"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )


def test_create_table_invalid_name(dynamodb):
    # Documented pattern [a-zA-Z0-9_.-]+; text follows AWS's generic constraint
    # message format (text as observed on AWS).
    with aws_error(
        "ValidationException",
        "1 validation error detected: Value 'bad name!' at 'tableName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    ):
        dynamodb.create_table(TableName="bad name!", BillingMode="PAY_PER_REQUEST", **HASH_ONLY)


def test_create_table_on_demand_with_throughput(dynamodb):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
        "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
    ):
        dynamodb.create_table(
            TableName=unique_name(),
            BillingMode="PAY_PER_REQUEST",
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            **HASH_ONLY,
        )


def test_create_table_provisioned_without_throughput(dynamodb):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
        "must both be specified when BillingMode is PROVISIONED",
    ):
        dynamodb.create_table(TableName=unique_name(), **HASH_ONLY)


def test_table_exists_waiter(dynamodb):
    name = unique_name()
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_ONLY)
    try:
        dynamodb.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        assert dynamodb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    finally:
        dynamodb.delete_table(TableName=name)


def test_resource_create_table_and_wait(dynamodb_resource):
    name = unique_name()
    tbl = dynamodb_resource.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_ONLY)
    try:
        tbl.meta.client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        tbl.reload()
        assert tbl.table_status == "ACTIVE"
        assert tbl.key_schema == [{"AttributeName": "pk", "KeyType": "HASH"}]
    finally:
        tbl.delete()


# ------------------------------------------------------------ DescribeTable


def test_describe_missing_table(dynamodb):
    name = unique_name("missing")
    with aws_error("ResourceNotFoundException", _not_found_text(name)):
        dynamodb.describe_table(TableName=name)


# ---------------------------------------------------------------- ListTables


def test_list_tables_pagination(dynamodb, table):
    prefix = unique_name("list")
    names = [table(name=f"{prefix}-{i}") for i in range(3)]

    seen = []
    kwargs = {"Limit": 2}
    pages = 0
    while True:
        resp = dynamodb.list_tables(**kwargs)
        pages += 1
        assert len(resp["TableNames"]) <= 2
        seen.extend(resp["TableNames"])
        if "LastEvaluatedTableName" not in resp:
            break
        assert resp["LastEvaluatedTableName"] == resp["TableNames"][-1]
        kwargs["ExclusiveStartTableName"] = resp["LastEvaluatedTableName"]
        assert pages < 10000
    assert seen == sorted(seen), "ListTables returns names in ascending order"
    assert len(seen) == len(set(seen)), "no table listed twice"
    for name in names:
        assert name in seen


def test_list_tables_exclusive_start(dynamodb, table):
    prefix = unique_name("excl")
    names = [table(name=f"{prefix}-{i}") for i in range(4)]
    # names[3] exists after the page, so the page must say where it stopped.
    resp = dynamodb.list_tables(ExclusiveStartTableName=names[0], Limit=2)
    assert resp["TableNames"] == names[1:3]
    assert resp["LastEvaluatedTableName"] == names[2]


def test_list_tables_limit_one(dynamodb, table):
    prefix = unique_name("one")
    name = table(name=f"{prefix}-a")
    table(name=f"{prefix}-b")
    resp = dynamodb.list_tables(ExclusiveStartTableName=prefix, Limit=1)
    assert resp["TableNames"] == [name]
    assert resp["LastEvaluatedTableName"] == name


def test_list_tables_limit_over_100(dynamodb):
    # Limit is documented as 1..100; text as observed on AWS.
    with aws_error(
        "ValidationException",
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 100",
    ):
        dynamodb.list_tables(Limit=101)


def test_list_tables_paginator(dynamodb, table):
    name = table()
    found = []
    for page in dynamodb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 5}):
        found.extend(page["TableNames"])
    assert name in found


# --------------------------------------------------------------- DeleteTable


def test_delete_table(dynamodb):
    name = unique_name()
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_ONLY)
    wait_active(dynamodb, name)
    desc = dynamodb.delete_table(TableName=name)["TableDescription"]
    assert desc["TableName"] == name
    assert desc["TableStatus"] == "DELETING"
    dynamodb.get_waiter("table_not_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    with aws_error("ResourceNotFoundException", _not_found_text(name)):
        dynamodb.describe_table(TableName=name)
    with aws_error("ResourceNotFoundException", "Requested resource not found"):
        dynamodb.get_item(TableName=name, Key={"pk": {"S": "a"}})
    assert name not in dynamodb.list_tables(ExclusiveStartTableName=name[:-1], Limit=5)["TableNames"]


def test_delete_missing_table(dynamodb):
    name = unique_name("missing")
    with aws_error("ResourceNotFoundException", _not_found_text(name)):
        dynamodb.delete_table(TableName=name)


def test_recreate_after_delete_is_empty(dynamodb):
    name = unique_name()
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_ONLY)
    wait_active(dynamodb, name)
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    dynamodb.delete_table(TableName=name)
    dynamodb.get_waiter("table_not_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_ONLY)
    try:
        wait_active(dynamodb, name)
        assert "Item" not in dynamodb.get_item(TableName=name, Key={"pk": {"S": "a"}})
    finally:
        dynamodb.delete_table(TableName=name)


# --------------------------------------------------------------- UpdateTable


def test_update_table_throughput_and_billing(dynamodb, table):
    name = table(ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    desc = dynamodb.update_table(
        TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 7}
    )["TableDescription"]
    assert desc["TableName"] == name
    wait_active(dynamodb, name)
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 10
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 7

    dynamodb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    desc = wait_active(dynamodb, name)
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_update_table_to_provisioned(dynamodb, table):
    name = table()
    dynamodb.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
    )
    desc = wait_active(dynamodb, name)
    assert desc["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 3


def test_update_missing_table(dynamodb):
    name = unique_name("missing")
    with aws_error("ResourceNotFoundException", _not_found_text(name)):
        dynamodb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")


def test_update_table_keeps_items(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "keep"}, "v": {"N": "1"}})
    dynamodb.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    wait_active(dynamodb, name)
    item = dynamodb.get_item(TableName=name, Key={"pk": {"S": "keep"}})["Item"]
    assert item == {"pk": {"S": "keep"}, "v": {"N": "1"}}


# ---------------------------------------------------------------------- Tags


def _tags(dynamodb, arn):
    tags = []
    kwargs = {"ResourceArn": arn}
    while True:
        resp = dynamodb.list_tags_of_resource(**kwargs)
        tags.extend(resp.get("Tags", []))
        if not resp.get("NextToken"):
            return {t["Key"]: t["Value"] for t in tags}
        kwargs["NextToken"] = resp["NextToken"]


def test_tags_roundtrip(dynamodb, table):
    name = table(Tags=[{"Key": "team", "Value": "core"}])
    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    assert _tags(dynamodb, arn) == {"team": "core"}

    dynamodb.tag_resource(
        ResourceArn=arn,
        Tags=[{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "platform"}],
    )
    assert _tags(dynamodb, arn) == {"team": "platform", "env": "test"}

    dynamodb.untag_resource(ResourceArn=arn, TagKeys=["team", "not-there"])
    assert _tags(dynamodb, arn) == {"env": "test"}

    dynamodb.untag_resource(ResourceArn=arn, TagKeys=["env"])
    assert _tags(dynamodb, arn) == {}


def test_tag_missing_table(dynamodb, account_id):
    arn = f"arn:aws:dynamodb:us-east-1:{account_id}:table/{unique_name('missing')}"
    # text as observed on AWS (the misspelling "ResourcArn" is AWS's own)
    with aws_error("ResourceNotFoundException", f"Requested resource not found: ResourcArn: {arn} not found"):
        dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])


def test_list_tags_missing_table(dynamodb, account_id):
    arn = f"arn:aws:dynamodb:us-east-1:{account_id}:table/{unique_name('missing')}"
    # text as observed on AWS (the misspelling "ResourcArn" is AWS's own)
    with aws_error("ResourceNotFoundException", f"Requested resource not found: ResourcArn: {arn} not found"):
        dynamodb.list_tags_of_resource(ResourceArn=arn)


# --------------------------------------------------- DescribeLimits/Endpoints


def test_describe_limits(dynamodb):
    resp = dynamodb.describe_limits()
    for field in (
        "AccountMaxReadCapacityUnits",
        "AccountMaxWriteCapacityUnits",
        "TableMaxReadCapacityUnits",
        "TableMaxWriteCapacityUnits",
    ):
        assert isinstance(resp[field], int) and resp[field] > 0, field
    assert resp["TableMaxReadCapacityUnits"] <= resp["AccountMaxReadCapacityUnits"]
    assert resp["TableMaxWriteCapacityUnits"] <= resp["AccountMaxWriteCapacityUnits"]


def test_describe_endpoints(dynamodb):
    resp = dynamodb.describe_endpoints()
    assert len(resp["Endpoints"]) >= 1
    ep = resp["Endpoints"][0]
    assert isinstance(ep["Address"], str) and ep["Address"]
    assert isinstance(ep["CachePeriodInMinutes"], int) and ep["CachePeriodInMinutes"] > 0
    assert not re.match(r"^https?://", ep["Address"]), "Address is a host name, not a URL"
