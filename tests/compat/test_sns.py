"""SNS control plane through unmodified boto3 (SNS speaks the awsQuery
protocol): topics, their attributes, tags and permissions, subscriptions and
their attributes, filter policy validation, and every bad input with its
exact error code and message.

Texts marked "observed on AWS" are those AWS returned in recorded runs of
LocalStack's AWS-validated SNS test suite; "not documented; assumed" marks
nimbus's best knowledge.
"""

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from compat_util import aws_error
from sns_util import create_queue, topic  # noqa: F401 (a fixture)
from conftest import _CONFIG, REGION, _session, unique_name

NS = {"s": "http://sns.amazonaws.com/doc/2010-03-31/"}


@pytest.fixture(scope="module")
def sns_unchecked(endpoint):
    """A client that sends what botocore would refuse, so the server's own
    error is what the test sees."""
    return _session().client(
        "sns", endpoint_url=endpoint, config=_CONFIG.merge(Config(parameter_validation=False))
    )


@pytest.fixture
def queue_arn(sqs):
    """Factory: queue_arn(fifo=False) -> the ARN of a new queue."""
    return lambda fifo=False: create_queue(sqs, fifo)[1]


def raw_query(endpoint, params, sign=True, method="POST"):
    """A form-encoded SNS request built by hand; returns (status, XML root),
    the root `None` when the answer is not XML."""
    body = urllib.parse.urlencode(params)
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = AWSRequest(method=method, url=endpoint + "/", data=body, headers=headers)
    if sign:
        SigV4Auth(Credentials("AKIDCOMPATTEST", "compat-secret"), "sns", REGION).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=body.encode(), method=method, headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, payload = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, payload = err.code, err.read()
    try:
        return status, ET.fromstring(payload)
    except ET.ParseError:
        return status, None


def error_of(root):
    return root.find("s:Error/s:Code", NS).text, root.find("s:Error/s:Message", NS).text


# ---- topics


def test_create_topic_and_its_attributes(sns, topic, account_id):
    name = unique_name("t")
    arn = topic(name)
    assert arn == f"arn:aws:sns:{REGION}:{account_id}:{name}"
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert set(attrs) == {
        "DisplayName",
        "EffectiveDeliveryPolicy",
        "Owner",
        "Policy",
        "SubscriptionsConfirmed",
        "SubscriptionsDeleted",
        "SubscriptionsPending",
        "TopicArn",
    }
    assert attrs["TopicArn"] == arn
    assert attrs["Owner"] == account_id
    assert attrs["DisplayName"] == ""
    assert attrs["SubscriptionsConfirmed"] == attrs["SubscriptionsPending"] == attrs["SubscriptionsDeleted"] == "0"
    assert json.loads(attrs["Policy"]) == {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "SNS:GetTopicAttributes",
                    "SNS:SetTopicAttributes",
                    "SNS:AddPermission",
                    "SNS:RemovePermission",
                    "SNS:DeleteTopic",
                    "SNS:Subscribe",
                    "SNS:ListSubscriptionsByTopic",
                    "SNS:Publish",
                ],
                "Resource": arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account_id}},
            }
        ],
    }
    assert json.loads(attrs["EffectiveDeliveryPolicy"]) == {
        "http": {
            "defaultHealthyRetryPolicy": {
                "minDelayTarget": 20,
                "maxDelayTarget": 20,
                "numRetries": 3,
                "numMaxDelayRetries": 0,
                "numNoDelayRetries": 0,
                "numMinDelayRetries": 0,
                "backoffFunction": "linear",
            },
            "disableSubscriptionOverrides": False,
            "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
        }
    }


def test_create_topic_is_idempotent(sns, topic):
    name = unique_name("t")
    arn = topic(name, Attributes={"DisplayName": "Orders"}, Tags=[{"Key": "team", "Value": "a"}])
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Orders"})["TopicArn"] == arn
    assert sns.create_topic(Name=name, Tags=[{"Key": "team", "Value": "a"}])["TopicArn"] == arn
    # text as observed on AWS
    with aws_error("InvalidParameter", "Invalid parameter: Tags Reason: Topic already exists with different tags"):
        sns.create_topic(Name=name, Tags=[{"Key": "team", "Value": "b"}])
    # text not documented; assumed
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
    ):
        sns.create_topic(Name=name, Attributes={"DisplayName": "Other"})


