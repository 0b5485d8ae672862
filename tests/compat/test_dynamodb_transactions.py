"""Transactions: TransactWriteItems and TransactGetItems through boto3.

Covers the four actions across tables, all-or-nothing cancellation with
CancellationReasons (as botocore exposes them in the error response), the
same-item rule, request validation, ClientRequestToken idempotency, and
TransactGetItems ordering, projections and missing items.
"""

import uuid

from compat_util import aws_error, error_message, error_name, raw_request

CANCELLED = "TransactionCanceledException"
CCF_TEXT = "The conditional request failed"
DUPLICATE = "Transaction request cannot include multiple operations on one item"


def _cancel_text(*codes):
    return (
        "Transaction cancelled, please refer cancellation reasons for specific reasons ["
        + ", ".join(codes)
        + "]"
    )


def _get(dynamodb, name, key):
    return dynamodb.get_item(TableName=name, Key=key, ConsistentRead=True).get("Item")


def _k(pk):
    return {"pk": {"S": pk}}


def test_four_actions_across_two_tables(dynamodb, table):
    accounts = table()
    ledger = table(range=("sk", "N"))
    dynamodb.put_item(TableName=accounts, Item={"pk": {"S": "a"}, "balance": {"N": "10"}})
    dynamodb.put_item(TableName=accounts, Item={"pk": {"S": "b"}})
    dynamodb.put_item(TableName=accounts, Item={"pk": {"S": "c"}, "open": {"BOOL": True}})

    out = dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": ledger, "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}}},
            {
                "Update": {
                    "TableName": accounts,
                    "Key": _k("a"),
                    "UpdateExpression": "SET balance = balance - :amt",
                    "ConditionExpression": "balance >= :amt",
                    "ExpressionAttributeValues": {":amt": {"N": "4"}},
                }
            },
            {"Delete": {"TableName": accounts, "Key": _k("b")}},
            {
                "ConditionCheck": {
                    "TableName": accounts,
                    "Key": _k("c"),
                    "ConditionExpression": "#o = :t",
                    "ExpressionAttributeNames": {"#o": "open"},
                    "ExpressionAttributeValues": {":t": {"BOOL": True}},
                }
            },
        ],
        ReturnConsumedCapacity="TOTAL",
        ReturnItemCollectionMetrics="SIZE",
    )
    consumed = {c["TableName"]: c for c in out["ConsumedCapacity"]}
    assert consumed[ledger]["WriteCapacityUnits"] == 2.0
    assert consumed[accounts]["WriteCapacityUnits"] == 6.0
    assert _get(dynamodb, ledger, {"pk": {"S": "a"}, "sk": {"N": "1"}}) is not None
    assert _get(dynamodb, accounts, _k("a"))["balance"] == {"N": "6"}
    assert _get(dynamodb, accounts, _k("b")) is None


def test_failed_condition_cancels_all_with_reasons(dynamodb, table):
    name = table()
    old = {"pk": {"S": "a"}, "balance": {"N": "5"}}
    dynamodb.put_item(TableName=name, Item=old)
    with aws_error(CANCELLED, _cancel_text("None", "ConditionalCheckFailed", "ConditionalCheckFailed")) as e:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": {"S": "new"}}}},
                {
                    "Update": {
                        "TableName": name,
                        "Key": _k("a"),
                        "UpdateExpression": "SET balance = balance - :amt",
                        "ConditionExpression": "balance >= :amt",
                        "ExpressionAttributeValues": {":amt": {"N": "50"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": _k("ghost"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    reasons = e.response["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1] == {"Code": "ConditionalCheckFailed", "Message": CCF_TEXT, "Item": old}
    assert reasons[2] == {"Code": "ConditionalCheckFailed", "Message": CCF_TEXT}
    assert _get(dynamodb, name, _k("new")) is None
    assert _get(dynamodb, name, _k("a")) == old


def test_same_item_twice(dynamodb, table):
    name = table()
    with aws_error("ValidationException", DUPLICATE):
        dynamodb.transact_write_items(
            TransactItems=[
                {"ConditionCheck": {"TableName": name, "Key": _k("a"), "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": name, "Item": {"pk": {"S": "a"}}}},
            ]
        )
    assert _get(dynamodb, name, _k("a")) is None
    with aws_error("ValidationException", DUPLICATE):
        dynamodb.transact_get_items(
            TransactItems=[{"Get": {"TableName": name, "Key": _k("a")}}] * 2
        )


def test_validation_errors(dynamodb, table, endpoint):
    name = table()
    with aws_error("ValidationException", "TransactItems can only contain one of Check, Put, Update or Delete"):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {"TableName": name, "Item": {"pk": {"S": "a"}}},
                    "Delete": {"TableName": name, "Key": _k("b")},
                }
            ]
        )
    with aws_error("ValidationException", "The provided key element does not match the schema"):
        dynamodb.transact_write_items(
            TransactItems=[{"Delete": {"TableName": name, "Key": {"pk": {"N": "1"}}}}]
        )
    with aws_error("ResourceNotFoundException", "Requested resource not found"):
        dynamodb.transact_write_items(
            TransactItems=[{"Put": {"TableName": "compat-no-such-table", "Item": {"pk": {"S": "a"}}}}]
        )
    with aws_error(
        "ValidationException",
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}",
    ):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"pk": {"S": "a"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ExpressionAttributeNames": {"#x": "x"},
                    }
                }
            ]
        )
    # botocore refuses these client-side, so they go out raw.
    status, parsed, _ = raw_request(endpoint, "TransactWriteItems", {"TransactItems": []})
    assert status == 400 and error_name(parsed) == "ValidationException"
    assert error_message(parsed) == (
        "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1"
    )
    status, parsed, _ = raw_request(
        endpoint,
        "TransactWriteItems",
        {"TransactItems": [{"Update": {"TableName": name, "Key": _k("a")}}]},
    )
    assert status == 400 and error_name(parsed) == "ValidationException"
    assert error_message(parsed) == (
        "1 validation error detected: Value null at 'transactItems.1.member.update.updateExpression' "
        "failed to satisfy constraint: Member must not be null"
    )
    assert _get(dynamodb, name, _k("a")) is None


