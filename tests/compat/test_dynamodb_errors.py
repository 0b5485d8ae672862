"""Error handling: malformed requests, unknown operations, key/schema
mismatches, invalid attribute values, missing/existing tables, and the rule
that a failed request writes nothing."""

import pytest

from compat_util import aws_error, error_message, error_name, raw_request
from conftest import unique_name


@pytest.fixture
def t(dynamodb, table):
    return table()


@pytest.fixture
def tr(dynamodb, table):
    return table(hash=("pk", "S"), range=("sk", "N"))


def assert_json_error(status, body, headers, name):
    assert status == 400, (status, body)
    assert isinstance(body, dict), body
    assert error_name(body) == name, body


def test_error_response_framing(endpoint):
    status, parsed, headers = raw_request(endpoint, "GetItem", {"TableName": "compat-missing-x", "Key": {}})
    assert status == 400
    assert headers.get("content-type", "").startswith("application/x-amz-json-1.0"), headers
    assert headers.get("x-amzn-requestid"), "every response carries a request id"
    assert parsed["__type"].endswith("#ResourceNotFoundException"), parsed


# ------------------------------------------------------------ wire level


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2", b'{"TableName": "x",}', b"\xff\xfe"])
def test_malformed_json_body(endpoint, t, body):
    status, parsed, headers = raw_request(endpoint, "GetItem", body)
    # Only the error code is checked: AWS does not document the message for
    # a body that is not JSON, and its wording varies with the parse failure.
    assert_json_error(status, parsed, headers, "SerializationException")


def test_wrong_json_type_for_member(endpoint, t):
    status, parsed, headers = raw_request(endpoint, "GetItem", {"TableName": 123, "Key": {"pk": {"S": "a"}}})
    assert_json_error(status, parsed, headers, "SerializationException")
    # text as observed on AWS
    assert error_message(parsed) == "NUMBER_VALUE cannot be converted to String"


def test_unknown_operation(endpoint):
    status, parsed, headers = raw_request(endpoint, "FrobnicateTable", {})
    assert status == 400, (status, parsed)
    # The message of UnknownOperationException is not documented; only the code is checked.
    assert error_name(parsed) == "UnknownOperationException", parsed


def test_missing_required_members(endpoint):
    status, parsed, headers = raw_request(endpoint, "GetItem", {})
    assert_json_error(status, parsed, headers, "ValidationException")
    # text as observed on AWS
    assert error_message(parsed) == (
        "2 validation errors detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null; Value null at 'key' failed to satisfy constraint: Member must not be null"
    )


def test_raw_success_has_json_content_type(endpoint, t):
    status, parsed, headers = raw_request(endpoint, "GetItem", {"TableName": t, "Key": {"pk": {"S": "a"}}})
    assert status == 200, parsed
    assert parsed == {}
    assert headers.get("content-type", "").startswith("application/x-amz-json-1.0")


def test_invalid_enum_value(dynamodb, t):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "1 validation error detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: "
        "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
    ):
        dynamodb.get_item(TableName=t, Key={"pk": {"S": "a"}}, ReturnConsumedCapacity="hi")


# ------------------------------------------------------------ key schema

KEY_MISMATCH = "The provided key element does not match the schema"


@pytest.mark.parametrize(
    "key",
    [
        {},
        {"other": {"S": "a"}},
        {"pk": {"N": "1"}},
        {"pk": {"B": b"a"}},
        {"pk": {"S": "a"}, "extra": {"S": "b"}},
        {"pk": {"SS": ["a"]}},
    ],
    ids=["empty", "wrong-name", "wrong-type-N", "wrong-type-B", "extra-attribute", "set"],
)
def test_key_does_not_match_schema(dynamodb, t, key):
    for call in (
        lambda: dynamodb.get_item(TableName=t, Key=key),
        lambda: dynamodb.delete_item(TableName=t, Key=key),
        lambda: dynamodb.update_item(
            TableName=t, Key=key, UpdateExpression="SET a = :v", ExpressionAttributeValues={":v": {"S": "v"}}
        ),
    ):
        # text as observed on AWS
        with aws_error("ValidationException", KEY_MISMATCH):
            call()
    assert dynamodb.scan(TableName=t)["Count"] == 0


def test_partial_composite_key(dynamodb, tr):
    # text as observed on AWS
    with aws_error("ValidationException", KEY_MISMATCH):
        dynamodb.get_item(TableName=tr, Key={"pk": {"S": "a"}})


def test_put_missing_key_attribute(dynamodb, tr):
    # text as observed on AWS
    with aws_error("ValidationException", "One or more parameter values were invalid: Missing the key sk in the item"):
        dynamodb.put_item(TableName=tr, Item={"pk": {"S": "a"}, "v": {"S": "x"}})
    with aws_error("ValidationException", "One or more parameter values were invalid: Missing the key pk in the item"):
        dynamodb.put_item(TableName=tr, Item={"sk": {"N": "1"}})
    assert dynamodb.scan(TableName=tr)["Count"] == 0