def test_topic_names(sns, topic):
    assert topic("a" * 256).endswith(":" + "a" * 256)
    # text as observed on AWS
    for bad in ["a" * 257, "a:b", "a;b", "a!b", "a@b", "a|b", "a^b", "a%b", "a b", "x.fifo"]:
        with aws_error("InvalidParameter", "Invalid parameter: Topic Name"):
            sns.create_topic(Name=bad)


def test_fifo_topics(sns, topic):
    name = unique_name("t") + ".fifo"
    arn = topic(name, Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["FifoTopic"] == "true"
    assert attrs["ContentBasedDeduplication"] == "true"
    plain = topic(unique_name("t") + ".fifo", Attributes={"FifoTopic": "true"})
    assert sns.get_topic_attributes(TopicArn=plain)["Attributes"]["ContentBasedDeduplication"] == "false"
    # text not documented; assumed (LocalStack's)
    with aws_error(
        "InvalidParameter",
        "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, "
        "numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
    ):
        sns.create_topic(Name=unique_name("t"), Attributes={"FifoTopic": "true"})
    # text not documented; assumed
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: ContentBasedDeduplication Reason: The request includes "
        "ContentBasedDeduplication parameter that is not valid for this topic type",
    ):
        sns.create_topic(Name=unique_name("t"), Attributes={"ContentBasedDeduplication": "true"})


def test_create_topic_attribute_errors(sns):
    # texts not documented; assumed
    with aws_error("InvalidParameter", "Invalid parameter: Attributes Reason: AttributeName"):
        sns.create_topic(Name=unique_name("t"), Attributes={"Color": "red"})
    with aws_error("InvalidParameter", "Invalid parameter: Attributes Reason: Policy"):
        sns.create_topic(Name=unique_name("t"), Attributes={"Policy": "{not json"})
    with aws_error("InvalidParameter", "Invalid parameter: Attributes Reason: SignatureVersion"):
        sns.create_topic(Name=unique_name("t"), Attributes={"SignatureVersion": "3"})
    with aws_error("InvalidParameter", "Invalid parameter: Attributes Reason: FifoTopic"):
        sns.create_topic(Name=unique_name("t"), Attributes={"FifoTopic": "maybe"})


def test_set_topic_attributes(sns, topic):
    arn = topic(Attributes={"DisplayName": "TestTopic", "KmsMasterKeyId": "alias/aws/sns"})
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Renamed")
    policy = {
        "http": {
            "defaultHealthyRetryPolicy": {"minDelayTarget": 5, "maxDelayTarget": 6, "numRetries": 1},
            "disableSubscriptionOverrides": False,
        }
    }
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy))
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "Renamed"
    assert attrs["KmsMasterKeyId"] == "alias/aws/sns"
    assert attrs["SignatureVersion"] == "2"
    assert json.loads(attrs["DeliveryPolicy"]) == policy
    effective = json.loads(attrs["EffectiveDeliveryPolicy"])["http"]
    assert effective["defaultHealthyRetryPolicy"] == {
        "minDelayTarget": 5,
        "maxDelayTarget": 6,
        "numRetries": 1,
        "numMaxDelayRetries": 0,
        "numNoDelayRetries": 0,
        "numMinDelayRetries": 0,
        "backoffFunction": "linear",
    }
    assert effective["defaultRequestPolicy"] == {"headerContentType": "text/plain; charset=UTF-8"}
    # An empty value removes the delivery policy.
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue="")
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert "DeliveryPolicy" not in attrs
    assert json.loads(attrs["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    # text as observed on AWS
    with aws_error("InvalidParameter", "Invalid parameter: AttributeName"):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="FifoTopic", AttributeValue="false")
    # text not documented; assumed
    with aws_error("InvalidParameter", "Invalid parameter: AttributeName"):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Color", AttributeValue="red")
    with aws_error("InvalidParameter", "Invalid parameter: TracingConfig"):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="TracingConfig", AttributeValue="Sometimes")
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: ContentBasedDeduplication Reason: The request includes ContentBasedDeduplication "
        "parameter that is not valid for this topic type",
    ):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true")
    # text as observed on AWS
    with aws_error("NotFound", "Topic does not exist", status=404):
        sns.set_topic_attributes(TopicArn=arn + "-gone", AttributeName="DisplayName", AttributeValue="x")


