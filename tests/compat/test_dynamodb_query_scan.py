"""Query and Scan: key conditions, ordering, pagination, filters, Select,
the 1 MB page limit, parallel scan, and their validation errors."""

import pytest

from compat_util import aws_error


def keys_of(items, attr="sk"):
    return [list(i[attr].values())[0] for i in items]


def query_all(dynamodb, **kwargs):
    """Follow LastEvaluatedKey; return (items, pages)."""
    items, pages = [], []
    while True:
        resp = dynamodb.query(**kwargs)
        pages.append(resp)
        items.extend(resp.get("Items", []))
        if "LastEvaluatedKey" not in resp:
            return items, pages
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        assert len(pages) < 1000


def scan_all(dynamodb, **kwargs):
    items, pages = [], []
    while True:
        resp = dynamodb.scan(**kwargs)
        pages.append(resp)
        items.extend(resp.get("Items", []))
        if "LastEvaluatedKey" not in resp:
            return items, pages
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        assert len(pages) < 1000


NUM_KEYS = ["100", "-5", "1.5", "0", "2", "10", "-0.5", "100000000000000000000"]
NUM_SORTED = ["-5", "-0.5", "0", "1.5", "2", "10", "100", "100000000000000000000"]


@pytest.fixture
def num_table(dynamodb, table):
    name = table(hash=("pk", "S"), range=("sk", "N"))
    for sk in NUM_KEYS:
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": sk}, "v": {"N": sk}})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "other"}, "sk": {"N": "1"}})
    return name


def q(dynamodb, name, cond, values, **kwargs):
    return dynamodb.query(
        TableName=name, KeyConditionExpression=cond, ExpressionAttributeValues=values, **kwargs
    )


P = {":p": {"S": "p"}}


# ---------------------------------------------------------------- ordering


def test_numbers_sort_numerically(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", P)
    assert keys_of(resp["Items"]) == NUM_SORTED
    assert resp["Count"] == len(NUM_SORTED)
    assert resp["ScannedCount"] == len(NUM_SORTED)
    assert "LastEvaluatedKey" not in resp


def test_scan_index_forward_false(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", P, ScanIndexForward=False)
    assert keys_of(resp["Items"]) == list(reversed(NUM_SORTED))


def test_strings_sort_by_utf8_bytes(dynamodb, table):
    name = table(hash=("pk", "S"), range=("sk", "S"))
    # UTF-8 byte order: "\ufb01" (EF AC 81) sorts before U+1F600 (F0 9F 98 80),
    # although UTF-16 code-unit order would put the emoji first.
    values = ["b", "a", "B", "aa", "\u00e9", "Z", "~", "0", "\U0001F600", "\ufb01"]
    for v in values:
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": v}})
    resp = q(dynamodb, name, "pk = :p", P)
    assert keys_of(resp["Items"]) == sorted(values, key=lambda s: s.encode("utf-8"))
    assert keys_of(resp["Items"])[-2:] == ["\ufb01", "\U0001F600"]


def test_binary_sorts_unsigned(dynamodb, table):
    name = table(hash=("pk", "S"), range=("sk", "B"))
    values = [b"\xff", b"\x80", b"\x00\x00", b"\x7f", b"\x01", b"\x00"]
    for v in values:
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"B": v}})
    resp = q(dynamodb, name, "pk = :p", P)
    assert keys_of(resp["Items"]) == [b"\x00", b"\x00\x00", b"\x01", b"\x7f", b"\x80", b"\xff"]


# ------------------------------------------------------- key condition forms


@pytest.mark.parametrize(
    "cond,values,expected",
    [
        ("sk = :v", {":v": {"N": "2.0"}}, ["2"]),
        ("sk < :v", {":v": {"N": "0"}}, ["-5", "-0.5"]),
        ("sk <= :v", {":v": {"N": "0"}}, ["-5", "-0.5", "0"]),
        ("sk > :v", {":v": {"N": "10"}}, ["100", "100000000000000000000"]),
        ("sk >= :v", {":v": {"N": "10"}}, ["10", "100", "100000000000000000000"]),
        ("sk BETWEEN :a AND :b", {":a": {"N": "-1"}, ":b": {"N": "2"}}, ["-0.5", "0", "1.5", "2"]),
        ("sk BETWEEN :a AND :a", {":a": {"N": "10"}}, ["10"]),
    ],
)
def test_number_key_conditions(dynamodb, num_table, cond, values, expected):
    resp = q(dynamodb, num_table, "pk = :p AND " + cond, {**P, **values})
    assert keys_of(resp["Items"]) == expected


