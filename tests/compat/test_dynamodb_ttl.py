"""DynamoDB Time to Live through unmodified boto3: UpdateTimeToLive and
DescribeTimeToLive with their errors, and expiry.

Expiry is driven by nimbus's test clock (POST /_nimbus/clock/advance), so no
test sleeps for real expiry times; against a server without that endpoint
the tests that need it are skipped. The clock only moves forward, and other
test files compare server timestamps with the local clock, so this module
runs on a nimbus of its own (unless NIMBUS_ENDPOINT names a running server,
whose clock it then moves).
"""

import json
import time
import urllib.error
import urllib.request

import pytest
from compat_util import aws_error, raw_request
from conftest import own_nimbus, _CONFIG, _session, _start_nimbus, unique_name, wait_active

VE = "ValidationException"
HOUR = 3600


def _clock(endpoint, advance_seconds=None):
    if advance_seconds is None:
        request = urllib.request.Request(endpoint + "/_nimbus/clock")
    else:
        request = urllib.request.Request(
            endpoint + "/_nimbus/clock/advance",
            data=json.dumps({"seconds": advance_seconds}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            pytest.skip("the server under test has no /_nimbus/clock endpoint")
        raise


@pytest.fixture(scope="module")
def endpoint():
    """This module's own server (see the module docstring)."""
    yield from own_nimbus()


@pytest.fixture(scope="module")
def dynamodb(endpoint):
    return _session().client("dynamodb", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture
def table(dynamodb):
    """table(**create_table_kwargs) -> name: a `pk` (S) table, deleted after the test."""
    created = []

    def make(**kwargs):
        name = unique_name("ttl")
        kwargs.setdefault("KeySchema", [{"AttributeName": "pk", "KeyType": "HASH"}])
        kwargs.setdefault("AttributeDefinitions", [{"AttributeName": "pk", "AttributeType": "S"}])
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **kwargs)
        created.append(name)
        wait_active(dynamodb, name)
        return name

    yield make
    for name in created:
        dynamodb.delete_table(TableName=name)


@pytest.fixture
def clock(endpoint):
    """clock() -> server time in epoch seconds; clock.advance(seconds)."""

    class Clock:
        def __call__(self):
            return _clock(endpoint)["now"] // 1000

        def advance(self, seconds):
            return _clock(endpoint, seconds)

    return Clock()


def enable(dynamodb, name, attribute="exp", enabled=True):
    return dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"AttributeName": attribute, "Enabled": enabled},
    )


def describe(dynamodb, name):
    return dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]


def keys_of(dynamodb, name):
    items = dynamodb.scan(TableName=name, ConsistentRead=True)["Items"]
    return sorted(i["pk"]["S"] for i in items)


def wait_for_keys(dynamodb, name, expected, timeout=3.0):
    deadline = time.monotonic() + timeout
    while True:
        got = keys_of(dynamodb, name)
        if got == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} holds {got}, expected {expected}")
        time.sleep(0.02)


def test_fresh_table_is_disabled(dynamodb, table):
    name = table()
    assert describe(dynamodb, name) == {"TimeToLiveStatus": "DISABLED"}


def test_enable_then_describe(dynamodb, table):
    name = table()
    out = enable(dynamodb, name, "expires_at")
    assert out["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    # AWS reports ENABLING for a while first; nimbus is ENABLED at once.
    assert describe(dynamodb, name) == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }


def test_change_rules(dynamodb, table, clock):
    name = table()
    enable(dynamodb, name)
    # text as observed on AWS
    with aws_error(VE, "Time to live has been modified multiple times within a fixed interval"):
        enable(dynamodb, name, enabled=False)
    clock.advance(HOUR)
    # text as observed on AWS
    with aws_error(VE, "TimeToLive is already enabled"):
        enable(dynamodb, name)
    # text as observed on AWS
    with aws_error(
        VE, "TimeToLive is active on a different AttributeName: current AttributeName is exp"
    ):
        enable(dynamodb, name, "other")
    out = enable(dynamodb, name, enabled=False)
    assert out["TimeToLiveSpecification"] == {"AttributeName": "exp", "Enabled": False}
    assert describe(dynamodb, name) == {"TimeToLiveStatus": "DISABLED"}
    clock.advance(HOUR)
    # text as observed on AWS
    with aws_error(VE, "TimeToLive is already disabled"):
        enable(dynamodb, name, enabled=False)


def test_errors(dynamodb, endpoint):
    with aws_error("ResourceNotFoundException", "Requested resource not found: Table: nope-ttl not found"):
        enable(dynamodb, "nope-ttl")
    with aws_error("ResourceNotFoundException", "Requested resource not found: Table: nope-ttl not found"):
        dynamodb.describe_time_to_live(TableName="nope-ttl")
    # boto3 refuses these itself, so they go raw.
    cases = [
        (
            {"TableName": "nope-ttl", "TimeToLiveSpecification": {"AttributeName": "", "Enabled": True}},
            "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' "
            "failed to satisfy constraint: Member must have length greater than or equal to 1",
        ),
        (
            {"TableName": "nope-ttl", "TimeToLiveSpecification": {"AttributeName": "exp"}},
            "1 validation error detected: Value null at 'timeToLiveSpecification.enabled' "
            "failed to satisfy constraint: Member must not be null",
        ),
        (
            {"TableName": "nope-ttl"},
            "1 validation error detected: Value null at 'timeToLiveSpecification' "
            "failed to satisfy constraint: Member must not be null",
        ),
    ]
    for body, message in cases:
        status, answer, _ = raw_request(endpoint, "UpdateTimeToLive", body)
        assert status == 400, body
        assert answer["__type"].endswith("ValidationException"), answer
        assert answer["message"] == message, answer


def test_expired_items_are_deleted_with_their_index_entries(dynamodb, table, clock):
    name = table(
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "owner", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byOwner",
                "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    enable(dynamodb, name)
    now = clock()
    rows = {
        "soon": {"N": str(now + 60)},
        "later": {"N": str(now + 10 * HOUR)},
        "string": {"S": str(now - 10)},
        "ancient": {"N": str(now - 6 * 365 * 24 * HOUR)},
        "none": None,
    }
    for pk, exp in rows.items():
        item = {"pk": {"S": pk}, "owner": {"S": "ann"}}
        if exp is not None:
            item["exp"] = exp
        dynamodb.put_item(TableName=name, Item=item)
    clock.advance(120)
    expected = ["ancient", "later", "none", "string"]
    wait_for_keys(dynamodb, name, expected)
    index = dynamodb.query(
        TableName=name,
        IndexName="byOwner",
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": "ann"}},
    )["Items"]
    assert sorted(i["pk"]["S"] for i in index) == expected


def test_disabling_stops_expiry(dynamodb, table, clock):
    name = table()
    enable(dynamodb, name)
    clock.advance(HOUR)
    enable(dynamodb, name, enabled=False)
    now = clock()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "kept"}, "exp": {"N": str(now - 5)}})
    clock.advance(60)
    time.sleep(1.2)
    assert keys_of(dynamodb, name) == ["kept"]
