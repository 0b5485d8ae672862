"""Batch operations: BatchGetItem and BatchWriteItem.

Covers reads and writes across two tables, projections, consistent reads,
consumed capacity, UnprocessedKeys past 16 MB, every rejected input with
AWS's text, that a rejected batch writes nothing, and the resource API
(`Table.batch_writer()`, `ServiceResource.batch_get_item`).
"""

from decimal import Decimal

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from compat_util import aws_error

VALIDATION = "ValidationException"
NOT_FOUND = "ResourceNotFoundException"
NOT_FOUND_TEXT = "Requested resource not found"
DUPLICATES = "Provided list of item keys contains duplicates"
SCHEMA = "The provided key element does not match the schema"
NOT_ONE_REQUEST = (
    "Supplied AttributeValue has more than one datatypes set, "
    "must contain exactly one of the supported datatypes"
)
TABLE_NAME_KEYS = (
    "Map keys must satisfy constraint: [Member must have length less than or equal to 255, "
    "Member must have length greater than or equal to 3, "
    "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]"
)
RCC_ENUM = (
    "Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: "
    "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
)


@pytest.fixture(scope="module")
def raw(endpoint):
    """A client without botocore's own parameter checks, so requests AWS
    itself must refuse reach the server."""
    return boto3.session.Session(
        aws_access_key_id="AKIDCOMPATTEST",
        aws_secret_access_key="compat-secret",
        region_name="us-east-1",
    ).client(
        "dynamodb",
        endpoint_url=endpoint,
        config=Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def two_tables(table):
    """A hash table (pk S) and a range table (pk S, sk N)."""
    return table(), table(hash=("pk", "S"), range=("sk", "N"))


def _put(item):
    return {"PutRequest": {"Item": item}}


def _delete(key):
    return {"DeleteRequest": {"Key": key}}


def _k(pk):
    return {"pk": {"S": pk}}


def _rk(pk, sk):
    return {"pk": {"S": pk}, "sk": {"N": sk}}


def _get(dynamodb, name, key):
    return dynamodb.get_item(TableName=name, Key=key, ConsistentRead=True).get("Item")


def _sorted(items):
    return sorted(items, key=lambda it: (it["pk"].get("S", ""), it.get("sk", {}).get("N", "")))


def _sized(pk, total):
    """An item of exactly `total` bytes as DynamoDB sizes items."""
    return {"pk": {"S": pk}, "data": {"S": "x" * (total - len("pk") - len(pk) - len("data"))}}


# ------------------------------------------------------------- happy paths


def test_write_and_get_across_two_tables(dynamodb, two_tables):
    h, r = two_tables
    dynamodb.put_item(TableName=r, Item={"pk": {"S": "r"}, "sk": {"N": "1"}, "old": {"BOOL": True}})
    resp = dynamodb.batch_write_item(
        RequestItems={
            h: [
                _put({"pk": {"S": "a"}, "n": {"N": "1"}, "ss": {"SS": ["x", "y"]}}),
                _put({"pk": {"S": "b"}, "m": {"M": {"in": {"L": [{"S": "deep"}]}}}}),
                _delete(_k("never-existed")),
            ],
            r: [_put({"pk": {"S": "r"}, "sk": {"N": "2"}}), _delete(_rk("r", "1"))],
        }
    )
    assert resp["UnprocessedItems"] == {}
    assert "ConsumedCapacity" not in resp
    assert "ItemCollectionMetrics" not in resp

    got = dynamodb.batch_get_item(
        RequestItems={
            h: {"Keys": [_k("a"), _k("b"), _k("missing")]},
            r: {"Keys": [_rk("r", "1"), _rk("r", "2.0")], "ConsistentRead": True},
        }
    )
    assert got["UnprocessedKeys"] == {}
    assert "ConsumedCapacity" not in got
    found = _sorted(got["Responses"][h])
    assert [it["pk"]["S"] for it in found] == ["a", "b"]
    assert sorted(found[0]["ss"]["SS"]) == ["x", "y"]
    assert found[1]["m"] == {"M": {"in": {"L": [{"S": "deep"}]}}}
    assert got["Responses"][r] == [{"pk": {"S": "r"}, "sk": {"N": "2"}}]
    assert dynamodb.describe_table(TableName=h)["Table"]["ItemCount"] == 2
    assert dynamodb.describe_table(TableName=r)["Table"]["ItemCount"] == 1


def test_every_requested_table_appears_in_responses(dynamodb, two_tables):
    h, r = two_tables
    got = dynamodb.batch_get_item(RequestItems={h: {"Keys": [_k("none")]}, r: {"Keys": [_rk("none", "1")]}})
    assert got["Responses"] == {h: [], r: []}
    assert got["UnprocessedKeys"] == {}


def test_projection_per_table(dynamodb, two_tables):
    h, r = two_tables
    dynamodb.batch_write_item(
        RequestItems={
            h: [_put({"pk": {"S": "a"}, "name": {"S": "Ann"}, "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}})],
            r: [_put({"pk": {"S": "p"}, "sk": {"N": "1"}, "d": {"S": "d"}})],
        }
    )
    got = dynamodb.batch_get_item(
        RequestItems={
            h: {
                "Keys": [_k("a")],
                "ProjectionExpression": "#n, m.y",
                "ExpressionAttributeNames": {"#n": "name"},
            },
            r: {"Keys": [_rk("p", "1")], "ProjectionExpression": "nothing_here"},
        }
    )
    assert got["Responses"][h] == [{"name": {"S": "Ann"}, "m": {"M": {"y": {"N": "2"}}}}]
    # Found, with nothing projected: an empty item.
    assert got["Responses"][r] == [{}]


def test_same_key_in_two_tables_is_not_a_duplicate(dynamodb, table):
    a, b = table(), table()
    dynamodb.batch_write_item(RequestItems={a: [_put(_k("same"))], b: [_put(_k("same"))]})
    assert _get(dynamodb, a, _k("same")) == _k("same")
    assert _get(dynamodb, b, _k("same")) == _k("same")


def test_consumed_capacity_one_entry_per_table(dynamodb, two_tables):
    h, r = two_tables
    resp = dynamodb.batch_write_item(
        RequestItems={h: [_put(_sized("big", 1536)), _put(_k("small"))], r: [_put(_rk("p", "1"))]},
        ReturnConsumedCapacity="TOTAL",
        ReturnItemCollectionMetrics="SIZE",
    )
    units = {c["TableName"]: c["CapacityUnits"] for c in resp["ConsumedCapacity"]}
    assert units == {h: 3.0, r: 1.0}

    dynamodb.put_item(TableName=h, Item=_sized("big", 4608))
    request = {
        h: {"Keys": [_k("big"), _k("small"), _k("missing")]},
        r: {"Keys": [_rk("p", "1")]},
    }
    eventual = dynamodb.batch_get_item(RequestItems=request, ReturnConsumedCapacity="TOTAL")
    assert {c["TableName"]: c["CapacityUnits"] for c in eventual["ConsumedCapacity"]} == {h: 2.0, r: 0.5}
    request[h]["ConsistentRead"] = True
    strong = dynamodb.batch_get_item(RequestItems=request, ReturnConsumedCapacity="INDEXES")
    by_table = {c["TableName"]: c for c in strong["ConsumedCapacity"]}
    assert by_table[h]["CapacityUnits"] == 4.0
    assert by_table[h]["Table"]["CapacityUnits"] == 4.0


@pytest.mark.slow
def test_unprocessed_keys_past_16_mb(dynamodb, table):
    name = table()
    # 45 items of 390 KB: 42 fit in 16 MB, 3 are left unprocessed.
    pks = [f"big{i:02}" for i in range(45)]
    for start in range(0, 45, 15):
        dynamodb.batch_write_item(RequestItems={name: [_put(_sized(pk, 390 * 1024)) for pk in pks[start : start + 15]]})
    got = dynamodb.batch_get_item(
        RequestItems={name: {"Keys": [_k(pk) for pk in pks], "ConsistentRead": True, "ProjectionExpression": "pk"}}
    )
    returned = [it["pk"]["S"] for it in got["Responses"][name]]
    left = got["UnprocessedKeys"][name]
    assert len(returned) == 42
    assert len(left["Keys"]) == 3
    assert left["ConsistentRead"] is True
    assert left["ProjectionExpression"] == "pk"
    assert sorted(returned + [k["pk"]["S"] for k in left["Keys"]]) == pks
    rest = dynamodb.batch_get_item(RequestItems=got["UnprocessedKeys"])
    assert len(rest["Responses"][name]) == 3
    assert rest["UnprocessedKeys"] == {}


# --------------------------------------------------------- resource API


def test_resource_batch_writer_and_batch_get(dynamodb_resource, table):
    name = table()
    tbl = dynamodb_resource.Table(name)
    # More than 25 writes: the writer splits them into several calls.
    with tbl.batch_writer() as batch:
        for i in range(60):
            batch.put_item(Item={"pk": f"k{i:02}", "n": Decimal(i), "tags": {"a", "b"}})
        for i in range(0, 60, 3):
            batch.delete_item(Key={"pk": f"k{i:02}"})
    assert tbl.scan(Select="COUNT")["Count"] == 40

    got = dynamodb_resource.batch_get_item(
        RequestItems={name: {"Keys": [{"pk": "k01"}, {"pk": "k03"}, {"pk": "k59"}], "ConsistentRead": True}}
    )
    assert got["UnprocessedKeys"] == {}
    items = sorted(got["Responses"][name], key=lambda it: it["pk"])
    assert [it["pk"] for it in items] == ["k01", "k59"]
    assert items[0]["n"] == Decimal(1)
    assert items[0]["tags"] == {"a", "b"}


def test_resource_batch_writer_overwrite_by_pkeys(dynamodb_resource, table):
    name = table(hash=("pk", "S"), range=("sk", "N"))
    tbl = dynamodb_resource.Table(name)
    with tbl.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
        batch.put_item(Item={"pk": "p", "sk": 1, "v": "first"})
        batch.put_item(Item={"pk": "p", "sk": 1, "v": "second"})
        batch.put_item(Item={"pk": "p", "sk": 2, "v": "other"})
    assert tbl.get_item(Key={"pk": "p", "sk": 1})["Item"]["v"] == "second"
    assert tbl.get_item(Key={"pk": "p", "sk": 2})["Item"]["v"] == "other"


def test_resource_batch_writer_duplicates_without_dedup_fail(dynamodb_resource, table):
    name = table()
    tbl = dynamodb_resource.Table(name)
    with aws_error(VALIDATION, DUPLICATES):
        with tbl.batch_writer() as batch:
            batch.put_item(Item={"pk": "dup", "v": 1})
            batch.put_item(Item={"pk": "dup", "v": 2})
    assert "Item" not in tbl.get_item(Key={"pk": "dup"})


# --------------------------------------------------- BatchGetItem rejections


def test_get_duplicate_keys(dynamodb, two_tables):
    h, r = two_tables
    with aws_error(VALIDATION, DUPLICATES):
        dynamodb.batch_get_item(RequestItems={h: {"Keys": [_k("a"), _k("b"), _k("a")]}})
    # 1 and 1.00 are the same number.
    with aws_error(VALIDATION, DUPLICATES):
        dynamodb.batch_get_item(RequestItems={r: {"Keys": [_rk("a", "1"), _rk("a", "1.00")]}})
    # Checked before the table is looked up.
    with aws_error(VALIDATION, DUPLICATES):
        dynamodb.batch_get_item(RequestItems={"no-such-table": {"Keys": [_k("a"), _k("a")]}})


def test_get_more_than_100_keys(raw, table):
    a, b = table(), table()
    with aws_error(
        VALIDATION,
        f"1 validation error detected: Value at 'RequestItems.{a}.member.Keys' failed to satisfy constraint: "
        "Member must have length less than or equal to 100",
    ):
        raw.batch_get_item(RequestItems={a: {"Keys": [_k(f"k{i}") for i in range(101)]}})
    with aws_error(VALIDATION, "Too many items requested for the BatchGetItem call"):
        raw.batch_get_item(
            RequestItems={a: {"Keys": [_k(f"k{i}") for i in range(60)]}, b: {"Keys": [_k(f"k{i}") for i in range(41)]}}
        )
    got = raw.batch_get_item(
        RequestItems={a: {"Keys": [_k(f"k{i}") for i in range(60)]}, b: {"Keys": [_k(f"k{i}") for i in range(40)]}}
    )
    assert got["Responses"] == {a: [], b: []}


def test_get_framework_violations(raw, table):
    name = table()
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value at 'RequestItems' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    ):
        raw.batch_get_item(RequestItems={})
    with aws_error(
        VALIDATION,
        f"1 validation error detected: Value at 'RequestItems.{name}.member.Keys' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    ):
        raw.batch_get_item(RequestItems={name: {"Keys": []}})
    with aws_error(VALIDATION, f"1 validation error detected: {RCC_ENUM}"):
        raw.batch_get_item(RequestItems={name: {"Keys": [_k("a")]}}, ReturnConsumedCapacity="BOGUS")
    with aws_error(
        VALIDATION,
        "2 validation errors detected: Value '{\"bad!name\":{\"Keys\":[{\"pk\":{\"S\":\"a\"}}]}}' at 'requestItems' "
        f"failed to satisfy constraint: {TABLE_NAME_KEYS}; {RCC_ENUM}",
    ):
        raw.batch_get_item(RequestItems={"bad!name": {"Keys": [_k("a")]}}, ReturnConsumedCapacity="BOGUS")


def test_get_missing_table_and_bad_keys(dynamodb, two_tables):
    h, r = two_tables
    with aws_error(NOT_FOUND, NOT_FOUND_TEXT):
        dynamodb.batch_get_item(RequestItems={h: {"Keys": [_k("a")]}, "no-such-table": {"Keys": [_k("a")]}})
    for bad in ({"pk": {"N": "1"}}, {"other": {"S": "a"}}, {"pk": {"S": "a"}, "extra": {"S": "b"}}):
        with aws_error(VALIDATION, SCHEMA):
            dynamodb.batch_get_item(RequestItems={h: {"Keys": [bad]}})
    with aws_error(VALIDATION, SCHEMA):
        dynamodb.batch_get_item(RequestItems={r: {"Keys": [_k("only-hash")]}})
    with aws_error(
        VALIDATION,
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk",
    ):
        dynamodb.batch_get_item(RequestItems={h: {"Keys": [_k("")]}})


def test_get_expression_checks(dynamodb, table):
    name = table()
    with aws_error(VALIDATION, "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"):
        dynamodb.batch_get_item(
            RequestItems={
                name: {"Keys": [_k("a")], "ProjectionExpression": "pk", "ExpressionAttributeNames": {"#unused": "x"}}
            }
        )
    with aws_error(VALIDATION, "ExpressionAttributeNames can only be specified when using expressions"):
        dynamodb.batch_get_item(RequestItems={name: {"Keys": [_k("a")], "ExpressionAttributeNames": {"#n": "x"}}})


# ------------------------------------------------- BatchWriteItem rejections


def test_write_more_than_25_requests(raw, two_tables):
    h, r = two_tables
    with aws_error(
        VALIDATION,
        f"1 validation error detected: Value at 'RequestItems.{h}.member' failed to satisfy constraint: "
        "Member must have length less than or equal to 25",
    ):
        raw.batch_write_item(RequestItems={h: [_put(_k(f"k{i}")) for i in range(26)]})
    with aws_error(VALIDATION, "Too many items requested for the BatchWriteItem call"):
        raw.batch_write_item(
            RequestItems={h: [_put(_k(f"k{i}")) for i in range(20)], r: [_put(_rk("p", str(i))) for i in range(6)]}
        )
    assert raw.describe_table(TableName=h)["Table"]["ItemCount"] == 0
    raw.batch_write_item(
        RequestItems={h: [_put(_k(f"k{i}")) for i in range(19)], r: [_put(_rk("p", str(i))) for i in range(6)]}
    )
    assert raw.describe_table(TableName=h)["Table"]["ItemCount"] == 19


def test_write_framework_violations(raw, table):
    name = table()
    with aws_error(VALIDATION, "The requestItems parameter is required for BatchWriteItem"):
        raw.batch_write_item(RequestItems={})
    with aws_error(
        VALIDATION,
        f"1 validation error detected: Value '{{{name}=[]}}' at 'requestItems' failed to satisfy constraint: "
        "Map value must satisfy constraint: [Member must have length less than or equal to 25, "
        "Member must have length greater than or equal to 1]",
    ):
        raw.batch_write_item(RequestItems={name: []})
    ricm = (
        "Value 'BOGUS2' at 'returnItemCollectionMetrics' failed to satisfy constraint: "
        "Member must satisfy enum value set: [SIZE, NONE]"
    )
    with aws_error(VALIDATION, f"2 validation errors detected: {RCC_ENUM}; {ricm}"):
        raw.batch_write_item(
            RequestItems={name: [_put(_k("enum"))]},
            ReturnConsumedCapacity="BOGUS",
            ReturnItemCollectionMetrics="BOGUS2",
        )
    # A bad enum is reported alone, ahead of a malformed table name.
    with aws_error(VALIDATION, f"1 validation error detected: {RCC_ENUM}"):
        raw.batch_write_item(RequestItems={"bad!name": [_put(_k("enum"))]}, ReturnConsumedCapacity="BOGUS")
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value '{ab=[WriteRequest(putRequest=PutRequest(item={pk=AttributeValue(s=x)}), "
        f"deleteRequest=null)]}}' at 'requestItems' failed to satisfy constraint: {TABLE_NAME_KEYS}",
    ):
        raw.batch_write_item(RequestItems={"ab": [_put(_k("x"))]})
    with aws_error(
        VALIDATION,
        f"2 validation errors detected: Value null at 'requestItems.{name}.member.1.member.putRequest.item' "
        "failed to satisfy constraint: Member must not be null; "
        f"Value null at 'requestItems.{name}.member.2.member.deleteRequest.key' "
        "failed to satisfy constraint: Member must not be null",
    ):
        raw.batch_write_item(RequestItems={name: [{"PutRequest": {}}, {"DeleteRequest": {}}]})
    assert _get(raw, name, _k("enum")) is None


def test_write_request_must_hold_exactly_one_request(raw, table):
    name = table()
    with aws_error(VALIDATION, NOT_ONE_REQUEST):
        raw.batch_write_item(RequestItems={name: [_put(_k("a")), {}]})
    with aws_error(VALIDATION, NOT_ONE_REQUEST):
        raw.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": _k("a")}, "DeleteRequest": {"Key": _k("b")}}]})
    assert _get(raw, name, _k("a")) is None


def test_write_duplicate_keys(dynamodb, two_tables):
    h, r = two_tables
    with aws_error(VALIDATION, DUPLICATES):
        dynamodb.batch_write_item(RequestItems={h: [_put(_k("a")), _delete(_k("a"))]})
    with aws_error(VALIDATION, DUPLICATES):
        dynamodb.batch_write_item(
            RequestItems={
                r: [
                    _put({"pk": {"S": "p"}, "sk": {"N": "1"}, "v": {"N": "1"}}),
                    _put({"pk": {"S": "p"}, "sk": {"N": "1.0"}, "v": {"N": "2"}}),
                ]
            }
        )
    # The table is looked up first.
    with aws_error(NOT_FOUND, NOT_FOUND_TEXT):
        dynamodb.batch_write_item(RequestItems={"no-such-table": [_put(_k("a")), _delete(_k("a"))]})


def test_write_keys_against_schema(dynamodb, two_tables):
    h, r = two_tables
    for bad in (
        _put({"other": {"S": "x"}}),
        _put({"pk": {"N": "5"}}),
        _put({"pk": {"L": [{"S": "x"}]}}),
        _delete({"other": {"S": "x"}}),
        _delete({"pk": {"S": "x"}, "extra": {"S": "y"}}),
    ):
        with aws_error(VALIDATION, SCHEMA):
            dynamodb.batch_write_item(RequestItems={h: [bad]})
    with aws_error(VALIDATION, SCHEMA):
        dynamodb.batch_write_item(RequestItems={r: [_put(_k("no-sort-key"))]})
    empty = (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk"
    )
    with aws_error(VALIDATION, empty):
        dynamodb.batch_write_item(RequestItems={h: [_put(_k(""))]})
    with aws_error(VALIDATION, empty):
        dynamodb.batch_write_item(RequestItems={h: [_delete(_k(""))]})


def test_write_item_size_is_checked_before_the_table(dynamodb, table):
    name = table()
    dynamodb.batch_write_item(RequestItems={name: [_put(_sized("limit", 400 * 1024))]})
    assert _get(dynamodb, name, _k("limit")) is not None
    with aws_error(VALIDATION, "Item size has exceeded the maximum allowed size"):
        dynamodb.batch_write_item(RequestItems={name: [_put(_sized("over", 400 * 1024 + 1))]})
    with aws_error(VALIDATION, "Item size has exceeded the maximum allowed size"):
        dynamodb.batch_write_item(RequestItems={"no-such-table": [_put(_sized("over", 400 * 1024 + 1))]})


def test_rejected_batch_writes_nothing(raw, two_tables):
    h, r = two_tables
    raw.put_item(TableName=h, Item={"pk": {"S": "keep"}, "v": {"N": "1"}})
    good = [_put({"pk": {"S": "new"}, "v": {"N": "1"}}), _put({"pk": {"S": "keep"}, "v": {"N": "2"}})]
    bad_batches = [
        {h: good, r: [_put(_k("no-sort-key"))]},
        {h: good, "no-such-table": [_put(_k("x"))]},
        {h: good + [_delete(_k("new"))]},
        {h: good + [_put(_sized("huge", 400 * 1024 + 1))]},
        {h: good + [{}]},
        {h: good + [_put({"pk": {"S": "x"}, "set": {"SS": []}})]},
    ]
    for request_items in bad_batches:
        with pytest.raises(ClientError):
            raw.batch_write_item(RequestItems=request_items)
        assert _get(raw, h, _k("new")) is None
        assert _get(raw, h, _k("keep")) == {"pk": {"S": "keep"}, "v": {"N": "1"}}
        assert raw.describe_table(TableName=h)["Table"]["ItemCount"] == 1
        assert raw.describe_table(TableName=r)["Table"]["ItemCount"] == 0
