"""DynamoDB on-demand backups and point-in-time recovery through unmodified
boto3: CreateBackup, DescribeBackup, ListBackups, DeleteBackup,
RestoreTableFromBackup, UpdateContinuousBackups, DescribeContinuousBackups,
RestoreTableToPointInTime, and their errors.

Texts marked "as observed on AWS" come from published probes of the live
service; the others follow AWS's documented shapes.

Point-in-time tests separate writes in time with nimbus's test clock
(POST /_nimbus/clock/advance), so this module runs on a nimbus of its own.
"""

import re
import time

import pytest
from botocore.config import Config
from compat_util import advance_clock, aws_error
from conftest import _CONFIG, _session, own_nimbus, unique_name, wait_active

VE = "ValidationException"
ACCOUNT = "000000000000"
ARN_RE = re.compile(
    r"^arn:aws:dynamodb:us-east-1:000000000000:table/(?P<table>[^/]+)/backup/(?P<ms>\d{14})-[0-9a-f]{8}$"
)


@pytest.fixture(scope="module")
def endpoint():
    """This module's own server (see the module docstring)."""
    yield from own_nimbus()


@pytest.fixture(scope="module")
def dynamodb(endpoint):
    return _session().client("dynamodb", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="module")
def raw(endpoint):
    """A client that sends what botocore would refuse itself."""
    return _session().client(
        "dynamodb", endpoint_url=endpoint, config=_CONFIG.merge(Config(parameter_validation=False))
    )


def now_ms(endpoint):
    return advance_clock(endpoint, 0)["now"]


@pytest.fixture
def table(table):
    """table(gsi=False, lsi=False, **create_table_kwargs) -> name: a pk (S) / sk (N)
    table from the suite's factory (which deletes it after the test)."""

    def make(gsi=False, lsi=False, **kwargs):
        attrs = [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ]
        provisioned = "ProvisionedThroughput" in kwargs
        if gsi or lsi:
            attrs.append({"AttributeName": "g", "AttributeType": "S"})
        if gsi:
            kwargs["GlobalSecondaryIndexes"] = [
                gsi_spec("by-g", {"ProjectionType": "ALL"}, (3, 4) if provisioned else None),
                gsi_spec("by-g-keys", {"ProjectionType": "KEYS_ONLY"}, (1, 1) if provisioned else None),
            ]
        if lsi:
            kwargs["LocalSecondaryIndexes"] = [
                {
                    "IndexName": "pk-g",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "g", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
                }
            ]
        return table(range=("sk", "N"), AttributeDefinitions=attrs, **kwargs)

    return make


def gsi_spec(name, projection, throughput):
    spec = {
        "IndexName": name,
        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": projection,
    }
    if throughput:
        spec["ProvisionedThroughput"] = {"ReadCapacityUnits": throughput[0], "WriteCapacityUnits": throughput[1]}
    return spec


@pytest.fixture
def restored(dynamodb):
    """restored() -> a fresh target table name, deleted after the test."""
    names = []

    def make():
        name = unique_name("rs")
        names.append(name)
        return name

    yield make
    for name in names:
        try:
            dynamodb.delete_table(TableName=name)
        except dynamodb.exceptions.ResourceNotFoundException:
            pass


def fill(dynamodb, name, count, start=0, tag="v1"):
    for chunk in range(start, start + count, 25):
        dynamodb.batch_write_item(
            RequestItems={
                name: [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": f"p{i % 10}"},
                                "sk": {"N": str(i)},
                                "g": {"S": f"g{i % 3}"},
                                "v": {"S": f"{tag}-{i}"},
                            }
                        }
                    }
                    for i in range(chunk, min(chunk + 25, start + count))
                ]
            }
        )


def contents(dynamodb, name):
    items, start = {}, None
    while True:
        kwargs = {"TableName": name, "ConsistentRead": True}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = dynamodb.scan(**kwargs)
        for item in page["Items"]:
            items[(item["pk"]["S"], item["sk"]["N"])] = item
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def backup(dynamodb, name, backup_name="nightly"):
    return dynamodb.create_backup(TableName=name, BackupName=backup_name)["BackupDetails"]


