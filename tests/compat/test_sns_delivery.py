"""SNS delivery through unmodified boto3: Publish and PublishBatch to SQS
queues (the JSON envelope and raw delivery), Lambda functions (the SNS
event) and HTTP endpoints (the SubscriptionConfirmation flow), filter
policies on message attributes and on the message body, dead-letter queues,
and Publish's bad inputs with their exact errors.

Texts marked "observed on AWS" are those AWS returned in recorded runs of
LocalStack's AWS-validated SNS test suite; "not documented; assumed" marks
nimbus's best knowledge.
"""

import hashlib
import http.server
import io
import json
import queue as queue_mod
import threading
import time
import urllib.request
import uuid
import zipfile

import pytest
from compat_util import aws_error
from sns_util import create_queue, drain, topic  # noqa: F401 (a fixture)
from conftest import _CONFIG, _session, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture(scope="module")
def lam(endpoint):
    return _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture
def queue(sqs):
    """Factory: queue(fifo=False) -> (url, arn)."""
    return lambda fifo=False: create_queue(sqs, fifo)


def receive(sqs, url, want=1, wait=10):
    return drain(sqs, url, want, wait)


def outbox_empty(endpoint, wait=10):
    deadline = time.time() + wait
    while time.time() < deadline:
        with urllib.request.urlopen(endpoint + "/_nimbus/sns/outbox", timeout=5) as resp:
            if json.loads(resp.read())["pending"] == 0:
                return True
        time.sleep(0.05)
    return False


def subscribe_queue(sns, topic_arn, queue_arn, **attributes):
    return sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes, ReturnSubscriptionArn=True
    )["SubscriptionArn"]