def test_key_condition_with_names_and_parentheses(dynamodb, num_table):
    resp = dynamodb.query(
        TableName=num_table,
        KeyConditionExpression="(#p = :p) AND (#s > :v)",
        ExpressionAttributeNames={"#p": "pk", "#s": "sk"},
        ExpressionAttributeValues={**P, ":v": {"N": "50"}},
    )
    assert keys_of(resp["Items"]) == ["100", "100000000000000000000"]


def test_begins_with_string_and_binary(dynamodb, table):
    s_table = table(hash=("pk", "S"), range=("sk", "S"))
    for v in ["app", "apple", "apricot", "banana", "Apple"]:
        dynamodb.put_item(TableName=s_table, Item={"pk": {"S": "p"}, "sk": {"S": v}})
    resp = q(dynamodb, s_table, "pk = :p AND begins_with(sk, :pre)", {**P, ":pre": {"S": "app"}})
    assert keys_of(resp["Items"]) == ["app", "apple"]

    b_table = table(hash=("pk", "S"), range=("sk", "B"))
    for v in [b"\x01\x02", b"\x01\x02\x03", b"\x01\x03", b"\x02"]:
        dynamodb.put_item(TableName=b_table, Item={"pk": {"S": "p"}, "sk": {"B": v}})
    resp = q(dynamodb, b_table, "pk = :p AND begins_with(sk, :pre)", {**P, ":pre": {"B": b"\x01\x02"}})
    assert keys_of(resp["Items"]) == [b"\x01\x02", b"\x01\x02\x03"]


def test_query_hash_only_table(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "p"}, "v": {"S": "x"}})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "q"}})
    resp = q(dynamodb, name, "pk = :p", P)
    assert resp["Items"] == [{"pk": {"S": "p"}, "v": {"S": "x"}}]


def test_query_no_match(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", {":p": {"S": "nobody"}})
    assert resp["Items"] == [] and resp["Count"] == 0 and resp["ScannedCount"] == 0


# -------------------------------------------------------------- pagination


def test_limit_pagination(dynamodb, num_table):
    items, pages = query_all(
        dynamodb, TableName=num_table, KeyConditionExpression="pk = :p", ExpressionAttributeValues=P, Limit=3
    )
    assert keys_of(items) == NUM_SORTED
    assert [p["Count"] for p in pages] == [3, 3, 2]
    assert pages[0]["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "0"}}


def test_limit_exactly_remaining_returns_key_then_empty_page(dynamodb, num_table):
    # When a page stops because Limit was reached, DynamoDB returns a
    # LastEvaluatedKey even if nothing is left; the next page is empty.
    items, pages = query_all(
        dynamodb, TableName=num_table, KeyConditionExpression="pk = :p", ExpressionAttributeValues=P, Limit=4
    )
    assert keys_of(items) == NUM_SORTED
    assert [p["Count"] for p in pages] == [4, 4, 0]


def test_pagination_backwards(dynamodb, num_table):
    items, _ = query_all(
        dynamodb,
        TableName=num_table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues=P,
        Limit=3,
        ScanIndexForward=False,
    )
    assert keys_of(items) == list(reversed(NUM_SORTED))


def test_limit_applies_before_filter(dynamodb, num_table):
    resp = dynamodb.query(
        TableName=num_table,
        KeyConditionExpression="pk = :p",
        FilterExpression="v > :zero",
        ExpressionAttributeValues={**P, ":zero": {"N": "0"}},
        Limit=4,
    )
    # First four items are -5, -0.5, 0, 1.5: only 1.5 passes the filter.
    assert resp["ScannedCount"] == 4
    assert resp["Count"] == 1
    assert keys_of(resp["Items"]) == ["1.5"]
    assert resp["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "1.5"}}


def test_filter_expression_counts(dynamodb, num_table):
    resp = dynamodb.query(
        TableName=num_table,
        KeyConditionExpression="pk = :p",
        FilterExpression="v >= :ten",
        ExpressionAttributeValues={**P, ":ten": {"N": "10"}},
    )
    assert resp["Count"] == 3
    assert resp["ScannedCount"] == len(NUM_SORTED)


def test_filter_on_key_attribute_is_rejected(dynamodb, num_table):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk",
    ):
        dynamodb.query(
            TableName=num_table,
            KeyConditionExpression="pk = :p",
            FilterExpression="sk > :zero",
            ExpressionAttributeValues={**P, ":zero": {"N": "0"}},
        )


# ------------------------------------------------------------------- Select


def test_select_count(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", P, Select="COUNT")
    assert "Items" not in resp
    assert resp["Count"] == len(NUM_SORTED)
    assert resp["ScannedCount"] == len(NUM_SORTED)


def test_select_specific_attributes(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", P, Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="v")
    assert resp["Items"][0] == {"v": {"N": "-5"}}
    assert all(set(i) == {"v"} for i in resp["Items"])


def test_projection_without_select(dynamodb, num_table):
    resp = q(dynamodb, num_table, "pk = :p", P, ProjectionExpression="sk")
    assert keys_of(resp["Items"]) == NUM_SORTED
    assert all(set(i) == {"sk"} for i in resp["Items"])


def test_scan_select_count_with_filter(dynamodb, num_table):
    resp = dynamodb.scan(
        TableName=num_table, Select="COUNT", FilterExpression="attribute_exists(v)"
    )
    assert "Items" not in resp
    assert resp["Count"] == len(NUM_SORTED)
    assert resp["ScannedCount"] == len(NUM_SORTED) + 1


# ------------------------------------------------------------ 1 MB pages


@pytest.mark.slow
def test_query_one_megabyte_page_limit(dynamodb, table):
    name = table(hash=("pk", "S"), range=("sk", "N"))
    blob = "x" * 100_000
    for i in range(25):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "big"}, "sk": {"N": str(i)}, "blob": {"S": blob}})
    items, pages = query_all(
        dynamodb, TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "big"}}
    )
    assert keys_of(items) == [str(i) for i in range(25)]
    assert len(pages) >= 3
    first = pages[0]
    # 1 MB / ~100 KB per item: about ten items per page.
    assert 9 <= first["Count"] <= 11, first["Count"]
    assert first["LastEvaluatedKey"] == {"pk": {"S": "big"}, "sk": {"N": str(first["Count"] - 1)}}

    scanned, spages = scan_all(dynamodb, TableName=name)
    assert sorted(int(i["sk"]["N"]) for i in scanned) == list(range(25))
    assert 9 <= spages[0]["Count"] <= 11, spages[0]["Count"]


