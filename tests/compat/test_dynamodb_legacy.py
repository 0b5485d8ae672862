"""The legacy (pre-expression) parameters many applications still send:
AttributesToGet, KeyConditions, QueryFilter, ScanFilter, Expected,
AttributeUpdates and ConditionalOperator, and AWS's rule that they do not mix
with expression parameters.

Texts are AWS's (as dynalite's suite records them from DynamoDB, and as
DynamoDB Local's error factory words them)."""

import base64

import pytest

from compat_util import aws_error, error_name, raw_request

VALIDATION = "ValidationException"
INVALID = "One or more parameter values were invalid: "
MIXED = "Can not use both expression and non-expression parameters in the same request: "
OPERATORS = (
    "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
)


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


def cond(op, *values):
    c = {"ComparisonOperator": op}
    if values:
        c["AttributeValueList"] = list(values)
    return c


def ids(items):
    return sorted(i["id"]["S"] for i in items)


# ------------------------------------------------------------------ fixtures

FILTER_ITEMS = [
    {
        "id": S("i1"),
        "a": S("apple"),
        "n": N(5),
        "ss": {"SS": ["x", "y"]},
        "l": {"L": [S("x"), N(1)]},
        "b": {"B": b"\x01\x02\x03"},
    },
    {"id": S("i2"), "a": S("banana"), "n": N(10)},
    {"id": S("i3"), "a": N(7)},
    {"id": S("i4")},
    {"id": S("i5"), "a": S("apricot"), "n": N(-1), "ss": {"SS": ["z"]}},
]


@pytest.fixture
def hash_table(dynamodb, table):
    name = table(hash=("id", "S"))
    for item in FILTER_ITEMS:
        dynamodb.put_item(TableName=name, Item=item)
    return name


@pytest.fixture
def range_table(dynamodb, table):
    """pk S / sk N: p/1..6 (v "odd"/"even"), q/1."""
    name = table(hash=("pk", "S"), range=("sk", "N"))
    for sk in range(1, 7):
        v = "odd" if sk % 2 else "even"
        dynamodb.put_item(TableName=name, Item={"pk": S("p"), "sk": N(sk), "v": S(v), "w": N(sk * 10)})
    dynamodb.put_item(TableName=name, Item={"pk": S("q"), "sk": N(1), "v": S("odd")})
    return name


@pytest.fixture
def item_table(dynamodb, table):
    name = table(hash=("pk", "S"))
    dynamodb.put_item(
        TableName=name,
        Item={"pk": S("k"), "s": S("hello"), "n": N(5), "ss": {"SS": ["a", "b"]}, "l": {"L": [N(1)]}},
    )
    return name


KEY = {"pk": S("k")}


def get(dynamodb, name, key=KEY):
    return dynamodb.get_item(TableName=name, Key=key, ConsistentRead=True).get("Item")


def sks(items):
    return [int(i["sk"]["N"]) for i in items]


# ------------------------------------------------------------- AttributesToGet


def test_get_item_attributes_to_get(dynamodb, item_table):
    resp = dynamodb.get_item(TableName=item_table, Key=KEY, AttributesToGet=["s", "missing", "n"])
    assert resp["Item"] == {"s": S("hello"), "n": N(5)}


def test_batch_get_item_attributes_to_get_per_table(dynamodb, item_table, hash_table):
    resp = dynamodb.batch_get_item(
        RequestItems={
            item_table: {"Keys": [KEY], "AttributesToGet": ["ss"]},
            hash_table: {"Keys": [{"id": S("i1")}], "ProjectionExpression": "n"},
        }
    )
    assert resp["Responses"][item_table] == [{"ss": {"SS": ["a", "b"]}}]
    assert resp["Responses"][hash_table] == [{"n": N(5)}]


@pytest.mark.slow
def test_batch_get_item_echoes_attributes_to_get_in_unprocessed_keys(dynamodb, table):
    name = table()
    # 45 items of 390 KB: 42 fit in the 16 MB a BatchGetItem reads.
    pks = [f"big{i:02}" for i in range(45)]
    filler = "x" * (390 * 1024 - len("pk") - len("big00") - len("data"))
    for start in range(0, 45, 15):
        dynamodb.batch_write_item(
            RequestItems={
                name: [{"PutRequest": {"Item": {"pk": S(pk), "data": S(filler)}}} for pk in pks[start : start + 15]]
            }
        )
    got = dynamodb.batch_get_item(
        RequestItems={name: {"Keys": [{"pk": S(pk)} for pk in pks], "AttributesToGet": ["pk"]}}
    )
    assert all(it == {"pk": it["pk"]} for it in got["Responses"][name])
    left = got["UnprocessedKeys"][name]
    assert len(left["Keys"]) == 3 and left["AttributesToGet"] == ["pk"]
    rest = dynamodb.batch_get_item(RequestItems=got["UnprocessedKeys"])
    assert [set(it) for it in rest["Responses"][name]] == [{"pk"}] * 3


def test_scan_and_query_attributes_to_get(dynamodb, hash_table, range_table):
    items = dynamodb.scan(TableName=hash_table, AttributesToGet=["id", "n"])["Items"]
    assert sorted(items, key=lambda i: i["id"]["S"])[0] == {"id": S("i1"), "n": N(5)}
    resp = dynamodb.query(
        TableName=range_table,
        KeyConditions={"pk": cond("EQ", S("p"))},
        AttributesToGet=["w"],
        Select="SPECIFIC_ATTRIBUTES",
    )
    assert resp["Items"] == [{"w": N(sk * 10)} for sk in range(1, 7)]