def test_sqs_gets_the_json_envelope(endpoint, sns, sqs, topic, queue):
    t = topic()
    url, q = queue()
    sub = subscribe_queue(sns, t, q)
    attributes = {
        "s": {"DataType": "String", "StringValue": "text"},
        "n": {"DataType": "Number", "StringValue": "99.12"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"},
        "a": {"DataType": "String.Array", "StringValue": '["x", 1]'},
    }
    before = time.time()
    mid = sns.publish(TopicArn=t, Message="hello ö\"", Subject="the subject", MessageAttributes=attributes)["MessageId"]
    uuid.UUID(mid)
    msgs = receive(sqs, url)
    assert len(msgs) == 1
    pairs = json.loads(msgs[0]["Body"], object_pairs_hook=list)
    assert [k for k, _ in pairs] == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    body = json.loads(msgs[0]["Body"])
    assert body["Type"] == "Notification"
    assert body["MessageId"] == mid
    assert body["TopicArn"] == t
    assert body["Subject"] == "the subject"
    assert body["Message"] == 'hello ö"'
    assert body["SignatureVersion"] == "1"
    assert body["Signature"]
    stamp = time.strptime(body["Timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert abs(time.mktime(stamp) - time.mktime(time.gmtime(before))) < 60
    assert body["UnsubscribeURL"] == f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={sub}"
    assert body["MessageAttributes"] == {
        "a": {"Type": "String.Array", "Value": '["x", 1]'},
        "b": {"Type": "Binary", "Value": "AgME"},
        "n": {"Type": "Number", "Value": "99.12"},
        "s": {"Type": "String", "Value": "text"},
    }
    # Without a subject or attributes those members are left out.
    sns.publish(TopicArn=t, Message="plain")
    plain = json.loads(receive(sqs, url)[0]["Body"])
    assert "Subject" not in plain and "MessageAttributes" not in plain
    assert outbox_empty(endpoint)
    # The UnsubscribeURL works without a signature, as on AWS.
    with urllib.request.urlopen(body["UnsubscribeURL"], timeout=5) as resp:
        assert resp.status == 200
        assert b"<UnsubscribeResponse" in resp.read()
    assert sns.list_subscriptions_by_topic(TopicArn=t)["Subscriptions"] == []


def test_raw_delivery_carries_attributes(sns, sqs, topic, queue):
    t = topic()
    url, q = queue()
    subscribe_queue(sns, t, q, RawMessageDelivery="true")
    sns.publish(
        TopicArn=t,
        Message="Test msg",
        MessageAttributes={
            "attr1": {"DataType": "Number", "StringValue": "99.12"},
            "bin": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"},
        },
    )
    m = receive(sqs, url)[0]
    assert m["Body"] == "Test msg"
    assert m["MD5OfBody"] == hashlib.md5(b"Test msg").hexdigest()
    assert m["MessageAttributes"] == {
        "attr1": {"DataType": "Number", "StringValue": "99.12"},
        "bin": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"},
    }
    assert "MD5OfMessageAttributes" in m


def test_fan_out_to_every_subscriber(sns, sqs, topic, queue):
    t = topic()
    queues = [queue() for _ in range(3)]
    for _, q in queues:
        subscribe_queue(sns, t, q)
    mid = sns.publish(TopicArn=t, Message="to all")["MessageId"]
    for url, _ in queues:
        got = receive(sqs, url)
        assert [json.loads(m["Body"])["MessageId"] for m in got] == [mid]


def test_filter_policy_on_attributes(endpoint, sns, sqs, topic, queue):
    t = topic()
    url, q = queue()
    policy = {
        "store": ["example_corp"],
        "price": [{"numeric": [">", 0, "<=", 100]}],
        "$or": [{"colors": ["red"]}, {"size": [{"prefix": "XL"}]}],
        "region": [{"anything-but": ["eu-west-1"]}],
    }
    subscribe_queue(sns, t, q, FilterPolicy=json.dumps(policy))

    def publish(label, **attrs):
        message_attributes = {
            k: {"DataType": dt, "StringValue": v} for k, (dt, v) in attrs.items()
        }
        sns.publish(TopicArn=t, Message=label, MessageAttributes=message_attributes)

    base = {"store": ("String", "example_corp"), "price": ("Number", "99.5"), "region": ("String", "us-east-1")}
    publish("match-array", colors=("String.Array", '["blue", "red"]'), **base)
    publish("match-or", size=("String", "XL-tall"), **base)
    publish("too-expensive", colors=("String", "red"), **{**base, "price": ("Number", "100.5")})
    publish("price-is-a-string", colors=("String", "red"), **{**base, "price": ("String", "50")})
    publish("excluded-region", colors=("String", "red"), **{**base, "region": ("String", "eu-west-1")})
    publish("no-color", **base)
    sns.publish(TopicArn=t, Message="no-attributes")
    assert outbox_empty(endpoint)
    got = sorted(json.loads(m["Body"])["Message"] for m in receive(sqs, url, want=3, wait=3))
    assert got == ["match-array", "match-or"]

    url2, q2 = queue()
    subscribe_queue(sns, t, q2, FilterPolicy=json.dumps({"store": [{"exists": False}]}))
    sns.publish(TopicArn=t, Message="has-store", MessageAttributes={"store": {"DataType": "String", "StringValue": "x"}})
    sns.publish(TopicArn=t, Message="other-attr", MessageAttributes={"other": {"DataType": "String", "StringValue": "x"}})
    # "exists": false needs at least one attribute (SNS developer guide).
    sns.publish(TopicArn=t, Message="bare")
    assert outbox_empty(endpoint)
    assert [json.loads(m["Body"])["Message"] for m in receive(sqs, url2, want=2, wait=3)] == ["other-attr"]


def test_filter_policy_on_the_body(endpoint, sns, sqs, topic, queue):
    t = topic()
    url, q = queue()
    subscribe_queue(
        sns,
        t,
        q,
        RawMessageDelivery="true",
        FilterPolicyScope="MessageBody",
        FilterPolicy=json.dumps({"object": {"key": [{"prefix": "auto-"}, "hardcodedvalue"]}}),
    )
    for body in [
        {"object": {"key": "auto-test"}},
        {"object": {"key": "hardcodedvalue"}},
        {"object": {"key": "home-test"}},
        {"other": {"key": "auto-test"}},
    ]:
        sns.publish(TopicArn=t, Message=json.dumps(body))
    sns.publish(TopicArn=t, Message="not json")
    assert outbox_empty(endpoint)
    got = [json.loads(m["Body"]) for m in receive(sqs, url, want=3, wait=3)]
    assert sorted(b["object"]["key"] for b in got) == ["auto-test", "hardcodedvalue"]


def test_message_structure_json(sns, sqs, topic, queue):
    t = topic()
    url, q = queue()
    subscribe_queue(sns, t, q)
    sns.publish(TopicArn=t, MessageStructure="json", Message=json.dumps({"default": "default field", "sqs": '{"field": "value"}'}))
    sns.publish(TopicArn=t, MessageStructure="json", Message=json.dumps({"default": "only default", "lambda": "x"}))
    got = sorted(json.loads(m["Body"])["Message"] for m in receive(sqs, url, want=2))
    assert got == ["only default", '{"field": "value"}']


def test_publish_by_target_arn(sns, sqs, topic, queue):
    t = topic()
    url, q = queue()
    subscribe_queue(sns, t, q)
    sns.publish(TargetArn=t, Message="by target")
    assert json.loads(receive(sqs, url)[0]["Body"])["Message"] == "by target"


def test_publish_errors(sns, topic):
    t = topic()
    # texts as observed on AWS
    with aws_error("InvalidParameter", "Invalid parameter: Subject"):
        sns.publish(TopicArn=t, Message="m", Subject="")
    with aws_error("InvalidParameter", "Invalid parameter: Empty message"):
        sns.publish(TopicArn=t, Message="")
    with aws_error("InvalidParameter", "Invalid parameter: Message too long"):
        sns.publish(TopicArn=t, Message="x" * (262144 + 1))
    with aws_error("InvalidParameter", "Invalid parameter: Message too long"):
        sns.publish(
            TopicArn=t,
            Message="x" * (262144 - 10),
            MessageAttributes={"attr": {"DataType": "String", "StringValue": "12345"}},
        )
    with aws_error("InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body"):
        sns.publish(TopicArn=t, MessageStructure="json", Message='{"sqs": "x"}')
    with aws_error("InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse"):
        sns.publish(TopicArn=t, MessageStructure="json", Message="{not json")
    with aws_error("InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body"):
        sns.publish(TopicArn=t, MessageStructure="json", Message='{"default": 1}')
    with aws_error("NotFound", "Topic does not exist", status=404):
        sns.publish(TopicArn=t + "-gone", Message="m")
    with aws_error("InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"):
        sns.publish(TopicArn="", Message="m")
    with aws_error("InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 2"):
        sns.publish(TopicArn="arn:sns", Message="m")
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that "
        "is not valid for this topic type",
    ):
        sns.publish(TopicArn=t, Message="m", MessageDeduplicationId="d")
    with aws_error("InvalidParameter", "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified"):
        sns.publish(TargetArn="arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/1234", Message="m")
    # texts not documented; assumed
    with aws_error("InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"):
        sns.publish(Message="m")
    with aws_error("InvalidParameter", "Invalid parameter: MessageStructure"):
        sns.publish(TopicArn=t, MessageStructure="xml", Message="m")
    with aws_error(
        "InvalidParameter", "Invalid parameter: PhoneNumber Reason: nimbus does not send SMS (to +15555550100); publish to a topic"
    ):
        sns.publish(PhoneNumber="+15555550100", Message="m")


def test_message_attribute_errors(sns, topic):
    t = topic()
    # texts as observed on AWS
    cases = [
        (
            {"attr1": {"DataType": "String", "StringValue": ""}},
            "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'String'.",
        ),
        (
            {"attr1": {"DataType": "String"}},
            "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'String'.",
        ),
        (
            {"attr1": {"DataType": "Binary", "BinaryValue": b""}},
            "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'Binary'.",
        ),
        (
            {"attr1": {"DataType": "String", "BinaryValue": b"x"}},
            "The message attribute 'attr1' with type 'String' must use field 'String'.",
        ),
        (
            {"attr1": {"DataType": "Number", "BinaryValue": b"1"}},
            "The message attribute 'attr1' with type 'Number' must use field 'String'.",
        ),
        (
            {"attr1": {"DataType": "Binary", "StringValue": "x"}},
            "The message attribute 'attr1' with type 'Binary' must use field 'Binary'.",
        ),
        (
            {"attr1": {"DataType": "Stringg", "StringValue": "x"}},
            "The message attribute 'attr1' has an invalid message attribute type, the set of supported type prefixes "
            "is Binary, Number, and String.",
        ),
        (
            {"a" * 257: {"DataType": "String", "StringValue": "x"}},
            "Length of message attribute name must be less than 256 bytes.",
        ),
        (
            {"a^b": {"DataType": "String", "StringValue": "x"}},
            "Invalid non-alphanumeric character '#x5E' was found in the message attribute name. Can only include "
            "alphanumeric characters, hyphens, underscores, or dots.",
        ),
        ({".ab": {"DataType": "String", "StringValue": "x"}}, "Invalid message attribute name starting with character '.' was found."),
        ({"ab.": {"DataType": "String", "StringValue": "x"}}, "Invalid message attribute name ending with character '.' was found."),
        ({"a..b": {"DataType": "String", "StringValue": "x"}}, "Message attribute name can not have successive '.' character."),
    ]
    for attrs, message in cases:
        with aws_error("ParameterValueInvalid", message):
            sns.publish(TopicArn=t, Message="m", MessageAttributes=attrs)
        with aws_error("ParameterValueInvalid", message):
            sns.publish_batch(
                TopicArn=t, PublishBatchRequestEntries=[{"Id": "1", "Message": "m", "MessageAttributes": attrs}]
            )


def test_publish_batch(endpoint, sns, sqs, topic, queue):
    t = topic()
    url, q = queue()
    subscribe_queue(sns, t, q, RawMessageDelivery="true")
    r = sns.publish_batch(
        TopicArn=t,
        PublishBatchRequestEntries=[
            {"Id": "1", "Message": "one", "MessageAttributes": {"a": {"DataType": "String", "StringValue": "x"}}},
            {"Id": "2", "Message": "two", "Subject": "s"},
            # nimbus fails an entry with an empty message or a bad subject on
            # its own and keeps the others (assumed: AWS documents per-entry
            # failures without saying which problems are per entry).
            {"Id": "3", "Message": ""},
            {"Id": "4", "Message": "four", "Subject": "bad\nsubject"},
            {"Id": "5", "Message": "five"},
        ],
    )
    assert [s["Id"] for s in r["Successful"]] == ["1", "2", "5"]
    assert all(uuid.UUID(s["MessageId"]) for s in r["Successful"])
    assert all("SequenceNumber" not in s for s in r["Successful"])
    assert r["Failed"] == [
        {"Id": "3", "Code": "InvalidParameter", "Message": "Invalid parameter: Empty message", "SenderFault": True},
        {"Id": "4", "Code": "InvalidParameter", "Message": "Invalid parameter: Subject", "SenderFault": True},
    ]
    got = receive(sqs, url, want=3)
    assert sorted(m["Body"] for m in got) == ["five", "one", "two"]
    assert outbox_empty(endpoint)


def test_publish_batch_errors(sns, topic):
    t = topic()
    entries = [{"Id": str(i), "Message": "m"} for i in range(11)]
    # texts as observed on AWS
    with aws_error("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible."):
        sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=entries)
    with aws_error("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id."):
        sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=[{"Id": "1", "Message": "a"}, {"Id": "1", "Message": "b"}])
    with aws_error("BatchRequestTooLong", "The length of all the messages put together is more than the limit."):
        sns.publish_batch(
            TopicArn=t,
            PublishBatchRequestEntries=[{"Id": str(i), "Message": "x" * 100_000} for i in range(3)],
        )
    with aws_error("NotFound", "Topic does not exist", status=404):
        sns.publish_batch(TopicArn=t + "-gone", PublishBatchRequestEntries=[{"Id": "1", "Message": "a"}])
    with aws_error("InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body"):
        sns.publish_batch(
            TopicArn=t, PublishBatchRequestEntries=[{"Id": "1", "Message": '{"sqs": "x"}', "MessageStructure": "json"}]
        )
    # texts not documented; assumed
    with aws_error("EmptyBatchRequest", "The batch request doesn't contain any entries."):
        sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=[])
    with aws_error(
        "InvalidBatchEntryId", "The Id of a batch entry in the batch request contains an impermissible character: a b"
    ):
        sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=[{"Id": "a b", "Message": "m"}])
    with aws_error("InvalidBatchEntryId", f"The Id of a batch entry in the batch request is too long: {'i' * 81}"):
        sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=[{"Id": "i" * 81, "Message": "m"}])


