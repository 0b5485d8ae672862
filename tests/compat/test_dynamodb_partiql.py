"""PartiQL for DynamoDB through boto3: ExecuteStatement, BatchExecuteStatement
and ExecuteTransaction.

Covers every statement kind (SELECT as Query or Scan, INSERT, UPDATE with SET
/ REMOVE / list_append / set_add / set_delete, DELETE, EXISTS in
transactions), `?` parameters, pagination through a Scan-backed SELECT with
Limit and NextToken, batches whose statements fail one by one, transaction
cancellation with CancellationReasons, and the bad-input paths with
DynamoDB's exact error texts (several of them pinned against AWS by public
conformance suites, the rest from DynamoDB's PartiQL message catalogue).
"""

import boto3
import pytest
from botocore.config import Config

from compat_util import aws_error

VALIDATION = "ValidationException"
NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "
MISSING_KEY = "Where clause does not contain a mandatory equality on all key attributes"
CANCELLED = "TransactionCanceledException"


def _cancel_text(*codes):
    return (
        "Transaction cancelled, please refer cancellation reasons for specific reasons ["
        + ", ".join(codes)
        + "]"
    )


@pytest.fixture(scope="module")
def unchecked(endpoint):
    """A client that sends what it is given (botocore checks some minimums
    itself), so the server's own validation answers."""
    return boto3.session.Session(
        aws_access_key_id="AKIDCOMPATTEST", aws_secret_access_key="compat-secret", region_name="us-east-1"
    ).client(
        "dynamodb",
        endpoint_url=endpoint,
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )


def _run(dynamodb, statement, params=None, **kwargs):
    if params is not None:
        kwargs["Parameters"] = params
    return dynamodb.execute_statement(Statement=statement, **kwargs)


def _items(dynamodb, statement, params=None, **kwargs):
    """Every item of a SELECT, following NextToken."""
    out, token = [], None
    while True:
        if token:
            kwargs["NextToken"] = token
        page = _run(dynamodb, statement, params, **kwargs)
        out.extend(page["Items"])
        token = page.get("NextToken")
        if not token:
            return out


def _get(dynamodb, name, key):
    return dynamodb.get_item(TableName=name, Key=key, ConsistentRead=True).get("Item")


def _s(v):
    return {"S": v}


def _n(v):
    return {"N": str(v)}


@pytest.fixture
def music(dynamodb, table):
    name = table(hash=("Artist", "S"), range=("SongTitle", "S"))
    for artist, title, year in [
        ("Acme", "Alpha", 2001),
        ("Acme", "Beta", 2002),
        ("Acme", "Gamma", 2003),
        ("Band", "Alpha", 2004),
        ("Band", "Delta", 2005),
        ("Crew", "Omega", 2006),
    ]:
        dynamodb.put_item(
            TableName=name,
            Item={"Artist": _s(artist), "SongTitle": _s(title), "Year": _n(year), "Tags": {"SS": ["x", title]}},
        )
    return name


# ---------------------------------------------------------------------------
# ExecuteStatement: each statement kind


def test_insert_then_read_back_every_literal_kind(dynamodb, table):
    name = table()
    out = _run(
        dynamodb,
        f"""INSERT INTO "{name}" VALUE {{
            'pk': ?, 's': 'it''s', 'n': 1.50, 'e': 7.31e6, 'neg': -.5, 't': true, 'f': false,
            'nul': null, 'm': {{'k': [1, 'two', {{'deep': <<'a', 'b'>>}}]}}, 'ns': <<3, 1>>,
            'b': ?, 'bs': ?, 'gone': MISSING
        }}""",
        [_s("k1"), {"B": b"\x01\x02"}, {"BS": [b"\x01", b"\x02"]}],
    )
    assert out["Items"] == []
    item = _get(dynamodb, name, {"pk": _s("k1")})
    assert item["s"] == _s("it's")
    assert item["n"] == _n("1.5")
    assert item["e"] == _n("7310000")
    assert item["neg"] == _n("-0.5")
    assert item["t"] == {"BOOL": True} and item["f"] == {"BOOL": False}
    assert item["nul"] == {"NULL": True}
    assert item["m"] == {"M": {"k": {"L": [_n(1), _s("two"), {"M": {"deep": {"SS": ["a", "b"]}}}]}}}
    assert sorted(item["ns"]["NS"]) == ["1", "3"]
    assert item["b"] == {"B": b"\x01\x02"}
    assert sorted(item["bs"]["BS"]) == [b"\x01", b"\x02"]
    assert "gone" not in item


def test_insert_of_an_existing_key_is_a_duplicate(dynamodb, table):
    name = table()
    _run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'v': 1}}")
    with aws_error("DuplicateItemException", "Duplicate primary key exists in table"):
        _run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'v': 2}}")
    assert _get(dynamodb, name, {"pk": _s("a")})["v"] == _n(1)


def test_insert_validation(dynamodb, table):
    name = table(range=("sk", "N"))
    with aws_error(VALIDATION, "Key attribute should be present in the item: Key sk"):
        _run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'a'}}")
    with aws_error(VALIDATION, "Key attribute's data type should match its data type in table's schema: Key sk"):
        _run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'sk': 'one'}}")
    with aws_error(
        VALIDATION,
        "Unsupported format in item expression. Please use struct format {...} to express item values for insert statement.",
    ):
        _run(dynamodb, f"INSERT INTO \"{name}\" VALUE ['a']")
    statement = f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'sk': 1, 'ss': set_add(<<'a'>>, <<'b'>>)}}"
    column = statement.index("set_add") + 1
    with aws_error(VALIDATION, f"Unsupported data type: set_add under key root at 1:{column}:7"):
        _run(dynamodb, statement)
    with aws_error(VALIDATION, "RETURNING is not supported in INSERT"):
        _run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'sk': 1}} RETURNING ALL OLD *")
    with aws_error(
        VALIDATION,
        "Number overflow. Attempting to store a number with magnitude larger than supported range under root.x",
    ):
        _run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'sk': 1, 'm': {{'x': 1e126}}}}")
    with aws_error(
        VALIDATION,
        "One or more parameter values were invalid: Input collection [x, x] contains duplicates.",
    ):
        _run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'sk': 1, 's': <<'x', 'x'>>}}")
    with aws_error(VALIDATION, "Empty bags are not supported"):
        _run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'sk': 1, 's': <<>>}}")
    with aws_error(
        VALIDATION,
        "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags",
    ):
        _run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'sk': 1, 's': <<'x', 1>>}}")
    with aws_error(
        VALIDATION,
        'Unsupported operation: Inserting multiple items in a single statement is not supported, use "INSERT INTO tableName VALUE item" instead',
    ):
        _run(dynamodb, f"INSERT INTO \"{name}\" <<{{'pk': 'a', 'sk': 1}}>>")
    assert _get(dynamodb, name, {"pk": _s("a"), "sk": _n(1)}) is None


