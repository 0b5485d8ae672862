"""Lambda through unmodified boto3: the control plane (functions, versions,
aliases, concurrency, tags), Invoke with every invocation type, what the
execution environments do (warm reuse, errors, timeouts, crashes, memory,
logs, variables, custom runtimes), and every bad-input path with AWS's error.

Error texts come from AWS's API reference and, where it gives none, from the
texts AWS returns as reported verbatim in public issues (noted per test as
"text as observed on AWS").
"""

import base64
import hashlib
import io
import json
import os
import struct
import sys
import sysconfig
import textwrap
import time
import urllib.request
import uuid
import zipfile
from pathlib import Path

import pytest

from compat_util import DROP_PY, aws_error

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
PY_RUNTIME = "python3.12"

ECHO_PY = """
import os

count = 0

def handler(event, context):
    global count
    count += 1
    print("echo handler saw", event)
    return {
        "event": event,
        "count": count,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "custom": (context.client_context.custom if context.client_context else None),
    }
"""


def make_zip(files):
    """A deployment package: {path: text or (text, mode)}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, content in files.items():
            mode = 0o644
            if isinstance(content, tuple):
                content, mode = content
            info = zipfile.ZipInfo(path)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content)
    return buf.getvalue()


def py_zip(source, module="index"):
    return make_zip({f"{module}.py": textwrap.dedent(source)})


def fname(prefix="fn"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def functions(lambda_client):
    """Factory: functions(code_zip, **create_function_kwargs) -> the create
    response. Defaults: a fresh name, python3.12, index.handler. Deletes every
    function it made when the test ends."""
    made = []

    def create(zip_bytes, **kwargs):
        kwargs.setdefault("FunctionName", fname())
        kwargs.setdefault("Runtime", PY_RUNTIME)
        kwargs.setdefault("Handler", "index.handler")
        kwargs.setdefault("Role", ROLE)
        out = lambda_client.create_function(Code={"ZipFile": zip_bytes}, **kwargs)
        made.append(kwargs["FunctionName"])
        return out

    yield create
    for name in made:
        try:
            lambda_client.delete_function(FunctionName=name)
        except lambda_client.exceptions.ResourceNotFoundException:
            pass


def invoke(client, name, event=None, **kwargs):
    """Invoke and return (response, decoded JSON payload or None)."""
    if event is not None:
        kwargs["Payload"] = json.dumps(event).encode()
    resp = client.invoke(FunctionName=name, **kwargs)
    body = resp["Payload"].read() if "Payload" in resp else b""
    return resp, (json.loads(body) if body else None)


def arn(account_id, name, qualifier=None):
    base = f"arn:aws:lambda:us-east-1:{account_id}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


# ---------------------------------------------------------------- control plane


def test_create_function_shape_and_waiter(lambda_client, functions, account_id):
    code = py_zip(ECHO_PY)
    name = fname("shape")
    out = functions(code, FunctionName=name, Description="echo", Environment={"Variables": {"AB": "1"}})
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert out["FunctionName"] == name
    assert out["FunctionArn"] == arn(account_id, name)
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert out["CodeSize"] == len(code)
    assert out["Version"] == "$LATEST"
    assert out["Runtime"] == PY_RUNTIME and out["Handler"] == "index.handler" and out["Role"] == ROLE
    assert out["Timeout"] == 3 and out["MemorySize"] == 128
    assert out["PackageType"] == "Zip"
    assert out["Architectures"] == ["x86_64"]
    assert out["EphemeralStorage"] == {"Size": 512}
    assert out["Description"] == "echo"
    assert out["Environment"] == {"Variables": {"AB": "1"}}
    assert out["State"] == "Pending"
    assert out["StateReasonCode"] == "Creating"
    assert uuid.UUID(out["RevisionId"])
    # boto3's own waiter polls GetFunction until State is Active.
    lambda_client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    got = lambda_client.get_function(FunctionName=name)
    conf = got["Configuration"]
    assert conf["State"] == "Active"
    assert conf["LastUpdateStatus"] == "Successful"
    assert conf["RevisionId"] == out["RevisionId"]
    assert conf["CodeSha256"] == out["CodeSha256"]
    assert got["Code"]["RepositoryType"] == "S3"
    # Code.Location serves the package exactly as uploaded.
    with urllib.request.urlopen(got["Code"]["Location"], timeout=10) as download:
        assert download.read() == code
    assert lambda_client.get_function_configuration(FunctionName=name) | {
        "ResponseMetadata": None
    } == conf | {"ResponseMetadata": None}
    # Every way of naming the function reaches the same one.
    for ref in (arn(account_id, name), f"{account_id}:function:{name}", f"{name}:$LATEST"):
        assert lambda_client.get_function_configuration(FunctionName=ref)["FunctionArn"] == arn(account_id, name)


def test_list_functions_paginates(lambda_client, functions):
    prefix = f"list-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        functions(py_zip(ECHO_PY), FunctionName=n)
    seen = []
    pages = 0
    marker = None
    while True:
        kwargs = {"MaxItems": 2}
        if marker:
            kwargs["Marker"] = marker
        page = lambda_client.list_functions(**kwargs)
        pages += 1
        assert len(page["Functions"]) <= 2
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert [n for n in seen if n.startswith(prefix)] == names
    assert len(seen) == len(set(seen)), "a function appeared on two pages"
    assert pages >= 3
    # boto3's paginator follows NextMarker the same way.
    via_paginator = [
        f["FunctionName"]
        for page in lambda_client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 3})
        for f in page["Functions"]
    ]
    assert [n for n in via_paginator if n.startswith(prefix)] == names


def test_update_function_code_and_revision(lambda_client, functions):
    created = functions(py_zip("def handler(e, c):\n    return 'one'\n"))
    name = created["FunctionName"]
    assert invoke(lambda_client, name)[1] == "one"
    new_code = py_zip("def handler(e, c):\n    return 'two'\n")
    with aws_error(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        status=412,
    ):
        lambda_client.update_function_code(FunctionName=name, ZipFile=new_code, RevisionId=str(uuid.uuid4()))
    out = lambda_client.update_function_code(FunctionName=name, ZipFile=new_code, RevisionId=created["RevisionId"])
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(new_code).digest()).decode()
    assert out["CodeSize"] == len(new_code)
    assert out["RevisionId"] != created["RevisionId"]
    assert out["LastUpdateStatus"] == "InProgress"
    lambda_client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    assert lambda_client.get_function(FunctionName=name)["Configuration"]["LastUpdateStatus"] == "Successful"
    # The next invocation runs the new code (the warm environment is retired).
    assert invoke(lambda_client, name)[1] == "two"
    # A DryRun validates and reports without changing anything.
    third = py_zip("def handler(e, c):\n    return 'three'\n")
    lambda_client.update_function_code(FunctionName=name, ZipFile=third, DryRun=True)
    assert invoke(lambda_client, name)[1] == "two"


def test_update_function_configuration(lambda_client, functions):
    created = functions(py_zip(ECHO_PY))
    name = created["FunctionName"]
    with aws_error(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        status=412,
    ):
        lambda_client.update_function_configuration(FunctionName=name, Timeout=10, RevisionId=str(uuid.uuid4()))
    assert lambda_client.get_function_configuration(FunctionName=name)["Timeout"] == 3
    out = lambda_client.update_function_configuration(
        FunctionName=name,
        Timeout=10,
        MemorySize=256,
        Description="changed",
        Environment={"Variables": {"GREETING": "hi"}},
        RevisionId=created["RevisionId"],
    )
    assert (out["Timeout"], out["MemorySize"], out["Description"]) == (10, 256, "changed")
    assert out["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert out["CodeSha256"] == created["CodeSha256"]
    assert out["RevisionId"] != created["RevisionId"]
    resp, body = invoke(lambda_client, name, {})
    assert body["memory"] in (256, "256")


def test_delete_function_and_versions(lambda_client, functions, account_id):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    v1 = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.update_function_configuration(FunctionName=name, Timeout=4)
    v2 = lambda_client.publish_version(FunctionName=name)["Version"]
    assert (v1, v2) == ("1", "2")
    with aws_error(
        "InvalidParameterValueException",
        "$LATEST version cannot be deleted without deleting the function.",
    ):
        lambda_client.delete_function(FunctionName=name, Qualifier="$LATEST")
    lambda_client.delete_function(FunctionName=name, Qualifier="1")
    with aws_error("ResourceNotFoundException", f"Function not found: {arn(account_id, name, '1')}", status=404):
        lambda_client.get_function(FunctionName=name, Qualifier="1")
    assert lambda_client.get_function(FunctionName=name, Qualifier="2")["Configuration"]["Version"] == "2"
    resp = lambda_client.delete_function(FunctionName=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with aws_error("ResourceNotFoundException", f"Function not found: {arn(account_id, name)}", status=404):
        lambda_client.get_function(FunctionName=name)
    with aws_error("ResourceNotFoundException", f"Function not found: {arn(account_id, name)}", status=404):
        lambda_client.delete_function(FunctionName=name)


def test_publish_and_list_versions(lambda_client, functions, account_id):
    created = functions(py_zip("def handler(e, c):\n    return 'v1'\n"))
    name = created["FunctionName"]
    v1 = lambda_client.publish_version(FunctionName=name, Description="first")
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert v1["Version"] == "1"
    assert v1["FunctionArn"] == arn(account_id, name, "1")
    assert v1["Description"] == "first"
    assert v1["CodeSha256"] == created["CodeSha256"]
    # Nothing changed: AWS hands back the latest version instead of a new one.
    assert lambda_client.publish_version(FunctionName=name)["Version"] == "1"
    with aws_error(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        status=412,
    ):
        lambda_client.publish_version(FunctionName=name, RevisionId=str(uuid.uuid4()))
    lambda_client.update_function_code(FunctionName=name, ZipFile=py_zip("def handler(e, c):\n    return 'v2'\n"))
    assert lambda_client.publish_version(FunctionName=name)["Version"] == "2"
    versions = []
    marker = None
    while True:
        kwargs = {"FunctionName": name, "MaxItems": 1}
        if marker:
            kwargs["Marker"] = marker
        page = lambda_client.list_versions_by_function(**kwargs)
        versions += [v["Version"] for v in page["Versions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert versions == ["$LATEST", "1", "2"]
    # Published versions keep their code.
    assert invoke(lambda_client, name, Qualifier="1")[1] == "v1"
    assert invoke(lambda_client, f"{name}:2")[1] == "v2"
    resp, _ = invoke(lambda_client, name, Qualifier="1")
    assert resp["ExecutedVersion"] == "1"


def test_aliases(lambda_client, functions, account_id):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    lambda_client.publish_version(FunctionName=name)
    lambda_client.update_function_configuration(FunctionName=name, Timeout=4)
    lambda_client.publish_version(FunctionName=name)
    alias = lambda_client.create_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion="1",
        Description="production",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}},
    )
    assert alias["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert alias["AliasArn"] == arn(account_id, name, "live")
    assert alias["Name"] == "live" and alias["FunctionVersion"] == "1"
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    assert uuid.UUID(alias["RevisionId"])
    with aws_error(
        "ResourceConflictException", f"Alias already exists: {arn(account_id, name, 'live')}", status=409
    ):
        lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    got = lambda_client.get_alias(FunctionName=name, Name="live")
    assert got["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    with aws_error(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        status=412,
    ):
        lambda_client.update_alias(FunctionName=name, Name="live", FunctionVersion="2", RevisionId=str(uuid.uuid4()))
    updated = lambda_client.update_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {}},
        RevisionId=got["RevisionId"],
    )
    assert updated["FunctionVersion"] == "2"
    assert "RoutingConfig" not in updated or updated["RoutingConfig"].get("AdditionalVersionWeights") in (None, {})
    assert updated["RevisionId"] != got["RevisionId"]
    for n in ("a1", "a2", "a3"):
        lambda_client.create_alias(FunctionName=name, Name=n, FunctionVersion="1")
    seen, marker = [], None
    while True:
        kwargs = {"FunctionName": name, "MaxItems": 2}
        if marker:
            kwargs["Marker"] = marker
        page = lambda_client.list_aliases(**kwargs)
        seen += [a["Name"] for a in page["Aliases"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert sorted(seen) == ["a1", "a2", "a3", "live"]
    # Resolving the alias name in GetFunctionConfiguration shows its version.
    assert lambda_client.get_function_configuration(FunctionName=name, Qualifier="live")["Version"] == "2"
    lambda_client.delete_alias(FunctionName=name, Name="a1")
    with aws_error(
        "ResourceNotFoundException", f"Cannot find alias arn: {arn(account_id, name, 'a1')}", status=404
    ):
        lambda_client.get_alias(FunctionName=name, Name="a1")
    with aws_error("ResourceNotFoundException", f"Function not found: {arn(account_id, name, '7')}", status=404):
        lambda_client.create_alias(FunctionName=name, Name="later", FunctionVersion="7")


def test_concurrency_and_account_settings(lambda_client, functions):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    assert "ReservedConcurrentExecutions" not in lambda_client.get_function_concurrency(FunctionName=name)
    before = lambda_client.get_account_settings()
    assert before["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert before["AccountUsage"]["FunctionCount"] >= 1
    out = lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
    assert out["ReservedConcurrentExecutions"] == 5
    assert lambda_client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 5
    assert lambda_client.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    after = lambda_client.get_account_settings()
    assert (
        after["AccountLimit"]["UnreservedConcurrentExecutions"]
        == before["AccountLimit"]["UnreservedConcurrentExecutions"] - 5
    )
    assert lambda_client.delete_function_concurrency(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "ReservedConcurrentExecutions" not in lambda_client.get_function_concurrency(FunctionName=name)


def test_reserved_concurrency_zero_throttles(lambda_client, functions):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with aws_error("TooManyRequestsException", "Rate Exceeded.", status=429) as caught:
        lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert caught.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lambda_client.delete_function_concurrency(FunctionName=name)
    assert invoke(lambda_client, name, {"ok": 1})[1]["event"] == {"ok": 1}


def test_reservation_goes_with_a_deleted_function(lambda_client, functions):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    before = lambda_client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=7)
    assert lambda_client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == before - 7
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    lambda_client.delete_function(FunctionName=name)
    assert lambda_client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == before
    # A new function under the same name starts without a reservation.
    functions(py_zip(ECHO_PY), FunctionName=name)
    assert "ReservedConcurrentExecutions" not in lambda_client.get_function_concurrency(FunctionName=name)
    assert invoke(lambda_client, name, {"again": 1})[1]["event"] == {"again": 1}


def test_reservation_above_unreserved_minimum(lambda_client, functions):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    with aws_error(
        "InvalidParameterValueException",
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].",
    ):
        lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=901)
    assert "ReservedConcurrentExecutions" not in lambda_client.get_function_concurrency(FunctionName=name)
    with aws_error(
        "ValidationException",
        "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy "
        "constraint: Member must have value greater than or equal to 0",
    ):
        lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=-1)


def test_tags(lambda_client, functions):
    out = functions(py_zip(ECHO_PY), Tags={"team": "core"})
    fn_arn = out["FunctionArn"]
    assert lambda_client.list_tags(Resource=fn_arn)["Tags"] == {"team": "core"}
    lambda_client.tag_resource(Resource=fn_arn, Tags={"env": "test", "team": "platform"})
    assert lambda_client.list_tags(Resource=fn_arn)["Tags"] == {"team": "platform", "env": "test"}
    lambda_client.untag_resource(Resource=fn_arn, TagKeys=["team"])
    assert lambda_client.list_tags(Resource=fn_arn)["Tags"] == {"env": "test"}
    assert lambda_client.get_function(FunctionName=fn_arn)["Tags"] == {"env": "test"}


# -------------------------------------------------------------------- bad input


def test_unknown_function_everywhere(lambda_client, account_id):
    missing = fname("missing")
    text = f"Function not found: {arn(account_id, missing)}"
    calls = [
        lambda: lambda_client.get_function(FunctionName=missing),
        lambda: lambda_client.get_function_configuration(FunctionName=missing),
        lambda: lambda_client.delete_function(FunctionName=missing),
        lambda: lambda_client.invoke(FunctionName=missing, Payload=b"{}"),
        lambda: lambda_client.update_function_configuration(FunctionName=missing, Timeout=5),
        lambda: lambda_client.update_function_code(FunctionName=missing, ZipFile=py_zip(ECHO_PY)),
        lambda: lambda_client.publish_version(FunctionName=missing),
        lambda: lambda_client.list_versions_by_function(FunctionName=missing),
        lambda: lambda_client.list_aliases(FunctionName=missing),
        lambda: lambda_client.put_function_concurrency(FunctionName=missing, ReservedConcurrentExecutions=1),
    ]
    for call in calls:
        with aws_error("ResourceNotFoundException", text, status=404):
            call()


def test_unknown_qualifier(lambda_client, functions, account_id):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    text = f"Function not found: {arn(account_id, name, 'nope')}"
    with aws_error("ResourceNotFoundException", text, status=404):
        lambda_client.invoke(FunctionName=name, Qualifier="nope", Payload=b"{}")
    with aws_error("ResourceNotFoundException", text, status=404):
        lambda_client.get_function(FunctionName=name, Qualifier="nope")
    with aws_error("ResourceNotFoundException", f"Function not found: {arn(account_id, name, '3')}", status=404):
        lambda_client.invoke(FunctionName=f"{name}:3", Payload=b"{}")


def test_duplicate_function(lambda_client, functions):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    with aws_error("ResourceConflictException", f"Function already exist: {name}", status=409):
        lambda_client.create_function(
            FunctionName=name, Runtime=PY_RUNTIME, Handler="index.handler", Role=ROLE, Code={"ZipFile": py_zip(ECHO_PY)}
        )


def _create_error(lambda_client, **overrides):
    kwargs = dict(
        FunctionName=fname("bad"),
        Runtime=PY_RUNTIME,
        Handler="index.handler",
        Role=ROLE,
        Code={"ZipFile": py_zip(ECHO_PY)},
    )
    kwargs.update(overrides)
    lambda_client.create_function(**kwargs)
    lambda_client.delete_function(FunctionName=kwargs["FunctionName"])


RANGE_CASES = [
    ("Timeout", 0, "timeout", "Member must have value greater than or equal to 1"),
    ("Timeout", 901, "timeout", "Member must have value less than or equal to 900"),
    ("MemorySize", 127, "memorySize", "Member must have value greater than or equal to 128"),
    ("MemorySize", 10241, "memorySize", "Member must have value less than or equal to 10240"),
]


@pytest.mark.parametrize("member,value,wire,constraint", RANGE_CASES)
def test_out_of_range_members(lambda_client, functions, member, value, wire, constraint):
    # text as observed on AWS ("1 validation error detected: Value '3000' at
    # 'timeout' failed to satisfy constraint: Member must have value less than
    # or equal to 900", ValidationException).
    text = f"1 validation error detected: Value '{value}' at '{wire}' failed to satisfy constraint: {constraint}"
    with aws_error("ValidationException", text):
        _create_error(lambda_client, **{member: value})
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    with aws_error("ValidationException", text):
        lambda_client.update_function_configuration(FunctionName=name, **{member: value})
    conf = lambda_client.get_function_configuration(FunctionName=name)
    assert (conf["Timeout"], conf["MemorySize"]) == (3, 128), "a refused update changed the function"


def test_unknown_runtime(lambda_client):
    with aws_error("ValidationException") as caught:
        _create_error(lambda_client, Runtime="cobol85")
    prefix = (
        "1 validation error detected: Value 'cobol85' at 'runtime' failed to satisfy constraint: "
        "Member must satisfy enum value set: ["
    )
    assert caught.message.startswith(prefix), caught.message
    assert caught.message.endswith("] or be a valid ARN"), caught.message
    assert "python3.12" in caught.message and "nodejs20.x" in caught.message


@pytest.mark.parametrize("runtime", ["python3.7", "nodejs16.x", "go1.x"])
def test_deprecated_runtime(lambda_client, runtime):
    # text as observed on AWS.
    text = (
        f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
        "functions. We recommend you use a supported runtime while creating or updating functions."
    )
    with aws_error("InvalidParameterValueException", text):
        _create_error(lambda_client, Runtime=runtime)


@pytest.mark.parametrize("handler", ["index handler", ""])
def test_malformed_handler(lambda_client, handler):
    text = (
        f"1 validation error detected: Value '{handler}' at 'handler' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [^\\s]+"
    )
    with aws_error("ValidationException", text):
        _create_error(lambda_client, Handler=handler)


def test_handler_too_long(lambda_client):
    handler = "index." + "h" * 123
    text = (
        f"1 validation error detected: Value '{handler}' at 'handler' failed to satisfy constraint: "
        "Member must have length less than or equal to 128"
    )
    with aws_error("ValidationException", text):
        _create_error(lambda_client, Handler=handler)


@pytest.mark.parametrize("role", ["lambda-role", "arn:aws:iam::123:role/x", "arn:aws:iam::000000000000:user/x"])
def test_bad_role(lambda_client, role):
    text = (
        f"1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
    )
    with aws_error("ValidationException", text):
        _create_error(lambda_client, Role=role)


def test_reserved_environment_variable(lambda_client, functions):
    text = (
        "Lambda was unable to configure your environment variables because the environment variables you "
        "have provided contains reserved keys that are currently not supported for modification. "
        "Reserved keys used in this request: AWS_REGION"
    )
    with aws_error("InvalidParameterValueException", text):
        _create_error(lambda_client, Environment={"Variables": {"AWS_REGION": "eu-west-1", "OK": "1"}})
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    with aws_error("InvalidParameterValueException", text):
        lambda_client.update_function_configuration(
            FunctionName=name, Environment={"Variables": {"AWS_REGION": "eu-west-1"}}
        )


def test_environment_over_4kb(lambda_client):
    variables = {"BIG": "x" * 4100}
    measured = json.dumps(variables, separators=(",", ":"))
    text = (
        "Lambda was unable to configure your environment variables because the environment variables you "
        f"have provided exceeded the 4KB limit. String measured: {measured}"
    )
    with aws_error("InvalidParameterValueException", text):
        _create_error(lambda_client, Environment={"Variables": variables})
    # Just under the limit is fine.
    ok = {"BIG": "x" * (4096 - len('{"BIG":""}'))}
    _create_error_free = dict(
        FunctionName=fname("env"), Runtime=PY_RUNTIME, Handler="index.handler", Role=ROLE,
        Code={"ZipFile": py_zip(ECHO_PY)}, Environment={"Variables": ok},
    )
    lambda_client.create_function(**_create_error_free)
    lambda_client.delete_function(FunctionName=_create_error_free["FunctionName"])


@pytest.mark.parametrize("payload", [b"this is not a zip file", b"PK\x03\x04truncated"])
def test_zip_that_is_not_a_zip(lambda_client, functions, payload):
    text = "Could not unzip uploaded file. Please check your file, then try to upload again."
    with aws_error("InvalidParameterValueException", text):
        _create_error(lambda_client, Code={"ZipFile": payload})
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    with aws_error("InvalidParameterValueException", text):
        lambda_client.update_function_code(FunctionName=name, ZipFile=payload)


def _understate(zip_bytes, name, claimed):
    """The zip with entry `name`'s uncompressed size rewritten to `claimed`
    in its local header and central directory record (a zip bomb's trick)."""
    data = bytearray(zip_bytes)
    for signature, name_len_at, name_at, size_at in ((b"PK\x03\x04", 26, 30, 22), (b"PK\x01\x02", 28, 46, 24)):
        i = data.find(signature)
        while i >= 0:
            (n,) = struct.unpack_from("<H", data, i + name_len_at)
            if bytes(data[i + name_at : i + name_at + n]) == name.encode():
                struct.pack_into("<I", data, i + size_at, claimed)
            i = data.find(signature, i + 4)
    return bytes(data)


def test_zip_whose_data_outgrows_its_headers(lambda_client, functions):
    # The declared sizes pass the 250 MB unzipped limit; the data would not.
    honest = make_zip({"index.py": ECHO_PY, "big.bin": "\0" * (4 * 1024 * 1024)})
    lying = _understate(honest, "big.bin", 10)
    assert lying != honest
    with aws_error(
        "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    ):
        _create_error(lambda_client, Code={"ZipFile": lying})
    name = functions(honest)["FunctionName"]
    with aws_error(
        "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    ):
        lambda_client.update_function_code(FunctionName=name, ZipFile=lying)
    assert invoke(lambda_client, name, {"still": "old code"})[1]["event"] == {"still": "old code"}


def test_invalid_json_payload(lambda_client, functions):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    with aws_error("InvalidRequestContentException") as caught:
        lambda_client.invoke(FunctionName=name, Payload=b"{not json")
    # text as observed on AWS: the prefix is fixed, the parser detail is Jackson's.
    assert caught.message.startswith("Could not parse request body into json: Could not parse payload into json: ")


def test_payload_over_6mb(lambda_client, functions):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    big = json.dumps({"data": "x" * (6 * 1024 * 1024)}).encode()
    # text as observed on AWS (RequestEntityTooLargeException: Request must
    # be smaller than 6291456 bytes for the InvokeFunction operation).
    with aws_error(
        "RequestEntityTooLargeException",
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
        status=413,
    ):
        lambda_client.invoke(FunctionName=name, Payload=big)


def test_event_payload_over_async_limit(lambda_client, functions):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    big = json.dumps({"data": "x" * (1024 * 1024)}).encode()
    # text as observed on AWS ("473086 byte payload is too large for the
    # Event invocation type (limit 131072 bytes)", when the limit was 128 KB).
    with aws_error(
        "RequestEntityTooLargeException",
        f"{len(big)} byte payload is too large for the Event invocation type (limit 1048576 bytes)",
        status=413,
    ):
        lambda_client.invoke(FunctionName=name, Payload=big, InvocationType="Event")


def test_invocation_type_not_in_enum(lambda_client, functions):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    text = (
        "1 validation error detected: Value 'Later' at 'invocationType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
    )
    with aws_error("ValidationException", text):
        lambda_client.invoke(FunctionName=name, InvocationType="Later", Payload=b"{}")


# ------------------------------------------------------------------- invocation


def test_python_echo_and_context(lambda_client, functions, account_id):
    name = functions(py_zip(ECHO_PY), MemorySize=192, Timeout=7)["FunctionName"]
    custom = {"custom": {"tenant": "t1"}, "env": {}, "client": {}}
    resp, body = invoke(
        lambda_client,
        name,
        {"hello": ["world", 1, None]},
        ClientContext=base64.b64encode(json.dumps(custom).encode()).decode(),
    )
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    assert body["event"] == {"hello": ["world", 1, None]}
    assert body["request_id"] == resp["ResponseMetadata"]["RequestId"]
    assert body["function_name"] == name
    assert body["function_version"] == "$LATEST"
    assert body["invoked_arn"] == arn(account_id, name)
    assert int(body["memory"]) == 192
    assert 0 < body["remaining_ms"] <= 7000
    assert body["custom"] == {"tenant": "t1"}
    # An empty payload arrives as {}.
    resp = lambda_client.invoke(FunctionName=name)
    assert json.loads(resp["Payload"].read())["event"] == {}


def test_node_echo(lambda_client, functions):
    code = make_zip(
        {
            "index.mjs": textwrap.dedent(
                """
                let count = 0;
                export const handler = async (event, context) => {
                  count += 1;
                  console.log("node saw", JSON.stringify(event));
                  return { event, count, fn: context.functionName, rid: context.awsRequestId };
                };
                """
            )
        }
    )
    name = functions(code, Runtime="nodejs20.x")["FunctionName"]
    resp, body = invoke(lambda_client, name, {"n": 1})
    assert body["event"] == {"n": 1} and body["fn"] == name and body["count"] == 1
    assert body["rid"] == resp["ResponseMetadata"]["RequestId"]
    assert invoke(lambda_client, name, {"n": 2})[1]["count"] == 2


def test_module_state_survives_warm_invokes(lambda_client, functions):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    counts = [invoke(lambda_client, name, {})[1]["count"] for _ in range(3)]
    assert counts == [1, 2, 3]


def test_handler_raises(lambda_client, functions):
    code = py_zip(
        """
        def handler(event, context):
            raise ValueError("bad input: " + str(event.get("x")))
        """
    )
    name = functions(code)["FunctionName"]
    resp, body = invoke(lambda_client, name, {"x": 42})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad input: 42"
    assert isinstance(body["stackTrace"], list) and any("index.py" in line for line in body["stackTrace"])
    # The environment stays warm after a handled failure.
    resp, body = invoke(lambda_client, name, {"x": 43})
    assert body["errorMessage"] == "bad input: 43"


def test_missing_module_and_handler(lambda_client, functions):
    name = functions(py_zip(ECHO_PY), Handler="nosuchmodule.handler")["FunctionName"]
    resp, body = invoke(lambda_client, name, {})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'nosuchmodule': No module named 'nosuchmodule'"
    name = functions(py_zip(ECHO_PY), Handler="index.nosuchhandler")["FunctionName"]
    resp, body = invoke(lambda_client, name, {})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "Handler 'nosuchhandler' missing on module 'index'"


SLEEPY_PY = """
import time

count = 0

def handler(event, context):
    global count
    count += 1
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return count
"""


def test_timeout_kills_the_environment(lambda_client, functions):
    name = functions(py_zip(SLEEPY_PY), Timeout=1)["FunctionName"]
    assert invoke(lambda_client, name, {})[1] == 1
    assert invoke(lambda_client, name, {})[1] == 2
    started = time.monotonic()
    resp, body = invoke(lambda_client, name, {"sleep": 5}, LogType="Tail")
    elapsed = time.monotonic() - started
    assert elapsed < 4, f"the timeout took {elapsed:.1f}s"
    assert resp["FunctionError"] == "Unhandled"
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert body == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds",
    }
    log = base64.b64decode(resp["LogResult"]).decode()
    assert f"{request_id} Task timed out after 1.00 seconds" in log
    # Never reused after a timeout: module state starts over.
    assert invoke(lambda_client, name, {})[1] == 1


def test_exit_is_runtime_exit_error(lambda_client, functions):
    code = py_zip(
        """
        import sys

        def handler(event, context):
            sys.exit(3)
        """
    )
    name = functions(code)["FunctionName"]
    resp, body = invoke(lambda_client, name, {})
    assert resp["FunctionError"] == "Unhandled"
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert body == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status 3",
    }
    # A fresh environment serves the next invocation.
    resp, body = invoke(lambda_client, name, {})
    assert body["errorType"] == "Runtime.ExitError"


def test_out_of_memory(lambda_client, functions):
    code = py_zip(
        """
        import time

        def handler(event, context):
            hog = []
            for _ in range(64):
                hog.append(b"x" * (16 * 1024 * 1024))
                time.sleep(0.02)
            return len(hog)
        """
    )
    name = functions(code, MemorySize=128, Timeout=30)["FunctionName"]
    resp, body = invoke(lambda_client, name, {})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory", body
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert body["errorMessage"] == f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"


def test_log_tail(lambda_client, functions):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    resp, _ = invoke(lambda_client, name, {"tail": "yes"}, LogType="Tail")
    request_id = resp["ResponseMetadata"]["RequestId"]
    log = base64.b64decode(resp["LogResult"]).decode()
    assert f"START RequestId: {request_id} Version: $LATEST" in log
    assert f"END RequestId: {request_id}" in log
    assert f"REPORT RequestId: {request_id}\tDuration: " in log
    assert "Memory Size: 128 MB" in log
    assert "echo handler saw {'tail': 'yes'}" in log
    assert log.index("START") < log.index("echo handler saw") < log.index("END") < log.index("REPORT")
    # Without LogType there is no LogResult.
    resp, _ = invoke(lambda_client, name, {})
    assert "LogResult" not in resp


def test_environment_variables(lambda_client, functions):
    code = py_zip(
        """
        import os

        def handler(event, context):
            return {k: os.environ.get(k) for k in event["keys"]}
        """
    )
    name = functions(code, MemorySize=256, Environment={"Variables": {"MY_SETTING": "on", "OTHER": "x=y"}})[
        "FunctionName"
    ]
    keys = [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "_HANDLER",
        "LAMBDA_TASK_ROOT",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY_ID",
        "AWS_ENDPOINT_URL",
        "MY_SETTING",
        "OTHER",
    ]
    _, env = invoke(lambda_client, name, {"keys": keys})
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["_HANDLER"] == "index.handler"
    assert env["LAMBDA_TASK_ROOT"] and os.path.isabs(env["LAMBDA_TASK_ROOT"])
    host, port = env["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
    assert host and int(port) > 0
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert "[$LATEST]" in env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert env["AWS_ACCESS_KEY_ID"]
    assert env["AWS_ENDPOINT_URL"].startswith("http://")
    assert env["MY_SETTING"] == "on" and env["OTHER"] == "x=y"


SHELL_BOOTSTRAP = """#!/bin/sh
# A custom runtime in plain shell: the Lambda Runtime API with curl.
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
HEADERS="$(mktemp)"
while true; do
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  REQUEST_ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | cut -d' ' -f2 | tr -d '\\r\\n')"
  ARN="$(grep -i '^Lambda-Runtime-Invoked-Function-Arn:' "$HEADERS" | cut -d' ' -f2 | tr -d '\\r\\n')"
  echo "shell runtime handling $REQUEST_ID"
  case "$EVENT" in
  *'"fail"'*)
    curl -sS -X POST "$API/invocation/$REQUEST_ID/error" -H 'Lambda-Runtime-Function-Error-Type: Shell.Failure' \\
      -d '{"errorMessage":"asked to fail","errorType":"Shell.Failure"}' >/dev/null ;;
  *)
    curl -sS -X POST "$API/invocation/$REQUEST_ID/response" \\
      -d "{\\"echo\\":$EVENT,\\"handler\\":\\"$_HANDLER\\",\\"arn\\":\\"$ARN\\"}" >/dev/null ;;
  esac
done
"""


def test_provided_runtime_shell_bootstrap(lambda_client, functions, account_id):
    code = make_zip({"bootstrap": (SHELL_BOOTSTRAP, 0o755)})
    name = functions(code, Runtime="provided.al2023", Handler="not.used")["FunctionName"]
    resp, body = invoke(lambda_client, name, {"a": [1, 2]}, LogType="Tail")
    assert "FunctionError" not in resp, body
    assert body == {"echo": {"a": [1, 2]}, "handler": "not.used", "arn": arn(account_id, name)}
    log = base64.b64decode(resp["LogResult"]).decode()
    assert f"shell runtime handling {resp['ResponseMetadata']['RequestId']}" in log
    resp, body = invoke(lambda_client, name, {"fail": True})
    assert resp["FunctionError"] == "Unhandled"
    assert body == {"errorMessage": "asked to fail", "errorType": "Shell.Failure"}
    # Warm: the same shell loop answers again.
    assert invoke(lambda_client, name, {"b": 1})[1]["echo"] == {"b": 1}


def test_provided_runtime_without_bootstrap(lambda_client, functions):
    code = make_zip({"main.sh": "echo hi"})
    name = functions(code, Runtime="provided.al2023", Handler="x")["FunctionName"]
    resp, body = invoke(lambda_client, name, {})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.InvalidEntrypoint"


def test_weighted_alias_routing(lambda_client, functions):
    name = functions(py_zip("def handler(e, c):\n    return 'one'\n"))["FunctionName"]
    lambda_client.publish_version(FunctionName=name)
    lambda_client.update_function_code(FunctionName=name, ZipFile=py_zip("def handler(e, c):\n    return 'two'\n"))
    lambda_client.publish_version(FunctionName=name)
    lambda_client.create_alias(
        FunctionName=name, Name="canary", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}}
    )
    seen = {}
    for _ in range(40):
        resp, body = invoke(lambda_client, name, {}, Qualifier="canary")
        seen.setdefault(resp["ExecutedVersion"], set()).add(body)
    # Both versions got traffic (missing one has probability 2 * 0.5**40), each
    # running its own code.
    assert seen == {"1": {"one"}, "2": {"two"}}