def test_put_wrong_key_type(dynamodb, tr):
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N",
    ):
        dynamodb.put_item(TableName=tr, Item={"pk": {"N": "1"}, "sk": {"N": "1"}})
    with aws_error(
        "ValidationException",
        "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S",
    ):
        dynamodb.put_item(TableName=tr, Item={"pk": {"S": "a"}, "sk": {"S": "1"}})
    assert dynamodb.scan(TableName=tr)["Count"] == 0


def test_empty_string_key(dynamodb, t):
    # text as observed on AWS (since empty strings became legal outside keys;
    # older reports show "...were invalid: An AttributeValue may not contain
    # an empty string. Key: pk" for PutItem)
    message = (
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain "
        "an empty string value. Key: pk"
    )
    with aws_error("ValidationException", message):
        dynamodb.put_item(TableName=t, Item={"pk": {"S": ""}})
    with aws_error("ValidationException", message):
        dynamodb.get_item(TableName=t, Key={"pk": {"S": ""}})
    assert dynamodb.scan(TableName=t)["Count"] == 0


def test_empty_string_and_binary_allowed_outside_keys(dynamodb, t):
    dynamodb.put_item(
        TableName=t,
        Item={"pk": {"S": "e"}, "s": {"S": ""}, "b": {"B": b""}, "m": {"M": {"in": {"S": ""}}}},
    )
    item = dynamodb.get_item(TableName=t, Key={"pk": {"S": "e"}})["Item"]
    assert item["s"] == {"S": ""} and item["b"] == {"B": b""} and item["m"] == {"M": {"in": {"S": ""}}}


# ------------------------------------------------------- attribute values