def test_select_by_key_projection_and_nested_paths(dynamodb, table):
    name = table()
    dynamodb.put_item(
        TableName=name,
        Item={
            "pk": _s("a"),
            "top": _s("t"),
            "m": {"M": {"k": {"L": [_n(0), _n(1)]}, "z": _s("zed")}},
            "l": {"L": [_s("first")]},
        },
    )
    out = _run(dynamodb, f"SELECT top, m.k[1], l[0], m.z, nope FROM \"{name}\" WHERE pk = ?", [_s("a")])
    assert out["Items"] == [{"top": _s("t"), "k[1]": _n(1), "l[0]": _s("first"), "z": _s("zed")}]
    assert "NextToken" not in out
    assert _run(dynamodb, f"SELECT * FROM \"{name}\" WHERE pk = 'zz'")["Items"] == []
    with aws_error(VALIDATION, "Duplicate identifiers in select clause: z"):
        _run(dynamodb, f"SELECT m.z, z FROM \"{name}\" WHERE pk = 'a'")
    statement = f"SELECT attribute_exists(top) FROM \"{name}\" WHERE pk = 'a'"
    with aws_error(VALIDATION, "Unexpected path component at 1:8:16"):
        _run(dynamodb, statement)


def test_select_chooses_partitions_and_filters(dynamodb, music):
    def titles(where, params=None):
        items = _items(dynamodb, f'SELECT * FROM "{music}" WHERE {where}', params, ConsistentRead=True)
        return sorted((i["Artist"]["S"], i["SongTitle"]["S"]) for i in items)

    assert titles("Artist = 'Acme'") == [("Acme", "Alpha"), ("Acme", "Beta"), ("Acme", "Gamma")]
    assert titles("Artist = 'Acme' AND SongTitle BETWEEN 'B' AND 'H'") == [("Acme", "Beta"), ("Acme", "Gamma")]
    assert titles("Artist = 'Acme' AND begins_with(SongTitle, 'G')") == [("Acme", "Gamma")]
    assert titles("'Beta' > SongTitle AND Artist = 'Acme'") == [("Acme", "Alpha")]
    assert titles("Artist IN ['Band', 'Crew'] AND \"Year\" > 2004") == [("Band", "Delta"), ("Crew", "Omega")]
    assert titles("Artist = 'Acme' OR Artist = ?", [_s("Crew")]) == [
        ("Acme", "Alpha"),
        ("Acme", "Beta"),
        ("Acme", "Gamma"),
        ("Crew", "Omega"),
    ]
    # Two alternatives on one partition return each item once.
    assert titles("Artist = 'Acme' AND SongTitle = 'Beta' OR Artist = 'Acme' AND \"Year\" < 2002") == [
        ("Acme", "Alpha"),
        ("Acme", "Beta"),
    ]
    # Conditions on the sort key that no Query can take still filter.
    assert titles("Artist = 'Acme' AND SongTitle <> 'Beta'") == [("Acme", "Alpha"), ("Acme", "Gamma")]
    assert titles("Artist = 'Acme' AND NOT SongTitle IN ['Alpha', 'Gamma']") == [("Acme", "Beta")]
    # No partition fixed: a scan with the whole WHERE as filter.
    assert titles("SongTitle = 'Alpha'") == [("Acme", "Alpha"), ("Band", "Alpha")]
    assert titles("Artist = 'Acme' OR \"Year\" = 2005") == [
        ("Acme", "Alpha"),
        ("Acme", "Beta"),
        ("Acme", "Gamma"),
        ("Band", "Delta"),
    ]
    # A key value of the wrong type selects nothing.
    assert titles("Artist = 5") == []
    assert len(_items(dynamodb, f'SELECT * FROM "{music}"')) == 6


def test_where_functions_and_is(dynamodb, table):
    name = table()
    dynamodb.put_item(
        TableName=name,
        Item={
            "pk": _s("f"),
            "ss": {"SS": ["a", "b", "c"]},
            "s": _s("str"),
            "m": {"M": {"sub": _s("x")}},
            "nul": {"NULL": True},
            "flag": {"BOOL": True},
        },
    )

    def holds(condition):
        items = _run(dynamodb, f"SELECT pk FROM \"{name}\" WHERE pk = 'f' AND {condition}")["Items"]
        return items == [{"pk": _s("f")}]

    assert holds("attribute_exists(ss)") and not holds("attribute_exists(nope)")
    assert holds("attribute_not_exists(nope)") and not holds("attribute_not_exists(ss)")
    assert holds("NOT attribute_exists(nope)")
    assert holds("ATTRIBUTE_EXISTS(ss)")
    assert holds("(attribute_exists(nope) OR attribute_exists(ss))")
    assert holds("attribute_exists(ss) = true") and not holds("attribute_exists(ss) = false")
    assert holds('attribute_exists("ss")')
    assert holds("attribute_exists(m.sub)") and not holds("attribute_exists(m.nope)")
    assert holds("size(s) = 3") and not holds("size(s) = 4")
    assert holds("attribute_type(ss, 'SS')") and not holds("attribute_type(ss, 'S')")
    assert holds("begins_with(s, 'st')") and holds("contains(ss, 'b')") and not holds("contains(s, 'z')")
    assert holds("nope IS MISSING") and holds("s IS NOT MISSING") and not holds("s IS MISSING")
    assert holds("nul IS NULL") and not holds("s IS NULL")
    assert holds("s IS NOT NULL") and not holds("nul IS NOT NULL")
    assert holds("flag IS BOOL") and holds("s IS STRING") and not holds("s IS BOOL")
    items = _run(dynamodb, f'SELECT pk FROM "{name}" WHERE ss = ?', [{"SS": ["c", "a", "b"]}])["Items"]
    assert items == [{"pk": _s("f")}]