@pytest.mark.parametrize(
    "select,message",
    [
        ("ALL_ATTRIBUTES", "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES"),
        ("COUNT", "Cannot specify the AttributesToGet when choosing to get only the Count"),
    ],
)
def test_select_with_attributes_to_get(dynamodb, hash_table, select, message):
    with aws_error(VALIDATION, message):
        dynamodb.scan(TableName=hash_table, AttributesToGet=["a"], Select=select)


def test_select_count_with_projection_expression(dynamodb, hash_table):
    with aws_error(VALIDATION, "Cannot specify the ProjectionExpression when choosing to get only the Count"):
        dynamodb.scan(TableName=hash_table, ProjectionExpression="a", Select="COUNT")


def test_attributes_to_get_duplicates(dynamodb, item_table, range_table):
    message = INVALID + "Duplicate value in attribute name: s"
    with aws_error(VALIDATION, message):
        dynamodb.get_item(TableName=item_table, Key=KEY, AttributesToGet=["s", "n", "s"])
    with aws_error(VALIDATION, message):
        dynamodb.query(
            TableName=range_table, KeyConditions={"pk": cond("EQ", S("p"))}, AttributesToGet=["s", "s"]
        )


def test_attributes_to_get_empty(endpoint, item_table):
    # botocore refuses an empty list itself, so this goes raw.
    status, body, _ = raw_request(
        endpoint, "GetItem", {"TableName": item_table, "Key": KEY, "AttributesToGet": []}
    )
    assert status == 400 and error_name(body) == VALIDATION
    assert body["message"] == (
        "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


# -------------------------------------------------------------- KeyConditions


@pytest.mark.parametrize(
    "sk_cond,expected",
    [
        (None, [1, 2, 3, 4, 5, 6]),
        (cond("EQ", N(3)), [3]),
        (cond("LT", N(3)), [1, 2]),
        (cond("LE", N(3)), [1, 2, 3]),
        (cond("GT", N(4)), [5, 6]),
        (cond("GE", N(4)), [4, 5, 6]),
        (cond("BETWEEN", N(2), N(4)), [2, 3, 4]),
    ],
)
def test_key_conditions(dynamodb, range_table, sk_cond, expected):
    kc = {"pk": cond("EQ", S("p"))}
    if sk_cond:
        kc["sk"] = sk_cond
    resp = dynamodb.query(TableName=range_table, KeyConditions=kc)
    assert sks(resp["Items"]) == expected
    assert resp["Count"] == len(expected)


def test_key_conditions_begins_with(dynamodb, table):
    name = table(hash=("pk", "S"), range=("sk", "S"))
    for sk in ["a1", "a2", "b1", "A1"]:
        dynamodb.put_item(TableName=name, Item={"pk": S("p"), "sk": S(sk)})
    resp = dynamodb.query(
        TableName=name, KeyConditions={"pk": cond("EQ", S("p")), "sk": cond("BEGINS_WITH", S("a"))}
    )
    assert [i["sk"]["S"] for i in resp["Items"]] == ["a1", "a2"]


def test_key_conditions_paginate_backwards(dynamodb, range_table):
    kwargs = {
        "TableName": range_table,
        "KeyConditions": {"pk": cond("EQ", S("p")), "sk": cond("GE", N(2))},
        "ScanIndexForward": False,
        "Limit": 2,
    }
    seen = []
    while True:
        resp = dynamodb.query(**kwargs)
        seen += sks(resp["Items"])
        if "LastEvaluatedKey" not in resp:
            break
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    assert seen == [6, 5, 4, 3, 2]


def test_key_conditions_with_filter_expression(dynamodb, range_table):
    # KeyConditions is the one legacy member a Query may combine with expressions.
    resp = dynamodb.query(
        TableName=range_table,
        KeyConditions={"pk": cond("EQ", S("p"))},
        FilterExpression="v = :v",
        ProjectionExpression="sk",
        ExpressionAttributeValues={":v": S("even")},
    )
    assert resp["Items"] == [{"sk": N(2)}, {"sk": N(4)}, {"sk": N(6)}]
    assert resp["ScannedCount"] == 6


def test_key_conditions_on_global_index(dynamodb, table):
    name = table(
        hash=("pk", "S"),
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "r", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "r", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for i in range(5):
        dynamodb.put_item(TableName=name, Item={"pk": S(f"k{i}"), "g": S("G"), "r": N(i)})
    resp = dynamodb.query(
        TableName=name,
        IndexName="byG",
        KeyConditions={"g": cond("EQ", S("G")), "r": cond("LT", N(3))},
        QueryFilter={"pk": cond("NE", S("k1"))},
    )
    assert [i["pk"]["S"] for i in resp["Items"]] == ["k0", "k2"]
    with aws_error(VALIDATION, "Query condition missed key schema element: g"):
        dynamodb.query(TableName=name, IndexName="byG", KeyConditions={"pk": cond("EQ", S("k1"))})


@pytest.mark.parametrize(
    "kc,message",
    [
        ({"sk": cond("EQ", N(1))}, "Query condition missed key schema element: pk"),
        (
            {"pk": cond("EQ", S("p")), "v": cond("EQ", S("x"))},
            "Query condition missed key schema element: sk",
        ),
        ({"pk": cond("BEGINS_WITH", S("p"))}, "Query key condition not supported"),
        ({"pk": cond("GT", S("p"))}, "Query key condition not supported"),
        ({"pk": cond("NE", S("p"))}, "Attempted conditional constraint is not an indexable operation"),
        ({"pk": cond("NOT_NULL")}, "Attempted conditional constraint is not an indexable operation"),
        (
            {"pk": cond("EQ", S("p")), "sk": cond("IN", N(1), N(2))},
            "Attempted conditional constraint is not an indexable operation",
        ),
        (
            {"pk": cond("EQ", S("p")), "sk": cond("CONTAINS", N(1))},
            "Attempted conditional constraint is not an indexable operation",
        ),
        ({"pk": cond("EQ", N(1))}, INVALID + "Condition parameter type does not match schema type"),
        (
            {"pk": cond("EQ", S("p")), "sk": cond("GT", S("1"))},
            INVALID + "Condition parameter type does not match schema type",
        ),
        ({}, "Conditions can be of length 1 or 2 only"),
        (
            {"pk": cond("EQ", S("p")), "sk": cond("EQ", N(1)), "v": cond("EQ", S("x"))},
            "Conditions can be of length 1 or 2 only",
        ),
        (
            {"pk": cond("EQ", S("p")), "sk": cond("BETWEEN", N(5), N(1))},
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ),
        (
            {"pk": cond("EQ", S("p")), "sk": cond("BEGINS_WITH", N(1))},
            INVALID + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type",
        ),
        ({"pk": cond("EQ")}, INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator"),
    ],
)
def test_key_conditions_errors(dynamodb, range_table, kc, message):
    with aws_error(VALIDATION, message):
        dynamodb.query(TableName=range_table, KeyConditions=kc)


def test_key_conditions_on_hash_only_table(dynamodb, hash_table):
    resp = dynamodb.query(TableName=hash_table, KeyConditions={"id": cond("EQ", S("i2"))})
    assert ids(resp["Items"]) == ["i2"]
    with aws_error(VALIDATION, "Query key condition not supported"):
        dynamodb.query(
            TableName=hash_table, KeyConditions={"id": cond("EQ", S("i2")), "a": cond("EQ", S("x"))}
        )


def test_query_filter(dynamodb, range_table):
    resp = dynamodb.query(
        TableName=range_table,
        KeyConditions={"pk": cond("EQ", S("p"))},
        QueryFilter={"v": cond("EQ", S("odd")), "w": cond("GT", N(10))},
    )
    assert sks(resp["Items"]) == [3, 5]
    assert resp["Count"] == 2
    assert resp["ScannedCount"] == 6
    resp = dynamodb.query(
        TableName=range_table,
        KeyConditions={"pk": cond("EQ", S("p"))},
        QueryFilter={"v": cond("EQ", S("odd")), "w": cond("GT", N(50))},
        ConditionalOperator="OR",
    )
    assert sks(resp["Items"]) == [1, 3, 5, 6]


def test_query_filter_on_key_attribute(dynamodb, range_table):
    with aws_error(
        VALIDATION, "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk"
    ):
        dynamodb.query(
            TableName=range_table,
            KeyConditions={"pk": cond("EQ", S("p"))},
            QueryFilter={"sk": cond("GT", N(1))},
        )


# ------------------------------------------------------ QueryFilter / ScanFilter


@pytest.mark.parametrize(
    "attr,condition,expected",
    [
        ("a", cond("EQ", S("apple")), ["i1"]),
        # A missing attribute and a number both differ from the string.
        ("a", cond("NE", S("apple")), ["i2", "i3", "i4", "i5"]),
        ("a", cond("LT", S("b")), ["i1", "i5"]),
        ("a", cond("LE", S("banana")), ["i1", "i2", "i5"]),
        ("a", cond("GT", S("apricot")), ["i2"]),
        ("a", cond("GE", S("apricot")), ["i2", "i5"]),
        ("a", cond("NOT_NULL"), ["i1", "i2", "i3", "i5"]),
        ("a", cond("NULL"), ["i4"]),
        ("a", cond("CONTAINS", S("an")), ["i2"]),
        ("a", cond("NOT_CONTAINS", S("an")), ["i1", "i3", "i4", "i5"]),
        ("a", cond("BEGINS_WITH", S("ap")), ["i1", "i5"]),
        ("a", cond("IN", S("apple"), S("banana"), S("cherry")), ["i1", "i2"]),
        ("a", cond("BETWEEN", S("apple"), S("apricot")), ["i1", "i5"]),
        # Numbers compare numerically; unlike types never match an ordering.
        ("n", cond("GT", N(4)), ["i1", "i2"]),
        ("n", cond("BETWEEN", N(0), N(9)), ["i1"]),
        ("n", cond("LT", N(0)), ["i5"]),
        ("a", cond("GE", N(0)), ["i3"]),
        ("a", cond("EQ", N(7)), ["i3"]),
        # Sets: membership for CONTAINS, whole-set equality (any order) for EQ.
        ("ss", cond("CONTAINS", S("x")), ["i1"]),
        ("ss", cond("NOT_CONTAINS", S("x")), ["i2", "i3", "i4", "i5"]),
        ("ss", cond("EQ", {"SS": ["y", "x"]}), ["i1"]),
        ("ss", cond("NE", {"SS": ["y", "x"]}), ["i2", "i3", "i4", "i5"]),
        # Lists: element membership; binaries: byte subsequence.
        ("l", cond("CONTAINS", N(1)), ["i1"]),
        ("b", cond("CONTAINS", {"B": b"\x02\x03"}), ["i1"]),
        ("b", cond("BEGINS_WITH", {"B": b"\x01"}), ["i1"]),
        ("b", cond("CONTAINS", {"B": b"\x03\x02"}), []),
    ],
)
def test_scan_filter_operators(dynamodb, hash_table, attr, condition, expected):
    resp = dynamodb.scan(TableName=hash_table, ScanFilter={attr: condition})
    assert ids(resp["Items"]) == expected
    assert resp["Count"] == len(expected)
    assert resp["ScannedCount"] == len(FILTER_ITEMS)


def test_scan_filter_conditional_operator(dynamodb, hash_table):
    both = {"a": cond("EQ", S("apple")), "n": cond("EQ", N(10))}
    assert ids(dynamodb.scan(TableName=hash_table, ScanFilter=both)["Items"]) == []
    assert ids(dynamodb.scan(TableName=hash_table, ScanFilter=both, ConditionalOperator="AND")["Items"]) == []
    assert ids(dynamodb.scan(TableName=hash_table, ScanFilter=both, ConditionalOperator="OR")["Items"]) == [
        "i1",
        "i2",
    ]
    resp = dynamodb.scan(
        TableName=hash_table,
        ScanFilter={"a": cond("BEGINS_WITH", S("ap")), "n": cond("GT", N(0))},
    )
    assert ids(resp["Items"]) == ["i1"]


def test_scan_filter_with_attributes_to_get_and_count(dynamodb, hash_table):
    resp = dynamodb.scan(
        TableName=hash_table, ScanFilter={"n": cond("NOT_NULL")}, AttributesToGet=["id"]
    )
    assert sorted(resp["Items"], key=lambda i: i["id"]["S"]) == [{"id": S(i)} for i in ["i1", "i2", "i5"]]
    resp = dynamodb.scan(TableName=hash_table, ScanFilter={"n": cond("NOT_NULL")}, Select="COUNT")
    assert resp["Count"] == 3 and "Items" not in resp


@pytest.mark.parametrize(
    "op,values",
    [
        ("EQ", []),
        ("NE", [S("a"), S("b")]),
        ("LT", []),
        ("LE", [S("a"), S("b")]),
        ("GT", []),
        ("GE", [S("a"), S("b")]),
        ("CONTAINS", []),
        ("NOT_CONTAINS", [S("a"), S("b")]),
        ("BEGINS_WITH", []),
        ("IN", []),
        ("BETWEEN", [S("a")]),
        ("BETWEEN", [S("a"), S("b"), S("c")]),
        ("NULL", [S("a")]),
        ("NOT_NULL", [S("a")]),
    ],
)
def test_filter_argument_counts(dynamodb, hash_table, op, values):
    condition = {"ComparisonOperator": op, "AttributeValueList": values}
    with aws_error(VALIDATION, INVALID + f"Invalid number of argument(s) for the {op} ComparisonOperator"):
        dynamodb.scan(TableName=hash_table, ScanFilter={"a": condition})


@pytest.mark.parametrize(
    "op,value,type_name",
    [
        ("LT", {"BOOL": True}, "BOOL"),
        ("LE", {"NULL": True}, "NULL"),
        ("GT", {"SS": ["a"]}, "SS"),
        ("GE", {"M": {}}, "M"),
        ("IN", {"L": []}, "L"),
        ("CONTAINS", {"SS": ["a"]}, "SS"),
        ("NOT_CONTAINS", {"L": []}, "L"),
        ("BEGINS_WITH", N(1), "N"),
        ("BEGINS_WITH", {"BOOL": True}, "BOOL"),
    ],
)
def test_filter_value_types(dynamodb, hash_table, op, value, type_name):
    with aws_error(VALIDATION, INVALID + f"ComparisonOperator {op} is not valid for {type_name} AttributeValue type"):
        dynamodb.scan(TableName=hash_table, ScanFilter={"a": cond(op, value)})


def test_filter_between_types_and_bounds(dynamodb, hash_table):
    with aws_error(VALIDATION, INVALID + "ComparisonOperator BETWEEN is not valid for NS AttributeValue type"):
        dynamodb.scan(TableName=hash_table, ScanFilter={"a": cond("BETWEEN", {"NS": ["1"]}, {"NS": ["2"]})})
    with aws_error(VALIDATION, INVALID + "AttributeValues inside AttributeValueList must be of same type"):
        dynamodb.scan(TableName=hash_table, ScanFilter={"a": cond("IN", S("b"), N(1))})
    with aws_error(
        VALIDATION,
        "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
    ):
        dynamodb.scan(TableName=hash_table, ScanFilter={"n": cond("BETWEEN", N(10), N(9))})


def test_filter_bad_attribute_value(endpoint, hash_table):
    # botocore refuses an empty AttributeValue itself, so this goes raw.
    status, body, _ = raw_request(
        endpoint,
        "Scan",
        {"TableName": hash_table, "ScanFilter": {"a": {"ComparisonOperator": "EQ", "AttributeValueList": [{}]}}},
    )
    assert status == 400 and error_name(body) == VALIDATION
    assert body["message"] == "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"


def test_conditional_operator_rules(dynamodb, hash_table, item_table):
    with aws_error(
        VALIDATION, "ConditionalOperator can only be used when Filter or Expected has two or more elements"
    ):
        dynamodb.scan(TableName=hash_table, ScanFilter={"a": cond("NULL")}, ConditionalOperator="OR")
    with aws_error(VALIDATION, "ConditionalOperator cannot be used without Filter or Expected"):
        dynamodb.scan(TableName=hash_table, ConditionalOperator="OR")
    with aws_error(VALIDATION, "ConditionalOperator cannot be used without Filter or Expected"):
        dynamodb.put_item(TableName=item_table, Item=KEY, ConditionalOperator="AND")


def test_framework_checks_of_legacy_enums(endpoint, dynamodb, hash_table, range_table, item_table):
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value 'SOME' at 'scanFilter.a.member.comparisonOperator' "
        f"failed to satisfy constraint: Member must satisfy enum value set: {OPERATORS}",
    ):
        dynamodb.scan(TableName=hash_table, ScanFilter={"a": cond("SOME")})
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value 'SOME' at 'expected.a.member.comparisonOperator' "
        f"failed to satisfy constraint: Member must satisfy enum value set: {OPERATORS}",
    ):
        dynamodb.put_item(TableName=item_table, Item=KEY, Expected={"a": cond("SOME", S("x"))})
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: "
        "Member must satisfy enum value set: [OR, AND]",
    ):
        dynamodb.query(
            TableName=range_table, KeyConditions={"pk": cond("EQ", S("p"))}, ConditionalOperator="XOR"
        )
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value 'MERGE' at 'attributeUpdates.a.member.action' failed to "
        "satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]",
    ):
        dynamodb.update_item(TableName=item_table, Key=KEY, AttributeUpdates={"a": {"Action": "MERGE", "Value": N(1)}})
    # botocore requires ComparisonOperator in a Condition, so this goes raw.
    status, body, _ = raw_request(
        endpoint,
        "Query",
        {"TableName": range_table, "KeyConditions": {"pk": {"AttributeValueList": [S("p")]}}},
    )
    assert status == 400 and error_name(body) == VALIDATION
    assert body["message"] == (
        "1 validation error detected: Value null at 'keyConditions.pk.member.comparisonOperator' "
        "failed to satisfy constraint: Member must not be null"
    )