def test_dead_letter_queue_when_the_queue_is_gone(endpoint, sns, sqs, topic, queue):
    t = topic()
    url, q = queue()
    dlq_url, dlq = queue()
    raw_url, raw_q = queue()
    raw_dlq_url, raw_dlq = queue()
    subscribe_queue(sns, t, q, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq}))
    subscribe_queue(sns, t, raw_q, RawMessageDelivery="true", RedrivePolicy=json.dumps({"deadLetterTargetArn": raw_dlq}))
    sqs.delete_queue(QueueUrl=url)
    sqs.delete_queue(QueueUrl=raw_url)
    mid = sns.publish(
        TopicArn=t, Message="lost", MessageAttributes={"attr1": {"DataType": "Number", "StringValue": "111"}}
    )["MessageId"]
    # A deleted queue is a client-side failure: no retries, straight to the
    # dead-letter queue with what the subscription would have got.
    envelope = json.loads(receive(sqs, dlq_url)[0]["Body"])
    assert envelope["MessageId"] == mid
    assert envelope["Message"] == "lost"
    assert envelope["MessageAttributes"] == {"attr1": {"Type": "Number", "Value": "111"}}
    raw = receive(sqs, raw_dlq_url)[0]
    assert raw["Body"] == "lost"
    assert raw["MessageAttributes"] == {"attr1": {"DataType": "Number", "StringValue": "111"}}
    assert outbox_empty(endpoint)


