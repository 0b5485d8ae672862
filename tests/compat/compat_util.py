"""Helpers shared by the compatibility tests (imported as a plain module)."""

import contextlib
import io
import json
import zipfile
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REGION = "us-east-1"
TARGET_PREFIX = "DynamoDB_20120810."


class _Caught:
    response = None
    code = None
    message = None


@contextlib.contextmanager
def aws_error(code, message=None, status=400):
    """Expect a ClientError with exactly this code and (when given) exactly this message."""
    caught = _Caught()
    try:
        yield caught
    except ClientError as exc:
        caught.response = exc.response
        caught.code = exc.response["Error"].get("Code")
        caught.message = exc.response["Error"].get("Message")
        assert caught.code == code, f"expected {code}, got {caught.code}: {caught.message!r}"
        if message is not None:
            assert caught.message == message, (
                f"{code}: expected message\n  {message!r}\ngot\n  {caught.message!r}"
            )
        if status is not None:
            got = exc.response["ResponseMetadata"]["HTTPStatusCode"]
            assert got == status, f"expected HTTP {status}, got {got}"
    else:
        raise AssertionError(f"expected {code} ({message!r}) but the request succeeded")


def raw_request(endpoint, operation, body, content_type="application/x-amz-json-1.0", sign=True):
    """Send one DynamoDB request with an arbitrary body.

    Returns (status, parsed JSON or raw bytes, headers as a lower-cased dict).

    The request is SigV4-signed like an SDK request, so a server that checks
    the Authorization header sees a well-formed one.
    """
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    headers = {"Content-Type": content_type}
    if operation is not None:
        headers["X-Amz-Target"] = TARGET_PREFIX + operation
    request = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
    if sign:
        SigV4Auth(Credentials("AKIDCOMPATTEST", "compat-secret"), "dynamodb", REGION).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=body, method="POST", headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, payload, headers = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as err:
        status, payload, headers = err.code, err.read(), err.headers
    headers = {k.lower(): v for k, v in headers.items()}
    try:
        return status, json.loads(payload) if payload else {}, headers
    except ValueError:
        return status, payload, headers


def error_name(parsed):
    """The short error name of a JSON error body: 'com.amazon.coral.service#X' -> 'X'."""
    return parsed.get("__type", "").rsplit("#", 1)[-1]


def error_message(parsed):
    # awsJson1_0 errors carry "message" (DynamoDB) or "Message" (some coral errors).
    return parsed.get("message", parsed.get("Message"))


def advance_clock(endpoint, seconds):
    """Moves nimbus's test clock forward (POST /_nimbus/clock/advance)."""
    request = urllib.request.Request(
        endpoint + "/_nimbus/clock/advance",
        data=json.dumps({"seconds": seconds}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        return json.loads(resp.read())


# Function code that sends a file to the test (see conftest's file_drop).
DROP_PY = """
import os as _drop_os
import urllib.request as _drop_request


def drop(name, text, append=False):
    request = _drop_request.Request(
        _drop_os.environ["OUT_URL"] + name, data=text.encode(), method="POST" if append else "PUT"
    )
    _drop_request.urlopen(request, timeout=10).close()
"""


def zip_of(files):
    """A zip of {name: text, or (text, unix mode) for e.g. an executable
    bootstrap}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in files.items():
            if isinstance(body, tuple):
                body, mode = body
                info = zipfile.ZipInfo(name)
                info.external_attr = (0o100000 | mode) << 16
                z.writestr(info, body)
            else:
                z.writestr(name, body)
    return buf.getvalue()
