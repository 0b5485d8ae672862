"""DynamoDB Streams through unmodified boto3 (the "dynamodbstreams" client):
StreamSpecification on CreateTable / UpdateTable, records from item writes in
AWS's format, the four iterator types, paging, and the errors.

Iterator expiry moves the server's clock (POST /_nimbus/clock/advance), so
this module runs on a nimbus of its own, like the TTL module.
"""

import json
import re
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError
from conftest import own_nimbus, _CONFIG, _session, _start_nimbus, unique_name, wait_active

VE = "ValidationException"


@pytest.fixture(scope="module")
def endpoint():
    yield from own_nimbus()


@pytest.fixture(scope="module")
def dynamodb(endpoint):
    return _session().client("dynamodb", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="module")
def streams(endpoint):
    return _session().client("dynamodbstreams", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture
def stream_table(dynamodb):
    """stream_table(view or None) -> (name, latest stream ARN or None)."""

    def make(view="NEW_AND_OLD_IMAGES"):
        name = unique_name("streams")
        kwargs = {}
        if view is not None:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
        out = dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            **kwargs,
        )
        wait_active(dynamodb, name)
        return name, out["TableDescription"].get("LatestStreamArn")

    return make


def error(exc_info):
    err = exc_info.value.response["Error"]
    return err["Code"], err["Message"]


def shard_of(streams, arn):
    return streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]


def records_from(streams, arn, kind="TRIM_HORIZON", **kwargs):
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_of(streams, arn), ShardIteratorType=kind, **kwargs
    )["ShardIterator"]
    out = []
    while it:
        page = streams.get_records(ShardIterator=it)
        if not page["Records"]:
            break
        out.extend(page["Records"])
        it = page.get("NextShardIterator")
    return out


def test_create_table_with_a_stream_describes_it(dynamodb, stream_table, account_id="000000000000"):
    name, arn = stream_table("NEW_IMAGE")
    assert re.fullmatch(
        rf"arn:aws:dynamodb:us-east-1:\d{{12}}:table/{name}/stream/"
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}",
        arn,
    )
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert table["LatestStreamArn"] == arn
    assert arn.endswith("/stream/" + table["LatestStreamLabel"])


def test_update_table_stream_rules(dynamodb, streams, stream_table):
    name, arn = stream_table("KEYS_ONLY")
    with pytest.raises(ClientError) as e:
        dynamodb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    assert error(e) == (VE, f"Table already has an enabled stream: TableName: {name}")
    dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in table
    assert table["LatestStreamArn"] == arn
    with pytest.raises(ClientError) as e:
        dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert error(e) == (VE, f"Table has no stream to disable: TableName: {name}")
    with pytest.raises(ClientError) as e:
        dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True})
    assert error(e) == (
        VE,
        "One or more parameter values were invalid: If stream is being enabled then UpdateViewType is required",
    )
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in desc["Shards"][0]["SequenceNumberRange"]
    out = dynamodb.update_table(
        TableName=name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"},
    )
    assert out["TableDescription"]["LatestStreamArn"] != arn


def test_records_in_aws_format(dynamodb, streams, stream_table):
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})  # no change
    dynamodb.update_item(
        TableName=name,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    dynamodb.delete_item(TableName=name, Key={"pk": {"S": "a"}})
    records = records_from(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    for r in records:
        assert r["eventVersion"] == "1.1"
        assert r["eventSource"] == "aws:dynamodb"
        assert r["awsRegion"] == "us-east-1"
        assert len(r["eventID"]) == 32
        d = r["dynamodb"]
        assert d["Keys"] == {"pk": {"S": "a"}}
        assert d["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert d["SizeBytes"] > 0
        assert len(d["SequenceNumber"]) >= 21 and d["SequenceNumber"].isdigit()
        assert d["ApproximateCreationDateTime"] is not None
    insert, modify, remove = (r["dynamodb"] for r in records)
    assert "OldImage" not in insert and insert["NewImage"]["v"] == {"N": "1"}
    assert modify["OldImage"]["v"] == {"N": "1"} and modify["NewImage"]["v"] == {"N": "2"}
    assert "NewImage" not in remove and remove["OldImage"]["v"] == {"N": "2"}
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


def test_iterator_types_and_paging(dynamodb, streams, stream_table):
    name, arn = stream_table("KEYS_ONLY")
    for i in range(4):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}})
    records = records_from(streams, arn)
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    keys = lambda rs: [r["dynamodb"]["Keys"]["pk"]["S"] for r in rs]  # noqa: E731
    assert keys(records) == ["k0", "k1", "k2", "k3"]
    assert keys(records_from(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=seqs[1])) == [
        "k1",
        "k2",
        "k3",
    ]
    assert keys(records_from(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=seqs[1])) == [
        "k2",
        "k3",
    ]
    assert records_from(streams, arn, "LATEST") == []
    shard = shard_of(streams, arn)
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    page = streams.get_records(ShardIterator=it, Limit=3)
    assert keys(page["Records"]) == ["k0", "k1", "k2"]
    page = streams.get_records(ShardIterator=page["NextShardIterator"], Limit=3)
    assert keys(page["Records"]) == ["k3"]


def test_list_streams_by_table_and_pages(streams, stream_table):
    names = [stream_table("NEW_IMAGE") for _ in range(3)]
    name, arn = names[1]
    listed = streams.list_streams(TableName=name)["Streams"]
    assert listed == [
        {"StreamArn": arn, "TableName": name, "StreamLabel": arn.rsplit("/", 1)[1]}
    ]
    seen, start = [], {}
    while True:
        page = streams.list_streams(Limit=1, **start)
        assert len(page["Streams"]) <= 1
        seen += [s["StreamArn"] for s in page["Streams"]]
        if "LastEvaluatedStreamArn" not in page:
            break
        start = {"ExclusiveStartStreamArn": page["LastEvaluatedStreamArn"]}
    assert {a for _, a in names} <= set(seen)


def test_streams_errors(streams, stream_table):
    name, arn = stream_table("KEYS_ONLY")
    shard = shard_of(streams, arn)
    missing = f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}-x/stream/2020-01-01T00:00:00.000"
    with pytest.raises(ClientError) as e:
        streams.describe_stream(StreamArn=missing)
    assert error(e) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Stream: {missing} not found",
    )
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="NOWHERE")
    assert error(e)[0] == VE
    assert "Member must satisfy enum value set" in error(e)[1]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=it, Limit=1001)
    assert error(e) == (
        VE,
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000",
    )
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=arn + "|garbage")
    assert error(e) == (VE, "Invalid ShardIterator")


def _advance(endpoint, seconds):
    request = urllib.request.Request(
        endpoint + "/_nimbus/clock/advance",
        data=json.dumps({"seconds": seconds}).encode(),
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


def test_iterators_expire_after_15_minutes(endpoint, streams, stream_table):
    name, arn = stream_table("KEYS_ONLY")
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_of(streams, arn), ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    _advance(endpoint, 16 * 60)
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=it)
    assert error(e)[0] == "ExpiredIteratorException"
