"""UpdateExpression semantics (SET/REMOVE/ADD/DELETE, functions, nested paths)
and the validation errors of update and condition expressions."""

import pytest

from compat_util import aws_error

KEY = {"pk": {"S": "e"}}
BASE = {
    "pk": {"S": "e"},
    "n": {"N": "10"},
    "s": {"S": "str"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "l": {"L": [{"S": "l0"}, {"S": "l1"}, {"S": "l2"}]},
    "m": {"M": {"x": {"M": {"y": {"N": "1"}}}, "k": {"S": "v"}}},
}


@pytest.fixture
def t(dynamodb, table):
    name = table()
    dynamodb.put_item(TableName=name, Item=BASE)
    return name


def update(dynamodb, name, expr, values=None, names=None, key=KEY, **kwargs):
    params = {"TableName": name, "Key": key, "UpdateExpression": expr, "ReturnValues": "ALL_NEW"}
    if values is not None:
        params["ExpressionAttributeValues"] = values
    if names is not None:
        params["ExpressionAttributeNames"] = names
    params.update(kwargs)
    return dynamodb.update_item(**params).get("Attributes")


def current(dynamodb, name, key=KEY):
    return dynamodb.get_item(TableName=name, Key=key, ConsistentRead=True).get("Item")


def sets_equal(a, b):
    return sorted(a) == sorted(b)


# ----------------------------------------------------------------------- SET


def test_set_new_and_overwrite(dynamodb, t):
    item = update(dynamodb, t, "SET a = :v, s = :w", {":v": {"S": "new"}, ":w": {"N": "3"}})
    assert item["a"] == {"S": "new"}
    assert item["s"] == {"N": "3"}


def test_set_copy_attribute(dynamodb, t):
    item = update(dynamodb, t, "SET cp = m.x")
    assert item["cp"] == {"M": {"y": {"N": "1"}}}


def test_set_arithmetic(dynamodb, t):
    item = update(
        dynamodb,
        t,
        "SET plus = n + :three, mn = n - :three, vals = :three + :three, neg = :three - n",
        {":three": {"N": "3"}},
    )
    assert item["plus"] == {"N": "13"}
    assert item["mn"] == {"N": "7"}
    assert item["vals"] == {"N": "6"}
    assert item["neg"] == {"N": "-7"}


def test_if_not_exists(dynamodb, t):
    item = update(
        dynamodb,
        t,
        "SET n = if_not_exists(n, :zero), fresh = if_not_exists(fresh, :zero), "
        "cnt = if_not_exists(cnt, :zero) + :one",
        {":zero": {"N": "0"}, ":one": {"N": "1"}},
    )
    assert item["n"] == {"N": "10"}
    assert item["fresh"] == {"N": "0"}
    assert item["cnt"] == {"N": "1"}
    item = update(
        dynamodb,
        t,
        "SET cnt = if_not_exists(cnt, :zero) + :one",
        {":zero": {"N": "0"}, ":one": {"N": "1"}},
    )
    assert item["cnt"] == {"N": "2"}


def test_list_append(dynamodb, t):
    item = update(
        dynamodb,
        t,
        "SET l = list_append(l, :tail)",
        {":tail": {"L": [{"S": "l3"}]}},
    )
    assert [v["S"] for v in item["l"]["L"]] == ["l0", "l1", "l2", "l3"]
    item = update(
        dynamodb,
        t,
        "SET l = list_append(:head, l)",
        {":head": {"L": [{"N": "-1"}]}},
    )
    assert item["l"]["L"][0] == {"N": "-1"}
    assert len(item["l"]["L"]) == 5


def test_list_append_to_missing_with_if_not_exists(dynamodb, t):
    item = update(
        dynamodb,
        t,
        "SET newlist = list_append(if_not_exists(newlist, :empty), :vals)",
        {":empty": {"L": []}, ":vals": {"L": [{"S": "first"}]}},
    )
    assert item["newlist"] == {"L": [{"S": "first"}]}


def test_set_nested_paths(dynamodb, t):
    item = update(
        dynamodb,
        t,
        "SET m.x.z = :v, m.k = :w, l[1] = :w",
        {":v": {"BOOL": True}, ":w": {"S": "changed"}},
    )
    assert item["m"] == {
        "M": {"x": {"M": {"y": {"N": "1"}, "z": {"BOOL": True}}}, "k": {"S": "changed"}}
    }
    assert item["l"]["L"] == [{"S": "l0"}, {"S": "changed"}, {"S": "l2"}]


def test_set_list_index_beyond_end_appends(dynamodb, t):
    # Documented: SET on a list index past the end appends the element.
    item = update(dynamodb, t, "SET l[10] = :v", {":v": {"S": "end"}})
    assert item["l"]["L"] == [{"S": "l0"}, {"S": "l1"}, {"S": "l2"}, {"S": "end"}]


def test_set_with_names_containing_dots(dynamodb, t):
    item = update(
        dynamodb,
        t,
        "SET #dotted = :v, m.#k2 = :v",
        {":v": {"S": "d"}},
        {"#dotted": "a.b", "#k2": "with.dot"},
    )
    assert item["a.b"] == {"S": "d"}
    assert "a" not in item
    assert item["m"]["M"]["with.dot"] == {"S": "d"}


# -------------------------------------------------------------------- REMOVE


def test_remove_attributes(dynamodb, t):
    item = update(dynamodb, t, "REMOVE s, m.k, nothing_here, m.x.nope")
    assert "s" not in item
    assert item["m"] == {"M": {"x": {"M": {"y": {"N": "1"}}}}}


def test_remove_list_elements_shift(dynamodb, t):
    item = update(dynamodb, t, "REMOVE l[0], l[2], l[9]")
    assert item["l"]["L"] == [{"S": "l1"}]


# ----------------------------------------------------------------------- ADD


def test_add_numbers(dynamodb, t):
    item = update(
        dynamodb,
        t,
        "ADD n :five, created :five, n2 :neg",
        {":five": {"N": "5"}, ":neg": {"N": "-2.5"}},
    )
    assert item["n"] == {"N": "15"}
    assert item["created"] == {"N": "5"}
    assert item["n2"] == {"N": "-2.5"}


def test_add_sets(dynamodb, t):
    item = update(
        dynamodb,
        t,
        "ADD ss :more, ns :nums, newset :more",
        {":more": {"SS": ["b", "c"]}, ":nums": {"NS": ["3"]}},
    )
    assert sets_equal(item["ss"]["SS"], ["a", "b", "c"])
    assert sets_equal(item["ns"]["NS"], ["1", "2", "3"])
    assert sets_equal(item["newset"]["SS"], ["b", "c"])


def test_add_creates_item(dynamodb, t):
    key = {"pk": {"S": "cnt"}}
    item = update(dynamodb, t, "ADD hits :one", {":one": {"N": "1"}}, key=key)
    assert item == {"pk": {"S": "cnt"}, "hits": {"N": "1"}}


# -------------------------------------------------------------------- DELETE


def test_delete_from_set(dynamodb, t):
    item = update(dynamodb, t, "DELETE ss :a, ns :absent", {":a": {"SS": ["a"]}, ":absent": {"NS": ["9"]}})
    assert item["ss"] == {"SS": ["b"]}
    assert sets_equal(item["ns"]["NS"], ["1", "2"])


def test_delete_last_elements_removes_attribute(dynamodb, t):
    item = update(dynamodb, t, "DELETE ss :all, absent_attr :all", {":all": {"SS": ["a", "b"]}})
    assert "ss" not in item
    assert "absent_attr" not in item


def test_all_clauses_together_any_order(dynamodb, t):
    item = update(
        dynamodb,
        t,
        "DELETE ss :a REMOVE s ADD n :one SET fresh = :v",
        {":a": {"SS": ["a"]}, ":one": {"N": "1"}, ":v": {"S": "v"}},
    )
    assert item["ss"] == {"SS": ["b"]}
    assert "s" not in item
    assert item["n"] == {"N": "11"}
    assert item["fresh"] == {"S": "v"}


def test_keywords_are_case_insensitive(dynamodb, t):
    item = update(dynamodb, t, "set a = :v remove s add n :one", {":v": {"S": "x"}, ":one": {"N": "1"}})
    assert item["a"] == {"S": "x"} and "s" not in item and item["n"] == {"N": "11"}


# -------------------------------------------------------------------- errors


def expect_unchanged(dynamodb, name, code, message, expr, values=None, names=None, key=KEY, **kwargs):
    before = current(dynamodb, name, key)
    with aws_error(code, message):
        update(dynamodb, name, expr, values, names, key=key, **kwargs)
    assert current(dynamodb, name, key) == before, "a failed update must not write anything"


def test_syntax_error_observed(dynamodb, t):
    # text as observed on AWS (reported verbatim in a public issue)
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        'Invalid UpdateExpression: Syntax error; token: ":", near: "hits : incr"',
        "ADD hits : incr",
        {":incr": {"N": "1"}},
    )