def test_delete_topic(sns, queue_arn):
    arn = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn())["SubscriptionArn"]
    sns.delete_topic(TopicArn=arn)
    # text as observed on AWS
    with aws_error("NotFound", "Topic does not exist", status=404):
        sns.get_topic_attributes(TopicArn=arn)
    # Deleting again, or a topic that never was, succeeds (observed on AWS).
    sns.delete_topic(TopicArn=arn)
    with aws_error("NotFound", "Subscription does not exist", status=404):
        sns.get_subscription_attributes(SubscriptionArn=sub)
    # A topic created again under the name is a new one, without the old
    # subscriptions.
    again = sns.create_topic(Name=arn.split(":")[-1])["TopicArn"]
    assert sns.list_subscriptions_by_topic(TopicArn=again)["Subscriptions"] == []
    sns.delete_topic(TopicArn=again)


def test_topic_arn_errors(sns):
    # texts as observed on AWS
    with aws_error(
        "InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"
    ):
        sns.get_topic_attributes(TopicArn="test-topic")
    with aws_error(
        "InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 2"
    ):
        sns.delete_topic(TopicArn="arn:sns")
    other_region = "arn:aws:sns:us-west-1:000000000000:t"
    for call in (
        lambda: sns.get_topic_attributes(TopicArn=other_region),
        lambda: sns.set_topic_attributes(TopicArn=other_region, AttributeName="DisplayName", AttributeValue="x"),
        lambda: sns.delete_topic(TopicArn=other_region),
        lambda: sns.subscribe(TopicArn=other_region, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:0:q"),
        lambda: sns.list_subscriptions_by_topic(TopicArn=other_region),
        lambda: sns.publish(TopicArn=other_region, Message="m"),
    ):
        with aws_error("InvalidParameter", "Invalid parameter: TopicArn"):
            call()


def test_list_topics_pages_of_100(sns, topic):
    mine = {topic(f"page-{uuid.uuid4().hex[:8]}-{i:03d}") for i in range(105)}
    seen = []
    first = sns.list_topics()
    pages = [first]
    while "NextToken" in pages[-1]:
        pages.append(sns.list_topics(NextToken=pages[-1]["NextToken"]))
    for page in pages:
        seen.extend(t["TopicArn"] for t in page["Topics"])
    assert len(first["Topics"]) == 100
    assert all(len(p["Topics"]) <= 100 for p in pages)
    assert mine <= set(seen)
    assert len(seen) == len(set(seen))
    # the paginator walks the same pages
    paged = [t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]]
    assert paged == seen


def test_tags(sns, topic):
    arn = topic(Tags=[{"Key": "k1", "Value": "v1"}])
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2"}])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "k1", "Value": "v1"},
        {"Key": "k2", "Value": "v2"},
    ]
    sns.untag_resource(ResourceArn=arn, TagKeys=["k1", "absent"])
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2b"}])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k2", "Value": "v2b"}]
    # text as observed on AWS
    with aws_error("InvalidParameter", "Invalid parameter: Duplicated keys are not allowed."):
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}])
    # texts not documented; assumed
    with aws_error("ResourceNotFound", "Resource does not exist", status=404):
        sns.list_tags_for_resource(ResourceArn=arn + "-gone")
    with aws_error("ResourceNotFound", "Resource does not exist", status=404):
        sns.tag_resource(ResourceArn=arn + "-gone", Tags=[{"Key": "a", "Value": "b"}])
    many = [{"Key": f"n{i}", "Value": "v"} for i in range(50)]
    with aws_error("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded"):
        sns.tag_resource(ResourceArn=arn, Tags=many)
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k2", "Value": "v2b"}]


def test_permissions(sns, topic, account_id):
    arn = topic()
    sns.add_permission(TopicArn=arn, Label="publishers", AWSAccountId=["111122223333"], ActionName=["Publish"])
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    added = [s for s in policy["Statement"] if s["Sid"] == "publishers"]
    assert added == [
        {
            "Sid": "publishers",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "SNS:Publish",
            "Resource": arn,
        }
    ]
    # texts not documented; assumed
    with aws_error("InvalidParameter", "Invalid parameter: Statement already exists"):
        sns.add_permission(TopicArn=arn, Label="publishers", AWSAccountId=["1"], ActionName=["Publish"])
    with aws_error("InvalidParameter", "Invalid parameter: Policy statement action out of service scope! (Fly)"):
        sns.add_permission(TopicArn=arn, Label="x", AWSAccountId=["1"], ActionName=["Fly"])
    sns.remove_permission(TopicArn=arn, Label="publishers")
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["__default_statement_ID"]


