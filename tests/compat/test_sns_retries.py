"""SNS delivery retries through unmodified boto3, on nimbus's test clock (a
nimbus of the module's own, since the clock only moves forward): an HTTP
endpoint that keeps failing is retried as the delivery policy says (SNS's
default: 3 retries 20 seconds apart; or the subscription's own policy) and
the message then goes to the dead-letter queue; an endpoint that refuses
the message (a 4xx answer) is not retried.
"""

import http.server
import json
import queue as queue_mod
import threading
import time

import pytest
from compat_util import advance_clock
from sns_util import create_queue
from conftest import _CONFIG, _session, own_nimbus, unique_name


@pytest.fixture(scope="module")
def endpoint():
    yield from own_nimbus()


@pytest.fixture(scope="module")
def sns(endpoint):
    return _session().client("sns", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="module")
def sqs(endpoint):
    return _session().client("sqs", endpoint_url=endpoint, config=_CONFIG)


class Failing(http.server.BaseHTTPRequestHandler):
    """Confirms subscriptions (200) and answers notifications with the
    server's `status`, recording each request."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        kind = self.headers.get("x-amz-sns-message-type")
        self.server.received.put((kind, body))
        self.send_response(200 if kind == "SubscriptionConfirmation" else self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def failing_endpoint():
    def make(status):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
        server.received = queue_mod.Queue()
        server.status = status
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/hook", server.received

    servers = []
    yield make
    for s in servers:
        s.shutdown()


def confirmed_http_subscription(sns, sqs, url, received, **attributes):
    topic = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    dlq_url, dlq = create_queue(sqs)
    attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq})
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url, Attributes=attributes)
    kind, body = received.get(timeout=10)
    assert kind == "SubscriptionConfirmation"
    sns.confirm_subscription(TopicArn=topic, Token=json.loads(body)["Token"])
    return topic, dlq_url


def attempts_within(received, seconds, expect=None):
    """Notifications that arrive within `seconds` (or until `expect` did)."""
    got = []
    deadline = time.time() + seconds
    while time.time() < deadline and (expect is None or len(got) < expect):
        try:
            kind, body = received.get(timeout=max(0.01, deadline - time.time()))
        except queue_mod.Empty:
            break
        assert kind == "Notification"
        got.append(json.loads(body)["Message"])
    return got


def dead_letters(sqs, url, wait):
    deadline = time.time() + wait
    while time.time() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        if got:
            return [json.loads(m["Body"])["Message"] for m in got]
    return []


def test_default_policy_retries_three_times_then_dead_letters(endpoint, sns, sqs, failing_endpoint):
    url, received = failing_endpoint(500)
    topic, dlq_url = confirmed_http_subscription(sns, sqs, url, received)
    sns.publish(TopicArn=topic, Message="flaky")
    assert attempts_within(received, 2, expect=1) == ["flaky"]
    # Each retry waits 20 seconds of the clock.
    for _ in range(3):
        assert attempts_within(received, 0.5) == []
        assert dead_letters(sqs, dlq_url, 0.5) == []
        advance_clock(endpoint, 20)
        assert attempts_within(received, 3, expect=1) == ["flaky"]
    assert dead_letters(sqs, dlq_url, 10) == ["flaky"]
    advance_clock(endpoint, 60)
    assert attempts_within(received, 1) == []


def test_subscription_delivery_policy_sets_the_retries(endpoint, sns, sqs, failing_endpoint):
    url, received = failing_endpoint(503)
    policy = {"healthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 60, "maxDelayTarget": 60}}
    topic, dlq_url = confirmed_http_subscription(sns, sqs, url, received, DeliveryPolicy=json.dumps(policy))
    sns.publish(TopicArn=topic, Message="once more")
    assert attempts_within(received, 2, expect=1) == ["once more"]
    # (Real time passes too, so the check before the retry leaves a margin.)
    advance_clock(endpoint, 45)
    assert attempts_within(received, 0.5) == []
    advance_clock(endpoint, 16)
    assert attempts_within(received, 3, expect=1) == ["once more"]
    assert dead_letters(sqs, dlq_url, 10) == ["once more"]


def test_refused_messages_are_not_retried(endpoint, sns, sqs, failing_endpoint):
    url, received = failing_endpoint(404)
    topic, dlq_url = confirmed_http_subscription(sns, sqs, url, received)
    sns.publish(TopicArn=topic, Message="refused")
    assert attempts_within(received, 2, expect=1) == ["refused"]
    assert dead_letters(sqs, dlq_url, 10) == ["refused"]
    advance_clock(endpoint, 120)
    assert attempts_within(received, 1) == []
