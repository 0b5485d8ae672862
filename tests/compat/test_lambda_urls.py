"""Lambda function URLs: the config operations through unmodified boto3,
and HTTP requests to the URL becoming payload format 2.0 events, with the
function's result mapped back onto the response and CORS applied."""

import base64
import http.client
import io
import json
import urllib.error
import urllib.parse
import urllib.request
import zipfile

import pytest
from botocore.exceptions import ClientError
from conftest import _CONFIG, _session, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

ECHO = """
import json
def handler(event, context):
    if event.get("rawPath") == "/raw":
        return {"hello": "world"}
    if event.get("rawPath") == "/fail":
        raise ValueError("nope")
    return {
        "statusCode": 201,
        "headers": {"X-Echo": "yes", "Content-Type": "application/json"},
        "cookies": ["session=abc; Path=/"],
        "body": json.dumps(event),
    }
"""


@pytest.fixture(scope="module")
def lam(endpoint):
    return _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture
def fn(lam):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", ECHO)
    name = unique_name("url")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": buf.getvalue()},
    )
    yield name
    lam.delete_function(FunctionName=name)


def call(url, method="GET", body=None, headers=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def error_of(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_config_operations(lam, fn):
    created = lam.create_function_url_config(
        FunctionName=fn, AuthType="NONE", Cors={"AllowOrigins": ["https://app.example"], "MaxAge": 60}
    )
    assert created["AuthType"] == "NONE"
    assert created["InvokeMode"] == "BUFFERED"
    assert created["FunctionArn"].endswith(f":function:{fn}")
    assert "/_nimbus/lambda-url/" in created["FunctionUrl"]
    got = lam.get_function_url_config(FunctionName=fn)
    assert got["FunctionUrl"] == created["FunctionUrl"]
    assert got["Cors"]["AllowOrigins"] == ["https://app.example"]
    updated = lam.update_function_url_config(FunctionName=fn, AuthType="AWS_IAM")
    assert updated["AuthType"] == "AWS_IAM"
    assert updated["FunctionUrl"] == created["FunctionUrl"]
    listed = lam.list_function_url_configs(FunctionName=fn)["FunctionUrlConfigs"]
    assert len(listed) == 1
    with pytest.raises(ClientError) as e:
        lam.create_function_url_config(FunctionName=fn, AuthType="NONE")
    assert error_of(e)[0] == "ResourceConflictException"
    lam.delete_function_url_config(FunctionName=fn)
    with pytest.raises(ClientError) as e:
        lam.get_function_url_config(FunctionName=fn)
    assert error_of(e) == ("ResourceNotFoundException", "The resource you requested does not exist.")


def test_config_errors(lam, fn):
    lam.publish_version(FunctionName=fn)
    with pytest.raises(ClientError) as e:
        lam.create_function_url_config(FunctionName=fn, Qualifier="1", AuthType="NONE")
    assert error_of(e)[0] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as e:
        lam.create_function_url_config(FunctionName=fn, Qualifier="nope", AuthType="NONE")
    assert error_of(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        lam.create_function_url_config(FunctionName=fn, AuthType="OPEN")
    assert error_of(e) == (
        "ValidationException",
        "1 validation error detected: Value 'OPEN' at 'authType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [AWS_IAM, NONE]",
    )


def test_requests_become_events(lam, fn):
    url = lam.create_function_url_config(FunctionName=fn, AuthType="NONE")["FunctionUrl"]
    status, headers, body = call(
        url + "items/7?color=red&size=2",
        method="POST",
        body=b'{"a": 1}',
        headers={"Content-Type": "application/json", "Cookie": "k=v; z=y", "X-Custom": "1"},
    )
    assert status == 201
    assert headers["X-Echo"] == "yes"
    assert headers["Set-Cookie"] == "session=abc; Path=/"
    event = json.loads(body)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/items/7"
    assert event["rawQueryString"] == "color=red&size=2"
    assert event["queryStringParameters"] == {"color": "red", "size": "2"}
    assert event["cookies"] == ["k=v", "z=y"]
    assert event["headers"]["x-custom"] == "1"
    assert event["body"] == '{"a": 1}'
    assert event["isBase64Encoded"] is False
    http_ctx = event["requestContext"]["http"]
    assert http_ctx["method"] == "POST"
    assert http_ctx["path"] == "/items/7"
    assert http_ctx["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["stage"] == "$default"


def test_binary_bodies_and_plain_results(lam, fn):
    url = lam.create_function_url_config(FunctionName=fn, AuthType="NONE")["FunctionUrl"]
    status, _, body = call(url, method="PUT", body=b"\x00\xff", headers={"Content-Type": "application/octet-stream"})
    event = json.loads(body)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff"
    status, headers, body = call(url + "raw")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"hello": "world"}
    status, _, body = call(url + "fail")
    assert status == 502
    assert json.loads(body) == {"Message": "Internal Server Error"}


def test_host_name_form(lam, fn, endpoint):
    url = lam.create_function_url_config(FunctionName=fn, AuthType="NONE")["FunctionUrl"]
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    parsed = urllib.parse.urlparse(endpoint)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    conn.request("GET", "/raw", headers={"Host": f"{url_id}.lambda-url.us-east-1.localhost:{parsed.port}"})
    r = conn.getresponse()
    assert r.status == 200
    assert json.loads(r.read()) == {"hello": "world"}


def test_cors(lam, fn):
    url = lam.create_function_url_config(
        FunctionName=fn,
        AuthType="NONE",
        Cors={
            "AllowOrigins": ["https://app.example"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["x-token"],
            "MaxAge": 300,
            "AllowCredentials": True,
        },
    )["FunctionUrl"]
    status, headers, _ = call(
        url, method="OPTIONS",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert headers["Access-Control-Allow-Headers"] == "x-token"
    assert headers["Access-Control-Max-Age"] == "300"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    _, headers, _ = call(url + "raw", headers={"Origin": "https://app.example"})
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    _, headers, _ = call(url + "raw", headers={"Origin": "https://evil.example"})
    assert headers.get("Access-Control-Allow-Origin") is None


def test_iam_auth_needs_a_signature(lam, fn):
    url = lam.create_function_url_config(FunctionName=fn, AuthType="AWS_IAM")["FunctionUrl"]
    status, _, body = call(url + "raw")
    assert status == 403
    assert json.loads(body) == {"Message": "Forbidden"}


def test_unknown_url_is_404(endpoint):
    status, _, _ = call(endpoint + "/_nimbus/lambda-url/" + "a" * 32 + "/")
    assert status == 404


def test_invoke_with_response_stream(lam, fn):
    r = lam.invoke_with_response_stream(FunctionName=fn, Payload=json.dumps({"rawPath": "/raw"}), LogType="Tail")
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    chunks, complete = [], None
    for event in r["EventStream"]:
        if "PayloadChunk" in event:
            chunks.append(event["PayloadChunk"]["Payload"])
        if "InvokeComplete" in event:
            complete = event["InvokeComplete"]
    assert json.loads(b"".join(chunks)) == {"hello": "world"}
    assert "ErrorCode" not in complete
    assert "REPORT RequestId" in base64.b64decode(complete["LogResult"]).decode()
    r = lam.invoke_with_response_stream(FunctionName=fn, Payload=json.dumps({"rawPath": "/fail"}))
    events = list(r["EventStream"])
    complete = [e["InvokeComplete"] for e in events if "InvokeComplete" in e][0]
    assert complete["ErrorCode"] == "Unhandled"
    assert json.loads(complete["ErrorDetails"])["errorMessage"] == "nope"