def test_missing_members_and_actions(endpoint, sns_unchecked):
    # The query protocol's validation text (AWS's coral validator).
    with aws_error(
        "ValidationError",
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
    ):
        sns_unchecked.create_topic()
    with aws_error(
        "ValidationError",
        "1 validation error detected: Value null at 'topicArn' failed to satisfy constraint: Member must not be null",
    ):
        sns_unchecked.get_topic_attributes()
    status, root = raw_query(endpoint, {"Action": "Frobnicate", "Version": "2010-03-31"})
    assert status == 400
    assert error_of(root) == ("InvalidAction", "The action Frobnicate is not valid for this endpoint.")
    status, root = raw_query(endpoint, {"Name": "x"})
    assert status == 400
    assert error_of(root) == ("MissingAction", "The request must contain the parameter Action.")
    # An SNS action nimbus does not implement says so.
    status, root = raw_query(endpoint, {"Action": "ListPlatformApplications"})
    assert status == 400
    assert error_of(root) == (
        "UnsupportedOperation",
        "nimbus does not implement the SNS operation ListPlatformApplications.",
    )


def test_responses_are_sns_xml(endpoint):
    name = unique_name("t")
    status, root = raw_query(endpoint, {"Action": "CreateTopic", "Name": name})
    assert status == 200
    assert root.tag == "{http://sns.amazonaws.com/doc/2010-03-31/}CreateTopicResponse"
    arn = root.find("s:CreateTopicResult/s:TopicArn", NS).text
    assert arn.endswith(":" + name)
    assert root.find("s:ResponseMetadata/s:RequestId", NS).text
    status, root = raw_query(endpoint, {"Action": "GetTopicAttributes", "TopicArn": arn + "x"})
    assert status == 404
    assert root.tag == "{http://sns.amazonaws.com/doc/2010-03-31/}ErrorResponse"
    assert root.find("s:Error/s:Type", NS).text == "Sender"
    assert error_of(root) == ("NotFound", "Topic does not exist")
    # Unsigned API calls are refused (only SNS's own links work unsigned).
    status, root = raw_query(endpoint, {"Action": "ListTopics"}, sign=False)
    assert status == 400
    raw_query(endpoint, {"Action": "DeleteTopic", "TopicArn": arn})


# ---- subscriptions


SUB_ATTRS = {
    "ConfirmationWasAuthenticated",
    "Endpoint",
    "Owner",
    "PendingConfirmation",
    "Protocol",
    "RawMessageDelivery",
    "SubscriptionArn",
    "SubscriptionPrincipal",
    "TopicArn",
}


def test_subscribe_sqs_and_attributes(sns, topic, queue_arn, account_id):
    arn = topic()
    q = queue_arn()
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q, Attributes={"RawMessageDelivery": "True"})
    sub_arn = sub["SubscriptionArn"]
    assert sub_arn.startswith(arn + ":")
    uuid.UUID(sub_arn.rsplit(":", 1)[1])
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert set(attrs) == SUB_ATTRS
    assert attrs["ConfirmationWasAuthenticated"] == "true"
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["RawMessageDelivery"] == "true"
    assert attrs["Endpoint"] == q
    assert attrs["Protocol"] == "sqs"
    assert attrs["Owner"] == account_id
    assert attrs["TopicArn"] == arn
    assert attrs["SubscriptionArn"] == sub_arn
    topic_attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert topic_attrs["SubscriptionsConfirmed"] == "1"
    assert topic_attrs["SubscriptionsPending"] == "0"

    summary = {
        "SubscriptionArn": sub_arn,
        "Owner": account_id,
        "Protocol": "sqs",
        "Endpoint": q,
        "TopicArn": arn,
    }
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == [summary]
    listed = [s for p in sns.get_paginator("list_subscriptions").paginate() for s in p["Subscriptions"]]
    assert summary in listed

    # Subscribe again: the same subscription (observed on AWS), with the same
    # or fewer attributes; different ones are refused.
    assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q)["SubscriptionArn"] == sub_arn
    assert (
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q, Attributes={"RawMessageDelivery": "true"})[
            "SubscriptionArn"
        ]
        == sub_arn
    )
    # text as observed on AWS
    with aws_error(
        "InvalidParameter", "Invalid parameter: Attributes Reason: Subscription already exists with different attributes"
    ):
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q, Attributes={"RawMessageDelivery": "false"})

    sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName="RawMessageDelivery", AttributeValue="false")
    assert sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]["RawMessageDelivery"] == "false"
    sns.unsubscribe(SubscriptionArn=sub_arn)
    # Unsubscribing twice succeeds (observed on AWS).
    sns.unsubscribe(SubscriptionArn=sub_arn)
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    with aws_error("NotFound", "Subscription does not exist", status=404):
        sns.get_subscription_attributes(SubscriptionArn=sub_arn)
    with aws_error("NotFound", "Subscription does not exist", status=404):
        sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName="RawMessageDelivery", AttributeValue="true")