def test_where_errors_are_the_expression_engines(dynamodb, table):
    name = table()
    where = f"SELECT * FROM \"{name}\" WHERE pk = 'f' AND "
    with aws_error(
        VALIDATION,
        "Incorrect operand type for operator or function; operator or function: <, operand type: BOOL",
    ):
        _run(dynamodb, where + "val < ?", [{"BOOL": True}])
    with aws_error(
        VALIDATION,
        "Operator or function requires a document path; operator or function: attribute_exists",
    ):
        _run(dynamodb, where + "attribute_exists('ss')")
    with aws_error(
        VALIDATION,
        "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 0",
    ):
        _run(dynamodb, where + "attribute_exists()")
    statement = where + "EXISTS(ss)"
    with aws_error(VALIDATION, f"Unrecognized function: exists at 1:{statement.index('EXISTS') + 1}:6"):
        _run(dynamodb, statement)
    with aws_error(VALIDATION, "MISSING must be compared using IS operator"):
        _run(dynamodb, where + "a = MISSING")
    with aws_error(VALIDATION, "WHERE clause must contain an expression that resolves to a boolean"):
        _run(dynamodb, f'SELECT * FROM "{name}" WHERE a')
    with aws_error(
        VALIDATION,
        "Unsupported data type for IS operator: INTEGER. Supported data types are [MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]",
    ):
        _run(dynamodb, where + "a IS INT")


def test_order_by(dynamodb, music):
    def order(statement):
        return [(i["Artist"]["S"], i["SongTitle"]["S"]) for i in _items(dynamodb, statement, ConsistentRead=True)]

    assert order(f'SELECT * FROM "{music}" WHERE Artist = \'Acme\' ORDER BY SongTitle DESC') == [
        ("Acme", "Gamma"),
        ("Acme", "Beta"),
        ("Acme", "Alpha"),
    ]
    assert order(f'SELECT * FROM "{music}" WHERE Artist IN [\'Band\', \'Acme\'] ORDER BY Artist DESC, SongTitle') == [
        ("Band", "Alpha"),
        ("Band", "Delta"),
        ("Acme", "Alpha"),
        ("Acme", "Beta"),
        ("Acme", "Gamma"),
    ]
    with aws_error(VALIDATION, "Must have WHERE clause in the statement when using ORDER BY clause."):
        _run(dynamodb, f'SELECT * FROM "{music}" ORDER BY Artist')
    with aws_error(
        VALIDATION,
        "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.",
    ):
        _run(dynamodb, f'SELECT * FROM "{music}" WHERE SongTitle = \'Alpha\' ORDER BY SongTitle')
    with aws_error(VALIDATION, "Variable reference Year in ORDER BY clause must be part of the primary key"):
        _run(dynamodb, f'SELECT * FROM "{music}" WHERE Artist = \'Acme\' ORDER BY "Year"')
    with aws_error(
        VALIDATION,
        "Must have hash key in ORDER BY clause when more than one hash key condition specified in WHERE clause.",
    ):
        _run(dynamodb, f'SELECT * FROM "{music}" WHERE Artist IN [\'Band\', \'Acme\'] ORDER BY SongTitle')


def test_scan_pagination_with_limit_and_next_token(dynamodb, table):
    name = table()
    for i in range(10):
        dynamodb.put_item(TableName=name, Item={"pk": _s(f"p{i}"), "even": {"BOOL": i % 2 == 0}})
    statement = f'SELECT pk FROM "{name}" WHERE even = ?'
    params = [{"BOOL": True}]
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"Limit": 3}
        if token:
            kwargs["NextToken"] = token
        page = _run(dynamodb, statement, params, **kwargs)
        pages += 1
        # Limit counts the items read, not the items that match.
        assert len(page["Items"]) <= 3
        seen.extend(i["pk"]["S"] for i in page["Items"])
        token = page.get("NextToken")
        if not token:
            break
        assert "pk" in page["LastEvaluatedKey"]
    assert sorted(seen) == ["p0", "p2", "p4", "p6", "p8"]
    assert pages == 4
    first = _run(dynamodb, statement, params, Limit=3)
    with aws_error(VALIDATION, "NextToken does not match request"):
        _run(dynamodb, f'SELECT * FROM "{name}"', NextToken=first["NextToken"], Limit=3)
    with aws_error(VALIDATION, "NextToken does not match request"):
        _run(dynamodb, statement, [{"BOOL": False}], NextToken=first["NextToken"])
    with aws_error(VALIDATION, "Invalid NextToken"):
        _run(dynamodb, statement, params, NextToken="not-a-token")


def test_query_pagination_across_partitions(dynamodb, music):
    statement = f'SELECT SongTitle FROM "{music}" WHERE Artist IN [\'Acme\', \'Band\', \'Crew\'] ORDER BY Artist'
    titles, token = [], None
    while True:
        kwargs = {"Limit": 2, "ConsistentRead": True}
        if token:
            kwargs["NextToken"] = token
        page = _run(dynamodb, statement, **kwargs)
        titles.extend(i["SongTitle"]["S"] for i in page["Items"])
        token = page.get("NextToken")
        if not token:
            break
    assert titles == ["Alpha", "Beta", "Gamma", "Alpha", "Delta", "Omega"]


