"""Response streaming in Node.js functions, through unmodified boto3 and
HTTP: `awslambda.streamifyResponse` handlers write to a response stream
(write / end / stream.pipeline), `awslambda.HttpResponseStream.from` sets a
function URL's status and headers, and errors before or during the stream
reach the caller as AWS reports them. What a function writes reaches the
caller while it runs (InvokeWithResponseStream as PayloadChunk events, a
RESPONSE_STREAM function URL as a chunked body): the `gated` tests prove it
with a function that waits for a file the test writes only once it holds the
first chunk."""

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from compat_util import zip_of
from conftest import _CONFIG, _session, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

HANDLER = """
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

// Waits until the test has written `name` into its file drop (see
// conftest's file_drop), which it does once it holds the first chunk.
async function marker(name) {
  for (;;) {
    const answer = await fetch(process.env.OUT_URL + name);
    if (answer.ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  const path = event.rawPath ?? event.mode;
  const wait = event.marker ?? event.queryStringParameters?.marker;
  if (path === 'gated') {
    responseStream.write('first;');
    await marker(wait);
    responseStream.end('second');
    return;
  }
  if (path === '/http-gated') {
    const stream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 202, headers: { 'content-type': 'text/plain' },
    });
    stream.write('head;');
    await marker(wait);
    stream.end('tail');
    return;
  }
  if (path === '/fail-later') {
    responseStream.write('partial');
    await marker(wait);
    throw new RangeError('broke mid-stream');
  }
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


def create_streamer(lam, **extra):
    name = unique_name("streamer")
    lam.create_function(
        FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
        Code={"ZipFile": zip_of({"index.mjs": HANDLER})}, **extra,
    )
    return name


@pytest.fixture(scope="module")
def fn(lam):
    name = create_streamer(lam)
    yield name
    lam.delete_function(FunctionName=name)


@pytest.fixture
def gated(lam, file_drop, tmp_path):
    """A streamer that can wait for the test: (function name, directory the
    test writes its markers to). Its 20 s timeout is what a server that held
    the first chunk back until the end would run into."""
    name = create_streamer(lam, Timeout=20, Environment={"Variables": {"OUT_URL": file_drop(tmp_path)}})
    yield name, tmp_path
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
    # What was written before the error went out as it was written.
    assert body == b"partial"
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


def test_first_chunk_arrives_before_the_function_finishes(lam, gated):
    name, markers = gated
    r = lam.invoke_with_response_stream(FunctionName=name, Payload=json.dumps({"mode": "gated", "marker": "go"}))
    assert r["StatusCode"] == 200
    events = iter(r["EventStream"])
    first = next(events)
    # The function is still waiting for the marker: a buffering server would
    # only answer after its timeout, with no chunk at all.
    assert first == {"PayloadChunk": {"Payload": b"first;"}}
    (markers / "go").write_text("")
    chunks, complete = [], None
    for event in events:
        if "PayloadChunk" in event:
            chunks.append(event["PayloadChunk"]["Payload"])
        if "InvokeComplete" in event:
            complete = event["InvokeComplete"]
    assert b"".join(chunks) == b"second"
    assert complete is not None and "ErrorCode" not in complete


def url_request(lam, name, path, marker):
    """Gives the function a RESPONSE_STREAM URL and GETs `path` under it
    with a raw HTTP client: the connection and the response with its head
    read."""
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE", InvokeMode="RESPONSE_STREAM")["FunctionUrl"]
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.netloc, timeout=10)
    conn.request("GET", parsed.path.rstrip("/") + path + "?marker=" + marker)
    return conn, conn.getresponse()


def read_until(response, text):
    """Reads the body as it arrives until `text` is in it."""
    seen = b""
    while text not in seen:
        piece = response.read1(65536)
        assert piece, f"body ended early: {seen!r}"
        seen += piece
    return seen


def test_function_url_sends_its_body_as_the_function_writes_it(lam, gated):
    name, markers = gated
    conn, r = url_request(lam, name, "/http-gated", "url-go")
    try:
        # The prelude's status and headers, and the first chunk, while the
        # function waits (read1 returns what has arrived; the 10 s socket
        # timeout fails a server that holds the body back).
        assert r.status == 202
        assert r.headers["content-type"] == "text/plain"
        assert r.headers["transfer-encoding"] == "chunked"
        assert read_until(r, b"head;") == b"head;"
        (markers / "url-go").write_text("")
        assert r.read() == b"tail"
    finally:
        conn.close()


def test_function_url_response_is_cut_off_by_a_mid_stream_error(lam, gated):
    name, markers = gated
    conn, r = url_request(lam, name, "/fail-later", "fail-go")
    try:
        assert r.status == 200
        assert read_until(r, b"partial") == b"partial"
        (markers / "fail-go").write_text("")
        # No clean end of the chunked body: the client can tell the
        # response is incomplete.
        with pytest.raises(http.client.IncompleteRead):
            r.read()
    finally:
        conn.close()
    # The environment is still usable.
    assert stream(lam, name, {})[0] == b"hello world"


# A provided.al2023 runtime of its own speaking the Runtime API's streaming
# mode by hand: a chunked POST .../response, two chunks with a wait for the
# test between them, and a mid-stream error in the trailers.
CUSTOM_BOOTSTRAP = """#!/usr/bin/python3
import base64, http.client, json, os, time, urllib.error, urllib.request

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")


