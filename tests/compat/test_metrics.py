"""Request metrics at /_nimbus/metrics: every AWS API request is counted by
service, AWS operation name and outcome, with a latency histogram, whatever
protocol carried it (awsJson, awsQuery, restJson)."""

import re
import urllib.request

import pytest
from botocore.exceptions import ClientError
from conftest import unique_name


def scrape(endpoint):
    with urllib.request.urlopen(endpoint + "/_nimbus/metrics", timeout=5) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)
    return text, values


def count(values, service, operation, outcome):
    return values.get(
        f'nimbus_requests_total{{service="{service}",operation="{operation}",outcome="{outcome}"}}', 0
    )


def test_requests_are_counted_by_operation_and_outcome(endpoint, dynamodb, sqs, lambda_client):
    _, before = scrape(endpoint)
    dynamodb.list_tables()
    dynamodb.list_tables()
    with pytest.raises(ClientError):
        dynamodb.describe_table(TableName=unique_name("missing"))
    url = sqs.create_queue(QueueName=unique_name("metrics"))["QueueUrl"]
    sqs.get_queue_url(QueueName=url.rsplit("/", 1)[1])
    lambda_client.list_functions()
    with pytest.raises(ClientError):
        lambda_client.get_function(FunctionName=unique_name("missing"))
    text, after = scrape(endpoint)
    diff = lambda s, op, o: count(after, s, op, o) - count(before, s, op, o)
    assert diff("dynamodb", "ListTables", "ok") == 2
    assert diff("dynamodb", "DescribeTable", "client_error") == 1
    assert diff("sqs", "CreateQueue", "ok") == 1
    assert diff("sqs", "GetQueueUrl", "ok") == 1
    assert diff("lambda", "ListFunctions", "ok") == 1
    assert diff("lambda", "GetFunction", "client_error") == 1
    labels = 'service="dynamodb",operation="ListTables"'
    assert "# TYPE nimbus_request_duration_seconds histogram" in text
    buckets = [
        after[k] for k in after if k.startswith(f"nimbus_request_duration_seconds_bucket{{{labels},")
    ]
    assert buckets == sorted(buckets), "buckets are cumulative"
    assert after[f'nimbus_request_duration_seconds_bucket{{{labels},le="+Inf"}}'] == after[
        f"nimbus_request_duration_seconds_count{{{labels}}}"
    ]
    # nimbus's own endpoints are not AWS requests.
    assert not re.search(r'service="(internal|_nimbus)"', text)


def test_sqs_query_protocol_requests_are_counted_by_action(endpoint):
    from test_sqs_query import Raw  # signed awsQuery requests

    _, before = scrape(endpoint)
    assert Raw(endpoint).send({"Action": "ListQueues", "Version": "2012-11-05"}).status_code == 200
    _, after = scrape(endpoint)
    assert count(after, "sqs", "ListQueues", "ok") - count(before, "sqs", "ListQueues", "ok") == 1