@pytest.mark.parametrize(
    "expr",
    ["whatever", "SET a", "SET a = ", "SET a :v", "REMOVE a = :v", "ADD a", "SET a = :v,", "SET a = b * :v", "SET :v = a"],
)
def test_syntax_errors(dynamodb, t, expr):
    # The token/near detail is not documented; check the documented prefix.
    before = current(dynamodb, t)
    with aws_error("ValidationException") as err:
        update(dynamodb, t, expr, {":v": {"N": "1"}} if ":v" in expr else None)
    assert err.message.startswith("Invalid UpdateExpression: Syntax error; token: "), err.message
    assert current(dynamodb, t) == before


def test_empty_update_expression(dynamodb, t):
    # text as observed on AWS
    expect_unchanged(dynamodb, t, "ValidationException", "Invalid UpdateExpression: The expression can not be empty;", "")


@pytest.mark.parametrize("word", ["name", "Status", "DATA", "year"])
def test_reserved_word_in_update(dynamodb, t, word):
    # text as observed on AWS; the keyword is echoed as written
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        f"Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: {word}",
        f"SET {word} = :v",
        {":v": {"S": "x"}},
    )


def test_reserved_word_in_condition(dynamodb, t):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status",
    ):
        dynamodb.put_item(TableName=t, Item=KEY, ConditionExpression="attribute_exists(status)")
    assert current(dynamodb, t) == BASE