def marker(name):
    while True:
        try:
            urllib.request.urlopen(os.environ["OUT_URL"] + name, timeout=5).close()
            return
        except urllib.error.HTTPError:
            time.sleep(0.05)


def chunk(conn, data):
    conn.send(b"%x\\r\\n%s\\r\\n" % (len(data), data))


while True:
    conn = http.client.HTTPConnection(host, int(port))
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    answer = conn.getresponse()
    event = json.loads(answer.read())
    request_id = answer.headers["Lambda-Runtime-Aws-Request-Id"]
    conn.putrequest("POST", f"/2018-06-01/runtime/invocation/{request_id}/response")
    conn.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.putheader("Trailer", "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body")
    conn.endheaders()
    chunk(conn, b"one;")
    marker(event["marker"])
    chunk(conn, b"two;")
    error = json.dumps({"errorType": "Custom.Failure", "errorMessage": "after two chunks"}).encode()
    conn.send(
        b"0\\r\\nLambda-Runtime-Function-Error-Type: Custom.Failure\\r\\n"
        b"Lambda-Runtime-Function-Error-Body: " + base64.b64encode(error) + b"\\r\\n\\r\\n"
    )
    conn.getresponse().read()
    conn.close()
"""


def test_custom_runtime_streams_chunk_by_chunk_and_reports_errors_in_trailers(lam, file_drop, tmp_path):
    name = unique_name("custom-stream")
    lam.create_function(
        FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="none", Timeout=20,
        Code={"ZipFile": zip_of({"bootstrap": (CUSTOM_BOOTSTRAP, 0o755)})},
        Environment={"Variables": {"OUT_URL": file_drop(tmp_path)}},
    )
    try:
        r = lam.invoke_with_response_stream(FunctionName=name, Payload=json.dumps({"marker": "custom-go"}))
        events = iter(r["EventStream"])
        assert next(events) == {"PayloadChunk": {"Payload": b"one;"}}
        (tmp_path / "custom-go").write_text("")
        rest = list(events)
        assert rest[0] == {"PayloadChunk": {"Payload": b"two;"}}
        complete = rest[-1]["InvokeComplete"]
        assert complete["ErrorCode"] == "Unhandled"
        details = json.loads(complete["ErrorDetails"])
        assert details == {"errorType": "Custom.Failure", "errorMessage": "after two chunks"}
    finally:
        lam.delete_function(FunctionName=name)