def test_update_set_remove_and_functions(dynamodb, table):
    name = table()
    dynamodb.put_item(
        TableName=name,
        Item={
            "pk": _s("u"),
            "n": _n(5),
            "l": {"L": [_n(1)]},
            "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2"]},
            "gone": _s("x"),
            "m": {"M": {"keep": _s("k")}},
        },
    )
    out = _run(
        dynamodb,
        f"""UPDATE "{name}" SET n = n + ?, m.added = 'yes' SET l = list_append(l, [2, 3])
            SET ss = set_add(ss, <<'c'>>) SET ns = SET_DELETE(ns, <<1>>) REMOVE gone
            SET "new" = {{'a': [1]}} WHERE pk = 'u'""",
        [_n(10)],
    )
    assert out["Items"] == []
    item = _get(dynamodb, name, {"pk": _s("u")})
    assert item["n"] == _n(15)
    assert item["m"] == {"M": {"keep": _s("k"), "added": _s("yes")}}
    assert item["l"] == {"L": [_n(1), _n(2), _n(3)]}
    assert sorted(item["ss"]["SS"]) == ["a", "b", "c"]
    assert item["ns"]["NS"] == ["2"]
    assert "gone" not in item
    assert item["new"] == {"M": {"a": {"L": [_n(1)]}}}
    # Removing every member removes the set.
    _run(dynamodb, f"UPDATE \"{name}\" SET ns = set_delete(ns, <<2>>) WHERE pk = 'u'")
    assert "ns" not in _get(dynamodb, name, {"pk": _s("u")})


