"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

Covers every attribute type, number precision and normalisation, projections,
ReturnValues, consumed capacity rounding, condition expressions, the resource
(high-level) API and the 400 KB item size limit.
"""

from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary

from compat_util import aws_error

CCF = "ConditionalCheckFailedException"
CCF_TEXT = "The conditional request failed"  # documented in the API reference

EVERY_TYPE = {
    "pk": {"S": "every"},
    "s": {"S": "héllo wörld"},
    "empty_s": {"S": ""},
    "n": {"N": "42"},
    "neg": {"N": "-3.25"},
    "b": {"B": b"\x00\x01\xfe\xff"},
    "empty_b": {"B": b""},
    "t": {"BOOL": True},
    "f": {"BOOL": False},
    "z": {"NULL": True},
    "ss": {"SS": ["a", "b", "c"]},
    "ns": {"NS": ["1", "2.5", "-7"]},
    "bs": {"BS": [b"\x01", b"\x02\x03"]},
    "l": {"L": [{"S": "x"}, {"N": "1"}, {"L": []}, {"M": {}}, {"NULL": True}]},
    "m": {
        "M": {
            "inner": {"M": {"deep": {"L": [{"SS": ["q"]}, {"B": b"\x07"}]}}},
            "flag": {"BOOL": False},
        }
    },
}


def _normalise(value):
    """Make sets order-independent for comparison."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("SS", "NS", "BS"):
                out[k] = sorted(v, key=lambda x: x if isinstance(x, bytes) else str(x).encode())
            else:
                out[k] = _normalise(v)
        return out
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _get(dynamodb, name, key, **kwargs):
    return dynamodb.get_item(TableName=name, Key=key, **kwargs).get("Item")


# ------------------------------------------------------------ basic put/get


def test_put_get_every_type(dynamodb, table):
    name = table()
    resp = dynamodb.put_item(TableName=name, Item=EVERY_TYPE)
    assert "Attributes" not in resp
    item = _get(dynamodb, name, {"pk": {"S": "every"}})
    assert _normalise(item) == _normalise(EVERY_TYPE)


def test_get_missing_item_has_no_item_key(dynamodb, table):
    name = table()
    resp = dynamodb.get_item(TableName=name, Key={"pk": {"S": "nobody"}})
    assert "Item" not in resp


def test_consistent_read(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "c"}, "v": {"N": "1"}})
    item = _get(dynamodb, name, {"pk": {"S": "c"}}, ConsistentRead=True)
    assert item == {"pk": {"S": "c"}, "v": {"N": "1"}}


def test_put_replaces_whole_item(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "r"}, "a": {"S": "1"}, "b": {"S": "2"}})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "r"}, "c": {"S": "3"}})
    assert _get(dynamodb, name, {"pk": {"S": "r"}}) == {"pk": {"S": "r"}, "c": {"S": "3"}}


def test_composite_key_items_are_distinct(dynamodb, table):
    name = table(hash=("pk", "S"), range=("sk", "N"))
    for sk in ("1", "2"):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": sk}, "v": {"S": sk}})
    assert _get(dynamodb, name, {"pk": {"S": "p"}, "sk": {"N": "2"}})["v"] == {"S": "2"}
    # 1.0 and 1 are the same number, so they address the same item.
    assert _get(dynamodb, name, {"pk": {"S": "p"}, "sk": {"N": "1.0"}})["v"] == {"S": "1"}


def test_binary_key(dynamodb, table):
    name = table(hash=("pk", "B"))
    dynamodb.put_item(TableName=name, Item={"pk": {"B": b"\x00\xff"}, "v": {"S": "bin"}})
    assert _get(dynamodb, name, {"pk": {"B": b"\x00\xff"}})["v"] == {"S": "bin"}
    assert _get(dynamodb, name, {"pk": {"B": b"\x00\xfe"}}) is None


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "given,stored",
    [
        ("1.50", "1.5"),
        ("0100", "100"),
        ("1E+2", "100"),
        ("1e2", "100"),
        ("-0", "0"),
        ("0.000", "0"),
        ("1e-5", "0.00001"),
        ("+7", "7"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("-0.12345678901234567890123456789012345678", "-0.12345678901234567890123456789012345678"),
        ("9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999" + "0" * 88),
        ("1E-130", "0." + "0" * 129 + "1"),
    ],
)
def test_number_normalisation(dynamodb, table, given, stored):
    # DynamoDB stores numbers exactly (up to 38 significant digits) and returns
    # them in plain decimal notation without insignificant zeros.
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "n"}, "v": {"N": given}})
    assert _get(dynamodb, name, {"pk": {"S": "n"}})["v"] == {"N": stored}


