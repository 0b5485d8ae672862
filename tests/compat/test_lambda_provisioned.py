"""Lambda provisioned concurrency through unmodified boto3: the config
operations and their errors, and environments started before any invoke
(seen in /_nimbus/lambda/environments and in AWS_LAMBDA_INITIALIZATION_TYPE)."""

import io
import json
import time
import urllib.request
import zipfile

import pytest
from botocore.exceptions import ClientError
from conftest import _CONFIG, _session, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
HANDLER = "import os\ndef handler(e, c):\n    return os.environ['AWS_LAMBDA_INITIALIZATION_TYPE']\n"


@pytest.fixture(scope="module")
def lam(endpoint):
    return _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture
def fn(lam):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", HANDLER)
    name = unique_name("pc")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": buf.getvalue()}, Publish=True,
    )
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    yield name
    lam.delete_function(FunctionName=name)


def warm(endpoint, name):
    with urllib.request.urlopen(endpoint + "/_nimbus/lambda/environments", timeout=5) as r:
        envs = json.loads(r.read())["environments"]
    return sum(e["idle"] for e in envs if f"/{name}/" in e["key"])


def error_of(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_environments_start_before_the_first_invoke(endpoint, lam, fn):
    r = lam.put_provisioned_concurrency_config(
        FunctionName=fn, Qualifier="live", ProvisionedConcurrentExecutions=2
    )
    assert r["RequestedProvisionedConcurrentExecutions"] == 2
    assert r["Status"] in ("IN_PROGRESS", "READY")
    deadline = time.time() + 20
    while time.time() < deadline:
        got = lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="live")
        if got["Status"] == "READY":
            break
        time.sleep(0.1)
    assert got["Status"] == "READY"
    assert got["AllocatedProvisionedConcurrentExecutions"] == 2
    assert got["AvailableProvisionedConcurrentExecutions"] == 2
    assert warm(endpoint, fn) == 2
    out = lam.invoke(FunctionName=fn, Qualifier="live")
    assert json.loads(out["Payload"].read()) == "provisioned-concurrency"
    listed = lam.list_provisioned_concurrency_configs(FunctionName=fn)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[1] for c in listed] == ["live"]
    lam.delete_provisioned_concurrency_config(FunctionName=fn, Qualifier="live")
    with pytest.raises(ClientError) as e:
        lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="live")
    assert error_of(e) == (
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
    )
    # On-demand environments after the config is gone.
    out = lam.invoke(FunctionName=fn, Qualifier="live")
    assert json.loads(out["Payload"].read()) == "on-demand"


def test_errors(lam, fn):
    with pytest.raises(ClientError) as e:
        lam.put_provisioned_concurrency_config(
            FunctionName=fn, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    assert error_of(e) == (
        "InvalidParameterValueException",
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
    )
    with pytest.raises(ClientError) as e:
        lam.put_provisioned_concurrency_config(FunctionName=fn, Qualifier="9", ProvisionedConcurrentExecutions=1)
    assert error_of(e)[0] == "ResourceNotFoundException"
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=1)
    with pytest.raises(ClientError) as e:
        lam.put_provisioned_concurrency_config(FunctionName=fn, Qualifier="1", ProvisionedConcurrentExecutions=2)
    assert error_of(e) == (
        "InvalidParameterValueException",
        "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function (1).",
    )
    with pytest.raises(ClientError) as e:
        lam.delete_provisioned_concurrency_config(FunctionName=fn, Qualifier="1")
    assert error_of(e)[0] == "ProvisionedConcurrencyConfigNotFoundException"