# --------------------------------------------------------------- mixing rule


def test_mixing_on_reads(dynamodb, item_table, hash_table, range_table):
    with aws_error(VALIDATION, MIXED + "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"):
        dynamodb.get_item(TableName=item_table, Key=KEY, AttributesToGet=["s"], ProjectionExpression="s")
    with aws_error(VALIDATION, MIXED + "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"):
        dynamodb.batch_get_item(
            RequestItems={item_table: {"Keys": [KEY], "AttributesToGet": ["s"], "ProjectionExpression": "s"}}
        )
    with aws_error(
        VALIDATION,
        MIXED
        + "Non-expression parameters: {AttributesToGet, ScanFilter, ConditionalOperator} "
        + "Expression parameters: {ProjectionExpression, FilterExpression}",
    ):
        dynamodb.scan(
            TableName=hash_table,
            AttributesToGet=["a"],
            ScanFilter={"a": cond("NULL"), "n": cond("NULL")},
            ConditionalOperator="OR",
            ProjectionExpression="a",
            FilterExpression="attribute_exists(a)",
        )
    with aws_error(
        VALIDATION,
        MIXED
        + "Non-expression parameters: {AttributesToGet, QueryFilter, ConditionalOperator, KeyConditions} "
        + "Expression parameters: {ProjectionExpression, FilterExpression, KeyConditionExpression}",
    ):
        dynamodb.query(
            TableName=range_table,
            KeyConditions={"pk": cond("EQ", S("p"))},
            QueryFilter={"v": cond("NULL"), "w": cond("NULL")},
            ConditionalOperator="AND",
            AttributesToGet=["v"],
            KeyConditionExpression="pk = :p",
            FilterExpression="attribute_exists(v)",
            ProjectionExpression="v",
            ExpressionAttributeValues={":p": S("p")},
        )
    with aws_error(
        VALIDATION,
        MIXED + "Non-expression parameters: {QueryFilter} Expression parameters: {KeyConditionExpression}",
    ):
        dynamodb.query(
            TableName=range_table,
            KeyConditionExpression="pk = :p",
            QueryFilter={"v": cond("NULL")},
            ExpressionAttributeValues={":p": S("p")},
        )