@pytest.mark.parametrize(
    "value,message",
    [
        # texts as observed on AWS
        ("123456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number"),
        ("-1.23456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number"),
        ("1e126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ("-1e126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ("1e-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
    ],
)
def test_number_limits(dynamodb, table, value, message):
    name = table()
    with aws_error("ValidationException", message):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "n"}, "v": {"N": value}})
    assert _get(dynamodb, name, {"pk": {"S": "n"}}) is None


def test_exact_decimal_arithmetic(dynamodb, table):
    name = table()
    key = {"pk": {"S": "math"}}
    dynamodb.put_item(
        TableName=name,
        Item={**key, "a": {"N": "0.1"}, "big": {"N": "99999999999999999999999999999999999998"}},
    )
    resp = dynamodb.update_item(
        TableName=name,
        Key=key,
        UpdateExpression="SET a = a + :two_tenths ADD big :one",
        ExpressionAttributeValues={":two_tenths": {"N": "0.2"}, ":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW",
    )
    assert resp["Attributes"] == {
        "a": {"N": "0.3"},
        "big": {"N": "99999999999999999999999999999999999999"},
    }
    resp = dynamodb.update_item(
        TableName=name,
        Key=key,
        UpdateExpression="SET a = a - :x",
        ExpressionAttributeValues={":x": {"N": "0.30000000000000000000000000000000000001"}},
        ReturnValues="UPDATED_NEW",
    )
    assert resp["Attributes"] == {"a": {"N": "-0.00000000000000000000000000000000000001"}}


def test_resource_decimal_roundtrip(dynamodb_resource, table):
    name = table()
    tbl = dynamodb_resource.Table(name)
    tbl.put_item(Item={"pk": "dec", "v": Decimal("12345678901234567890.123456789012345678")})
    tbl.update_item(
        Key={"pk": "dec"},
        UpdateExpression="SET v = v + :d",
        ExpressionAttributeValues={":d": Decimal("0.000000000000000001")},
    )
    item = tbl.get_item(Key={"pk": "dec"}, ConsistentRead=True)["Item"]
    assert item["v"] == Decimal("12345678901234567890.123456789012345679")


# ------------------------------------------------------------- projections


def test_projection_nested_paths(dynamodb, table):
    name = table()
    dynamodb.put_item(
        TableName=name,
        Item={
            "pk": {"S": "p"},
            "a": {"M": {"b": {"M": {"c": {"N": "1"}, "d": {"N": "2"}}}, "e": {"N": "3"}}},
            "l": {"L": [{"N": "10"}, {"N": "20"}, {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}]},
            "other": {"S": "not projected"},
        },
    )
    item = _get(
        dynamodb,
        name,
        {"pk": {"S": "p"}},
        ProjectionExpression="a.b.c, l[1], l[2].x, #o.nothere",
        ExpressionAttributeNames={"#o": "other"},
    )
    assert item == {
        "a": {"M": {"b": {"M": {"c": {"N": "1"}}}}},
        "l": {"L": [{"N": "20"}, {"M": {"x": {"N": "1"}}}]},
    }


def test_projection_missing_attributes_are_omitted(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "p"}, "a": {"S": "1"}})
    item = _get(dynamodb, name, {"pk": {"S": "p"}}, ProjectionExpression="a, nope, l[3]")
    assert item == {"a": {"S": "1"}}


def test_projection_key_not_included_unless_asked(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "p"}, "a": {"S": "1"}})
    assert _get(dynamodb, name, {"pk": {"S": "p"}}, ProjectionExpression="a") == {"a": {"S": "1"}}


def test_projection_overlapping_paths(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "p"}})
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [a], path two: [a, b]",
    ):
        _get(dynamodb, name, {"pk": {"S": "p"}}, ProjectionExpression="a, a.b")


# ------------------------------------------------------------ ReturnValues