def test_unused_expression_attribute_values(dynamodb, t):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}",
        "SET a = :v",
        {":v": {"S": "x"}, ":unused": {"S": "y"}},
    )


def test_unused_expression_attribute_names(dynamodb, t):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}",
        "SET #a = :v",
        {":v": {"S": "x"}},
        {"#a": "a", "#unused": "b"},
    )


def test_unused_names_on_get_item(dynamodb, t):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}",
    ):
        dynamodb.get_item(
            TableName=t, Key=KEY, ProjectionExpression="#a", ExpressionAttributeNames={"#a": "s", "#b": "n"}
        )


def test_undefined_expression_attribute_value(dynamodb, t):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
        "attribute value: :missing",
        "SET a = :missing",
        None,
    )


def test_undefined_expression_attribute_name(dynamodb, t):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; "
        "attribute name: #missing",
        "SET #missing = :v",
        {":v": {"S": "x"}},
    )


def test_undefined_name_in_condition(dynamodb, t):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; "
        "attribute name: #nope",
    ):
        dynamodb.delete_item(TableName=t, Key=KEY, ConditionExpression="attribute_exists(#nope)")
    assert current(dynamodb, t) == BASE


def test_empty_expression_attribute_values(dynamodb, t):
    # text as observed on AWS
    expect_unchanged(dynamodb, t, "ValidationException", "ExpressionAttributeValues must not be empty", "REMOVE s", {})


def test_empty_expression_attribute_names(dynamodb, t):
    # text as observed on AWS
    expect_unchanged(dynamodb, t, "ValidationException", "ExpressionAttributeNames must not be empty", "REMOVE s", None, {})