HANDLER = """
def handler(event, context):
    return event
"""


def lambda_package():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("lambda_function.py", HANDLER)
    return buf.getvalue()


def test_lambda_subscription_gets_the_sns_event(lam, sns, sqs, topic, queue):
    url, q = queue()
    name = unique_name("snsfn")
    fn = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="lambda_function.handler",
        Code={"ZipFile": lambda_package()},
    )["FunctionArn"]
    try:
        # The function's OnSuccess destination shows what it was invoked with.
        lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": q}})
        t = topic()
        sub = sns.subscribe(TopicArn=t, Protocol="lambda", Endpoint=fn)["SubscriptionArn"]
        attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        assert attrs["Protocol"] == "lambda" and attrs["PendingConfirmation"] == "false"
        mid = sns.publish(
            TopicArn=t,
            Message="Hello world.",
            MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
        )["MessageId"]
        record = json.loads(receive(sqs, url, wait=30)[0]["Body"])
        event = record["requestPayload"]
        assert record["requestContext"]["condition"] == "Success"
        assert len(event["Records"]) == 1
        r = event["Records"][0]
        assert r["EventSource"] == "aws:sns"
        assert r["EventVersion"] == "1.0"
        assert r["EventSubscriptionArn"] == sub
        s = r["Sns"]
        assert s["Type"] == "Notification"
        assert s["MessageId"] == mid
        assert s["TopicArn"] == t
        assert s["Subject"] is None
        assert s["Message"] == "Hello world."
        assert s["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
        assert s["SignatureVersion"] == "1"
        assert {"Signature", "SigningCertUrl", "UnsubscribeUrl", "Timestamp"} <= set(s)
    finally:
        lam.delete_function(FunctionName=name)


def test_lambda_subscription_to_a_missing_function_dead_letters(endpoint, sns, sqs, topic, queue):
    t = topic()
    dlq_url, dlq = queue()
    sns.subscribe(
        TopicArn=t,
        Protocol="lambda",
        Endpoint="arn:aws:lambda:us-east-1:000000000000:function:" + unique_name("missing"),
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq})},
    )
    sns.publish(TopicArn=t, Message="nobody home")
    envelope = json.loads(receive(sqs, dlq_url)[0]["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["Message"] == "nobody home"
    assert outbox_empty(endpoint)


class Recorder(http.server.BaseHTTPRequestHandler):
    """Records each POST (headers and body) and answers 200."""

    received = None

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode()
        self.server.received.put({k.lower(): v for k, v in self.headers.items()} | {"body": body})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_endpoint():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.received = queue_mod.Queue()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", server.received
    server.shutdown()


def test_http_subscription_confirmation_flow(sns, topic, http_endpoint):
    hook, received = http_endpoint
    t = topic()
    assert sns.subscribe(TopicArn=t, Protocol="http", Endpoint=hook)["SubscriptionArn"] == "pending confirmation"
    confirmation = received.get(timeout=10)
    assert confirmation["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert confirmation["x-amz-sns-topic-arn"] == t
    assert confirmation["content-type"] == "text/plain; charset=UTF-8"
    assert confirmation["user-agent"] == "Amazon Simple Notification Service Agent"
    body = json.loads(confirmation["body"])
    assert body["Type"] == "SubscriptionConfirmation"
    assert body["TopicArn"] == t
    assert body["MessageId"] == confirmation["x-amz-sns-message-id"]
    assert body["Message"] == (
        f"You have chosen to subscribe to the topic {t}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message."
    )
    subs = sns.list_subscriptions_by_topic(TopicArn=t)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == ["PendingConfirmation"]
    # Subscribing again while pending sends the confirmation again, with the
    # same token.
    assert sns.subscribe(TopicArn=t, Protocol="http", Endpoint=hook)["SubscriptionArn"] == "pending confirmation"
    assert json.loads(received.get(timeout=10)["body"])["Token"] == body["Token"]
    assert sns.get_topic_attributes(TopicArn=t)["Attributes"]["SubscriptionsPending"] == "1"
    # Nothing is delivered while pending.
    sns.publish(TopicArn=t, Message="too early")
    with pytest.raises(queue_mod.Empty):
        received.get(timeout=1)
    # The SubscribeURL confirms without a signature, as on AWS.
    with urllib.request.urlopen(body["SubscribeURL"], timeout=5) as resp:
        xml = resp.read().decode()
    assert "<ConfirmSubscriptionResponse" in xml
    sub_arn = sns.list_subscriptions_by_topic(TopicArn=t)["Subscriptions"][0]["SubscriptionArn"]
    assert sub_arn.startswith(t + ":")
    assert sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]["PendingConfirmation"] == "false"
    mid = sns.publish(TopicArn=t, Message="test_external_http_endpoint")["MessageId"]
    note = received.get(timeout=10)
    assert note["x-amz-sns-message-type"] == "Notification"
    assert note["x-amz-sns-subscription-arn"] == sub_arn
    assert note["x-amz-sns-message-id"] == mid
    assert json.loads(note["body"])["Message"] == "test_external_http_endpoint"
    # Raw delivery posts the message itself.
    sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.publish(TopicArn=t, Message="raw body")
    raw = received.get(timeout=10)
    assert raw["body"] == "raw body"
    assert raw["x-amz-sns-rawdelivery"] == "true"
    # The token confirms through the API too (idempotently).
    assert sns.confirm_subscription(TopicArn=t, Token=body["Token"])["SubscriptionArn"] == sub_arn
    with aws_error("InvalidParameter", "Invalid parameter: Topic"):
        sns.confirm_subscription(TopicArn=t + "x", Token=body["Token"])


def test_return_subscription_arn_for_pending_http(sns, topic, http_endpoint):
    hook, received = http_endpoint
    t = topic()
    arn = sns.subscribe(TopicArn=t, Protocol="http", Endpoint=hook, ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert arn.startswith(t + ":")
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "true"
    assert attrs["ConfirmationWasAuthenticated"] == "false"
    assert json.loads(attrs["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == 3
    received.get(timeout=10)