def test_mixing_on_writes(dynamodb, item_table):
    with aws_error(VALIDATION, MIXED + "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"):
        dynamodb.put_item(
            TableName=item_table, Item=KEY, Expected={"pk": {"Exists": False}}, ConditionExpression="attribute_not_exists(pk)"
        )
    with aws_error(
        VALIDATION, MIXED + "Non-expression parameters: {ConditionalOperator} Expression parameters: {ConditionExpression}"
    ):
        dynamodb.delete_item(
            TableName=item_table, Key=KEY, ConditionalOperator="OR", ConditionExpression="attribute_exists(pk)"
        )
    with aws_error(
        VALIDATION,
        MIXED + "Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: {UpdateExpression, ConditionExpression}",
    ):
        dynamodb.update_item(
            TableName=item_table,
            Key=KEY,
            AttributeUpdates={"s": {"Value": S("x")}},
            Expected={"s": {"Exists": True, "Value": S("hello")}},
            UpdateExpression="SET s = :v",
            ConditionExpression="attribute_exists(s)",
            ExpressionAttributeValues={":v": S("x")},
        )
    with aws_error(
        VALIDATION, MIXED + "Non-expression parameters: {AttributeUpdates} Expression parameters: {ConditionExpression}"
    ):
        dynamodb.update_item(
            TableName=item_table, Key=KEY, AttributeUpdates={"s": {"Value": S("x")}}, ConditionExpression="attribute_exists(s)"
        )
    assert get(dynamodb, item_table)["s"] == S("hello")


