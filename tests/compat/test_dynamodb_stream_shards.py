"""DynamoDB Streams shards through unmodified boto3: shards roll over about
every four hours (moved with POST /_nimbus/clock/advance), a closed shard has
an EndingSequenceNumber and its child names it as ParentShardId, DescribeStream
lists shards oldest first and pages through them, iterators work per shard and
a closed shard's iterator ends, and a shard whose records are all trimmed
(24 hours) is no longer listed.

The clock moves by hours, so this module runs on a nimbus of its own.
"""

import time

import pytest
from botocore.exceptions import ClientError
from compat_util import advance_clock
from conftest import own_nimbus, _CONFIG, _session, unique_name, wait_active

HOUR = 3600


@pytest.fixture(scope="module")
def endpoint():
    yield from own_nimbus()


@pytest.fixture(scope="module")
def dynamodb(endpoint):
    return _session().client("dynamodb", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="module")
def streams(endpoint):
    return _session().client("dynamodbstreams", endpoint_url=endpoint, config=_CONFIG)


def error(exc_info):
    err = exc_info.value.response["Error"]
    return err["Code"], err["Message"]


def stream_table(dynamodb):
    name = unique_name("shards")
    out = dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    wait_active(dynamodb, name)
    return name, out["TableDescription"]["LatestStreamArn"]


def put(dynamodb, name, *keys):
    for k in keys:
        dynamodb.put_item(TableName=name, Item={"pk": {"S": k}})


def shards(streams, arn):
    return streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]


def iterator(streams, arn, shard, kind="TRIM_HORIZON", **kwargs):
    return streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **kwargs
    )["ShardIterator"]


def keys(records):
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]


def read_shard(streams, arn, shard):
    """Every record of a closed shard, following NextShardIterator to its end."""
    it, out = iterator(streams, arn, shard), []
    while it:
        page = streams.get_records(ShardIterator=it)
        out.extend(page["Records"])
        it = page.get("NextShardIterator")
    return out


def test_shards_roll_over_with_lineage(endpoint, dynamodb, streams):
    name, arn = stream_table(dynamodb)
    put(dynamodb, name, "a", "b")
    [first] = shards(streams, arn)
    parent = first["ShardId"]
    assert "ParentShardId" not in first
    assert "EndingSequenceNumber" not in first["SequenceNumberRange"]

    # Just short of four hours the shard is still open...
    advance_clock(endpoint, 4 * HOUR - 60)
    put(dynamodb, name, "c")
    assert [s["ShardId"] for s in shards(streams, arn)] == [parent]
    waiting = streams.get_records(ShardIterator=iterator(streams, arn, parent), Limit=3)
    assert keys(waiting["Records"]) == ["a", "b", "c"]
    # ...past it, the next record opens a child.
    advance_clock(endpoint, 120)
    put(dynamodb, name, "d", "e")
    old, new = shards(streams, arn)
    assert old["ShardId"] == parent
    assert new["ParentShardId"] == parent
    assert new["ShardId"] != parent
    for shard_id in (parent, new["ShardId"]):
        prefix, digits, hex_part = shard_id.split("-")
        assert prefix == "shardId" and len(digits) == 20 and digits.isdigit()
        assert len(hex_part) == 8 and int(hex_part, 16) >= 0

    # The parent is closed at its last record; the child starts after it.
    parent_records = read_shard(streams, arn, parent)
    assert keys(parent_records) == ["a", "b", "c"]
    seqs = [r["dynamodb"]["SequenceNumber"] for r in parent_records]
    assert old["SequenceNumberRange"] == {
        "StartingSequenceNumber": seqs[0],
        "EndingSequenceNumber": seqs[2],
    }
    child_page = streams.get_records(ShardIterator=iterator(streams, arn, new["ShardId"]))
    assert keys(child_page["Records"]) == ["d", "e"]
    assert "NextShardIterator" in child_page, "an open shard goes on"
    assert new["SequenceNumberRange"] == {
        "StartingSequenceNumber": child_page["Records"][0]["dynamodb"]["SequenceNumber"]
    }

    # An iterator from before the rollover reaches the parent's end and stops.
    page = streams.get_records(ShardIterator=waiting["NextShardIterator"])
    assert page["Records"] == [] and "NextShardIterator" not in page
    # LATEST of a closed shard reads nothing and ends.
    page = streams.get_records(ShardIterator=iterator(streams, arn, parent, "LATEST"))
    assert page["Records"] == [] and "NextShardIterator" not in page
    # AT_SEQUENCE_NUMBER works within its shard only.
    at = iterator(streams, arn, parent, "AT_SEQUENCE_NUMBER", SequenceNumber=seqs[1])
    assert keys(streams.get_records(ShardIterator=at)["Records"]) == ["b", "c"]
    child_seq = child_page["Records"][0]["dynamodb"]["SequenceNumber"]
    with pytest.raises(ClientError) as e:
        iterator(streams, arn, parent, "AT_SEQUENCE_NUMBER", SequenceNumber=child_seq)
    assert error(e) == (
        "ValidationException",
        f"Invalid SequenceNumber: {child_seq} is not in shard {parent}",
    )

    # Paging through the shards.
    page = streams.describe_stream(StreamArn=arn, Limit=1)["StreamDescription"]
    assert [s["ShardId"] for s in page["Shards"]] == [parent]
    assert page["LastEvaluatedShardId"] == parent
    page = streams.describe_stream(StreamArn=arn, Limit=1, ExclusiveStartShardId=parent)[
        "StreamDescription"
    ]
    assert [s["ShardId"] for s in page["Shards"]] == [new["ShardId"]]
    assert "LastEvaluatedShardId" not in page

    # 24 hours after the parent's last record it is trimmed and no longer
    # listed; the child still names it.
    advance_clock(endpoint, 24 * HOUR - 60)
    deadline = time.monotonic() + 10
    while len(shards(streams, arn)) != 1:
        assert time.monotonic() < deadline, "the trimmed shard is still listed"
        time.sleep(0.05)
    [only] = shards(streams, arn)
    assert only["ShardId"] == new["ShardId"] and only["ParentShardId"] == parent
    with pytest.raises(ClientError) as e:
        iterator(streams, arn, parent)
    assert error(e) == (
        "ResourceNotFoundException",
        "Requested resource not found: Shard does not exist",
    )


def test_unknown_shard_is_not_found(dynamodb, streams):
    _, arn = stream_table(dynamodb)
    with pytest.raises(ClientError) as e:
        iterator(streams, arn, "shardId-00000000000000000000-00000000")
    assert error(e) == (
        "ResourceNotFoundException",
        "Requested resource not found: Shard does not exist",
    )