def test_invalid_expression_attribute_value_key(dynamodb, t):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"',
        "SET a = :v",
        {"v": {"S": "x"}},
    )


def test_invalid_value_in_expression_attribute_values(dynamodb, t):
    # text as observed on AWS (note AWS's double space and article)
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: "
        "An string set  may not be empty for key :v",
        "SET a = :v",
        {":v": {"SS": []}},
    )


@pytest.mark.parametrize(
    "expr,one,two",
    [
        ("SET a = :v REMOVE a", "[a]", "[a]"),
        ("SET m.x = :v, m = :v", "[m, x]", "[m]"),
        ("REMOVE l, l[1]", "[l]", "[l, [1]]"),
        ("SET n = :v ADD n :v", "[n]", "[n]"),
    ],
)
def test_overlapping_paths(dynamodb, t, expr, one, two):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite "
        f"one of these paths; path one: {one}, path two: {two}",
        expr,
        {":v": {"N": "1"}} if ":v" in expr else None,
    )


def test_conflicting_paths(dynamodb, t):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite "
        "one of these paths; path one: [m, k], path two: [m, [1]]",
        "REMOVE m.k SET m[1] = :v",
        {":v": {"N": "1"}},
    )


@pytest.mark.parametrize(
    "expr,values",
    [
        ("SET pk = :v", {":v": {"S": "other"}}),
        ("REMOVE pk", None),
        ("ADD pk :v", {":v": {"N": "1"}}),
        ("SET a = :v, pk = :v", {":v": {"S": "other"}}),
    ],
)
def test_cannot_update_key_attribute(dynamodb, t, expr, values):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key",
        expr,
        values,
    )


def test_cannot_update_range_key_attribute(dynamodb, table):
    name = table(hash=("pk", "S"), range=("sk", "S"))
    key = {"pk": {"S": "p"}, "sk": {"S": "s"}}
    dynamodb.put_item(TableName=name, Item=key)
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        name,
        "ValidationException",
        "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key",
        "SET sk = :v",
        {":v": {"S": "t"}},
        key=key,
    )


@pytest.mark.parametrize("section", ["SET", "REMOVE", "ADD", "DELETE"])
def test_section_used_twice(dynamodb, t, section):
    exprs = {
        "SET": "SET a = :n SET b = :n",
        "REMOVE": "REMOVE a REMOVE b",
        "ADD": "ADD n :n ADD n2 :n",
        "DELETE": "DELETE ns :ns DELETE ns2 :ns",
    }
    values = {"SET": {":n": {"N": "1"}}, "REMOVE": None, "ADD": {":n": {"N": "1"}}, "DELETE": {":ns": {"NS": ["1"]}}}
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        f'Invalid UpdateExpression: The "{section}" section can only be used once in an update expression;',
        exprs[section],
        values[section],
    )


@pytest.mark.parametrize(
    "expr,value,op,type_name",
    [
        ("ADD n :v", {"S": "x"}, "ADD", "STRING"),
        ("ADD n :v", {"BOOL": True}, "ADD", "BOOLEAN"),
        ("ADD n :v", {"L": [{"N": "1"}]}, "ADD", "LIST"),
        ("ADD n :v", {"M": {}}, "ADD", "MAP"),
        ("DELETE ss :v", {"S": "a"}, "DELETE", "STRING"),
        ("DELETE ns :v", {"N": "1"}, "DELETE", "NUMBER"),
    ],
)
def test_add_delete_operand_type(dynamodb, t, expr, value, op, type_name):
    # text as observed on AWS for ADD (current wording carries the typeSet);
    # the DELETE typeSet name is not documented; assumed by analogy
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        f"operator: {op}, operand type: {type_name}, typeSet: ALLOWED_FOR_{op}_OPERAND",
        expr,
        {":v": value},
    )