def test_update_conditions_and_missing_items(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": _s("c"), "a": _n(5)})
    with aws_error("ConditionalCheckFailedException", "The conditional request failed") as e:
        _run(dynamodb, f"UPDATE \"{name}\" SET z = 1 WHERE pk = 'absent'")
    assert "Item" not in e.response
    assert _get(dynamodb, name, {"pk": _s("absent")}) is None
    with aws_error("ConditionalCheckFailedException", "The conditional request failed") as e:
        _run(
            dynamodb,
            f"UPDATE \"{name}\" SET z = 1 WHERE pk = 'c' AND a > 7",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert e.response["Item"] == {"pk": _s("c"), "a": _n(5)}
    _run(dynamodb, f"UPDATE \"{name}\" SET z = 1 WHERE pk = 'c' AND a < 7 AND attribute_not_exists(z)")
    assert _get(dynamodb, name, {"pk": _s("c")})["z"] == _n(1)
    with aws_error("ConditionalCheckFailedException"):
        _run(dynamodb, f"UPDATE \"{name}\" SET z = 2 WHERE pk = 'c' AND attribute_not_exists(z)")
    with aws_error(
        VALIDATION,
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key",
    ):
        _run(dynamodb, f"UPDATE \"{name}\" SET pk = 'd' WHERE pk = 'c'")
    with aws_error(VALIDATION, "The provided expression refers to an attribute that does not exist in the item"):
        _run(dynamodb, f"UPDATE \"{name}\" SET y = nope + 1 WHERE pk = 'c'")


def test_update_returning(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": _s("r"), "a": _n(1), "b": _n(2)})

    def update(returning, value):
        return _run(dynamodb, f"UPDATE \"{name}\" SET a = {value} WHERE pk = 'r' RETURNING {returning}")["Items"]

    assert update("ALL OLD *", 10) == [{"pk": _s("r"), "a": _n(1), "b": _n(2)}]
    assert update("MODIFIED OLD *", 11) == [{"a": _n(10)}]
    assert update("ALL NEW *", 12) == [{"pk": _s("r"), "a": _n(12), "b": _n(2)}]
    assert update("MODIFIED NEW *", 13) == [{"a": _n(13)}]
    with aws_error(VALIDATION, "Invalid syntax with multiple returning elements in RETURNING clause"):
        update("ALL NEW *, ALL OLD *", 14)
    with aws_error(VALIDATION, "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"):
        update("ALL NEW a", 14)


def test_delete(dynamodb, table):
    name = table()
    for pk in ("d1", "d2", "d3"):
        dynamodb.put_item(TableName=name, Item={"pk": _s(pk), "a": _n(1)})
    assert _run(dynamodb, f"DELETE FROM \"{name}\" WHERE pk = 'd1'")["Items"] == []
    assert _get(dynamodb, name, {"pk": _s("d1")}) is None
    # A missing item: success, whatever the other conditions say.
    assert _run(dynamodb, f"DELETE FROM \"{name}\" WHERE pk = 'never' AND a = 99")["Items"] == []
    with aws_error("ConditionalCheckFailedException", "The conditional request failed"):
        _run(dynamodb, f"DELETE FROM \"{name}\" WHERE pk = 'd2' AND a = 99")
    assert _get(dynamodb, name, {"pk": _s("d2")}) is not None
    out = _run(dynamodb, f"DELETE FROM \"{name}\" WHERE pk = 'd3' AND attribute_exists(a) RETURNING ALL OLD *")
    assert out["Items"] == [{"pk": _s("d3"), "a": _n(1)}]
    for returning in ("MODIFIED OLD *", "ALL NEW *", "MODIFIED NEW *"):
        with aws_error(
            VALIDATION,
            f"Invalid returning clause: RETURNING {returning}. Only RETURNING ALL OLD * is allowed in DELETE statements.",
        ):
            _run(dynamodb, f"DELETE FROM \"{name}\" WHERE pk = 'd2' RETURNING {returning}")


def test_writes_must_name_the_whole_key(dynamodb, table):
    name = table(range=("sk", "N"))
    dynamodb.put_item(TableName=name, Item={"pk": _s("k"), "sk": _n(1)})
    for statement in (
        f"UPDATE \"{name}\" SET a = 1 WHERE pk = 'k'",
        f"UPDATE \"{name}\" SET a = 1",
        f"DELETE FROM \"{name}\" WHERE pk = 'k' OR sk = 1",
        f"DELETE FROM \"{name}\" WHERE sk = 1",
        f"FROM \"{name}\" SET c = 1",
    ):
        with aws_error(VALIDATION, MISSING_KEY):
            _run(dynamodb, statement)
    with aws_error(VALIDATION, "Key attribute's data type should match its data type in table's schema: Key sk"):
        _run(dynamodb, f"UPDATE \"{name}\" SET a = 1 WHERE pk = 'k' AND sk = '1'")
    with aws_error(
        VALIDATION,
        "Multiple conditions on same key pk. Only single item Update/Insert/Delete are supported",
    ):
        _run(dynamodb, f"DELETE FROM \"{name}\" WHERE pk = 'k' AND pk = 'j' AND sk = 1")
    # The FROM-first form of UPDATE.
    _run(dynamodb, f"FROM \"{name}\" WHERE pk = 'k' AND sk = 1 SET c = 5")
    assert _get(dynamodb, name, {"pk": _s("k"), "sk": _n(1)})["c"] == _n(5)


def test_index_reads(dynamodb, table):
    name = table(
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    for i in range(3):
        dynamodb.put_item(TableName=name, Item={"pk": _s(f"p{i}"), "g": _s("G" if i < 2 else "H"), "x": _n(i)})
    items = _items(dynamodb, f'SELECT * FROM "{name}"."by-g" WHERE g = \'G\'')
    assert sorted(i["pk"]["S"] for i in items) == ["p0", "p1"]
    assert all("x" not in i for i in items)
    with aws_error(VALIDATION, "The table does not have the specified index"):
        _run(dynamodb, f'SELECT * FROM "{name}"."nope" WHERE g = \'G\'')
    with aws_error(VALIDATION, "Strongly consistent read is not supported on Global Secondary Indexes"):
        _run(dynamodb, f'SELECT * FROM "{name}"."by-g" WHERE g = \'G\'', ConsistentRead=True)
    with aws_error(VALIDATION, "A path may contain at most 2 components in the FROM clause"):
        _run(dynamodb, f'SELECT * FROM "{name}"."by-g"."x" WHERE g = \'G\'')
    with aws_error(VALIDATION, "Path component cannot be an empty string"):
        _run(dynamodb, f'SELECT * FROM "{name}"."" WHERE g = \'G\'')
    with aws_error(
        VALIDATION,
        "One or more parameter values were invalid: Global secondary index by-g does not project [x]",
    ):
        _run(dynamodb, f'SELECT x FROM "{name}"."by-g" WHERE g = \'G\'')
    with aws_error(VALIDATION, "This operation is not supported on an index"):
        _run(dynamodb, f"UPDATE \"{name}\".\"by-g\" SET a = 1 WHERE pk = 'p0'")


def test_consumed_capacity(dynamodb, table):
    name = table()
    out = _run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'c'}}", ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}
    out = _run(dynamodb, f"SELECT * FROM \"{name}\" WHERE pk = 'c'", ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["TableName"] == name
    assert out["ConsumedCapacity"]["CapacityUnits"] == 0.5


def test_parameters(dynamodb, unchecked, table):
    name = table()
    with aws_error(VALIDATION, "Number of parameters in request and statement don't match."):
        _run(dynamodb, f'SELECT * FROM "{name}" WHERE pk = ? AND a = ?', [_s("x")])
    with aws_error(VALIDATION, "Number of parameters in request and statement don't match."):
        _run(dynamodb, f'SELECT * FROM "{name}" WHERE pk = ?')
    # Extra values are ignored, as on DynamoDB.
    assert _run(dynamodb, f"SELECT * FROM \"{name}\" WHERE pk = 'x'", [_s("x")])["Items"] == []
    with aws_error(VALIDATION, "The parameter cannot be converted to a numeric value: abc"):
        _run(dynamodb, f'SELECT * FROM "{name}" WHERE pk = ?', [{"N": "abc"}])
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value '[]' at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ):
        unchecked.execute_statement(Statement=f'SELECT * FROM "{name}"', Parameters=[])
    # A `?` inside a string is text.
    _run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': '?'}}")
    assert _get(dynamodb, name, {"pk": _s("?")}) is not None


def test_syntax_errors(dynamodb, table):
    name = table()
    cases = [
        (f"SELECT * FROM \"{name}\" WHERE pk = 1 foo", "Unexpected token after expression"),
        (f"SELECT * FROM \"{name}\" WHERE pk = 1 e5", "Unexpected token after expression"),
        (f"DELETE FROM \"{name}\" WHERE pk = 'x' ORDER BY pk", "Unexpected token after expression"),
        (f"SELECT * FROM \"{name}\" WHERE", "Unexpected term"),
        (f"SELECT * FROM \"{name}\" WHERE NOT", "Unexpected term"),
        ("SELECT * FROM", "Unexpected term"),
        (f"SELECT * FROM \"{name}\" WHERE pk = 'p1' AND", "Missing right-hand side expression of infix operator"),
        (f"SELECT * FROM \"{name}\" WHERE ORDER BY pk", "Unexpected keyword"),
        (f"SELECT * FROM \"{name}\" WHERE pad = 'none'", "Unexpected keyword"),
        (f"SELECT * FROM \"{name}\" WHERE IS NULL", "Unexpected operator"),
        (f"SELECT * FROM \"{name}\" WHERE pk = 'a' AND x IS FOO", "Expected type name"),
        ("DELETE FROM WHERE pk = 'a'", "Expected identifier for simple path"),
        (f"SELECT * FROM \"{name}\" WHERE attribute_exists(m.inner)", "Invalid path dot component"),
        (f"SELECT * FROM \"{name}\" WHERE pk = 1 # note", ""),
        (f"SELECT * FROM \"{name}\" WHERE pk = 1e2147483648", ""),
        (f"SELECT * FROM \"{name}", ""),
        ('SLECT * FROM "Users"', "Expected data manipulation"),
    ]
    for statement, detail in cases:
        with aws_error(VALIDATION, NOT_WELL_FORMED + detail):
            _run(dynamodb, statement)
    for statement in (
        f"SELECT * FROM \"{name}\" t WHERE pk = 'x'",
        f"SELECT * FROM \"{name}\" AS t WHERE pk = 'x'",
        f"UPDATE \"{name}\" t SET a = 3 WHERE pk = 'x'",
        f"DELETE FROM \"{name}\" t WHERE pk = 'x'",
    ):
        with aws_error(VALIDATION, "Aliasing is not supported"):
            _run(dynamodb, statement)
    with aws_error(VALIDATION, "Unsupported clause: LIMIT"):
        _run(dynamodb, f'SELECT * FROM "{name}" LIMIT 1')
    with aws_error(VALIDATION, "Unsupported operation: IsType"):
        _run(dynamodb, "x IS INT4")
    # Comments, lower case and a final semicolon are fine.
    _run(dynamodb, f"-- note\nselect * from \"{name}\" /* here */ where pk = 'a';")


def test_missing_table_and_exists_outside_a_transaction(dynamodb, table):
    with aws_error("ResourceNotFoundException", "Requested resource not found"):
        _run(dynamodb, "SELECT * FROM \"never-created-table\" WHERE pk = 'x'")
    with aws_error("ResourceNotFoundException", "Requested resource not found"):
        _run(dynamodb, "INSERT INTO \"never-created-table\" VALUE {'pk': 'x'}")
    # A syntax error wins over the missing table.
    with aws_error(VALIDATION, NOT_WELL_FORMED + "Unexpected term"):
        _run(dynamodb, 'SELECT * FROM "never-created-table" WHERE')
    name = table()
    with aws_error(VALIDATION, "EXISTS can only be used in ExecuteTransaction write requests."):
        _run(dynamodb, f"EXISTS(SELECT * FROM \"{name}\" WHERE pk = 'x' AND a = 1)")


def test_request_validation(unchecked, table):
    name = table()
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value '' at 'statement' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ):
        unchecked.execute_statement(Statement="")
    long = f"SELECT * FROM \"{name}\" WHERE pk = '{'x' * 8200}'"
    with aws_error(
        VALIDATION,
        f"1 validation error detected: Value '{long}' at 'statement' failed to satisfy constraint: Member must have length less than or equal to 8192",
    ):
        unchecked.execute_statement(Statement=long)
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
    ):
        unchecked.execute_statement(Statement=f'SELECT * FROM "{name}"', Limit=0)
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value 'ALL' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]",
    ):
        unchecked.execute_statement(Statement=f'SELECT * FROM "{name}"', ReturnValuesOnConditionCheckFailure="ALL")