# ---------------------------------------------------------------- backups


def test_create_describe_list_delete(dynamodb, table, endpoint):
    name = table()
    fill(dynamodb, name, 60)
    before = now_ms(endpoint)
    details = backup(dynamodb, name)
    after = now_ms(endpoint)
    m = ARN_RE.match(details["BackupArn"])
    assert m and m["table"] == name, details["BackupArn"]
    created_ms = round(details["BackupCreationDateTime"].timestamp() * 1000)
    assert before <= created_ms <= after
    assert int(m["ms"]) == created_ms
    desc_table = dynamodb.describe_table(TableName=name)["Table"]
    assert details["BackupName"] == "nightly"
    assert details["BackupStatus"] == "AVAILABLE"
    assert details["BackupType"] == "USER"
    assert details["BackupSizeBytes"] == desc_table["TableSizeBytes"] > 0
    assert "BackupExpiryDateTime" not in details

    desc = dynamodb.describe_backup(BackupArn=details["BackupArn"])["BackupDescription"]
    assert desc["BackupDetails"] == details
    source = desc["SourceTableDetails"]
    assert source["TableName"] == name
    assert source["TableId"] == desc_table["TableId"]
    assert source["TableArn"] == desc_table["TableArn"]
    assert source["ItemCount"] == 60
    assert source["TableSizeBytes"] == details["BackupSizeBytes"]
    assert source["KeySchema"] == desc_table["KeySchema"]
    assert source["TableCreationDateTime"] == desc_table["CreationDateTime"]
    assert source["BillingMode"] == "PAY_PER_REQUEST"
    assert source["ProvisionedThroughput"] == {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    # A table without indexes, stream or TTL records no features.
    assert desc["SourceTableFeatureDetails"] == {}

    listed = dynamodb.list_backups(TableName=name)["BackupSummaries"]
    assert listed == [
        {
            "TableName": name,
            "TableId": desc_table["TableId"],
            "TableArn": desc_table["TableArn"],
            "BackupArn": details["BackupArn"],
            "BackupName": "nightly",
            "BackupCreationDateTime": details["BackupCreationDateTime"],
            "BackupStatus": "AVAILABLE",
            "BackupType": "USER",
            "BackupSizeBytes": details["BackupSizeBytes"],
        }
    ]
    # By table ARN too.
    assert dynamodb.list_backups(TableName=desc_table["TableArn"])["BackupSummaries"] == listed

    deleted = dynamodb.delete_backup(BackupArn=details["BackupArn"])["BackupDescription"]
    assert deleted["BackupDetails"]["BackupStatus"] == "DELETED"
    assert deleted["SourceTableDetails"]["TableName"] == name
    # text as observed on AWS
    with aws_error("BackupNotFoundException", f"Backup not found: {details['BackupArn']}"):
        dynamodb.describe_backup(BackupArn=details["BackupArn"])
    with aws_error("BackupNotFoundException", f"Backup not found: {details['BackupArn']}"):
        dynamodb.delete_backup(BackupArn=details["BackupArn"])
    assert dynamodb.list_backups(TableName=name)["BackupSummaries"] == []


def test_backup_records_indexes_stream_and_ttl(dynamodb, table):
    name = table(
        gsi=True,
        lsi=True,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 6},
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True}
    )
    details = backup(dynamodb, name)
    desc = dynamodb.describe_backup(BackupArn=details["BackupArn"])["BackupDescription"]
    assert desc["SourceTableDetails"]["BillingMode"] == "PROVISIONED"
    assert desc["SourceTableDetails"]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 5,
        "WriteCapacityUnits": 6,
    }
    features = desc["SourceTableFeatureDetails"]
    assert features["LocalSecondaryIndexes"] == [
        {
            "IndexName": "pk-g",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "g", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
        }
    ]
    assert [g["IndexName"] for g in features["GlobalSecondaryIndexes"]] == ["by-g", "by-g-keys"]
    assert features["GlobalSecondaryIndexes"][0] == {
        "IndexName": "by-g",
        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    }
    assert features["StreamDescription"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert features["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    dynamodb.delete_backup(BackupArn=details["BackupArn"])


def test_list_backups_filters_and_pages(dynamodb, table, endpoint):
    name, other = table(), table()
    arns = []
    for i in range(4):
        arns.append(backup(dynamodb, name, f"b{i}x")["BackupArn"])
        advance_clock(endpoint, 10)
    other_arn = backup(dynamodb, other)["BackupArn"]
    times = [dynamodb.describe_backup(BackupArn=a)["BackupDescription"]["BackupDetails"]["BackupCreationDateTime"] for a in arns]

    def listed(**kwargs):
        return [s["BackupArn"] for s in dynamodb.list_backups(TableName=name, **kwargs)["BackupSummaries"]]

    assert listed() == arns
    assert other_arn not in listed()
    assert other_arn in [s["BackupArn"] for s in dynamodb.list_backups()["BackupSummaries"]]
    # [lower, upper): lower bound inclusive, upper exclusive.
    assert listed(TimeRangeLowerBound=times[1], TimeRangeUpperBound=times[3]) == arns[1:3]
    assert listed(TimeRangeLowerBound=times[3]) == arns[3:]
    assert listed(TimeRangeUpperBound=times[0]) == []
    # text as observed on AWS
    with aws_error(VE, "Time range lower bound must be less than or equal to upper bound"):
        dynamodb.list_backups(TimeRangeLowerBound=times[2], TimeRangeUpperBound=times[1])
    # nimbus keeps USER backups only; the default filter is USER, as on AWS.
    assert listed(BackupType="USER") == arns
    assert listed(BackupType="ALL") == arns
    assert listed(BackupType="SYSTEM") == []
    assert listed(BackupType="AWS_BACKUP") == []

    page = dynamodb.list_backups(TableName=name, Limit=3)
    assert [s["BackupArn"] for s in page["BackupSummaries"]] == arns[:3]
    assert page["LastEvaluatedBackupArn"] == arns[2]
    page = dynamodb.list_backups(TableName=name, Limit=3, ExclusiveStartBackupArn=arns[2])
    assert [s["BackupArn"] for s in page["BackupSummaries"]] == arns[3:]
    assert "LastEvaluatedBackupArn" not in page
    # Exactly Limit matches: no LastEvaluatedBackupArn (as observed on AWS).
    assert "LastEvaluatedBackupArn" not in dynamodb.list_backups(TableName=name, Limit=4)
    # The cursor is a position: a deleted backup's ARN still works.
    dynamodb.delete_backup(BackupArn=arns[1])
    assert listed(ExclusiveStartBackupArn=arns[1]) == arns[2:]
    # A table that does not exist has no backups, not an error.
    assert listed_nothing(dynamodb)
    for arn in arns[:1] + arns[2:] + [other_arn]:
        dynamodb.delete_backup(BackupArn=arn)


def listed_nothing(dynamodb):
    return dynamodb.list_backups(TableName="no-such-table-anywhere")["BackupSummaries"] == []


def test_list_backups_bad_input(raw):
    for limit, constraint in [
        (0, "Member must have value greater than or equal to 1"),
        (101, "Member must have value less than or equal to 100"),
    ]:
        with aws_error(
            VE,
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: {constraint}",
        ):
            raw.list_backups(Limit=limit)
    with aws_error(
        VE,
        "1 validation error detected: Value 'BOGUS' at 'backupType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [USER, SYSTEM, AWS_BACKUP, ALL]",
    ):
        raw.list_backups(BackupType="BOGUS")
    with aws_error(
        VE,
        "1 validation error detected: Value 'arn:short' at 'exclusiveStartBackupArn' failed to satisfy "
        "constraint: Member must have length greater than or equal to 37",
    ):
        raw.list_backups(ExclusiveStartBackupArn="arn:short")


def test_backup_errors(dynamodb, raw, table):
    # text as observed on AWS
    with aws_error("TableNotFoundException", "Table not found: no-such-table"):
        dynamodb.create_backup(TableName="no-such-table", BackupName="nightly")
    with aws_error(
        VE,
        "1 validation error detected: Value 'x' at 'backupName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3",
    ):
        raw.create_backup(TableName="no-such-table", BackupName="x")
    with aws_error(
        VE,
        "2 validation errors detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null; Value 'bad name!' at 'backupName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    ):
        raw.create_backup(BackupName="bad name!")
    name = table()
    table_arn = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}"
    # texts as observed on AWS
    with aws_error(VE, "Invalid Backup ARN"):
        dynamodb.describe_backup(BackupArn=table_arn)
    with aws_error(VE, "Invalid Backup ARN"):
        dynamodb.delete_backup(BackupArn="x" * 48)
    with aws_error(VE, "BackupArn is not valid"):
        dynamodb.describe_backup(BackupArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:table/t/backup/01714564800000-1a2b3c4d")
    missing = f"{table_arn}/backup/01714564800000-1a2b3c4d"
    with aws_error("BackupNotFoundException", f"Backup not found: {missing}"):
        dynamodb.describe_backup(BackupArn=missing)
    with aws_error(
        VE,
        "1 validation error detected: Value null at 'backupArn' failed to satisfy constraint: "
        "Member must not be null",
    ):
        raw.describe_backup()


def test_a_backup_is_a_snapshot_and_outlives_its_table(dynamodb, table, restored):
    name = table(gsi=True)
    fill(dynamodb, name, 120)
    snapshot = contents(dynamodb, name)
    arn = backup(dynamodb, name)["BackupArn"]
    # Later writes are not in the backup.
    fill(dynamodb, name, 30, start=120, tag="later")
    dynamodb.delete_item(TableName=name, Key={"pk": {"S": "p0"}, "sk": {"N": "0"}})
    dynamodb.delete_table(TableName=name)
    # The backup survives DeleteTable (as observed on AWS).
    assert dynamodb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupStatus"] == "AVAILABLE"
    assert [s["BackupArn"] for s in dynamodb.list_backups(TableName=name)["BackupSummaries"]] == [arn]
    target = restored()
    dynamodb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
    wait_active(dynamodb, target)
    assert contents(dynamodb, target) == snapshot
    dynamodb.delete_backup(BackupArn=arn)


def test_restore_from_backup(dynamodb, table, restored):
    name = table(
        gsi=True,
        lsi=True,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        Tags=[{"Key": "team", "Value": "a"}],
        DeletionProtectionEnabled=True,
    )
    fill(dynamodb, name, 700)
    source_before = contents(dynamodb, name)
    source_desc = dynamodb.describe_table(TableName=name)["Table"]
    details = backup(dynamodb, name)
    target = restored()
    out = dynamodb.restore_table_from_backup(TargetTableName=target, BackupArn=details["BackupArn"])["TableDescription"]
    assert out["TableName"] == target
    assert out["TableStatus"] == "CREATING"
    assert out["RestoreSummary"] == {
        "SourceBackupArn": details["BackupArn"],
        "SourceTableArn": source_desc["TableArn"],
        "RestoreDateTime": details["BackupCreationDateTime"],
        "RestoreInProgress": True,
    }
    assert out["TableArn"] == f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{target}"
    assert out["TableId"] != source_desc["TableId"]
    assert target in dynamodb.list_tables()["TableNames"]
    desc = wait_active(dynamodb, target)
    # RestoreSummary goes once the table is ACTIVE (as observed on AWS).
    assert "RestoreSummary" not in desc
    assert desc["ItemCount"] == 700
    assert desc["TableSizeBytes"] == source_desc["TableSizeBytes"]
    assert desc["KeySchema"] == source_desc["KeySchema"]
    assert sorted(a["AttributeName"] for a in desc["AttributeDefinitions"]) == ["g", "pk", "sk"]
    assert [g["IndexName"] for g in desc["GlobalSecondaryIndexes"]] == ["by-g", "by-g-keys"]
    assert all(g["ItemCount"] == 700 and g["IndexStatus"] == "ACTIVE" for g in desc["GlobalSecondaryIndexes"])
    assert desc["LocalSecondaryIndexes"][0]["IndexName"] == "pk-g"
    assert desc["LocalSecondaryIndexes"][0]["ItemCount"] == 700
    assert contents(dynamodb, target) == source_before
    # Indexes answer.
    q = dynamodb.query(
        TableName=target,
        IndexName="by-g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "g1"}},
        Select="COUNT",
    )
    assert q["Count"] == len([i for i in range(700) if i % 3 == 1])
    # Not restored, as on AWS: stream, tags, deletion protection, TTL, PITR.
    assert "StreamSpecification" not in desc and "LatestStreamArn" not in desc
    assert desc["DeletionProtectionEnabled"] is False
    assert dynamodb.list_tags_of_resource(ResourceArn=desc["TableArn"])["Tags"] == []
    pitr = dynamodb.describe_continuous_backups(TableName=target)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
    # The restored table is an ordinary table; the source is untouched.
    dynamodb.put_item(TableName=target, Item={"pk": {"S": "new"}, "sk": {"N": "1"}})
    assert contents(dynamodb, name) == source_before
    dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
    dynamodb.delete_backup(BackupArn=details["BackupArn"])


def test_restore_with_overrides(dynamodb, table, restored):
    name = table(gsi=True, lsi=True)
    fill(dynamodb, name, 50)
    arn = backup(dynamodb, name)["BackupArn"]
    target = restored()
    dynamodb.restore_table_from_backup(
        TargetTableName=target,
        BackupArn=arn,
        BillingModeOverride="PROVISIONED",
        ProvisionedThroughputOverride={"ReadCapacityUnits": 7, "WriteCapacityUnits": 8},
        # Keep one GSI under a new name (same keys and projection), drop the
        # other, and drop every LSI.
        GlobalSecondaryIndexOverride=[
            {
                "IndexName": "renamed",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
            }
        ],
        LocalSecondaryIndexOverride=[],
    )
    desc = wait_active(dynamodb, target)
    assert desc["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 8
    assert [g["IndexName"] for g in desc["GlobalSecondaryIndexes"]] == ["renamed"]
    assert desc["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    assert desc["GlobalSecondaryIndexes"][0]["ItemCount"] == 50
    assert "LocalSecondaryIndexes" not in desc
    assert contents(dynamodb, target) == contents(dynamodb, name)

    # Back to on demand, indexes as recorded.
    target2 = restored()
    dynamodb.restore_table_from_backup(TargetTableName=target2, BackupArn=arn, BillingModeOverride="PAY_PER_REQUEST")
    desc = wait_active(dynamodb, target2)
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [g["IndexName"] for g in desc["GlobalSecondaryIndexes"]] == ["by-g", "by-g-keys"]
    assert desc["LocalSecondaryIndexes"][0]["IndexName"] == "pk-g"
    dynamodb.delete_backup(BackupArn=arn)


def test_restore_errors(dynamodb, raw, table, restored):
    name = table(gsi=True)
    arn = backup(dynamodb, name)["BackupArn"]
    # texts as observed on AWS
    with aws_error("TableAlreadyExistsException", f"Table already exists: {name}"):
        dynamodb.restore_table_from_backup(TargetTableName=name, BackupArn=arn)
    missing = arn[:-8] + "00000000"
    with aws_error("BackupNotFoundException", f"Backup not found: {missing}"):
        dynamodb.restore_table_from_backup(TargetTableName=restored(), BackupArn=missing)
    with aws_error(VE, "Invalid Backup ARN"):
        dynamodb.restore_table_from_backup(
            TargetTableName=restored(), BackupArn=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}"
        )
    with aws_error(VE, "Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED"):
        dynamodb.restore_table_from_backup(
            TargetTableName=restored(),
            BackupArn=arn,
            ProvisionedThroughputOverride={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        )
    with aws_error(VE, "Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED"):
        dynamodb.restore_table_from_backup(TargetTableName=restored(), BackupArn=arn, BillingModeOverride="PROVISIONED")
    with aws_error(
        VE,
        "Index fresh does not match a secondary index that existed in the source table and cannot be "
        "created during the restore operation",
    ):
        dynamodb.restore_table_from_backup(
            TargetTableName=restored(),
            BackupArn=arn,
            GlobalSecondaryIndexOverride=[
                {
                    "IndexName": "fresh",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
                }
            ],
        )
    with aws_error(
        VE,
        "1 validation error detected: Value 'BOGUS' at 'billingModeOverride' failed to satisfy constraint: "
        "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
    ):
        raw.restore_table_from_backup(TargetTableName=restored(), BackupArn=arn, BillingModeOverride="BOGUS")
    with aws_error(
        VE,
        "1 validation error detected: Value 'bad name!' at 'targetTableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    ):
        raw.restore_table_from_backup(TargetTableName="bad name!", BackupArn=arn)
    # Nothing was created by any of these.
    assert [n for n in dynamodb.list_tables()["TableNames"] if n.startswith("rs-")] == []
    dynamodb.delete_backup(BackupArn=arn)


# ------------------------------------------------------ point-in-time recovery


def pitr_description(dynamodb, name):
    return dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]


def set_pitr(dynamodb, name, enabled, days=None):
    spec = {"PointInTimeRecoveryEnabled": enabled}
    if days is not None:
        spec["RecoveryPeriodInDays"] = days
    return dynamodb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=spec)[
        "ContinuousBackupsDescription"
    ]


def seconds(dt):
    return dt.timestamp()


def test_continuous_backups_settings(dynamodb, raw, table, endpoint):
    name = table()
    # As observed on AWS: a disabled table shows only the status.
    assert pitr_description(dynamodb, name) == {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
    }
    before = now_ms(endpoint)
    out = set_pitr(dynamodb, name, True)
    after = now_ms(endpoint)
    pitr = out["PointInTimeRecoveryDescription"]
    assert out["ContinuousBackupsStatus"] == "ENABLED"
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr["RecoveryPeriodInDays"] == 35
    enabled_at = seconds(pitr["EarliestRestorableDateTime"])
    assert before / 1000 - 0.001 <= enabled_at <= after / 1000 + 0.001
    # nimbus: the latest restorable time is now (see docs/compatibility.md).
    assert seconds(pitr["LatestRestorableDateTime"]) >= enabled_at
    advance_clock(endpoint, 600)
    pitr = pitr_description(dynamodb, name)["PointInTimeRecoveryDescription"]
    assert seconds(pitr["EarliestRestorableDateTime"]) == enabled_at
    assert seconds(pitr["LatestRestorableDateTime"]) >= enabled_at + 600
    # The period changes in place; enabling again keeps the enable time.
    pitr = set_pitr(dynamodb, name, True, 7)["PointInTimeRecoveryDescription"]
    assert pitr["RecoveryPeriodInDays"] == 7
    assert seconds(pitr["EarliestRestorableDateTime"]) == enabled_at
    # text as observed on AWS
    with aws_error(VE, "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time recovery."):
        set_pitr(dynamodb, name, False, 7)
    with aws_error(
        VE,
        "1 validation error detected: Value '36' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' "
        "failed to satisfy constraint: Member must have value less than or equal to 35",
    ):
        set_pitr(dynamodb, name, True, 36)
    with aws_error(
        VE,
        "1 validation error detected: Value '0' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' "
        "failed to satisfy constraint: Member must have value greater than or equal to 1",
    ):
        raw.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 0},
        )
    with aws_error(
        VE,
        "1 validation error detected: Value null at 'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' "
        "failed to satisfy constraint: Member must not be null",
    ):
        raw.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={})
    assert set_pitr(dynamodb, name, False)["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
    # Disabling again is fine; re-enabling starts a new window at the default period.
    set_pitr(dynamodb, name, False)
    advance_clock(endpoint, 5)
    pitr = set_pitr(dynamodb, name, True)["PointInTimeRecoveryDescription"]
    assert pitr["RecoveryPeriodInDays"] == 35
    assert seconds(pitr["EarliestRestorableDateTime"]) > enabled_at + 600
    # The table can be named by ARN.
    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    assert pitr_description(dynamodb, arn)["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    # texts as observed on AWS
    with aws_error("TableNotFoundException", "Table not found: no-such-table"):
        pitr_description(dynamodb, "no-such-table")
    with aws_error("TableNotFoundException", "Table not found: no-such-table"):
        set_pitr(dynamodb, "no-such-table", True)


def test_restore_to_a_point_in_time_undoes_later_changes(dynamodb, table, restored, endpoint):
    name = table(gsi=True)
    fill(dynamodb, name, 400)
    set_pitr(dynamodb, name, True)
    advance_clock(endpoint, 5)
    # Changes inside the window, before the restore time.
    fill(dynamodb, name, 50, start=400, tag="in-window")
    dynamodb.delete_item(TableName=name, Key={"pk": {"S": "p1"}, "sk": {"N": "1"}})
    advance_clock(endpoint, 5)
    at = now_ms(endpoint) / 1000
    expected = contents(dynamodb, name)
    advance_clock(endpoint, 5)
    # After it: overwrites, updates, deletes, new items (one deleted again).
    fill(dynamodb, name, 100, start=0, tag="v2")
    for i in range(100, 130):
        dynamodb.update_item(
            TableName=name,
            Key={"pk": {"S": f"p{i % 10}"}, "sk": {"N": str(i)}},
            UpdateExpression="SET v = :v, extra = :x REMOVE g",
            ExpressionAttributeValues={":v": {"S": "updated"}, ":x": {"N": "1"}},
        )
    for i in range(130, 180):
        dynamodb.delete_item(TableName=name, Key={"pk": {"S": f"p{i % 10}"}, "sk": {"N": str(i)}})
    fill(dynamodb, name, 40, start=1000, tag="late")
    dynamodb.delete_item(TableName=name, Key={"pk": {"S": "p0"}, "sk": {"N": "1000"}})
    dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": name, "Item": {"pk": {"S": "tx"}, "sk": {"N": "1"}}}}]
    )
    current = contents(dynamodb, name)
    assert current != expected

    target = restored()
    out = dynamodb.restore_table_to_point_in_time(
        SourceTableName=name, TargetTableName=target, RestoreDateTime=at
    )["TableDescription"]
    assert out["TableStatus"] == "CREATING"
    summary = out["RestoreSummary"]
    assert summary["SourceTableArn"] == f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}"
    assert "SourceBackupArn" not in summary
    assert summary["RestoreInProgress"] is True
    assert abs(seconds(summary["RestoreDateTime"]) - at) < 0.002
    desc = wait_active(dynamodb, target)
    assert contents(dynamodb, target) == expected
    assert desc["ItemCount"] == len(expected)
    assert desc["GlobalSecondaryIndexes"][0]["ItemCount"] == len([i for i in expected.values() if "g" in i])
    # The source is untouched by the restore.
    assert contents(dynamodb, name) == current

    # The latest restorable time is the current state.
    latest = restored()
    dynamodb.restore_table_to_point_in_time(
        SourceTableArn=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}",
        TargetTableName=latest,
        UseLatestRestorableTime=True,
    )
    wait_active(dynamodb, latest)
    assert contents(dynamodb, latest) == current