@pytest.mark.parametrize(
    "value,message",
    [
        # texts as observed on AWS, including AWS's own grammar and double spaces
        ({"SS": []}, "One or more parameter values were invalid: An string set  may not be empty"),
        ({"NS": []}, "One or more parameter values were invalid: An number set  may not be empty"),
        ({"BS": []}, "One or more parameter values were invalid: Binary sets should not be empty"),
        ({"SS": ["a", "a"]}, "One or more parameter values were invalid: Input collection [a, a] contains duplicates."),
        (
            {"BS": [b"b", b"b"]},
            "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates.",
        ),
        ({"NS": ["1", "1"]}, "Input collection contains duplicates"),
        ({"N": "abc"}, "The parameter cannot be converted to a numeric value: abc"),
        ({"N": ""}, "The parameter cannot be converted to a numeric value"),
        ({"NS": ["1", "x"]}, "The parameter cannot be converted to a numeric value: x"),
        ({"NULL": False}, "One or more parameter values were invalid: Null attribute value types must have the value of true"),
        ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
        (
            {"S": "a", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
        ),
        ({"M": {"inner": {"SS": []}}}, "One or more parameter values were invalid: An string set  may not be empty"),
        ({"L": [{"N": "1e200"}]}, "Number overflow. Attempting to store a number with magnitude larger than supported range"),
    ],
    ids=[
        "empty-SS", "empty-NS", "empty-BS", "dup-SS", "dup-BS", "dup-NS", "bad-N", "empty-N", "bad-NS",
        "NULL-false", "no-type", "two-types", "nested-empty-set", "nested-overflow",
    ],
)
def test_invalid_attribute_values(endpoint, t, value, message):
    # Sent raw so that no client-side serialisation can interfere.
    status, parsed, headers = raw_request(
        endpoint, "PutItem", {"TableName": t, "Item": {"pk": {"S": "bad"}, "v": _b64(value)}}
    )
    assert_json_error(status, parsed, headers, "ValidationException")
    assert error_message(parsed) == message
    _, got, _ = raw_request(endpoint, "GetItem", {"TableName": t, "Key": {"pk": {"S": "bad"}}})
    assert got == {}, "a rejected PutItem must not write"


def _b64(value):
    """Encode bytes in an AttributeValue as the wire format (base64) wants."""
    import base64

    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "B":
                out[k] = base64.b64encode(v).decode()
            elif k == "BS":
                out[k] = [base64.b64encode(x).decode() for x in v]
            elif k == "M":
                out[k] = {kk: _b64(vv) for kk, vv in v.items()}
            elif k == "L":
                out[k] = [_b64(x) for x in v]
            else:
                out[k] = v
        return out
    return value


def test_duplicate_numbers_differently_written(dynamodb, t):
    # "1" and "1.0" are the same number, so the set has duplicates.
    with aws_error("ValidationException") as err:
        dynamodb.put_item(TableName=t, Item={"pk": {"S": "d"}, "ns": {"NS": ["1", "1.0"]}})
    # text not documented; assumed to be AWS's generic duplicate text for number sets
    assert err.message == "Input collection contains duplicates"


# ------------------------------------------------------------ tables


@pytest.mark.parametrize("op", ["get_item", "put_item", "delete_item", "update_item"])
def test_missing_table(dynamodb, op):
    name = unique_name("missing")
    kwargs = {"TableName": name}
    if op == "put_item":
        kwargs["Item"] = {"pk": {"S": "a"}}
    else:
        kwargs["Key"] = {"pk": {"S": "a"}}
    # text as observed on AWS
    with aws_error("ResourceNotFoundException", "Requested resource not found"):
        getattr(dynamodb, op)(**kwargs)


def test_existing_table(dynamodb, t):
    # text as observed on AWS
    with aws_error("ResourceInUseException", f"Table already exists: {t}"):
        dynamodb.create_table(
            TableName=t,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    # The existing table is untouched.
    assert dynamodb.describe_table(TableName=t)["Table"]["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"}
    ]


# --------------------------------------------------- nothing written on error


def test_failed_requests_write_nothing(dynamodb, t):
    original = {"pk": {"S": "keep"}, "n": {"N": "1"}, "ss": {"SS": ["a"]}}
    dynamodb.put_item(TableName=t, Item=original)
    failing = [
        lambda: dynamodb.put_item(TableName=t, Item={"pk": {"S": "keep"}, "bad": {"SS": []}}),
        lambda: dynamodb.put_item(
            TableName=t, Item={"pk": {"S": "keep"}}, ConditionExpression="attribute_not_exists(pk)"
        ),
        lambda: dynamodb.put_item(TableName=t, Item={"pk": {"S": "keep"}, "big": {"S": "x" * 410_000}}),
        lambda: dynamodb.update_item(
            TableName=t,
            Key={"pk": {"S": "keep"}},
            UpdateExpression="SET a = :v ADD ss :n",
            ExpressionAttributeValues={":v": {"S": "v"}, ":n": {"N": "1"}},
        ),
        lambda: dynamodb.update_item(
            TableName=t,
            Key={"pk": {"S": "keep"}},
            UpdateExpression="SET n = n + :one",
            ConditionExpression="n = :zero",
            ExpressionAttributeValues={":one": {"N": "1"}, ":zero": {"N": "0"}},
        ),
        lambda: dynamodb.delete_item(
            TableName=t, Key={"pk": {"S": "keep"}}, ConditionExpression="attribute_not_exists(n)"
        ),
        lambda: dynamodb.delete_item(TableName=t, Key={"pk": {"S": "keep"}}, ReturnValues="ALL_NEW"),
    ]
    for call in failing:
        with pytest.raises(dynamodb.exceptions.ClientError):
            call()
        assert dynamodb.get_item(TableName=t, Key={"pk": {"S": "keep"}}, ConsistentRead=True)["Item"] == original
    assert dynamodb.scan(TableName=t)["Count"] == 1


def _nested(depth):
    value = {"S": "leaf"}
    for _ in range(depth):
        value = {"M": {"m": value}}
    return value


def test_document_nesting_limit(dynamodb, t):
    # Documented limit: 32 levels of nesting.
    dynamodb.put_item(TableName=t, Item={"pk": {"S": "nest"}, "v": _nested(20)})
    # text as observed on AWS
    with aws_error(
        "ValidationException",
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit",
    ):
        dynamodb.put_item(TableName=t, Item={"pk": {"S": "nest2"}, "v": _nested(40)})
    assert "Item" not in dynamodb.get_item(TableName=t, Key={"pk": {"S": "nest2"}})


def test_server_survives_deeply_nested_input(endpoint, dynamodb, t):
    # A request nested far beyond any sane depth must be rejected, not crash the server.
    depth = 5000
    value = '{"L": [' * depth + '{"S": "leaf"}' + "]}" * depth
    body = '{"TableName": "%s", "Item": {"pk": {"S": "deep"}, "v": %s}}' % (t, value)
    status, parsed, _ = raw_request(endpoint, "PutItem", body)
    assert status == 400, (status, parsed)
    assert error_name(parsed) in ("ValidationException", "SerializationException"), parsed
    # Still serving.
    assert dynamodb.get_item(TableName=t, Key={"pk": {"S": "deep"}}).get("Item") is None


def test_server_survives_deeply_nested_expression(dynamodb, t):
    expr = "(" * 3000 + "a = :v" + ")" * 3000
    with pytest.raises(dynamodb.exceptions.ClientError) as exc:
        dynamodb.put_item(
            TableName=t, Item={"pk": {"S": "x"}}, ConditionExpression=expr, ExpressionAttributeValues={":v": {"S": "v"}}
        )
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    assert dynamodb.describe_table(TableName=t)["Table"]["TableName"] == t