# ---------------------------------------------------------------------------
# BatchExecuteStatement


def test_batch_reads_with_mixed_results(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": _s("b1"), "v": _n(1), "w": _n(2)})
    out = dynamodb.batch_execute_statement(
        Statements=[
            {"Statement": f'SELECT * FROM "{name}" WHERE pk = ?', "Parameters": [_s("b1")], "ConsistentRead": True},
            {"Statement": f"SELECT v FROM \"{name}\" WHERE pk = 'b1-missing'"},
            {"Statement": f"SLECT * FROM \"{name}\""},
            {"Statement": f"SELECT * FROM \"{name}\" WHERE pk = 'b1' AND attribute_exists(v)"},
            {"Statement": "SELECT * FROM \"never-created-table\" WHERE pk = 'b1'"},
            {"Statement": f"SELECT w FROM \"{name}\" WHERE pk = 'b1' AND w = ?"},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    r = out["Responses"]
    assert len(r) == 6
    assert r[0] == {"TableName": name, "Item": {"pk": _s("b1"), "v": _n(1), "w": _n(2)}}
    assert r[1] == {"TableName": name}
    assert r[2] == {"Error": {"Code": "ValidationError", "Message": NOT_WELL_FORMED + "Expected data manipulation"}}
    assert r[3] == {
        "TableName": name,
        "Error": {
            "Code": "ValidationError",
            "Message": "Select statements within BatchExecuteStatement must specify the primary key in the where clause.",
        },
    }
    assert r[4]["Error"] == {"Code": "ResourceNotFound", "Message": "Requested resource not found"}
    assert r[5]["Error"] == {
        "Code": "ValidationError",
        "Message": "Number of parameters in request and statement don't match.",
    }
    assert out["ConsumedCapacity"][0]["TableName"] == name


def test_batch_writes_fail_one_by_one(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": _s("exists"), "a": _n(1)})
    dynamodb.put_item(TableName=name, Item={"pk": _s("kept"), "a": _n(1)})
    dynamodb.put_item(TableName=name, Item={"pk": _s("doomed"), "a": _n(1)})
    out = dynamodb.batch_execute_statement(
        Statements=[
            {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 'new'}}"},
            {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 'exists'}}"},
            {"Statement": f"UPDATE \"{name}\" SET a = 2 WHERE pk = 'absent'"},
            {
                "Statement": f"UPDATE \"{name}\" SET a = 3 WHERE pk = 'kept' AND a = 5",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
            {"Statement": f"DELETE FROM \"{name}\" WHERE pk = 'doomed' RETURNING ALL OLD *"},
            {"Statement": f"UPDATE \"{name}\" SET a = set_add(a) WHERE pk = 'x'"},
        ]
    )
    r = out["Responses"]
    assert r[0] == {"TableName": name}
    assert r[1] == {
        "TableName": name,
        "Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"},
    }
    assert r[2] == {
        "TableName": name,
        "Error": {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
    }
    assert r[3]["Error"] == {
        "Code": "ConditionalCheckFailed",
        "Message": "The conditional request failed",
        "Item": {"pk": _s("kept"), "a": _n(1)},
    }
    assert r[4] == {"TableName": name, "Item": {"pk": _s("doomed"), "a": _n(1)}}
    statement = f"UPDATE \"{name}\" SET a = set_add(a) WHERE pk = 'x'"
    assert r[5]["Error"]["Message"] == f"SET_ADD must have exactly two arguments at 1:{statement.index('set_add') + 1}:7"
    assert _get(dynamodb, name, {"pk": _s("new")}) is not None
    assert _get(dynamodb, name, {"pk": _s("exists")})["a"] == _n(1)
    assert _get(dynamodb, name, {"pk": _s("doomed")}) is None


def test_batch_validation(dynamodb, unchecked, table):
    name = table()
    with aws_error(VALIDATION, "Read and write requests together in the same batch is not supported."):
        dynamodb.batch_execute_statement(
            Statements=[
                {"Statement": f"SELECT * FROM \"{name}\" WHERE pk = 'a'"},
                {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 'b'}}"},
            ]
        )
    assert _get(dynamodb, name, {"pk": _s("b")}) is None
    with aws_error(VALIDATION, "Provided list of item keys contains duplicates"):
        dynamodb.batch_execute_statement(
            Statements=[
                {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 'd'}}"},
                {"Statement": f"UPDATE \"{name}\" SET a = 1 WHERE pk = 'd'"},
            ]
        )
    assert _get(dynamodb, name, {"pk": _s("d")}) is None
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value '[...]' at 'statements' failed to satisfy constraint: Member must have length less than or equal to 25",
    ):
        unchecked.batch_execute_statement(
            Statements=[{"Statement": f"SELECT * FROM \"{name}\" WHERE pk = 'k{i}'"} for i in range(26)]
        )
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value '[]' at 'statements' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ):
        unchecked.batch_execute_statement(Statements=[])
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value null at 'statements.1.member.statement' failed to satisfy constraint: Member must not be null",
    ):
        unchecked.batch_execute_statement(Statements=[{}])
    out = dynamodb.batch_execute_statement(
        Statements=[{"Statement": f"EXISTS(SELECT * FROM \"{name}\" WHERE pk = 'a' AND b = 1)"}]
    )
    assert out["Responses"] == [
        {"Error": {"Code": "ValidationError", "Message": "EXISTS can only be used in ExecuteTransaction write requests."}}
    ]