def test_expression_maps_without_expressions(dynamodb, item_table, range_table, hash_table):
    with aws_error(VALIDATION, "ExpressionAttributeNames can only be specified when using expressions"):
        dynamodb.get_item(TableName=item_table, Key=KEY, AttributesToGet=["s"], ExpressionAttributeNames={"#s": "s"})
    with aws_error(VALIDATION, "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"):
        dynamodb.put_item(
            TableName=item_table, Item=KEY, Expected={"s": {"Exists": False}}, ExpressionAttributeValues={":v": S("x")}
        )
    with aws_error(
        VALIDATION,
        "ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null",
    ):
        dynamodb.update_item(
            TableName=item_table, Key=KEY, AttributeUpdates={"s": {"Value": S("x")}}, ExpressionAttributeValues={":v": S("x")}
        )
    with aws_error(
        VALIDATION,
        "ExpressionAttributeValues can only be specified when using expressions: FilterExpression and KeyConditionExpression are null",
    ):
        dynamodb.query(
            TableName=range_table,
            KeyConditions={"pk": cond("EQ", S("p"))},
            ExpressionAttributeValues={":v": S("x")},
        )
    with aws_error(VALIDATION, "ExpressionAttributeValues can only be specified when using expressions: FilterExpression is null"):
        dynamodb.scan(TableName=hash_table, ProjectionExpression="a", ExpressionAttributeValues={":v": S("x")})