# ------------------------------------------------------------------- Scan


@pytest.fixture
def many(dynamodb, table):
    name = table(hash=("pk", "S"), range=("sk", "N"))
    for p in range(12):
        for s in range(5):
            dynamodb.put_item(
                TableName=name, Item={"pk": {"S": f"p{p:02d}"}, "sk": {"N": str(s)}, "even": {"BOOL": s % 2 == 0}}
            )
    return name


def _ids(items):
    return [(i["pk"]["S"], i["sk"]["N"]) for i in items]


def test_scan_returns_everything_once(dynamodb, many):
    items, pages = scan_all(dynamodb, TableName=many, Limit=7)
    ids = _ids(items)
    assert len(ids) == 60 and len(set(ids)) == 60
    assert all(p["Count"] <= 7 for p in pages)


def test_scan_items_grouped_by_partition_in_sort_order(dynamodb, many):
    items, _ = scan_all(dynamodb, TableName=many)
    ids = _ids(items)
    # Within a partition, items come back in sort-key order and contiguously.
    seen = []
    for pk, sk in ids:
        if not seen or seen[-1][0] != pk:
            assert pk not in [s[0] for s in seen], "partition split across the scan"
            seen.append((pk, []))
        seen[-1][1].append(int(sk))
    assert all(sks == sorted(sks) for _, sks in seen)


def test_scan_filter(dynamodb, many):
    items, pages = scan_all(
        dynamodb, TableName=many, FilterExpression="even = :t", ExpressionAttributeValues={":t": {"BOOL": True}}
    )
    assert len(items) == 36
    assert sum(p["ScannedCount"] for p in pages) == 60


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7])
def test_parallel_scan_covers_each_item_once(dynamodb, many, total):
    all_ids = []
    for segment in range(total):
        items, _ = scan_all(dynamodb, TableName=many, Segment=segment, TotalSegments=total, Limit=5)
        all_ids.extend(_ids(items))
    assert len(all_ids) == 60
    assert len(set(all_ids)) == 60


def test_parallel_scan_keeps_partitions_together(dynamodb, many):
    owner = {}
    for segment in range(4):
        items, _ = scan_all(dynamodb, TableName=many, Segment=segment, TotalSegments=4)
        for pk, _sk in _ids(items):
            assert owner.setdefault(pk, segment) == segment


def test_scan_segment_without_total(dynamodb, many):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
    ):
        dynamodb.scan(TableName=many, Segment=0)