def test_event_invocation_runs(lambda_client, functions, file_drop, tmp_path):
    code = py_zip(
        DROP_PY
        + """
def handler(event, context):
    drop("marker", context.aws_request_id)
"""
    )
    name = functions(code, Environment={"Variables": {"OUT_URL": file_drop(tmp_path)}})["FunctionName"]
    marker = tmp_path / "marker"
    resp = lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    assert resp["StatusCode"] == 202
    assert resp["Payload"].read() == b""
    deadline = time.monotonic() + 20
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists(), "the Event invocation never ran"
    time.sleep(0.1)
    assert marker.read_text() == resp["ResponseMetadata"]["RequestId"]


def test_dry_run(lambda_client, functions, account_id):
    name = functions(py_zip(ECHO_PY))["FunctionName"]
    resp = lambda_client.invoke(FunctionName=name, InvocationType="DryRun")
    assert resp["StatusCode"] == 204
    # Nothing ran: the first real invocation is the environment's first.
    assert invoke(lambda_client, name, {})[1]["count"] == 1
    with aws_error("ResourceNotFoundException", f"Function not found: {arn(account_id, name, '9')}", status=404):
        lambda_client.invoke(FunctionName=name, InvocationType="DryRun", Qualifier="9")


# ------------------------------------------------------- boto3 inside a function


