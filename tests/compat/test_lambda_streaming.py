"""Response streaming in Node.js functions, through unmodified boto3 and
HTTP: `awslambda.streamifyResponse` handlers write to a response stream
(write / end / stream.pipeline), `awslambda.HttpResponseStream.from` sets a
function URL's status and headers, and errors before or during the stream
reach the caller as AWS reports them. nimbus hands the stream on once it has
ended (InvokeWithResponseStream gets it as PayloadChunk events)."""

import io
import json
import urllib.error
import urllib.request
import zipfile

import pytest
from conftest import _CONFIG, _session, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

HANDLER = """
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  const path = event.rawPath ?? event.mode;
  if (path === '/http' || path === 'http') {
    const stream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 201,
      headers: { 'content-type': 'text/csv', 'x-streamed': context.functionName },
      cookies: ['a=1; Path=/'],
    });
    stream.write('id,name\\n');
    await new Promise((r) => setTimeout(r, 5));
    stream.write('1,ada\\n');
    stream.end();
    return;
  }
  if (path === 'pipeline') {
    responseStream.setContentType('text/plain');
    await pipeline(Readable.from(['one ', 'two ', 'three']), responseStream);
    return;
  }
  if (path === 'throw-first') throw new TypeError('nothing written');
  if (path === 'throw-later') {
    responseStream.write('partial');
    await new Promise((r) => setTimeout(r, 5));
    throw new RangeError('broke mid-stream');
  }
  responseStream.setContentType('text/plain');
  responseStream.write('hello ');
  await new Promise((r) => setTimeout(r, 5));
  responseStream.write(event.name ?? 'world');
  responseStream.end();
});
"""


@pytest.fixture(scope="module")
def lam(endpoint):
    return _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="module")
def fn(lam):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.mjs", HANDLER)
    name = unique_name("streamer")
    lam.create_function(
        FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
        Code={"ZipFile": buf.getvalue()},
    )
    yield name
    lam.delete_function(FunctionName=name)


def stream(lam, fn, payload):
    r = lam.invoke_with_response_stream(FunctionName=fn, Payload=json.dumps(payload))
    assert r["StatusCode"] == 200
    chunks, complete = [], None
    for event in r["EventStream"]:
        if "PayloadChunk" in event:
            chunks.append(event["PayloadChunk"]["Payload"])
        if "InvokeComplete" in event:
            complete = event["InvokeComplete"]
    return b"".join(chunks), complete


def test_streamed_response_through_invoke_with_response_stream(lam, fn):
    body, complete = stream(lam, fn, {"name": "nimbus"})
    assert body == b"hello nimbus"
    assert "ErrorCode" not in complete
    body, _ = stream(lam, fn, {"mode": "pipeline"})
    assert body == b"one two three"


def test_streamed_response_through_plain_invoke(lam, fn):
    r = lam.invoke(FunctionName=fn, Payload=json.dumps({"name": "again"}))
    assert "FunctionError" not in r
    assert r["Payload"].read() == b"hello again"


def test_errors_before_and_during_the_stream(lam, fn):
    r = lam.invoke(FunctionName=fn, Payload=json.dumps({"mode": "throw-first"}))
    assert r["FunctionError"] == "Unhandled"
    doc = json.loads(r["Payload"].read())
    assert doc["errorType"] == "TypeError" and doc["errorMessage"] == "nothing written"
    body, complete = stream(lam, fn, {"mode": "throw-later"})
    assert complete["ErrorCode"] == "Unhandled"
    details = json.loads(complete["ErrorDetails"])
    assert details["errorType"] == "RangeError" and details["errorMessage"] == "broke mid-stream"
    # The environment is still usable after a failed stream.
    assert stream(lam, fn, {})[0] == b"hello world"


def test_function_url_in_response_stream_mode(lam, fn):
    url = lam.create_function_url_config(FunctionName=fn, AuthType="NONE", InvokeMode="RESPONSE_STREAM")["FunctionUrl"]
    try:
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/http", timeout=30) as r:
                status, headers, body = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read()
        assert status == 201
        assert headers["content-type"] == "text/csv"
        assert headers["x-streamed"] == fn
        assert headers["set-cookie"] == "a=1; Path=/"
        assert body == b"id,name\n1,ada\n"
        # Without a prelude the stream is the body, with its content type.
        with urllib.request.urlopen(url.rstrip("/") + "/plain", timeout=30) as r:
            assert r.status == 200
            assert r.headers["content-type"] == "text/plain"
            assert r.read() == b"hello world"
    finally:
        lam.delete_function_url_config(FunctionName=fn)