def test_scan_segment_out_of_range(dynamodb, many):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: 4 is not less than TotalSegments: 4",
    ):
        dynamodb.scan(TableName=many, Segment=4, TotalSegments=4)


# ------------------------------------------------------------------ errors


def test_query_missing_partition_key_condition(dynamodb, num_table):
    # text as observed on AWS
    with aws_error("ValidationException", "Query condition missed key schema element: pk"):
        q(dynamodb, num_table, "sk = :v", {":v": {"N": "1"}})


def test_query_non_key_attribute_in_key_condition(dynamodb, num_table):
    # text as observed on AWS
    with aws_error("ValidationException", "Query condition missed key schema element: sk"):
        q(dynamodb, num_table, "pk = :p AND v = :v", {**P, ":v": {"N": "1"}})


@pytest.mark.parametrize("cond", ["pk < :p", "pk >= :p", "begins_with(pk, :p)", "pk BETWEEN :p AND :p"])
def test_query_partition_key_needs_equality(dynamodb, num_table, cond):
    # text as observed on AWS
    with aws_error("ValidationException", "Query key condition not supported"):
        q(dynamodb, num_table, cond, P)


@pytest.mark.parametrize("op", ["OR"])
def test_query_invalid_operator(dynamodb, num_table, op):
    # text as observed on AWS
    with aws_error("ValidationException", f"Invalid operator used in KeyConditionExpression: {op}"):
        q(dynamodb, num_table, f"pk = :p {op} sk = :v", {**P, ":v": {"N": "1"}})


def test_query_not_operator(dynamodb, num_table):
    # text as observed on AWS
    with aws_error("ValidationException", "Invalid operator used in KeyConditionExpression: NOT"):
        q(dynamodb, num_table, "pk = :p AND NOT sk = :v", {**P, ":v": {"N": "1"}})


def test_query_function_not_allowed_in_key_condition(dynamodb, num_table):
    # text as observed on AWS
    with aws_error("ValidationException", "Invalid operator used in KeyConditionExpression: attribute_exists"):
        q(dynamodb, num_table, "pk = :p AND attribute_exists(sk)", P)


def test_query_two_conditions_on_sort_key(dynamodb, num_table):
    # text as observed on AWS (older reports; one recent report shows it
    # behind an "Invalid KeyConditionExpression: " prefix; verify on AWS)
    with aws_error("ValidationException", "KeyConditionExpressions must only contain one condition per key"):
        q(dynamodb, num_table, "pk = :p AND sk > :a AND sk < :b", {**P, ":a": {"N": "1"}, ":b": {"N": "5"}})


def test_query_nested_attribute_in_key_condition(dynamodb, num_table):
    # text as observed on AWS
    with aws_error("ValidationException", "KeyConditionExpressions cannot have conditions on nested attributes"):
        q(dynamodb, num_table, "pk = :p AND sk.x = :v", {**P, ":v": {"N": "1"}})


def test_query_between_bounds_reversed(dynamodb, num_table):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal "
        "to lower bound; lower bound operand: AttributeValue: {N:9}, upper bound operand: AttributeValue: {N:1}",
    ):
        q(dynamodb, num_table, "pk = :p AND sk BETWEEN :a AND :b", {**P, ":a": {"N": "9"}, ":b": {"N": "1"}})


def test_query_key_value_type_mismatch(dynamodb, num_table):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: Condition parameter type does not match schema type",
    ):
        q(dynamodb, num_table, "pk = :p AND sk = :v", {**P, ":v": {"S": "1"}})


def test_query_without_key_condition(dynamodb, num_table):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
    ):
        dynamodb.query(TableName=num_table)


def test_query_unknown_index(dynamodb, num_table):
    # text as observed on AWS
    with aws_error("ValidationException", "The table does not have the specified index: nope"):
        q(dynamodb, num_table, "pk = :p", P, IndexName="nope")


def test_query_invalid_exclusive_start_key(dynamodb, num_table):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "The provided starting key is invalid: The provided key element does not match the schema",
    ):
        q(dynamodb, num_table, "pk = :p", P, ExclusiveStartKey={"v": {"N": "1"}})


def test_query_missing_table(dynamodb):
    with aws_error("ResourceNotFoundException", "Requested resource not found"):
        dynamodb.query(
            TableName="compat-no-such-table-q",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues=P,
        )


def test_scan_missing_table(dynamodb):
    with aws_error("ResourceNotFoundException", "Requested resource not found"):
        dynamodb.scan(TableName="compat-no-such-table-s")