def _site_packages():
    return sysconfig.get_paths()["purelib"]


def _this_python_runtime():
    minor = sys.version_info.minor
    if sys.version_info.major != 3 or not 9 <= minor <= 13:
        pytest.skip(f"no Lambda runtime matches this interpreter ({sys.version})")
    return f"python3.{minor}"


LIFO_PY = """
# The seed's LIFO task queue: the newest PENDING tasks first (a GSI on
# taskStatus + taskCreated, queried backwards), each claimed with a
# conditional update so no task is processed twice.
import os
import time

import boto3

table = boto3.resource("dynamodb").Table(os.environ["QUEUE_TABLE"])


def handler(event, context):
    processed = []
    while True:
        page = table.query(
            IndexName="task-status-created-index",
            KeyConditionExpression="taskStatus = :s",
            ExpressionAttributeValues={":s": "PENDING"},
            Limit=10,
            ScanIndexForward=False,
        )
        if not page["Items"]:
            return {"processed": processed, "endpoint": os.environ.get("AWS_ENDPOINT_URL")}
        for task in page["Items"]:
            try:
                table.update_item(
                    Key={"taskId": task["taskId"]},
                    UpdateExpression="SET taskStatus = :to, taskUpdated = :now",
                    ConditionExpression="taskStatus = :from",
                    ExpressionAttributeValues={":to": "TAKEN", ":from": "PENDING", ":now": int(time.time() * 1000)},
                )
            except table.meta.client.exceptions.ConditionalCheckFailedException:
                continue
            table.update_item(
                Key={"taskId": task["taskId"]},
                UpdateExpression="SET taskStatus = :done",
                ExpressionAttributeValues={":done": "SUCCESS"},
            )
            processed.append(task["taskId"])
"""


