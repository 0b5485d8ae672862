"""SQS queue policies and encryption attributes through unmodified boto3,
over awsJson (`sqs`) and over awsQuery (`qsqs`, see sqs_query.py):
AddPermission / RemovePermission writing the `Policy` attribute,
SetQueueAttributes Policy validation, SqsManagedSseEnabled /
KmsMasterKeyId / KmsDataKeyReusePeriodSeconds.

Error texts and where they come from (AWS documents none of them):
- "Already exists", "can't find label on existing policy", the PrincipalId
  text, "N Actions were found, maximum allowed is 7." (OverLimit, 403) and
  the owner-only action text: moto's tests, which assert them as AWS sends
  them;
- the unknown-action text ("Please refer to the appropriate WSDL ..."): Eucalyptus
  and local-aws;
- "N Statements were found, maximum allowed is 20.": local-aws (`# assumed`);
- "Invalid value for the parameter Policy.": an AWS response quoted in a
  terraform-provider-aws pull request (InvalidAttributeValue);
- the one-kind-of-SSE text: local-aws, which tests it against its AWS texts.
"""

import json
import uuid

import pytest

from compat_util import aws_error
from sqs_query import query_client

OTHER = "111111111111"


@pytest.fixture(scope="module")
def qsqs(endpoint):
    return query_client(endpoint)


@pytest.fixture(params=["json", "query"])
def client(request, sqs, qsqs):
    return sqs if request.param == "json" else qsqs


@pytest.fixture
def queue(client):
    made = []

    def make(**attributes):
        name = f"perm-{uuid.uuid4().hex[:12]}"
        url = client.create_queue(
            QueueName=name, Attributes={k: str(v) for k, v in attributes.items()}
        )["QueueUrl"]
        made.append(url)
        return url, name

    yield make
    for url in made:
        client.delete_queue(QueueUrl=url)


def policy_of(client, url):
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {})
    return attrs.get("Policy")


def test_add_and_remove_permission(client, queue, account_id):
    url, name = queue()
    arn = f"arn:aws:sqs:us-east-1:{account_id}:{name}"
    assert policy_of(client, url) is None
    client.add_permission(QueueUrl=url, Label="send", AWSAccountIds=[OTHER], Actions=["SendMessage"])
    assert policy_of(client, url) == json.dumps(
        {
            "Version": "2012-10-17",
            "Id": f"{arn}/SQSDefaultPolicy",
            "Statement": [
                {
                    "Sid": "send",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                    "Action": "SQS:SendMessage",
                    "Resource": arn,
                }
            ],
        },
        separators=(",", ":"),
    )
    client.add_permission(
        QueueUrl=url,
        Label="consume",
        AWSAccountIds=[OTHER, "222222222222"],
        Actions=["ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility"],
    )
    statements = json.loads(policy_of(client, url))["Statement"]
    assert [s["Sid"] for s in statements] == ["send", "consume"]
    assert statements[1]["Principal"] == {
        "AWS": [f"arn:aws:iam::{OTHER}:root", "arn:aws:iam::222222222222:root"]
    }
    assert statements[1]["Action"] == ["SQS:ReceiveMessage", "SQS:DeleteMessage", "SQS:ChangeMessageVisibility"]
    client.remove_permission(QueueUrl=url, Label="send")
    assert [s["Sid"] for s in json.loads(policy_of(client, url))["Statement"]] == ["consume"]
    client.remove_permission(QueueUrl=url, Label="consume")
    assert policy_of(client, url) is None