def test_restore_at_the_enable_time_holds_what_was_there(dynamodb, table, restored, endpoint):
    name = table()
    fill(dynamodb, name, 30)
    pitr = set_pitr(dynamodb, name, True)["PointInTimeRecoveryDescription"]
    expected = contents(dynamodb, name)
    advance_clock(endpoint, 5)
    fill(dynamodb, name, 30, start=30)
    target = restored()
    dynamodb.restore_table_to_point_in_time(
        SourceTableName=name, TargetTableName=target, RestoreDateTime=pitr["EarliestRestorableDateTime"]
    )
    wait_active(dynamodb, target)
    assert contents(dynamodb, target) == expected


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def test_point_in_time_restore_errors(dynamodb, raw, table, restored, endpoint):
    name = table()
    target = restored()
    # text as observed on AWS
    with aws_error("PointInTimeRecoveryUnavailableException", f"Point in time recovery is not enabled for table '{name}'"):
        dynamodb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=target, UseLatestRestorableTime=True)
    with aws_error("TableNotFoundException", "Table not found: no-such-table"):
        dynamodb.restore_table_to_point_in_time(
            SourceTableName="no-such-table", TargetTableName=target, UseLatestRestorableTime=True
        )
    with aws_error(
        VE,
        "Invalid Request: Both RestoreDateTime and UseLatestRestorableTime cannot be set for point-in-time "
        "restore request. Please specify either RestoreDateTime time or UseLatestRestorableTime",
    ):
        dynamodb.restore_table_to_point_in_time(
            SourceTableName=name, TargetTableName=target, UseLatestRestorableTime=True, RestoreDateTime=1
        )
    for kwargs in [{}, {"UseLatestRestorableTime": False}]:
        with aws_error(
            VE,
            "Invalid Request: Either one of RestoreDateTime or UseLatestRestorableTime must be specified, but not both",
        ):
            dynamodb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=target, **kwargs)
    with aws_error(VE, "Must provide exactly one of: sourceTableArn, sourceTableName"):
        dynamodb.restore_table_to_point_in_time(
            SourceTableName=name,
            SourceTableArn=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}",
            TargetTableName=target,
            UseLatestRestorableTime=True,
        )
    with aws_error(VE, "The parameter 'TableName' is required"):
        dynamodb.restore_table_to_point_in_time(TargetTableName=target, UseLatestRestorableTime=True)
    with aws_error(VE, "sourceTableArn is not a valid ARN"):
        dynamodb.restore_table_to_point_in_time(
            SourceTableArn="not-an-arn", TargetTableName=target, UseLatestRestorableTime=True
        )

    pitr = set_pitr(dynamodb, name, True)["PointInTimeRecoveryDescription"]
    earliest_ms = round(seconds(pitr["EarliestRestorableDateTime"]) * 1000)
    with aws_error("TableAlreadyExistsException", f"Table already exists: {name}"):
        dynamodb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=name, UseLatestRestorableTime=True)
    # Outside the window: before the enable time, and in the future.
    for requested_ms in [earliest_ms - 3_600_000, now_ms(endpoint) + 3_600_000]:
        before = now_ms(endpoint)
        with aws_error("InvalidRestoreTimeException") as caught:
            dynamodb.restore_table_to_point_in_time(
                SourceTableName=name, TargetTableName=target, RestoreDateTime=requested_ms / 1000
            )
        after = now_ms(endpoint)
        # as observed on AWS: "RestoreDateTime '...' must be within EarliestRestorableDateTime '...' and ..."
        assert caught.message in {
            f"RestoreDateTime '{iso(requested_ms)}' must be within EarliestRestorableDateTime "
            f"'{iso(earliest_ms)}' and LatestRestorableDateTime '{iso(latest)}'"
            for latest in range(before, after + 1000, 1000)
        }, caught.message
    # The window closes behind the recovery period (history is trimmed).
    set_pitr(dynamodb, name, True, 1)
    inside = now_ms(endpoint)
    advance_clock(endpoint, 2 * 86400)
    with aws_error("InvalidRestoreTimeException"):
        dynamodb.restore_table_to_point_in_time(
            SourceTableName=name, TargetTableName=target, RestoreDateTime=inside / 1000
        )
    pitr = pitr_description(dynamodb, name)["PointInTimeRecoveryDescription"]
    assert abs(seconds(pitr["EarliestRestorableDateTime"]) - (now_ms(endpoint) / 1000 - 86400)) < 5
    # Nothing was created by any of these.
    with aws_error("ResourceNotFoundException"):
        dynamodb.describe_table(TableName=target)


def test_point_in_time_source_deleted(dynamodb, table, restored):
    name = table()
    set_pitr(dynamodb, name, True)
    dynamodb.delete_table(TableName=name)
    with aws_error("TableNotFoundException", f"Table not found: {name}"):
        dynamodb.restore_table_to_point_in_time(
            SourceTableName=name, TargetTableName=restored(), UseLatestRestorableTime=True
        )
