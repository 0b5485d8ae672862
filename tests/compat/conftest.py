"""Fixtures for the nimbus compatibility suite.

The suite talks to a live server through unmodified boto3.  By default it starts
`nimbus serve --bind 127.0.0.1:0 --in-memory` (binary from $NIMBUS_BIN, else
target/debug/nimbus under the repository root), reads the bound address from
the line containing `listening on http://ADDR`, waits for GET /_nimbus/health,
and stops the server with SIGTERM when the session ends.

Set NIMBUS_ENDPOINT=http://HOST:PORT to run against a server that is already
running (nimbus, or another DynamoDB implementation used as a reference).

Set COMPAT_ACCOUNT_ID when the server under test uses an account id other than
nimbus's default 000000000000 (moto uses 123456789012).
"""

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
STARTUP_TIMEOUT = float(os.environ.get("NIMBUS_STARTUP_TIMEOUT", "30"))
_LISTENING = re.compile(r"listening on (http://[^\s\"'\x1b]+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _health_ok(endpoint):
    try:
        with urllib.request.urlopen(endpoint + "/_nimbus/health", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _start_nimbus(args=("--in-memory",), wrapper=()):
    """Starts nimbus with `args` (default: in memory), under the `wrapper`
    command if any (e.g. setpriv); returns (process, endpoint, log path)."""
    binary = Path(os.environ.get("NIMBUS_BIN", REPO_ROOT / "target" / "debug" / "nimbus"))
    if not binary.is_file():
        pytest.exit(
            f"nimbus binary not found at {binary}; build it (cargo build) or set "
            "NIMBUS_BIN, or set NIMBUS_ENDPOINT to test a running server",
            returncode=3,
        )
    log = tempfile.NamedTemporaryFile(prefix="nimbus-compat-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [*wrapper, str(binary), "serve", "--bind", "127.0.0.1:0", *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    endpoint = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        text = _ANSI.sub("", Path(log.name).read_text(errors="replace"))
        match = _LISTENING.search(text)
        if match:
            endpoint = match.group(1).rstrip("/.,")
            break
        time.sleep(0.05)
    if endpoint is None:
        proc.kill()
        output = Path(log.name).read_text(errors="replace")
        pytest.exit(f"nimbus did not report its address; output:\n{output}", returncode=3)
    while time.monotonic() < deadline:
        if _health_ok(endpoint):
            return proc, endpoint, log.name
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    output = Path(log.name).read_text(errors="replace")
    pytest.exit(f"nimbus at {endpoint} never became healthy; output:\n{output}", returncode=3)


def own_nimbus(args=("--in-memory",)):
    """Generator for a module-scoped `endpoint` fixture: a nimbus of the
    module's own, started with `args` (modules that move the clock or need
    test-only options must not share the session's server), or the server
    NIMBUS_ENDPOINT names."""
    external = os.environ.get("NIMBUS_ENDPOINT")
    if external:
        yield external.rstrip("/")
        return
    proc, url, log_path = _start_nimbus(args)
    try:
        yield url
    finally:
        _stop_nimbus(proc, log_path)


def _stop_nimbus(proc, log_path, keep_failed_log=False):
    """SIGTERM, SIGKILL after 10 s; removes the log (with keep_failed_log,
    not when nimbus did not exit cleanly: it says where the log is)."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if keep_failed_log and proc.returncode not in (0, -signal.SIGTERM):
        print(f"nimbus exited with {proc.returncode}; log kept at {log_path}")
    else:
        os.unlink(log_path)


@pytest.fixture(scope="session")
def endpoint():
    external = os.environ.get("NIMBUS_ENDPOINT")
    if external:
        yield external.rstrip("/")
        return
    proc, url, log_path = _start_nimbus()
    try:
        yield url
    finally:
        _stop_nimbus(proc, log_path, keep_failed_log=True)


@pytest.fixture(scope="session")
def account_id():
    return os.environ.get("COMPAT_ACCOUNT_ID", "000000000000")


def _session():
    return boto3.session.Session(
        aws_access_key_id="AKIDCOMPATTEST",
        aws_secret_access_key="compat-secret",
        region_name=REGION,
    )


# One attempt only: a retried request would hide errors and double writes.
_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60)


@pytest.fixture(scope="session")
def dynamodb(endpoint):
    return _session().client("dynamodb", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="session")
def sqs(endpoint):
    return _session().client("sqs", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="session")
def sns(endpoint):
    return _session().client("sns", endpoint_url=endpoint, config=_CONFIG)


# Lambda: botocore checks some members' minimums itself (Timeout >= 1,
# MemorySize >= 128); with that off every bad value reaches the server, so
# the tests see the server's own error as AWS would send it.
_LAMBDA_CONFIG = _CONFIG.merge(Config(parameter_validation=False, read_timeout=120))


@pytest.fixture(scope="session")
def lambda_client(endpoint):
    return _session().client("lambda", endpoint_url=endpoint, config=_LAMBDA_CONFIG)


@pytest.fixture(scope="session")
def logs_client(endpoint):
    return _session().client("logs", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="session")
def dynamodb_resource(endpoint):
    return _session().resource("dynamodb", endpoint_url=endpoint, config=_CONFIG)


def unique_name(prefix="compat"):
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def wait_active(client, name, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        desc = client.describe_table(TableName=name)["Table"]
        if desc["TableStatus"] == "ACTIVE":
            return desc
        if time.monotonic() > deadline:
            raise AssertionError(f"table {name} still {desc['TableStatus']} after {timeout}s")
        time.sleep(0.2)


@pytest.fixture
def table(dynamodb):
    """Factory: table(hash=("pk", "S"), range=None, **create_table_kwargs) -> name.

    Creates an on-demand table with a unique name, waits until it is ACTIVE,
    and deletes it when the test ends.
    """
    created = []

    def make(hash=("pk", "S"), range=None, name=None, **kwargs):
        name = name or unique_name()
        key_schema = [{"AttributeName": hash[0], "KeyType": "HASH"}]
        attrs = [{"AttributeName": hash[0], "AttributeType": hash[1]}]
        if range is not None:
            key_schema.append({"AttributeName": range[0], "KeyType": "RANGE"})
            attrs.append({"AttributeName": range[0], "AttributeType": range[1]})
        kwargs.setdefault("KeySchema", key_schema)
        kwargs.setdefault("AttributeDefinitions", attrs)
        if "ProvisionedThroughput" not in kwargs:
            kwargs.setdefault("BillingMode", "PAY_PER_REQUEST")
        dynamodb.create_table(TableName=name, **kwargs)
        created.append(name)
        wait_active(dynamodb, name)
        return name

    yield make
    for name in created:
        try:
            dynamodb.delete_table(TableName=name)
        except dynamodb.exceptions.ResourceNotFoundException:
            pass


class _FileDrop(BaseHTTPRequestHandler):
    """PUT /NAME writes the body to NAME in the server's directory; POST
    /NAME appends it; GET /NAME reads it (404 until it exists), so a function
    can wait for a file the test creates."""

    def _name(self):
        name = self.path.lstrip("/")
        if not name or "/" in name or name.startswith("."):
            self.send_response(400)
            self.end_headers()
            return None
        return name

    def _write(self, mode):
        name = self._name()
        if name is None:
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server.lock, open(self.server.directory / name, mode) as f:
            f.write(body)
        self.send_response(204)
        self.end_headers()

    def do_GET(self):
        name = self._name()
        if name is None:
            return
        try:
            with self.server.lock, open(self.server.directory / name, "rb") as f:
                body = f.read()
        except FileNotFoundError:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        self._write("wb")

    def do_POST(self):
        self._write("ab")

    def log_message(self, *args):
        pass


@pytest.fixture
def file_drop():
    """Factory: file_drop(directory) -> URL. Functions run isolated (their
    /tmp is their own, the host's files are read-only to them), so a test
    that wants to see what a function did has it send the file here over
    loopback HTTP (functions share the host's network, as on AWS they reach
    the internet), and reads it from `directory`. Function code includes
    compat_util.DROP_PY and calls drop(name, text[, append=True]) with the
    URL in its OUT_URL variable. A function can also wait for a file the
    test writes into `directory`: GET OUT_URL + name answers 404 until it
    exists."""
    servers = []

    def start(directory):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _FileDrop)
        server.daemon_threads = True
        server.directory = Path(directory)
        server.lock = threading.Lock()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