def test_put_return_values_all_old(dynamodb, table):
    name = table()
    resp = dynamodb.put_item(TableName=name, Item={"pk": {"S": "r"}, "v": {"N": "1"}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in resp
    resp = dynamodb.put_item(TableName=name, Item={"pk": {"S": "r"}, "v": {"N": "2"}}, ReturnValues="ALL_OLD")
    assert resp["Attributes"] == {"pk": {"S": "r"}, "v": {"N": "1"}}


@pytest.mark.parametrize("rv", ["UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"])
def test_put_return_values_invalid(dynamodb, table, rv):
    name = table()
    # text as observed on AWS (quoted from real replies since 2015; DynamoDB
    # Local answers the same)
    with aws_error("ValidationException", "Return values set to invalid value"):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "r"}}, ReturnValues=rv)
    assert _get(dynamodb, name, {"pk": {"S": "r"}}) is None


def test_delete_return_values(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "d"}, "v": {"S": "x"}})
    resp = dynamodb.delete_item(TableName=name, Key={"pk": {"S": "d"}}, ReturnValues="ALL_OLD")
    assert resp["Attributes"] == {"pk": {"S": "d"}, "v": {"S": "x"}}
    assert _get(dynamodb, name, {"pk": {"S": "d"}}) is None
    # Deleting a missing item succeeds and returns nothing.
    resp = dynamodb.delete_item(TableName=name, Key={"pk": {"S": "d"}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in resp


def test_delete_return_values_invalid(dynamodb, table):
    name = table()
    # text as observed on AWS (quoted from real replies since 2015; DynamoDB
    # Local answers the same)
    with aws_error("ValidationException", "Return values set to invalid value"):
        dynamodb.delete_item(TableName=name, Key={"pk": {"S": "d"}}, ReturnValues="ALL_NEW")


UPDATE_BASE = {
    "pk": {"S": "u"},
    "keep": {"S": "same"},
    "a": {"N": "1"},
    "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}},
}


@pytest.mark.parametrize(
    "rv,expected",
    [
        ("NONE", None),
        ("ALL_OLD", UPDATE_BASE),
        ("UPDATED_OLD", {"a": {"N": "1"}, "m": {"M": {"x": {"N": "1"}}}}),
        (
            "ALL_NEW",
            {
                "pk": {"S": "u"},
                "keep": {"S": "same"},
                "a": {"N": "5"},
                "m": {"M": {"x": {"N": "9"}, "y": {"N": "2"}}},
                "added": {"S": "n"},
            },
        ),
        ("UPDATED_NEW", {"a": {"N": "5"}, "m": {"M": {"x": {"N": "9"}}}, "added": {"S": "n"}}),
    ],
)
def test_update_return_values(dynamodb, table, rv, expected):
    name = table()
    dynamodb.put_item(TableName=name, Item=UPDATE_BASE)
    resp = dynamodb.update_item(
        TableName=name,
        Key={"pk": {"S": "u"}},
        UpdateExpression="SET a = :five, m.x = :nine, added = :n",
        ExpressionAttributeValues={":five": {"N": "5"}, ":nine": {"N": "9"}, ":n": {"S": "n"}},
        ReturnValues=rv,
    )
    assert resp.get("Attributes") == expected


def test_update_return_values_updated_old_on_new_item(dynamodb, table):
    name = table()
    resp = dynamodb.update_item(
        TableName=name,
        Key={"pk": {"S": "fresh"}},
        UpdateExpression="SET a = :v",
        ExpressionAttributeValues={":v": {"S": "v"}},
        ReturnValues="UPDATED_OLD",
    )
    assert "Attributes" not in resp


def test_update_creates_item(dynamodb, table):
    name = table(hash=("pk", "S"), range=("sk", "N"))
    resp = dynamodb.update_item(
        TableName=name,
        Key={"pk": {"S": "new"}, "sk": {"N": "1"}},
        UpdateExpression="SET a = :v",
        ExpressionAttributeValues={":v": {"S": "v"}},
        ReturnValues="ALL_NEW",
    )
    assert resp["Attributes"] == {"pk": {"S": "new"}, "sk": {"N": "1"}, "a": {"S": "v"}}


def test_update_without_expression_creates_key_only_item(dynamodb, table):
    name = table()
    dynamodb.update_item(TableName=name, Key={"pk": {"S": "bare"}})
    assert _get(dynamodb, name, {"pk": {"S": "bare"}}) == {"pk": {"S": "bare"}}


# ------------------------------------------------------- consumed capacity


def _item_of_size(pk, total):
    """An item whose DynamoDB size is exactly `total` bytes (names + UTF-8 values)."""
    fixed = len("pk") + len(pk) + len("data")
    return {"pk": {"S": pk}, "data": {"S": "x" * (total - fixed)}}


@pytest.mark.parametrize("size,units", [(100, 1.0), (1024, 1.0), (1025, 2.0), (5000, 5.0)])
def test_put_consumed_capacity(dynamodb, table, size, units):
    name = table()
    resp = dynamodb.put_item(TableName=name, Item=_item_of_size("k1", size), ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"]["TableName"] == name
    assert resp["ConsumedCapacity"]["CapacityUnits"] == units


@pytest.mark.parametrize(
    "size,consistent,units",
    [
        (100, False, 0.5),
        (100, True, 1.0),
        (4096, True, 1.0),
        (4097, True, 2.0),
        (4097, False, 1.0),
        (10000, False, 1.5),
        (10000, True, 3.0),
    ],
)
def test_get_consumed_capacity(dynamodb, table, size, consistent, units):
    name = table()
    dynamodb.put_item(TableName=name, Item=_item_of_size("k1", size))
    resp = dynamodb.get_item(
        TableName=name, Key={"pk": {"S": "k1"}}, ConsistentRead=consistent, ReturnConsumedCapacity="TOTAL"
    )
    assert resp["ConsumedCapacity"]["TableName"] == name
    assert resp["ConsumedCapacity"]["CapacityUnits"] == units


def test_get_missing_item_still_consumes(dynamodb, table):
    name = table()
    resp = dynamodb.get_item(TableName=name, Key={"pk": {"S": "none"}}, ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 0.5
    resp = dynamodb.get_item(
        TableName=name, Key={"pk": {"S": "none"}}, ConsistentRead=True, ReturnConsumedCapacity="TOTAL"
    )
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_consumed_capacity_indexes(dynamodb, table):
    name = table()
    resp = dynamodb.put_item(TableName=name, Item=_item_of_size("k1", 2000), ReturnConsumedCapacity="INDEXES")
    cc = resp["ConsumedCapacity"]
    assert cc["TableName"] == name
    assert cc["CapacityUnits"] == 2.0
    assert cc["Table"]["CapacityUnits"] == 2.0


def test_consumed_capacity_none_by_default(dynamodb, table):
    name = table()
    resp = dynamodb.put_item(TableName=name, Item={"pk": {"S": "k"}})
    assert "ConsumedCapacity" not in resp
    resp = dynamodb.put_item(TableName=name, Item={"pk": {"S": "k"}}, ReturnConsumedCapacity="NONE")
    assert "ConsumedCapacity" not in resp


def test_overwrite_consumes_larger_of_old_and_new(dynamodb, table):
    # Documented: for PutItem/UpdateItem/DeleteItem the size that counts is the
    # larger of the item before and after the write.
    name = table()
    dynamodb.put_item(TableName=name, Item=_item_of_size("k1", 3000))
    resp = dynamodb.put_item(TableName=name, Item=_item_of_size("k1", 100), ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 3.0
    resp = dynamodb.update_item(
        TableName=name,
        Key={"pk": {"S": "k1"}},
        UpdateExpression="SET big = :b",
        ExpressionAttributeValues={":b": {"S": "y" * 2500}},
        ReturnConsumedCapacity="TOTAL",
    )
    # new size = 100 + len("big") + 2500 = 2603 bytes -> 3 units
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 3.0
    resp = dynamodb.delete_item(TableName=name, Key={"pk": {"S": "k1"}}, ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 3.0
    resp = dynamodb.delete_item(TableName=name, Key={"pk": {"S": "k1"}}, ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 1.0


# ---------------------------------------------------- condition expressions

COND_ITEM = {
    "pk": {"S": "c"},
    "s": {"S": "hello"},
    "n": {"N": "5"},
    "b": {"B": b"\x01\x02"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2", "3"]},
    "bs": {"BS": [b"\x01"]},
    "l": {"L": [{"N": "1"}, {"S": "x"}, {"M": {"m": {"N": "1"}}}]},
    "m": {"M": {"k": {"S": "v"}, "n": {"N": "3"}}},
    "t": {"BOOL": True},
    "z": {"NULL": True},
}

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731

CONDITIONS = [
    # comparison operators
    ("n = :v", {":v": N(5)}, True),
    ("n = :v", {":v": S("5")}, False),
    ("n <> :v", {":v": N(4)}, True),
    ("n <> :v", {":v": N(5)}, False),
    ("n < :v", {":v": N(6)}, True),
    ("n < :v", {":v": N(5)}, False),
    ("n <= :v", {":v": N(5)}, True),
    ("n > :v", {":v": N(5)}, False),
    ("n > :v", {":v": N("4.99")}, True),
    ("n >= :v", {":v": N(5)}, True),
    ("s < :v", {":v": S("hellp")}, True),
    ("s > :v", {":v": S("Zebra")}, True),
    ("b < :v", {":v": {"B": b"\x01\x03"}}, True),
    ("b > :v", {":v": {"B": b"\x01"}}, True),
    ("n BETWEEN :lo AND :hi", {":lo": N(1), ":hi": N(5)}, True),
    ("n BETWEEN :lo AND :hi", {":lo": N(6), ":hi": N(9)}, False),
    ("s BETWEEN :lo AND :hi", {":lo": S("a"), ":hi": S("i")}, True),
    ("n IN (:a, :b)", {":a": N(1), ":b": N(5)}, True),
    ("n IN (:a, :b)", {":a": N(1), ":b": N(2)}, False),
    ("s IN (:a)", {":a": S("hello")}, True),
    # whole-value equality of documents and sets
    ("m = :v", {":v": {"M": {"n": N(3), "k": S("v")}}}, True),
    ("l = :v", {":v": {"L": [N(1), S("x"), {"M": {"m": N(1)}}]}}, True),
    ("ss = :v", {":v": {"SS": ["b", "a"]}}, True),
    ("t = :v", {":v": {"BOOL": True}}, True),
    ("z = :v", {":v": {"NULL": True}}, True),
    # nested paths
    ("m.n = :v", {":v": N(3)}, True),
    ("l[2].m = :v", {":v": N(1)}, True),
    ("l[0] < :v", {":v": N(2)}, True),
    # functions
    ("attribute_exists(s)", None, True),
    ("attribute_exists(nope)", None, False),
    ("attribute_not_exists(nope)", None, True),
    ("attribute_not_exists(s)", None, False),
    ("attribute_exists(m.k)", None, True),
    ("attribute_exists(m.nope)", None, False),
    ("attribute_exists(l[2].m)", None, True),
    ("attribute_exists(l[5])", None, False),
    ("attribute_type(n, :t)", {":t": S("N")}, True),
    ("attribute_type(n, :t)", {":t": S("S")}, False),
    ("attribute_type(ss, :t)", {":t": S("SS")}, True),
    ("attribute_type(ns, :t)", {":t": S("NS")}, True),
    ("attribute_type(bs, :t)", {":t": S("BS")}, True),
    ("attribute_type(b, :t)", {":t": S("B")}, True),
    ("attribute_type(l, :t)", {":t": S("L")}, True),
    ("attribute_type(m, :t)", {":t": S("M")}, True),
    ("attribute_type(t, :t)", {":t": S("BOOL")}, True),
    ("attribute_type(z, :t)", {":t": S("NULL")}, True),
    ("begins_with(s, :p)", {":p": S("he")}, True),
    ("begins_with(s, :p)", {":p": S("lo")}, False),
    ("begins_with(b, :p)", {":p": {"B": b"\x01"}}, True),
    ("contains(s, :x)", {":x": S("ell")}, True),
    ("contains(s, :x)", {":x": S("xyz")}, False),
    ("contains(ss, :x)", {":x": S("a")}, True),
    ("contains(ss, :x)", {":x": S("z")}, False),
    ("contains(ns, :x)", {":x": N(2)}, True),
    ("contains(bs, :x)", {":x": {"B": b"\x01"}}, True),
    ("contains(l, :x)", {":x": S("x")}, True),
    ("contains(l, :x)", {":x": N(2)}, False),
    ("size(s) = :v", {":v": N(5)}, True),
    ("size(b) = :v", {":v": N(2)}, True),
    ("size(ss) = :v", {":v": N(2)}, True),
    ("size(ns) > :v", {":v": N(2)}, True),
    ("size(l) = :v", {":v": N(3)}, True),
    ("size(m) = :v", {":v": N(2)}, True),
    ("size(nope) = :v", {":v": N(0)}, False),
    # logical operators and precedence (NOT > AND > OR)
    ("NOT n = :v", {":v": N(5)}, False),
    ("NOT n = :v", {":v": N(6)}, True),
    ("n = :five AND s = :s", {":five": N(5), ":s": S("hello")}, True),
    ("n = :six OR s = :s", {":six": N(6), ":s": S("hello")}, True),
    ("n = :five OR n = :six AND s = :no", {":five": N(5), ":six": N(6), ":no": S("no")}, True),
    ("(n = :five OR n = :six) AND s = :no", {":five": N(5), ":six": N(6), ":no": S("no")}, False),
    ("NOT n = :six AND s = :s", {":six": N(6), ":s": S("hello")}, True),
    ("NOT (n = :five AND s = :s)", {":five": N(5), ":s": S("hello")}, False),
    # names
    ("#s = :v", {":v": S("hello")}, True),
    ("#m.#k = :v", {":v": S("v")}, True),
]


@pytest.fixture
def cond_table(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item=COND_ITEM)
    return name


@pytest.mark.parametrize("expr,values,passes", CONDITIONS, ids=[f"{c[0]}|{c[2]}" for c in CONDITIONS])
def test_condition_expression(dynamodb, cond_table, expr, values, passes):
    kwargs = {"ConditionExpression": expr}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    names = {k: v for k, v in {"#s": "s", "#m": "m", "#k": "k"}.items() if k in expr}
    if names:
        kwargs["ExpressionAttributeNames"] = names
    new_item = {**COND_ITEM, "written": {"BOOL": True}}
    if passes:
        dynamodb.put_item(TableName=cond_table, Item=new_item, **kwargs)
        assert _get(dynamodb, cond_table, {"pk": {"S": "c"}})["written"] == {"BOOL": True}
    else:
        with aws_error(CCF, CCF_TEXT):
            dynamodb.put_item(TableName=cond_table, Item=new_item, **kwargs)
        assert "written" not in _get(dynamodb, cond_table, {"pk": {"S": "c"}})


def test_condition_on_missing_item(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "x"}}, ConditionExpression="attribute_not_exists(pk)")
    with aws_error(CCF, CCF_TEXT):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "x"}}, ConditionExpression="attribute_not_exists(pk)")
    with aws_error(CCF, CCF_TEXT):
        dynamodb.delete_item(
            TableName=name, Key={"pk": {"S": "absent"}}, ConditionExpression="attribute_exists(pk)"
        )
    with aws_error(CCF, CCF_TEXT):
        dynamodb.update_item(
            TableName=name,
            Key={"pk": {"S": "absent"}},
            UpdateExpression="SET a = :v",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":v": {"S": "v"}},
        )
    assert _get(dynamodb, name, {"pk": {"S": "absent"}}) is None


def test_condition_failure_returns_old_item(dynamodb, table):
    name = table()
    item = {"pk": {"S": "old"}, "v": {"N": "1"}, "s": {"SS": ["a"]}}
    dynamodb.put_item(TableName=name, Item=item)
    with aws_error(CCF, CCF_TEXT) as err:
        dynamodb.update_item(
            TableName=name,
            Key={"pk": {"S": "old"}},
            UpdateExpression="SET v = :two",
            ConditionExpression="v = :zero",
            ExpressionAttributeValues={":two": {"N": "2"}, ":zero": {"N": "0"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert err.response["Item"] == item
    with aws_error(CCF, CCF_TEXT) as err:
        dynamodb.delete_item(
            TableName=name,
            Key={"pk": {"S": "old"}},
            ConditionExpression="attribute_not_exists(v)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert err.response["Item"] == item
    with aws_error(CCF, CCF_TEXT) as err:
        dynamodb.put_item(
            TableName=name,
            Item={"pk": {"S": "old"}},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="NONE",
        )
    assert "Item" not in err.response


def test_update_condition_sees_old_item(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "ver"}, "version": {"N": "1"}})
    dynamodb.update_item(
        TableName=name,
        Key={"pk": {"S": "ver"}},
        UpdateExpression="SET version = version + :one",
        ConditionExpression="version = :expected",
        ExpressionAttributeValues={":one": {"N": "1"}, ":expected": {"N": "1"}},
    )
    with aws_error(CCF, CCF_TEXT):
        dynamodb.update_item(
            TableName=name,
            Key={"pk": {"S": "ver"}},
            UpdateExpression="SET version = version + :one",
            ConditionExpression="version = :expected",
            ExpressionAttributeValues={":one": {"N": "1"}, ":expected": {"N": "1"}},
        )
    assert _get(dynamodb, name, {"pk": {"S": "ver"}})["version"] == {"N": "2"}


# ---------------------------------------------------------- resource API


def test_resource_api_single_items(dynamodb_resource, table):
    name = table(hash=("pk", "S"), range=("sk", "N"))
    tbl = dynamodb_resource.Table(name)
    tbl.put_item(
        Item={
            "pk": "r",
            "sk": 1,
            "n": Decimal("1.5"),
            "s": "text",
            "b": Binary(b"\x00\x01"),
            "set": {"a", "b"},
            "nums": {Decimal(1), Decimal(2)},
            "l": [1, "x", {"deep": None}],
            "m": {"flag": True},
        }
    )
    item = tbl.get_item(Key={"pk": "r", "sk": 1})["Item"]
    assert item == {
        "pk": "r",
        "sk": Decimal(1),
        "n": Decimal("1.5"),
        "s": "text",
        "b": Binary(b"\x00\x01"),
        "set": {"a", "b"},
        "nums": {Decimal(1), Decimal(2)},
        "l": [Decimal(1), "x", {"deep": None}],
        "m": {"flag": True},
    }
    resp = tbl.update_item(
        Key={"pk": "r", "sk": 1},
        UpdateExpression="ADD n :inc, #set :more",
        ExpressionAttributeNames={"#set": "set"},
        ExpressionAttributeValues={":inc": Decimal("2.5"), ":more": {"c"}},
        ReturnValues="UPDATED_NEW",
    )
    assert resp["Attributes"] == {"n": Decimal(4), "set": {"a", "b", "c"}}
    tbl.update_item(Key={"pk": "r", "sk": 1}, UpdateExpression="REMOVE l[0]")
    assert tbl.get_item(Key={"pk": "r", "sk": 1}, ConsistentRead=True)["Item"]["l"] == ["x", {"deep": None}]
    resp = tbl.delete_item(Key={"pk": "r", "sk": 1}, ReturnValues="ALL_OLD")
    assert resp["Attributes"]["s"] == "text"
    assert "Item" not in tbl.get_item(Key={"pk": "r", "sk": 1})


def test_resource_condition_builder(dynamodb_resource, table):
    from boto3.dynamodb.conditions import Attr

    name = table()
    tbl = dynamodb_resource.Table(name)
    tbl.put_item(Item={"pk": "cb", "count": 3, "tags": {"x"}})
    tbl.put_item(
        Item={"pk": "cb", "count": 4},
        ConditionExpression=Attr("count").lt(4) & Attr("tags").contains("x") & Attr("gone").not_exists(),
    )
    with pytest.raises(tbl.meta.client.exceptions.ConditionalCheckFailedException):
        tbl.put_item(Item={"pk": "cb"}, ConditionExpression=Attr("count").between(5, 9))


# --------------------------------------------------------------- size limit

MAX_ITEM = 400 * 1024


def test_item_at_size_limit_is_accepted(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item=_item_of_size("k1", MAX_ITEM))
    item = _get(dynamodb, name, {"pk": {"S": "k1"}})
    assert len(item["data"]["S"]) == MAX_ITEM - len("pk") - len("k1") - len("data")


def test_item_over_size_limit(dynamodb, table):
    name = table()
    # text as observed on AWS
    with aws_error("ValidationException", "Item size has exceeded the maximum allowed size"):
        dynamodb.put_item(TableName=name, Item=_item_of_size("k1", MAX_ITEM + 1))
    assert _get(dynamodb, name, {"pk": {"S": "k1"}}) is None


def test_item_size_counts_attribute_names(dynamodb, table):
    name = table()
    long_name = "n" * 200
    item = {"pk": {"S": "k1"}, long_name: {"S": "x" * (MAX_ITEM - 4 - 200 + 1)}}
    # text as observed on AWS
    with aws_error("ValidationException", "Item size has exceeded the maximum allowed size"):
        dynamodb.put_item(TableName=name, Item=item)


def test_update_over_size_limit(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item=_item_of_size("k1", MAX_ITEM - 100))
    # text as observed on AWS
    with aws_error("ValidationException", "Item size to update has exceeded the maximum allowed size"):
        dynamodb.update_item(
            TableName=name,
            Key={"pk": {"S": "k1"}},
            UpdateExpression="SET more = :m",
            ExpressionAttributeValues={":m": {"S": "y" * 200}},
        )
    item = _get(dynamodb, name, {"pk": {"S": "k1"}}, ConsistentRead=True)
    assert "more" not in item