def test_subscription_filter_and_redrive_attributes(sns, topic, queue_arn):
    arn = topic()
    dlq = queue_arn()
    policy = {"attr1": [{"numeric": [">", 0, "<=", 100]}]}
    sub_arn = sns.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=queue_arn(),
        Attributes={"FilterPolicy": json.dumps(policy), "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq})},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert set(attrs) == SUB_ATTRS | {"FilterPolicy", "FilterPolicyScope", "RedrivePolicy"}
    assert json.loads(attrs["FilterPolicy"]) == policy
    assert attrs["FilterPolicyScope"] == "MessageAttributes"
    assert json.loads(attrs["RedrivePolicy"]) == {"deadLetterTargetArn": dlq}
    # The scope shows only alongside a policy (observed on AWS).
    sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName="FilterPolicy", AttributeValue="{}")
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert "FilterPolicy" not in attrs and "FilterPolicyScope" not in attrs
    sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName="FilterPolicyScope", AttributeValue="MessageBody")
    nested = {"object": {"key": [{"prefix": "auto-"}]}}
    sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName="FilterPolicy", AttributeValue=json.dumps(nested))
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == nested
    assert attrs["FilterPolicyScope"] == "MessageBody"
    # A nested policy cannot go back to attribute scope (observed text).
    with aws_error(
        "InvalidParameter", "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"
    ):
        sns.set_subscription_attributes(
            SubscriptionArn=sub_arn, AttributeName="FilterPolicyScope", AttributeValue="MessageAttributes"
        )


def test_subscribe_errors(sns, topic, queue_arn):
    arn = topic()
    # texts as observed on AWS
    with aws_error("InvalidParameter", "Invalid parameter: Amazon SNS does not support this protocol string: test-protocol"):
        sns.subscribe(TopicArn=arn, Protocol="test-protocol", Endpoint="x")
    with aws_error("InvalidParameter", "Invalid parameter: SQS endpoint ARN"):
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint="http://localhost:4566/000000000000/q")
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics",
    ):
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(fifo=True))
    with aws_error(
        "InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"
    ):
        sns.subscribe(TopicArn="topic", Protocol="sqs", Endpoint=queue_arn())
    with aws_error("NotFound", "Topic does not exist", status=404):
        sns.subscribe(TopicArn=arn + "-gone", Protocol="sqs", Endpoint=queue_arn())
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. Must be true or false.",
    ):
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(), Attributes={"RawMessageDelivery": "wrongvalue"})
    # Subscribing a queue that does not exist succeeds (observed on AWS).
    assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:nothing-here")[
        "SubscriptionArn"
    ].startswith(arn)
    # texts not documented; assumed
    with aws_error("InvalidParameter", "Invalid parameter: Attributes Reason: AttributeName"):
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(), Attributes={"Color": "red"})
    with aws_error("InvalidParameter", "Invalid parameter: Lambda endpoint ARN"):
        sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint="my-function")
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw message delivery.",
    ):
        sns.subscribe(
            TopicArn=arn,
            Protocol="lambda",
            Endpoint="arn:aws:lambda:us-east-1:000000000000:function:f",
            Attributes={"RawMessageDelivery": "true"},
        )
    with aws_error("InvalidParameter", "Invalid parameter: Endpoint must match the specified protocol"):
        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="ftp://example.com")
    # nimbus's own refusals: protocols it cannot deliver to.
    for protocol, endpoint in [
        ("email", "user@example.com"),
        ("email-json", "user@example.com"),
        ("sms", "+15555550100"),
        ("application", "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/1"),
        ("firehose", "arn:aws:firehose:us-east-1:000000000000:deliverystream/s"),
    ]:
        with aws_error(
            "InvalidParameter",
            f"Invalid parameter: Protocol Reason: nimbus does not deliver to {protocol} endpoints; "
            "it delivers to sqs, lambda and http",
        ):
            sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint)
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: Endpoint Reason: nimbus delivers to http endpoints but not https (it has no TLS client); "
        "subscribe an http:// URL",
    ):
        sns.subscribe(TopicArn=arn, Protocol="https", Endpoint="https://example.com/hook")


