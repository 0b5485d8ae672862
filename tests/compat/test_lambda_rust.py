"""A Rust function built with the official `lambda_runtime` crate runs on
nimbus unchanged: its binary is the `bootstrap` of a provided.al2023
function, talking to nimbus's Runtime API.

The function lives in tests/compat/functions/rust-echo (its own cargo
workspace); this module builds it with cargo (skipped when cargo is not on
PATH), sharing the repository's target directory."""

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import _CONFIG, REPO_ROOT, _session, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
CRATE = Path(__file__).resolve().parent / "functions" / "rust-echo"


@pytest.fixture(scope="module")
def bootstrap():
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo is not on PATH")
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
    subprocess.run(
        [cargo, "build", "--quiet", "--manifest-path", str(CRATE / "Cargo.toml")],
        check=True,
        env={**os.environ, "CARGO_TARGET_DIR": str(target)},
        timeout=1200,
    )
    return (target / "debug" / "rust-echo").read_bytes()


@pytest.fixture(scope="module")
def lam(endpoint):
    return _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)


def test_lambda_runtime_crate_function(lam, bootstrap):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, bootstrap)
    name = unique_name("rust")
    lam.create_function(
        FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="bootstrap",
        Code={"ZipFile": buf.getvalue()},
    )
    try:
        r = lam.invoke(FunctionName=name, Payload=json.dumps({"n": 1}), LogType="Tail")
        assert "FunctionError" not in r, r["Payload"].read()
        out = json.loads(r["Payload"].read())
        assert out["echo"] == {"n": 1}
        assert out["requestId"] == r["ResponseMetadata"]["RequestId"]
        assert out["functionArn"].endswith(f":function:{name}")
        assert out["functionName"] == name
        # Warm: the same process answers again.
        r = lam.invoke(FunctionName=name, Payload=json.dumps({"n": 2}))
        assert json.loads(r["Payload"].read())["echo"] == {"n": 2}
        r = lam.invoke(FunctionName=name, Payload=json.dumps({"fail": True}))
        assert r["FunctionError"] == "Unhandled"
        error = json.loads(r["Payload"].read())
        assert error["errorMessage"] == "failed on purpose"
    finally:
        lam.delete_function(FunctionName=name)