def test_client_request_token(dynamodb, table):
    name = table()
    token = str(uuid.uuid4())

    def add(amount, tok=token):
        return dynamodb.transact_write_items(
            ClientRequestToken=tok,
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": _k("a"),
                        "UpdateExpression": "ADD n :v",
                        "ExpressionAttributeValues": {":v": {"N": str(amount)}},
                    }
                }
            ],
        )

    add(1)
    add(1)
    assert _get(dynamodb, name, _k("a"))["n"] == {"N": "1"}
    with aws_error("IdempotentParameterMismatchException"):
        add(5)
    assert _get(dynamodb, name, _k("a"))["n"] == {"N": "1"}
    add(5, tok=str(uuid.uuid4()))
    assert _get(dynamodb, name, _k("a"))["n"] == {"N": "6"}


def test_transact_get_items(dynamodb, table):
    accounts = table()
    ledger = table(range=("sk", "N"))
    dynamodb.put_item(TableName=accounts, Item={"pk": {"S": "a"}, "x": {"N": "1"}, "y": {"S": "why"}})
    dynamodb.put_item(TableName=ledger, Item={"pk": {"S": "a"}, "sk": {"N": "2"}})
    out = dynamodb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": ledger, "Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}}},
            {"Get": {"TableName": accounts, "Key": _k("missing")}},
            {
                "Get": {
                    "TableName": accounts,
                    "Key": _k("a"),
                    "ProjectionExpression": "#y",
                    "ExpressionAttributeNames": {"#y": "y"},
                }
            },
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert out["Responses"] == [
        {"Item": {"pk": {"S": "a"}, "sk": {"N": "2"}}},
        {},
        {"Item": {"y": {"S": "why"}}},
    ]
    consumed = {c["TableName"]: c["ReadCapacityUnits"] for c in out["ConsumedCapacity"]}
    assert consumed == {ledger: 2.0, accounts: 4.0}


def test_resource_api_transfer(dynamodb_resource, table):
    """The resource's client takes plain Python values in transactions too."""
    name = table()
    client = dynamodb_resource.meta.client
    tbl = dynamodb_resource.Table(name)
    tbl.put_item(Item={"pk": "a", "balance": 10})
    tbl.put_item(Item={"pk": "b", "balance": 0})
    client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": "a"},
                    "UpdateExpression": "SET balance = balance - :v",
                    "ConditionExpression": "balance >= :v",
                    "ExpressionAttributeValues": {":v": 7},
                }
            },
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": "b"},
                    "UpdateExpression": "ADD balance :v",
                    "ExpressionAttributeValues": {":v": 7},
                }
            },
        ]
    )
    assert tbl.get_item(Key={"pk": "a"}, ConsistentRead=True)["Item"]["balance"] == 3
    assert tbl.get_item(Key={"pk": "b"}, ConsistentRead=True)["Item"]["balance"] == 7