def test_set_subscription_attribute_errors(sns, topic, queue_arn):
    arn = topic()
    sub_arn = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn())["SubscriptionArn"]

    def set_attr(name, value):
        sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName=name, AttributeValue=value)

    # texts as observed on AWS
    with aws_error("InvalidParameter", "Invalid parameter: AttributeName"):
        set_attr("FakeAttribute", "x")
    with aws_error("InvalidParameter", "Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false."):
        set_attr("RawMessageDelivery", "test-ValUe")
    with aws_error("InvalidParameter", "Invalid parameter: RawMessageDelivery: Invalid value []. Must be true or false."):
        set_attr("RawMessageDelivery", "")
    with aws_error("InvalidParameter", "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn"):
        set_attr("RedrivePolicy", json.dumps({"deadLetterTargetArn": "not-an-arn"}))
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either MessageBody or MessageAttributes",
    ):
        set_attr("FilterPolicyScope", "RandomValue")
    # AWS follows "failed to parse JSON." with its JSON parser's own account
    # of where; nimbus gives its parser's, so only the prefix is checked.
    with aws_error("InvalidParameter") as caught:
        set_attr("FilterPolicy", "{invalid json}")
    assert caught.message.startswith("Invalid parameter: FilterPolicy: failed to parse JSON. ")
    with aws_error("InvalidParameter") as caught:
        set_attr("RedrivePolicy", "{invalid json}")
    assert caught.message.startswith("Invalid parameter: RedrivePolicy: failed to parse JSON. ")


def test_subscription_arn_errors(sns, topic):
    arn = topic()
    # texts as observed on AWS
    with aws_error(
        "InvalidParameter", "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"
    ):
        sns.unsubscribe(SubscriptionArn="randomstring")
    with aws_error(
        "InvalidParameter", "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 5"
    ):
        sns.unsubscribe(SubscriptionArn=":".join(arn.split(":")[:5]))
    with aws_error("InvalidParameter", "Invalid parameter: SubscriptionId"):
        sns.unsubscribe(SubscriptionArn=arn)
    with aws_error("InvalidParameter", "Invalid parameter: SubscriptionArn Reason: no value for required parameter"):
        sns.unsubscribe(SubscriptionArn="")
    with aws_error("InvalidParameter", "Invalid parameter: SubscriptionId"):
        sns.get_subscription_attributes(SubscriptionArn=arn)
    with aws_error("NotFound", "Subscription does not exist", status=404):
        sns.get_subscription_attributes(SubscriptionArn=arn + ":" + str(uuid.uuid4()))
    with aws_error("NotFound", "Topic does not exist", status=404):
        sns.list_subscriptions_by_topic(TopicArn=arn + "-gone")


def test_list_subscriptions_by_topic_pages_of_100(sns, topic):
    arn = topic()
    subs = {
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:000000000000:q{i}")[
            "SubscriptionArn"
        ]
        for i in range(103)
    }
    first = sns.list_subscriptions_by_topic(TopicArn=arn)
    assert len(first["Subscriptions"]) == 100
    second = sns.list_subscriptions_by_topic(TopicArn=arn, NextToken=first["NextToken"])
    assert len(second["Subscriptions"]) == 3
    assert "NextToken" not in second
    assert {s["SubscriptionArn"] for s in first["Subscriptions"] + second["Subscriptions"]} == subs