# ---------------------------------------------------------------------------
# ExecuteTransaction


def test_transaction_of_writes(dynamodb, table):
    name = table()
    for pk in ("upd", "del", "chk"):
        dynamodb.put_item(TableName=name, Item={"pk": _s(pk), "a": _n(1)})
    out = dynamodb.execute_transaction(
        TransactStatements=[
            {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': ?, 'a': 1}}", "Parameters": [_s("ins")]},
            {"Statement": f"UPDATE \"{name}\" SET a = a + 1 WHERE pk = 'upd'"},
            {"Statement": f"DELETE FROM \"{name}\" WHERE pk = 'del'"},
            {"Statement": f"EXISTS(SELECT * FROM \"{name}\" WHERE pk = 'chk' AND a = 1)"},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert out["Responses"] == []
    assert out["ConsumedCapacity"][0]["TableName"] == name
    assert _get(dynamodb, name, {"pk": _s("ins")}) == {"pk": _s("ins"), "a": _n(1)}
    assert _get(dynamodb, name, {"pk": _s("upd")})["a"] == _n(2)
    assert _get(dynamodb, name, {"pk": _s("del")}) is None


def test_transaction_cancellation(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": _s("chk"), "a": _n(1)})
    dynamodb.put_item(TableName=name, Item={"pk": _s("dup"), "a": _n(1)})
    with aws_error(CANCELLED, _cancel_text("None", "ConditionalCheckFailed", "DuplicateItem", "ConditionalCheckFailed")) as e:
        dynamodb.execute_transaction(
            TransactStatements=[
                {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 'fresh'}}"},
                {
                    "Statement": f"EXISTS(SELECT * FROM \"{name}\" WHERE pk = 'chk' AND a = 2)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                },
                {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 'dup'}}"},
                {"Statement": f"UPDATE \"{name}\" SET a = 5 WHERE pk = 'absent'"},
            ]
        )
    reasons = e.response["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1] == {
        "Code": "ConditionalCheckFailed",
        "Message": "The conditional request failed",
        "Item": {"pk": _s("chk"), "a": _n(1)},
    }
    assert reasons[2] == {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}
    assert reasons[3] == {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
    # Nothing was written.
    assert _get(dynamodb, name, {"pk": _s("fresh")}) is None
    # EXISTS needs the item to exist.
    with aws_error(CANCELLED, _cancel_text("ConditionalCheckFailed", "None")):
        dynamodb.execute_transaction(
            TransactStatements=[
                {"Statement": f"EXISTS(SELECT * FROM \"{name}\" WHERE pk = 'nobody' AND a IS MISSING)"},
                {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 'fresh'}}"},
            ]
        )
    assert _get(dynamodb, name, {"pk": _s("fresh")}) is None


def test_transaction_of_reads(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": _s("r1"), "a": _n(1), "b": _n(2)})
    dynamodb.put_item(TableName=name, Item={"pk": _s("r2"), "a": _n(3), "b": _n(4)})
    out = dynamodb.execute_transaction(
        TransactStatements=[
            {"Statement": f'SELECT * FROM "{name}" WHERE pk = ?', "Parameters": [_s("r1")]},
            {"Statement": f"SELECT a FROM \"{name}\" WHERE pk = 'r-missing'"},
            {"Statement": f"SELECT b FROM \"{name}\" WHERE pk = 'r2'"},
        ]
    )
    assert out["Responses"][0] == {"Item": {"pk": _s("r1"), "a": _n(1), "b": _n(2)}}
    assert out["Responses"][1] == {}
    assert out["Responses"][2] == {"Item": {"b": _n(4)}}
    with aws_error(VALIDATION, "Transaction request cannot include multiple operations on one item"):
        dynamodb.execute_transaction(
            TransactStatements=[
                {"Statement": f"SELECT * FROM \"{name}\" WHERE pk = 'r1'"},
                {"Statement": f"SELECT a FROM \"{name}\" WHERE pk = 'r1'"},
            ]
        )


def test_transaction_validation(dynamodb, unchecked, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": _s("v"), "a": _n(1)})

    def tx(*statements, **kwargs):
        return dynamodb.execute_transaction(TransactStatements=[{"Statement": s} for s in statements], **kwargs)

    with aws_error(
        VALIDATION, "ExecuteTransaction API does not support both read and write operations in the same request."
    ):
        tx(f"SELECT * FROM \"{name}\" WHERE pk = 'v'", f"UPDATE \"{name}\" SET a = 2 WHERE pk = 'v'")
    with aws_error(
        VALIDATION, "Validation failed in TransactStatements[0]: RETURNING clause is not supported in ExecuteTransaction."
    ):
        tx(f"UPDATE \"{name}\" SET a = 2 WHERE pk = 'v' RETURNING ALL NEW *")
    with aws_error(
        VALIDATION,
        "Validation failed in TransactStatements[0]: Select statements within ExecuteTransaction must specify the primary key in the where clause.",
    ):
        tx(f"SELECT * FROM \"{name}\" WHERE pk = 'v' AND attribute_exists(a)")
    with aws_error(
        VALIDATION,
        "Validation failed in TransactStatements[0]: EXISTS() must contain a single item read with additional condition",
    ):
        tx(f"EXISTS(SELECT * FROM \"{name}\" WHERE pk = 'v')", f"UPDATE \"{name}\" SET a = 2 WHERE pk = 'w'")
    with aws_error(
        VALIDATION, f"Validation failed in TransactStatements[1]: {NOT_WELL_FORMED}Unexpected term"
    ):
        tx(f"UPDATE \"{name}\" SET a = 2 WHERE pk = 'v'", f"SELECT * FROM \"{name}\" WHERE")
    with aws_error(VALIDATION, "Transaction request cannot include multiple operations on one item"):
        tx(f"UPDATE \"{name}\" SET a = 2 WHERE pk = 'v'", f"DELETE FROM \"{name}\" WHERE pk = 'v'")
    with aws_error(CANCELLED, _cancel_text("None", "ValidationError")) as e:
        tx(f"UPDATE \"{name}\" SET a = 2 WHERE pk = 'v'", f"DELETE FROM \"{name}\" WHERE a = 1")
    assert e.response["CancellationReasons"][1] == {"Code": "ValidationError", "Message": MISSING_KEY}
    with aws_error(
        VALIDATION,
        "1 validation error detected: Value '[...]' at 'transactStatements' failed to satisfy constraint: Member must have length less than or equal to 100",
    ):
        unchecked.execute_transaction(
            TransactStatements=[{"Statement": f"DELETE FROM \"{name}\" WHERE pk = 'k{i}'"} for i in range(101)]
        )
    with aws_error("ResourceNotFoundException", "Requested resource not found"):
        tx("DELETE FROM \"never-created-table\" WHERE pk = 'x'")
    assert _get(dynamodb, name, {"pk": _s("v")})["a"] == _n(1)


def test_transaction_idempotency(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": _s("i"), "n": _n(0)})
    statements = [{"Statement": f"UPDATE \"{name}\" SET n = n + 1 WHERE pk = 'i'"}]
    dynamodb.execute_transaction(TransactStatements=statements, ClientRequestToken="tok-1")
    dynamodb.execute_transaction(TransactStatements=statements, ClientRequestToken="tok-1")
    assert _get(dynamodb, name, {"pk": _s("i")})["n"] == _n(1)
    with aws_error(
        "IdempotentParameterMismatchException",
        "DynamoDB rejected the request because you retried a request with a different payload but with an idempotent token that was already used.",
    ):
        dynamodb.execute_transaction(
            TransactStatements=[{"Statement": f"UPDATE \"{name}\" SET n = n + 2 WHERE pk = 'i'"}],
            ClientRequestToken="tok-1",
        )
    assert _get(dynamodb, name, {"pk": _s("i")})["n"] == _n(1)


def test_long_in_lists_and_deep_nesting(dynamodb, table):
    name = table()
    for i in range(3):
        dynamodb.put_item(TableName=name, Item={"pk": _s(f"k{i}")})
    # More partition keys than DynamoDB reads by key: the same items, by scan.
    keys = ", ".join(f"'k{i}'" for i in range(60))
    items = _items(dynamodb, f'SELECT pk FROM "{name}" WHERE pk IN [{keys}]')
    assert sorted(i["pk"]["S"] for i in items) == ["k0", "k1", "k2"]
    many = ", ".join(f"'k{i}'" for i in range(101))
    with aws_error(VALIDATION, "The IN operator is provided with too many operands; number of operands: 101"):
        _run(dynamodb, f'SELECT pk FROM "{name}" WHERE pk IN [{many}]')
    # Nesting is bounded (nimbus's own limit and text).
    deep = f'SELECT * FROM "{name}" WHERE ' + "(" * 2000 + "pk = 'k0'" + ")" * 2000
    with aws_error(VALIDATION, NOT_WELL_FORMED + "Statement nesting exceeds 100 levels"):
        _run(dynamodb, deep)


def test_parameter_errors_in_batches_and_transactions(dynamodb, unchecked, table):
    name = table()
    out = dynamodb.batch_execute_statement(
        Statements=[{"Statement": f'SELECT * FROM "{name}" WHERE pk = ?', "Parameters": [{"N": "1e99999999999"}]}]
    )
    assert out["Responses"] == [
        {"Error": {"Code": "ValidationError", "Message": "The parameter cannot be converted to a numeric value: 1e99999999999"}}
    ]
    # Parameter errors are not prefixed with the statement's position.
    with aws_error(VALIDATION, "Number of parameters in request and statement don't match."):
        dynamodb.execute_transaction(TransactStatements=[{"Statement": f'DELETE FROM "{name}" WHERE pk = ?'}])
    with aws_error(
        VALIDATION,
        f"1 validation error detected: Value '{'t' * 37}' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36",
    ):
        unchecked.execute_transaction(
            TransactStatements=[{"Statement": f"DELETE FROM \"{name}\" WHERE pk = 'a'"}], ClientRequestToken="t" * 37
        )