@pytest.mark.parametrize(
    "expr,value,fn,type_name",
    [
        ("SET a = n + :v", {"S": "x"}, "+", "S"),
        ("SET a = n - :v", {"M": {}}, "-", "M"),
        ("SET a = list_append(:v, l)", {"M": {"k": {"S": "v"}}}, "list_append", "M"),
        ("SET a = list_append(l, :v)", {"N": "1"}, "list_append", "N"),
    ],
)
def test_function_operand_type(dynamodb, t, expr, value, fn, type_name):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        f"operator or function: {fn}, operand type: {type_name}",
        expr,
        {":v": value},
    )


@pytest.mark.parametrize(
    "expr,values",
    [
        ("SET a = s + :n", {":n": {"N": "1"}}),
        ("SET a = list_append(s, :l)", {":l": {"L": []}}),
        ("ADD ss :n", {":n": {"N": "1"}}),
        ("ADD n :set", {":set": {"SS": ["x"]}}),
        ("DELETE ss :nums", {":nums": {"NS": ["1"]}}),
        ("DELETE s :strs", {":strs": {"SS": ["str"]}}),
    ],
)
def test_operand_type_mismatch_with_stored_value(dynamodb, t, expr, values):
    # text as observed on AWS: a type error found only when the stored value is
    # read gets this generic text, not the "Incorrect operand type" one, which
    # is for operands whose type is known from the expression itself
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "An operand in the update expression has an incorrect data type",
        expr,
        values,
    )


def test_reference_to_missing_attribute(dynamodb, t):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "The provided expression refers to an attribute that does not exist in the item",
        "SET a = absent_attr + :n",
        {":n": {"N": "1"}},
    )


@pytest.mark.parametrize(
    "expr",
    ["SET nope.x = :v", "SET s.x = :v", "SET nope[0] = :v", "SET m.nope.deeper = :v", "SET m[0] = :v"],
)
def test_invalid_document_path_for_update(dynamodb, t, expr):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "The document path provided in the update expression is invalid for update",
        expr,
        {":v": {"S": "x"}},
    )


def test_invalid_function_name(dynamodb, t):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "Invalid UpdateExpression: Invalid function name; function: nofunc",
        "SET a = nofunc(:v)",
        {":v": {"S": "x"}},
    )


def test_function_operand_count(dynamodb, t):
    # text as observed on AWS
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "Invalid UpdateExpression: Incorrect number of operands for operator or function; "
        "operator or function: if_not_exists, number of operands: 1",
        "SET a = if_not_exists(n)",
    )


def test_function_not_allowed_in_update(dynamodb, t):
    # text not documented; assumed
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "Invalid UpdateExpression: The function is not allowed in an update expression; function: size",
        "SET a = size(s)",
    )


def test_empty_condition_expression(dynamodb, t):
    # text as observed on AWS
    with aws_error("ValidationException", "Invalid ConditionExpression: The expression can not be empty;"):
        dynamodb.put_item(TableName=t, Item=KEY, ConditionExpression="")
    assert current(dynamodb, t) == BASE


def test_condition_invalid_function(dynamodb, t):
    # text as observed on AWS
    with aws_error("ValidationException", "Invalid ConditionExpression: Invalid function name; function: nofunc"):
        dynamodb.put_item(TableName=t, Item=KEY, ConditionExpression="nofunc(s)")
    assert current(dynamodb, t) == BASE


def test_condition_syntax_error(dynamodb, t):
    # The token/near detail is not documented; check the documented prefix.
    with aws_error("ValidationException") as err:
        dynamodb.put_item(
            TableName=t, Item=KEY, ConditionExpression="s = = :v", ExpressionAttributeValues={":v": {"S": "x"}}
        )
    assert err.message.startswith("Invalid ConditionExpression: Syntax error; token: "), err.message
    assert current(dynamodb, t) == BASE


def test_one_bad_action_fails_whole_update(dynamodb, t):
    # The second action fails at run time; the first must not be applied either.
    expect_unchanged(
        dynamodb,
        t,
        "ValidationException",
        "An operand in the update expression has an incorrect data type",
        "SET a = :v, b = s + :n",
        {":v": {"S": "x"}, ":n": {"N": "1"}},
    )