def test_filter_policy_validation(sns, topic, queue_arn):
    arn = topic()
    q = queue_arn()

    def subscribe_with(policy, scope=None):
        attrs = {"FilterPolicy": policy if isinstance(policy, str) else json.dumps(policy)}
        if scope:
            attrs["FilterPolicyScope"] = scope
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q, Attributes=attrs)

    prefix = "Invalid parameter: Attributes Reason: FilterPolicy: "
    # Reasons as observed on AWS (AWS then adds its JSON parser's location,
    # "\n at [Source: ...]", which nimbus does not reproduce).
    cases = [
        ({"key": [["value"]]}, "Match value must be String, number, true, false, or null"),
        ({"key": [{"wrong-operator": True}]}, "Unrecognized match type wrong-operator"),
        ({"key": [{"suffix": "value", "prefix": "value2"}]}, "Only one key allowed in match expression"),
        ({"key": [{"suffix": 100}]}, "suffix match pattern must be a string"),
        ({"key": [{"suffix": None}]}, "suffix match pattern must be a string"),
        ({"key": [{"suffix": []}]}, "suffix match pattern must be a string"),
        ({"key": {"suffix": "value"}}, '"suffix" must be an object or an array'),
        ({"key": {"not-an-operator": "value"}}, '"not-an-operator" must be an object or an array'),
        ({"key": [{"numeric": []}]}, "Invalid member in numeric match: ]"),
        ({"key": [{"numeric": ["operator"]}]}, "Unrecognized numeric range operator: operator"),
        ({"key": [{"numeric": [1, "<="]}]}, "Invalid member in numeric match: 1"),
        ({"key": [{"numeric": ["=", "000"]}]}, "Value of equals must be numeric"),
        ({"key": [{"numeric": [">="]}]}, "Value of >= must be numeric"),
        ({"key": [{"numeric": ["<", 100, ">", 10]}]}, "Too many elements in numeric expression"),
        ({"key": [{"numeric": [">=", 1, ">", 2]}]}, "Bad numeric range operator: >"),
        ({"key": [{"numeric": [">", 3, "<", 1]}]}, "Bottom must be less than top"),
        ({"key": [{"numeric": [">", 20, "<="]}]}, "Value of <= must be numeric"),
        ({"key": [{"numeric": [">", 20, 30]}]}, "Bad value in numeric range: 30"),
        ({"key": [{"numeric": [">", 20, "test"]}]}, "Bad numeric range operator: test"),
        ({"key": [{"numeric": [">", "20", "<", "30"]}]}, "Value of > must be numeric"),
        ({"key": [{"numeric": [">", 20, "<", "30"]}]}, "Value of < must be numeric"),
        ({"key": [{"numeric": [">", 20, "<", 30, "<", 50]}]}, "Too many terms in numeric range expression"),
        ({"key": [{"exists": None}]}, "exists match pattern must be either true or false."),
        ({"key": [{"exists": "no"}]}, "exists match pattern must be either true or false."),
        ({"key": [{"anything-but": {"wrong-operator": None}}]}, "Unsupported anything-but pattern: wrong-operator"),
        ({"key": [{"anything-but": {"suffix": "test"}}]}, "Unsupported anything-but pattern: suffix"),
        ({"key": [{"anything-but": {"exists": False}}]}, "Unsupported anything-but pattern: exists"),
        ({"key": [{"anything-but": {"prefix": False}}]}, "prefix match pattern must be a string"),
        ({"a": [1], "b": [1], "c": [1], "d": [1], "e": [1], "f": [1]}, "Filter policy can not have more than 5 keys"),
        ({"key": [str(i) for i in range(151)]}, "Filter policy is too complex"),
    ]
    for policy, reason in cases:
        with aws_error("InvalidParameter", prefix + reason):
            subscribe_with(policy)
    # text as observed on AWS
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Filter policy scope MessageAttributes does not support nested filter policy",
    ):
        subscribe_with({"object": {"key": ["a"]}})
    with aws_error("InvalidParameter") as caught:
        subscribe_with("invalid")
    assert caught.message.startswith(prefix + "failed to parse JSON. ")
    # Nested policies are fine on the message body.
    subscribe_with({"object": {"key": [{"prefix": "auto-"}]}}, scope="MessageBody")


def test_confirm_subscription_errors(sns, topic):
    arn = topic()
    # texts as observed on AWS
    with aws_error("InvalidParameter", "Invalid parameter: Token"):
        sns.confirm_subscription(TopicArn=arn, Token="51b2ff3edb475b7d91550e0ab6edf0c1de2a34e6ebaf6")
    with aws_error("InvalidParameter", "Invalid token"):
        sns.confirm_subscription(TopicArn=arn, Token="randomtoken")
    with aws_error("InvalidParameter", "Invalid parameter: Topic"):
        sns.confirm_subscription(TopicArn="not-a-topic", Token="0f")