# ------------------------------------------------------------------ Expected


def check_write(dynamodb, name, expected, ok, op="put", conditional_operator=None):
    """Run a conditional write with `expected`; assert it passes or fails."""
    kwargs = {"TableName": name, "Expected": expected}
    if conditional_operator:
        kwargs["ConditionalOperator"] = conditional_operator
    before = get(dynamodb, name)
    if op == "put":
        call = lambda: dynamodb.put_item(Item={**KEY, "marker": S("new")}, **kwargs)
    elif op == "update":
        call = lambda: dynamodb.update_item(Key=KEY, AttributeUpdates={"marker": {"Value": S("new")}}, **kwargs)
    else:
        call = lambda: dynamodb.delete_item(Key=KEY, **kwargs)
    if ok:
        call()
        after = get(dynamodb, name)
        if op == "delete":
            assert after is None
        else:
            assert after["marker"] == S("new")
    else:
        with aws_error("ConditionalCheckFailedException", "The conditional request failed"):
            call()
        assert get(dynamodb, name) == before


@pytest.mark.parametrize("op", ["put", "update", "delete"])
@pytest.mark.parametrize(
    "expected,ok",
    [
        ({"s": {"Value": S("hello")}}, True),
        ({"s": {"Value": S("other")}}, False),
        ({"s": {"Exists": True, "Value": S("hello")}}, True),
        ({"missing": {"Exists": False}}, True),
        ({"s": {"Exists": False}}, False),
        ({"missing": {"Value": S("x")}}, False),
        ({"n": cond("EQ", N(5))}, True),
        ({"n": cond("NE", N(5))}, False),
        ({"missing": cond("NE", N(5))}, True),
        ({"n": cond("LT", N(6))}, True),
        ({"n": cond("LE", N(4))}, False),
        ({"n": cond("GT", N(4))}, True),
        ({"n": cond("GE", N(6))}, False),
        ({"n": cond("NOT_NULL")}, True),
        ({"n": cond("NULL")}, False),
        ({"missing": cond("NULL")}, True),
        ({"s": cond("CONTAINS", S("ell"))}, True),
        ({"ss": cond("CONTAINS", S("c"))}, False),
        ({"ss": cond("NOT_CONTAINS", S("c"))}, True),
        ({"l": cond("CONTAINS", N(1))}, True),
        ({"s": cond("BEGINS_WITH", S("he"))}, True),
        ({"s": cond("BEGINS_WITH", S("lo"))}, False),
        ({"n": cond("IN", N(1), N(5))}, True),
        ({"n": cond("IN", N(1), N(2))}, False),
        ({"n": cond("BETWEEN", N(5), N(9))}, True),
        ({"n": cond("BETWEEN", N(6), N(9))}, False),
        # A Value with a ComparisonOperator is a one-element AttributeValueList.
        ({"n": {"ComparisonOperator": "GE", "Value": N(5)}}, True),
        ({"s": {"Value": S("hello")}, "n": cond("GT", N(1))}, True),
        ({"s": {"Value": S("hello")}, "n": cond("GT", N(9))}, False),
    ],
)
def test_expected(dynamodb, item_table, op, expected, ok):
    check_write(dynamodb, item_table, expected, ok, op=op)