def test_boto3_inside_a_function_lifo_queue(lambda_client, functions, dynamodb, table, endpoint):
    queue = table(
        hash=("taskId", "S"),
        AttributeDefinitions=[
            {"AttributeName": "taskId", "AttributeType": "S"},
            {"AttributeName": "taskStatus", "AttributeType": "S"},
            {"AttributeName": "taskCreated", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "task-status-created-index",
                "KeySchema": [
                    {"AttributeName": "taskStatus", "KeyType": "HASH"},
                    {"AttributeName": "taskCreated", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for i in range(12):
        dynamodb.put_item(
            TableName=queue,
            Item={"taskId": {"S": f"task-{i:02}"}, "taskStatus": {"S": "PENDING"}, "taskCreated": {"N": str(1000 + i)}},
        )
    dynamodb.put_item(
        TableName=queue,
        Item={"taskId": {"S": "old-done"}, "taskStatus": {"S": "SUCCESS"}, "taskCreated": {"N": "1"}},
    )
    name = functions(
        py_zip(LIFO_PY),
        Runtime=_this_python_runtime(),
        Timeout=60,
        # The function's interpreter finds boto3 where this test's does.
        Environment={"Variables": {"QUEUE_TABLE": queue, "PYTHONPATH": _site_packages()}},
    )["FunctionName"]
    resp, body = invoke(lambda_client, name, {})
    assert "FunctionError" not in resp, body
    assert body["endpoint"] == endpoint
    # Newest first.
    assert body["processed"] == [f"task-{i:02}" for i in range(11, -1, -1)]
    items = dynamodb.scan(TableName=queue, ConsistentRead=True)["Items"]
    assert {i["taskId"]["S"]: i["taskStatus"]["S"] for i in items} == {
        **{f"task-{i:02}": "SUCCESS" for i in range(12)},
        "old-done": "SUCCESS",
    }
    # Nothing left: a second run (warm, reusing its boto3 client) finds nothing.
    dynamodb.put_item(
        TableName=queue,
        Item={"taskId": {"S": "late"}, "taskStatus": {"S": "PENDING"}, "taskCreated": {"N": "5000"}},
    )
    assert invoke(lambda_client, name, {})[1]["processed"] == ["late"]
    assert invoke(lambda_client, name, {})[1]["processed"] == []


# ----------------------------------------------- the official runtime client


def runnable_by(path, uid, gid):
    """Whether `uid` (in group `gid` only) may execute `path`: every
    directory above it searchable and the file executable, by mode bits."""
    def allowed(st, bit):
        shift = 6 if st.st_uid == uid else 3 if st.st_gid == gid else 0
        return st.st_mode & (bit << shift) != 0

    path = Path(path)
    return all(allowed(os.stat(d), 1) for d in path.parents) and allowed(os.stat(path), 1)


def interpreter_for_functions(endpoint):
    """A Python of the test's own minor version that functions may run.
    As root, nimbus runs functions as an unprivileged user (see
    test_lambda_sandbox.py), who cannot enter a private home directory
    (pyenv's Pythons under /root): then another installation of the same
    minor version, found on PATH, runs the packaged client."""
    with urllib.request.urlopen(endpoint + "/_nimbus/health", timeout=5) as r:
        isolation = json.loads(r.read())["lambdaIsolation"]
    uid, gid = isolation["uid"], isolation["gid"]
    name = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [os.path.realpath(sys.executable)]
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            candidates.append(os.path.realpath(candidate))
    for candidate in candidates:
        if runnable_by(candidate, uid, gid):
            return candidate
    pytest.skip(f"no {name} on this machine that uid {uid} may run (tried {candidates})")


def test_awslambdaric_as_custom_runtime(lambda_client, functions, account_id, endpoint):
    import awslambdaric  # listed in requirements.txt

    # AWS's own runtime interface client, unchanged, packaged with the
    # function as users do (pip install -t): the test's virtualenv may live
    # where an isolated function cannot see it (a private /tmp). The base
    # interpreter runs it (the venv's python is a symlink to it), or one of
    # the same version the function's user may run.
    python = interpreter_for_functions(endpoint)
    site = Path(awslambdaric.__file__).resolve().parents[1]
    vendored = {}
    for entry in site.iterdir():
        if entry.name.startswith(("awslambdaric", "runtime_client", "simplejson", "snapshot_restore_py")):
            files = [entry] if entry.is_file() else [f for f in entry.rglob("*") if f.is_file()]
            for f in files:
                if "__pycache__" not in f.parts:
                    vendored[f"python/{f.relative_to(site)}"] = f.read_bytes()
    bootstrap = f"""#!/bin/sh
export PYTHONPATH="$LAMBDA_TASK_ROOT/python"
exec {python} -m awslambdaric handler.fn
"""
    handler = textwrap.dedent(
        """
        import os

        calls = 0

        def fn(event, context):
            global calls
            calls += 1
            if event.get("boom"):
                raise RuntimeError("ric failure")
            return {
                "event": event,
                "calls": calls,
                "request_id": context.aws_request_id,
                "arn": context.invoked_function_arn,
                "name": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            }
        """
    )
    code = make_zip({"bootstrap": (bootstrap, 0o755), "handler.py": handler, **vendored})
    name = functions(
        code,
        Runtime="provided.al2023",
        Handler="handler.fn",
        Timeout=30,
    )["FunctionName"]
    resp, body = invoke(lambda_client, name, {"x": 1}, LogType="Tail")
    log = base64.b64decode(resp.get("LogResult", "")).decode(errors="replace")
    assert "FunctionError" not in resp, (body, log)
    assert body["event"] == {"x": 1} and body["calls"] == 1 and body["name"] == name
    assert body["request_id"] == resp["ResponseMetadata"]["RequestId"]
    assert body["arn"] == arn(account_id, name)
    assert invoke(lambda_client, name, {"x": 2})[1]["calls"] == 2
    resp, body = invoke(lambda_client, name, {"boom": True})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "RuntimeError" and body["errorMessage"] == "ric failure"


def test_user_pythonpath_keeps_layers(lambda_client, functions):
    # PYTHONPATH is not reserved: a user's value must reach the function, and
    # on AWS it does not hide the layers' /opt/python directories (the runtime
    # puts those on sys.path itself; AWS's default PYTHONPATH is only the
    # runtime directory).
    # The directory is in the package (functions cannot see the test's
    # files), named relative to the working directory, the task root.
    layer_name = fname("pplayer")
    layer = lambda_client.publish_layer_version(
        LayerName=layer_name, Content={"ZipFile": make_zip({"python/layermod.py": "VALUE = 'from layer'\n"})}
    )
    try:
        code = make_zip(
            {
                "index.py": "import extramod\nimport layermod\n\n"
                "def handler(event, context):\n    return [extramod.VALUE, layermod.VALUE]\n",
                "extra/extramod.py": "VALUE = 'from user PYTHONPATH'\n",
            }
        )
        name = functions(
            code,
            Layers=[layer["LayerVersionArn"]],
            Environment={"Variables": {"PYTHONPATH": "extra"}},
        )["FunctionName"]
        resp, body = invoke(lambda_client, name, {})
        assert "FunctionError" not in resp, body
        assert body == ["from user PYTHONPATH", "from layer"]
    finally:
        lambda_client.delete_layer_version(LayerName=layer_name, VersionNumber=layer["Version"])