def test_permission_errors(client, queue):
    url, _ = queue()
    client.add_permission(QueueUrl=url, Label="test", AWSAccountIds=[OTHER], Actions=["ReceiveMessage"])
    with aws_error("InvalidParameterValue", "Value test for parameter Label is invalid. Reason: Already exists."):
        client.add_permission(
            QueueUrl=url, Label="test", AWSAccountIds=[OTHER], Actions=["ReceiveMessage", "SendMessage"]
        )
    with aws_error(
        "InvalidParameterValue",
        "Value SQS:CreateQueue for parameter ActionName is invalid. "
        "Reason: Only the queue owner is allowed to invoke this action.",
    ):
        client.add_permission(QueueUrl=url, Label="t2", AWSAccountIds=[OTHER], Actions=["CreateQueue"])
    with aws_error(
        "InvalidParameterValue",
        "Value SQS:SendMessageBatch for parameter ActionName is invalid. "
        "Reason: Please refer to the appropriate WSDL for a list of valid actions.",
    ):
        client.add_permission(QueueUrl=url, Label="t2", AWSAccountIds=[OTHER], Actions=["SendMessageBatch"])
    with aws_error("MissingParameter", "The request must contain the parameter Actions."):
        client.add_permission(QueueUrl=url, Label="t2", AWSAccountIds=[OTHER], Actions=[])
    with aws_error(
        "InvalidParameterValue", "Value [] for parameter PrincipalId is invalid. Reason: Unable to verify."
    ):
        client.add_permission(QueueUrl=url, Label="t2", AWSAccountIds=[], Actions=["SendMessage"])
    with aws_error("OverLimit", "8 Actions were found, maximum allowed is 7.", status=403):
        client.add_permission(
            QueueUrl=url,
            Label="t2",
            AWSAccountIds=[OTHER],
            Actions=[
                "ChangeMessageVisibility",
                "DeleteMessage",
                "GetQueueAttributes",
                "GetQueueUrl",
                "ListDeadLetterSourceQueues",
                "PurgeQueue",
                "ReceiveMessage",
                "SendMessage",
            ],
        )
    with aws_error(
        "InvalidParameterValue",
        "Label can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
    ):
        client.add_permission(QueueUrl=url, Label="x" * 81, AWSAccountIds=[OTHER], Actions=["SendMessage"])
    with aws_error(
        "InvalidParameterValue",
        "Value gone for parameter Label is invalid. Reason: can't find label on existing policy.",
    ):
        client.remove_permission(QueueUrl=url, Label="gone")
    missing = "The specified queue does not exist" + (
        " for this wsdl version." if client.meta.service_model.protocol == "query" else "."
    )
    with aws_error("AWS.SimpleQueueService.NonExistentQueue", missing):
        client.remove_permission(QueueUrl=url + "-missing", Label="test")
    # Nothing refused changed the policy.
    assert [s["Sid"] for s in json.loads(policy_of(client, url))["Statement"]] == ["test"]


def test_twenty_statements_at_most(sqs, queue):
    url, _ = queue()
    for i in range(20):
        sqs.add_permission(QueueUrl=url, Label=f"l{i}", AWSAccountIds=[OTHER], Actions=["SendMessage"])
    # text from local-aws; assumed
    with aws_error("OverLimit", "21 Statements were found, maximum allowed is 20.", status=403):
        sqs.add_permission(QueueUrl=url, Label="l20", AWSAccountIds=[OTHER], Actions=["SendMessage"])


def test_policy_attribute(client, queue, account_id):
    mine = json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "custom",
            "Statement": [
                {
                    "Sid": "from-sns",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": "*",
                    "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:us-east-1:{account_id}:t"}},
                }
            ],
        },
        indent=2,
    )
    url, _ = queue(Policy=mine)
    # Returned exactly as it was set, and listed by All.
    assert policy_of(client, url) == mine
    assert client.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"] == {"Policy": mine}
    client.add_permission(QueueUrl=url, Label="more", AWSAccountIds=[OTHER], Actions=["*"])
    doc = json.loads(policy_of(client, url))
    assert (doc["Version"], doc["Id"]) == ("2012-10-17", "custom")
    assert [s["Sid"] for s in doc["Statement"]] == ["from-sns", "more"]
    for bad in ["{", json.dumps({"Statement": []}), json.dumps({"Version": "2020-01-01", "Statement": doc["Statement"]})]:
        with aws_error("InvalidAttributeValue", "Invalid value for the parameter Policy."):
            client.set_queue_attributes(QueueUrl=url, Attributes={"Policy": bad})
    client.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert policy_of(client, url) is None


def test_encryption_attributes(client, queue):
    url, _ = queue()
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["SqsManagedSseEnabled"] == "true"
    assert "KmsMasterKeyId" not in attrs and "KmsDataKeyReusePeriodSeconds" not in attrs
    client.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "alias/aws/sqs"})
    got = client.get_queue_attributes(
        QueueUrl=url, AttributeNames=["SqsManagedSseEnabled", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds"]
    )["Attributes"]
    assert got == {
        "SqsManagedSseEnabled": "false",
        "KmsMasterKeyId": "alias/aws/sqs",
        "KmsDataKeyReusePeriodSeconds": "300",
    }
    client.set_queue_attributes(QueueUrl=url, Attributes={"KmsDataKeyReusePeriodSeconds": "86400"})
    for bad in ["59", "86401", "five"]:
        with aws_error("InvalidAttributeValue", "Invalid value for the parameter KmsDataKeyReusePeriodSeconds."):
            client.set_queue_attributes(QueueUrl=url, Attributes={"KmsDataKeyReusePeriodSeconds": bad})
    with aws_error("InvalidAttributeValue", "Invalid value for the parameter SqsManagedSseEnabled."):
        client.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "maybe"})
    with aws_error(
        "InvalidAttributeName",
        "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.",
    ):
        client.create_queue(
            QueueName=f"perm-{uuid.uuid4().hex[:12]}",
            Attributes={"SqsManagedSseEnabled": "true", "KmsMasterKeyId": "alias/aws/sqs"},
        )
    # Switching back to SSE-SQS drops the key.
    client.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "true"})
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["SqsManagedSseEnabled"] == "true"
    assert "KmsMasterKeyId" not in attrs