@pytest.mark.parametrize("op", ["put", "update", "delete"])
def test_expected_or(dynamodb, item_table, op):
    expected = {"s": {"Value": S("nope")}, "n": cond("EQ", N(5))}
    check_write(dynamodb, item_table, expected, False, op=op, conditional_operator="AND")
    check_write(dynamodb, item_table, expected, True, op=op, conditional_operator="OR")


def test_expected_on_missing_item(dynamodb, item_table):
    key = {"pk": S("new")}
    with aws_error("ConditionalCheckFailedException", "The conditional request failed"):
        dynamodb.put_item(TableName=item_table, Item=key, Expected={"pk": {"Value": S("new")}})
    dynamodb.put_item(TableName=item_table, Item=key, Expected={"pk": {"Exists": False}})
    with aws_error("ConditionalCheckFailedException", "The conditional request failed"):
        dynamodb.put_item(TableName=item_table, Item=key, Expected={"pk": cond("NULL")})


def test_expected_failure_returns_old_item(dynamodb, item_table):
    with aws_error("ConditionalCheckFailedException", "The conditional request failed") as caught:
        dynamodb.delete_item(
            TableName=item_table,
            Key=KEY,
            Expected={"n": cond("GT", N(100))},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert caught.response["Item"]["s"] == S("hello")


@pytest.mark.parametrize(
    "expected,message",
    [
        ({"a": {}}, "Value must be provided when Exists is null for Attribute: a"),
        ({"a": {"Exists": True}}, "Value must be provided when Exists is true for Attribute: a"),
        ({"a": {"Exists": False, "Value": S("x")}}, "Value cannot be used when Exists is false for Attribute: a"),
        ({"a": {"Exists": True, "ComparisonOperator": "LT"}}, "Exists and ComparisonOperator cannot be used together for Attribute: a"),
        (
            {"a": {"Value": S("x"), "AttributeValueList": [S("x")], "ComparisonOperator": "LT"}},
            "Value and AttributeValueList cannot be used together for Attribute: a",
        ),
        ({"a": {"AttributeValueList": [S("x")]}}, "AttributeValueList can only be used with a ComparisonOperator for Attribute: a"),
        (
            {"a": {"Exists": True, "AttributeValueList": [S("x")]}},
            "AttributeValueList can only be used with a ComparisonOperator for Attribute: a",
        ),
        ({"a": {"ComparisonOperator": "LT"}}, "Value or AttributeValueList must be used with ComparisonOperator: LT for Attribute: a"),
        ({"a": {"ComparisonOperator": "EQ", "AttributeValueList": []}}, "Invalid number of argument(s) for the EQ ComparisonOperator"),
        ({"a": {"ComparisonOperator": "NULL", "Value": S("x")}}, "Invalid number of argument(s) for the NULL ComparisonOperator"),
        ({"a": {"ComparisonOperator": "BETWEEN", "Value": N(1)}}, "Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
        ({"a": cond("GT", {"BOOL": True})}, "ComparisonOperator GT is not valid for BOOL AttributeValue type"),
    ],
)
def test_expected_errors(dynamodb, item_table, expected, message):
    with aws_error(VALIDATION, INVALID + message):
        dynamodb.put_item(TableName=item_table, Item={**KEY, "x": S("y")}, Expected=expected)
    assert "x" not in get(dynamodb, item_table)


# ----------------------------------------------------------- AttributeUpdates


def update(dynamodb, name, updates, **kwargs):
    return dynamodb.update_item(TableName=name, Key=KEY, AttributeUpdates=updates, **kwargs)


def test_attribute_updates_put_and_delete(dynamodb, item_table):
    resp = update(
        dynamodb,
        item_table,
        {
            "s": {"Value": S("bye")},  # Action defaults to PUT
            "m": {"Action": "PUT", "Value": {"M": {"k": N(1)}}},
            "n": {"Action": "DELETE"},
            "missing": {"Action": "DELETE"},
        },
        ReturnValues="UPDATED_OLD",
    )
    assert resp["Attributes"] == {"s": S("hello"), "n": N(5)}
    item = get(dynamodb, item_table)
    assert item["s"] == S("bye") and item["m"] == {"M": {"k": N(1)}} and "n" not in item


def test_attribute_updates_add(dynamodb, item_table):
    resp = update(
        dynamodb,
        item_table,
        {
            "n": {"Action": "ADD", "Value": N(-7)},
            "fresh": {"Action": "ADD", "Value": N(3)},
            "ss": {"Action": "ADD", "Value": {"SS": ["b", "c"]}},
            "ns": {"Action": "ADD", "Value": {"NS": ["1", "2"]}},
            "l": {"Action": "ADD", "Value": {"L": [N(1), S("x")]}},
        },
        ReturnValues="UPDATED_NEW",
    )
    attrs = resp["Attributes"]
    assert attrs["n"] == N(-2) and attrs["fresh"] == N(3)
    assert sorted(attrs["ss"]["SS"]) == ["a", "b", "c"]
    assert sorted(attrs["ns"]["NS"]) == ["1", "2"]
    # Legacy ADD appends to a list, duplicates and all.
    assert attrs["l"] == {"L": [N(1), N(1), S("x")]}


def test_attribute_updates_delete_from_sets(dynamodb, item_table):
    update(dynamodb, item_table, {"ss": {"Action": "DELETE", "Value": {"SS": ["a", "zz"]}}})
    assert get(dynamodb, item_table)["ss"] == {"SS": ["b"]}
    # Taking the last element away removes the attribute (no empty sets).
    update(dynamodb, item_table, {"ss": {"Action": "DELETE", "Value": {"SS": ["b"]}}})
    assert "ss" not in get(dynamodb, item_table)
    # Deleting from an attribute that is not there changes nothing.
    update(dynamodb, item_table, {"gone": {"Action": "DELETE", "Value": {"NS": ["1"]}}})
    assert "gone" not in get(dynamodb, item_table)


def test_attribute_updates_create_item(dynamodb, item_table):
    key = {"pk": S("created")}
    resp = dynamodb.update_item(
        TableName=item_table,
        Key=key,
        AttributeUpdates={
            "count": {"Action": "ADD", "Value": N(1)},
            "tags": {"Action": "ADD", "Value": {"SS": ["t"]}},
            "nothing": {"Action": "DELETE", "Value": {"SS": ["t"]}},
        },
        ReturnValues="ALL_NEW",
    )
    assert resp["Attributes"] == {"pk": S("created"), "count": N(1), "tags": {"SS": ["t"]}}
    assert get(dynamodb, item_table, key) == resp["Attributes"]


def test_attribute_updates_with_expected(dynamodb, item_table):
    update(
        dynamodb,
        item_table,
        {"n": {"Action": "ADD", "Value": N(1)}},
        Expected={"n": {"Value": N(5)}},
    )
    assert get(dynamodb, item_table)["n"] == N(6)
    with aws_error("ConditionalCheckFailedException", "The conditional request failed"):
        update(dynamodb, item_table, {"n": {"Action": "ADD", "Value": N(1)}}, Expected={"n": {"Value": N(5)}})
    assert get(dynamodb, item_table)["n"] == N(6)


@pytest.mark.parametrize(
    "updates,message",
    [
        ({"a": {"Action": "PUT"}}, INVALID + "Only DELETE action is allowed when no attribute value is specified"),
        ({"a": {}}, INVALID + "Only DELETE action is allowed when no attribute value is specified"),
        ({"a": {"Action": "ADD"}}, INVALID + "Only DELETE action is allowed when no attribute value is specified"),
        ({"a": {"Action": "DELETE", "Value": N(1)}}, INVALID + "DELETE action with value is not supported for the type N"),
        ({"a": {"Action": "DELETE", "Value": {"L": []}}}, INVALID + "DELETE action with value is not supported for the type L"),
        ({"a": {"Action": "ADD", "Value": S("x")}}, INVALID + "ADD action is not supported for the type S"),
        ({"a": {"Action": "ADD", "Value": {"M": {}}}}, INVALID + "ADD action is not supported for the type M"),
        ({"a": {"Action": "ADD", "Value": {"BOOL": True}}}, INVALID + "ADD action is not supported for the type BOOL"),
        ({"pk": {"Value": S("other")}}, INVALID + "Cannot update attribute pk. This attribute is part of the key"),
        # Runtime type mismatches leave the item as it was.
        ({"ss": {"Action": "ADD", "Value": {"NS": ["1"]}}}, "Type mismatch for attribute to update"),
        ({"n": {"Action": "ADD", "Value": {"NS": ["1"]}}}, "Type mismatch for attribute to update"),
        ({"s": {"Action": "ADD", "Value": N(1)}}, "Type mismatch for attribute to update"),
        ({"ss": {"Action": "ADD", "Value": {"L": [N(1)]}}}, "Type mismatch for attribute to update"),
        ({"n": {"Action": "DELETE", "Value": {"NS": ["5"]}}}, "Type mismatch for attribute to update"),
        ({"ss": {"Action": "DELETE", "Value": {"NS": ["1"]}}}, "Type mismatch for attribute to update"),
        (
            {"x": {"Value": S("ok")}, "ss": {"Action": "ADD", "Value": {"NS": ["1"]}}},
            "Type mismatch for attribute to update",
        ),
    ],
)
def test_attribute_updates_errors(dynamodb, item_table, updates, message):
    before = get(dynamodb, item_table)
    with aws_error(VALIDATION, message):
        update(dynamodb, item_table, updates)
    assert get(dynamodb, item_table) == before


def test_attribute_updates_range_key(dynamodb, range_table):
    with aws_error(VALIDATION, INVALID + "Cannot update attribute sk. This attribute is part of the key"):
        dynamodb.update_item(
            TableName=range_table,
            Key={"pk": S("p"), "sk": N(1)},
            AttributeUpdates={"w": {"Value": N(1)}, "sk": {"Value": N(9)}},
        )


def test_attribute_updates_wrong_type_for_index_key(dynamodb, table):
    name = table(
        hash=("pk", "S"),
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    with aws_error(
        VALIDATION, INVALID + "Type mismatch for Index Key g Expected: S Actual: N IndexName: byG"
    ):
        dynamodb.update_item(TableName=name, Key=KEY, AttributeUpdates={"g": {"Value": N(1)}})
    assert get(dynamodb, name) is None
