"""nimbus's Python and Node.js Lambda runtime bootstraps, tested without nimbus.

A fake Lambda Runtime API (http.server on an ephemeral port) feeds invocations
to a bootstrap subprocess running against a temporary task root and records
what it POSTs back; the expected texts, JSON shapes and log formats are those
of AWS's own runtimes. Uses none of conftest.py's fixtures, so no server starts.

    /work/main/.venv/bin/python -m pytest tests/compat/test_lambda_bootstraps.py -q
"""

import fcntl
import http.server
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNTIMES = REPO_ROOT / "crates" / "nimbus-lambda" / "runtimes"
PY_BOOTSTRAP = RUNTIMES / "python" / "bootstrap.py"
NODE_BOOTSTRAP = RUNTIMES / "node" / "bootstrap.mjs"
# The interpreter the Python bootstrap runs under (nimbus uses the one found on
# the machine); set NIMBUS_TEST_PYTHON to check another version, e.g. 3.9.
PYTHON = os.environ.get("NIMBUS_TEST_PYTHON", sys.executable)
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="`node` is not on PATH; Node.js bootstrap not tested")

FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
WAIT = 15.0


# ------------------------------------------------------------ fake Runtime API


class Outcome:
    """What the bootstrap POSTed for one invocation (or for init)."""

    def __init__(self, kind, headers, body, stdout):
        self.kind = kind  # "response" | "error" | "init_error"
        self.headers = headers
        self.raw = body
        self.stdout = stdout  # everything the process had printed at POST time

    @property
    def json(self):
        return json.loads(self.raw)


class FakeRuntimeApi:
    def __init__(self):
        self.invocations = queue.Queue()
        self.outcomes = {}
        self.outcome_ready = threading.Condition()
        self.connections = 0
        self.drop_connection_after_post = False
        self.on_post = lambda: ""
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Headers and body go out in separate writes; without NODELAY
                # the fake server itself would add Nagle/delayed-ACK stalls.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with api.outcome_ready:
                    api.connections += 1

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=()):
                try:
                    self.send_response(status)
                    for name, value in headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the bootstrap was stopped

            def do_GET(self):
                if self.path != "/2018-06-01/runtime/invocation/next":
                    return self._reply(404)
                request_id, body, headers = api.invocations.get()
                if request_id is None:  # shutdown
                    self.close_connection = True
                    return self._reply(500, b'{"errorType":"ShuttingDown"}')
                self._reply(200, body, headers)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                stdout = api.on_post()
                match = re.fullmatch(r"/2018-06-01/runtime/invocation/([^/]+)/(response|error)", self.path)
                if match:
                    key, kind = match.group(1), match.group(2)
                elif self.path == "/2018-06-01/runtime/init/error":
                    key, kind = "init", "init_error"
                else:
                    return self._reply(404)
                with api.outcome_ready:
                    api.outcomes[key] = Outcome(kind, dict(self.headers), body, stdout)
                    api.outcome_ready.notify_all()
                self._reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
                if api.drop_connection_after_post:
                    # Close without "Connection: close": the client only
                    # learns of it when it next uses the socket.
                    self.close_connection = True

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = "127.0.0.1:{}".format(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def send(self, event, request_id=None, deadline_ms=None, extra_headers=None, raw_body=None):
        request_id = request_id or str(uuid.uuid4())
        if deadline_ms is None:
            deadline_ms = int(time.time() * 1000) + 30_000
        headers = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", request_id),
            ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN),
            ("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
        ]
        headers += list((extra_headers or {}).items())
        body = raw_body if raw_body is not None else json.dumps(event).encode()
        self.invocations.put((request_id, body, headers))
        return request_id

    def wait(self, key, timeout=WAIT):
        deadline = time.monotonic() + timeout
        with self.outcome_ready:
            while key not in self.outcomes:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no outcome for {} within {}s".format(key, timeout))
                self.outcome_ready.wait(left)
            return self.outcomes[key]

    def invoke(self, event=None, **kwargs):
        return self.wait(self.send(event, **kwargs))

    def close(self):
        self.invocations.put((None, None, None))
        self.server.shutdown()
        self.server.server_close()


class Bootstrap:
    """A bootstrap subprocess whose stdout is read without blocking, so the
    fake API can snapshot what was printed at the moment a POST arrives."""

    def __init__(self, argv, task_root, api, handler, env=None):
        self.api = api
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "HOME": str(task_root),
            "TMPDIR": str(task_root),
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(task_root),
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "AWS_LAMBDA_FUNCTION_NAME": "fn",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/05/01/[$LATEST]0123456789abcdef",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDTEST",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_SESSION_TOKEN": "token",
        }
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            argv,
            cwd=str(task_root),
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for pipe in (self.proc.stdout, self.proc.stderr):
            flags = fcntl.fcntl(pipe.fileno(), fcntl.F_GETFL)
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETFL, flags | os.O_NONBLOCK)
        self._out = bytearray()
        self._err = bytearray()
        self._lock = threading.Lock()
        api.on_post = self.drain

    def drain(self):
        with self._lock:
            for pipe, buf in ((self.proc.stdout, self._out), (self.proc.stderr, self._err)):
                while True:
                    try:
                        chunk = os.read(pipe.fileno(), 65536)
                    except BlockingIOError:
                        break
                    if not chunk:
                        break
                    buf.extend(chunk)
            return self._out.decode("utf-8", "replace")

    @property
    def stdout(self):
        return self.drain()

    @property
    def stderr(self):
        self.drain()
        return self._err.decode("utf-8", "replace")

    def wait_exit(self, timeout=WAIT):
        code = self.proc.wait(timeout)
        self.drain()
        return code

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def api():
    server = FakeRuntimeApi()
    yield server
    server.close()


@pytest.fixture
def start(api, tmp_path):
    """start(kind, files, handler, env=None) -> Bootstrap, kind "python" | "node"."""
    started = []

    def run(kind, files, handler, env=None):
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        if kind == "python":
            argv = [PYTHON, "-u", str(PY_BOOTSTRAP)]
        else:
            argv = [NODE, str(NODE_BOOTSTRAP)]
        proc = Bootstrap(argv, tmp_path, api, handler, env)
        started.append(proc)
        return proc

    yield run
    for proc in started:
        proc.stop()


def assert_exits_nonzero(proc):
    code = proc.wait_exit()
    assert code != 0, "bootstrap exited 0 after an init error"
    return code


# ===================================================================== Python

PY_ECHO = {"lambda_function.py": "def lambda_handler(event, context):\n    return event\n"}


def test_python_echo_result(api, start):
    start("python", PY_ECHO, "lambda_function.lambda_handler")
    out = api.invoke({"a": [1, 2.5, "x", None, True], "ü": "ß"})
    assert out.kind == "response"
    assert out.json == {"a": [1, 2.5, "x", None, True], "ü": "ß"}
    assert out.headers["Content-Type"] == "application/json"


def test_python_context_fields_and_remaining_time(api, start):
    start(
        "python",
        {
            "app.py": """
            def handler(event, context):
                return {
                    "function_name": context.function_name,
                    "function_version": context.function_version,
                    "invoked_function_arn": context.invoked_function_arn,
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "aws_request_id": context.aws_request_id,
                    "log_group_name": context.log_group_name,
                    "log_stream_name": context.log_stream_name,
                    "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
                    "client_context": context.client_context,
                    "remaining": context.get_remaining_time_in_millis(),
                    "trace": __import__("os").environ.get("_X_AMZN_TRACE_ID"),
                }
            """
        },
        "app.handler",
    )
    deadline = int(time.time() * 1000) + 5000
    out = api.invoke({}, request_id="req-ctx-1", deadline_ms=deadline)
    body = out.json
    remaining = body.pop("remaining")
    assert 0 < remaining <= 5000
    assert body == {
        "function_name": "fn",
        "function_version": "$LATEST",
        "invoked_function_arn": FUNCTION_ARN,
        # AWS's Python runtime reads it from the environment unconverted.
        "memory_limit_in_mb": "256",
        "aws_request_id": "req-ctx-1",
        "log_group_name": "/aws/lambda/fn",
        "log_stream_name": "2024/05/01/[$LATEST]0123456789abcdef",
        "identity": [None, None],
        "client_context": None,
        "trace": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    }
    # A deadline already passed reads as 0, never negative.
    late = api.invoke({}, deadline_ms=int(time.time() * 1000) - 1000)
    assert late.json["remaining"] == 0


def test_python_client_context_and_identity(api, start):
    start(
        "python",
        {
            "app.py": """
            def handler(event, context):
                cc = context.client_context
                return {
                    "installation_id": cc.client.installation_id,
                    "app_title": cc.client.app_title,
                    "app_package_name": cc.client.app_package_name,
                    "custom": cc.custom,
                    "env": cc.env,
                    "identity_id": context.identity.cognito_identity_id,
                    "pool_id": context.identity.cognito_identity_pool_id,
                }
            """
        },
        "app.handler",
    )
    client_context = {
        "client": {"installation_id": "inst-1", "app_title": "title"},
        "custom": {"k": "v"},
        "env": {"platform": "linux"},
    }
    identity = {"cognitoIdentityId": "us-east-1:abc", "cognitoIdentityPoolId": "us-east-1:pool"}
    out = api.invoke(
        {},
        extra_headers={
            "Lambda-Runtime-Client-Context": json.dumps(client_context),
            "Lambda-Runtime-Cognito-Identity": json.dumps(identity),
        },
    )
    assert out.json == {
        "installation_id": "inst-1",
        "app_title": "title",
        "app_package_name": None,
        "custom": {"k": "v"},
        "env": {"platform": "linux"},
        "identity_id": "us-east-1:abc",
        "pool_id": "us-east-1:pool",
    }
    bad = api.invoke({}, extra_headers={"Lambda-Runtime-Client-Context": "{not json"})
    assert bad.kind == "error"
    assert bad.json["errorType"] == "Runtime.LambdaContextUnmarshalError"
    assert bad.json["errorMessage"].startswith("Unable to parse Client Context JSON: Expecting property name")


def test_python_handler_exception(api, start, tmp_path):
    proc = start(
        "python",
        {
            "lambda_function.py": """
            def helper(x):
                raise ValueError("boom " + x)

            def lambda_handler(event, context):
                return helper("now")
            """
        },
        "lambda_function.lambda_handler",
    )
    out = api.invoke({}, request_id="req-err-1")
    assert out.kind == "error"
    assert out.headers["Lambda-Runtime-Function-Error-Type"] == "ValueError"
    path = str(tmp_path / "lambda_function.py")
    assert out.json == {
        "errorMessage": "boom now",
        "errorType": "ValueError",
        "requestId": "req-err-1",
        "stackTrace": [
            '  File "{}", line 6, in lambda_handler\n    return helper("now")\n'.format(path),
            '  File "{}", line 3, in helper\n    raise ValueError("boom " + x)\n'.format(path),
        ],
    }
    cause = json.loads(out.headers["Lambda-Runtime-Function-XRay-Error-Cause"])
    assert cause["exceptions"][0]["type"] == "ValueError"
    # The log entry is one line: "\r" between lines, NBSP indentation.
    nbsp = "\u00a0"
    expected_log = "\r".join(
        [
            "[ERROR] ValueError: boom now",
            "Traceback (most recent call last):",
            nbsp * 2 + 'File "{}", line 6, in lambda_handler'.format(path),
            nbsp * 4 + 'return helper("now")',
            nbsp * 2 + 'File "{}", line 3, in helper'.format(path),
            nbsp * 4 + 'raise ValueError("boom " + x)',
        ]
    )
    assert expected_log + "\n" in out.stdout
    # The process survives a handler error.
    assert api.invoke({}).kind == "error"
    assert proc.proc.poll() is None


def test_python_unusual_errors_are_still_reported(api, start):
    files = {
        "app.py": """
        class ΣφάλμαError(Exception):
            pass

        def recurse(n):
            return recurse(n + 1)

        def handler(event, context):
            if event == "greek":
                raise ΣφάλμαError("μήνυμα")
            return recurse(0)
        """
    }
    proc = start("python", files, "app.handler")
    greek = api.invoke("greek")
    assert greek.json["errorType"] == "ΣφάλμαError"
    assert greek.json["errorMessage"] == "μήνυμα"
    assert greek.headers["Lambda-Runtime-Function-Error-Type"] == "??????Error"
    deep = api.invoke("deep")
    assert deep.json["errorType"] == "RecursionError"
    # format_list folds the repeated frames, as on AWS.
    assert re.fullmatch(r"  \[Previous line repeated \d+ more times\]\n", deep.json["stackTrace"][-1])
    assert "Lambda-Runtime-Function-XRay-Error-Cause" not in deep.headers
    assert proc.proc.poll() is None


def init_error(api, proc):
    out = api.wait("init")
    assert out.kind == "init_error"
    assert out.headers["Lambda-Runtime-Function-Error-Type"] == out.json["errorType"]
    assert_exits_nonzero(proc)
    return out


def test_python_init_missing_module(api, start):
    proc = start("python", {}, "lambda_function.lambda_handler")
    out = init_error(api, proc)
    assert out.json == {
        "errorMessage": "Unable to import module 'lambda_function': No module named 'lambda_function'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    assert "LAMBDA_WARNING: Unhandled exception." in out.stdout
    assert (
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'lambda_function': "
        "No module named 'lambda_function'\rTraceback (most recent call last):\n"
    ) in out.stdout


def test_python_init_missing_dependency(api, start):
    proc = start("python", {"lambda_function.py": "import requestz\n"}, "lambda_function.handler")
    out = init_error(api, proc)
    assert out.json["errorType"] == "Runtime.ImportModuleError"
    assert out.json["errorMessage"] == "Unable to import module 'lambda_function': No module named 'requestz'"


def test_python_init_handler_missing(api, start):
    proc = start("python", PY_ECHO, "lambda_function.nope")
    out = init_error(api, proc)
    assert out.json == {
        "errorMessage": "Handler 'nope' missing on module 'lambda_function'",
        "errorType": "Runtime.HandlerNotFound",
        "requestId": "",
        "stackTrace": [],
    }


def test_python_init_malformed_handler(api, start):
    proc = start("python", PY_ECHO, "lambda_function")
    out = init_error(api, proc)
    assert out.json["errorType"] == "Runtime.MalformedHandlerName"
    assert out.json["errorMessage"] == (
        "Bad handler 'lambda_function': not enough values to unpack (expected 2, got 1)"
    )


def test_python_init_builtin_module_conflict(api, start):
    proc = start("python", {}, "sys.handler")
    out = init_error(api, proc)
    assert out.json["errorType"] == "Runtime.BuiltInModuleConflict"
    assert out.json["errorMessage"] == "Cannot use built-in module sys as a handler module"


def test_python_init_syntax_error(api, start, tmp_path):
    proc = start("python", {"lambda_function.py": "def handler(event, context)\n    return 1\n"}, "lambda_function.handler")
    out = init_error(api, proc)
    body = out.json
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    # The message is the interpreter's own, which varies between versions.
    expected = subprocess.run(
        [PYTHON, "-c", "import lambda_function"], cwd=str(tmp_path), capture_output=True, text=True
    ).stderr.strip().splitlines()[-1]
    assert expected.startswith("SyntaxError: ")
    message = body["errorMessage"]
    assert message.startswith("Syntax error in module 'lambda_function': " + expected[len("SyntaxError: "):])
    assert message.endswith("(lambda_function.py, line 1)")
    assert body["stackTrace"] == [
        '  File "{}" Line 1\n    def handler(event, context)\n'.format(tmp_path / "lambda_function.py")
    ]


def test_python_init_exception_at_import(api, start, tmp_path):
    proc = start("python", {"lambda_function.py": "x = 1\nraise KeyError('cfg')\n"}, "lambda_function.handler")
    out = init_error(api, proc)
    body = out.json
    assert body["errorType"] == "KeyError"
    assert body["errorMessage"] == "'cfg'"
    assert body["requestId"] == ""
    assert body["stackTrace"][-1] == '  File "{}", line 2, in <module>\n    raise KeyError(\'cfg\')\n'.format(
        tmp_path / "lambda_function.py"
    )


def test_python_handler_in_package_with_slashes_and_dots(api, start):
    files = {
        "pkg/__init__.py": "",
        "pkg/sub/__init__.py": "",
        "pkg/sub/mod.py": "def handler(event, context):\n    return 'deep'\n",
    }
    start("python", files, "pkg/sub/mod.handler")
    assert api.invoke({}).json == "deep"


def test_python_handler_in_dotted_package(api, start):
    files = {"pkg/__init__.py": "", "pkg/mod.py": "def handler(event, context):\n    return 'dotted'\n"}
    start("python", files, "pkg.mod.handler")
    assert api.invoke({}).json == "dotted"


def test_python_task_root_wins_over_pythonpath(api, start, tmp_path):
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "shared.py").write_text("WHO = 'layer'\n")
    files = {
        "shared.py": "WHO = 'task'\n",
        "app.py": "import shared, sys\ndef handler(e, c):\n    return [shared.WHO, sys.path[0]]\n",
    }
    start("python", files, "app.handler", env={"PYTHONPATH": str(layer)})
    assert api.invoke({}).json == ["task", str(tmp_path)]


def test_python_marshal_error_and_decimal(api, start):
    start(
        "python",
        {
            "app.py": """
            import datetime, decimal
            def handler(event, context):
                if event == "date":
                    return {"when": datetime.datetime(2024, 5, 1)}
                if event == "circular":
                    x = []
                    x.append(x)
                    return x
                if event == "bytes":
                    return b"raw\\x00bytes"
                return {"price": decimal.Decimal("1.10"), "big": decimal.Decimal("12345678901234567890.5"),
                        "nan": decimal.Decimal("NaN"), "text": "__nimbus_decimal_x_0__"}
            """
        },
        "app.handler",
    )
    date = api.invoke("date", request_id="req-marshal")
    assert date.kind == "error"
    assert date.headers["Lambda-Runtime-Function-Error-Type"] == "Runtime.MarshalError"
    assert date.json == {
        "errorMessage": "Unable to marshal response: Object of type datetime is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": "req-marshal",
        "stackTrace": [],
    }
    circular = api.invoke("circular")
    assert circular.json["errorType"] == "Runtime.MarshalError"
    assert circular.json["errorMessage"] == "Unable to marshal response: Circular reference detected"
    raw = api.invoke("bytes")
    assert raw.raw == b"raw\x00bytes"
    assert raw.headers["Content-Type"] == "application/unknown"
    # Decimals keep their exact digits, as with AWS's simplejson encoder.
    dec = api.invoke("decimal")
    assert dec.kind == "response"
    assert dec.raw == (
        b'{"price": 1.10, "big": 12345678901234567890.5, "nan": NaN, "text": "__nimbus_decimal_x_0__"}'
    )


def test_python_unmarshal_error(api, start):
    start("python", PY_ECHO, "lambda_function.lambda_handler")
    out = api.invoke(raw_body=b"{nope")
    assert out.json["errorType"] == "Runtime.UnmarshalError"
    assert out.json["errorMessage"] == (
        "Unable to unmarshal input: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )


LOG_LINE = r"\[{level}\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{rid}\t{msg}\n"


def test_python_logging_format_and_print(api, start):
    files = {
        "app.py": """
        import logging
        logger = logging.getLogger()
        def handler(event, context):
            print("printed", event)
            logger.info("info hidden by default")
            logger.warning("careful %s", "now")
            logging.getLogger("child").error("child error")
            return "ok"
        """
    }
    start("python", files, "app.handler")
    out = api.invoke("e1", request_id="req-log-1")
    assert out.kind == "response"
    # Everything was in the pipe before the response was POSTed.
    assert "printed e1\n" in out.stdout
    assert re.search(LOG_LINE.format(level="WARNING", rid="req-log-1", msg="careful now"), out.stdout)
    assert re.search(LOG_LINE.format(level="ERROR", rid="req-log-1", msg="child error"), out.stdout)
    assert "info hidden" not in out.stdout
    # The timestamp is UTC.
    stamp = re.search(r"\[WARNING\]\t(\S+)Z\t", out.stdout).group(1)
    parsed = time.mktime(time.strptime(stamp.split(".")[0], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert abs(parsed - time.time()) < 60
    # The request id follows the invocation.
    second = api.invoke("e2", request_id="req-log-2")
    assert re.search(LOG_LINE.format(level="WARNING", rid="req-log-2", msg="careful now"), second.stdout)


def test_python_log_level_env(api, start):
    files = {
        "app.py": """
        import logging
        def handler(event, context):
            logging.getLogger().debug("debug shown")
            return "ok"
        """
    }
    start("python", files, "app.handler", env={"AWS_LAMBDA_LOG_LEVEL": "TRACE"})
    out = api.invoke({}, request_id="req-lvl")
    assert re.search(LOG_LINE.format(level="DEBUG", rid="req-lvl", msg="debug shown"), out.stdout)


def test_python_json_log_format(api, start, tmp_path):
    files = {
        "app.py": """
        import logging
        logger = logging.getLogger("app")
        def handler(event, context):
            logger.info("hello %s", "json", extra={"order": 7})
            try:
                {}["k"]
            except KeyError:
                logger.exception("failed")
            if event == "raise":
                raise ValueError("bad")
            return "ok"
        """
    }
    env = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}
    start("python", files, "app.handler", env=env)
    out = api.invoke({}, request_id="req-json")
    entries = [json.loads(line) for line in out.stdout.splitlines()]
    info, failure = entries
    stamp = info.pop("timestamp")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    assert info == {"level": "INFO", "message": "hello json", "logger": "app", "requestId": "req-json", "order": 7}
    assert failure["level"] == "ERROR"
    assert failure["message"] == "failed"
    assert failure["errorType"] == "KeyError"
    assert failure["errorMessage"] == "'k'"
    assert failure["location"] == "{}:handler:9".format(tmp_path / "app.py")
    assert failure["stackTrace"][0].startswith('  File "{}", line 7, in handler'.format(tmp_path / "app.py"))
    err = api.invoke("raise", request_id="req-json-2")
    logged = json.loads(err.stdout.splitlines()[-1])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", logged.pop("timestamp"))
    assert logged == dict(err.json, level="ERROR")


def test_python_warm_reuse_and_keep_alive(api, start):
    files = {
        "app.py": """
        import os
        COUNT = {"n": 0}
        PID = os.getpid()
        def handler(event, context):
            COUNT["n"] += 1
            return [COUNT["n"], PID, context.aws_request_id]
        """
    }
    start("python", files, "app.handler")
    results = [api.invoke({}, request_id="warm-{}".format(i)).json for i in range(5)]
    assert [r[0] for r in results] == [1, 2, 3, 4, 5]
    assert len({r[1] for r in results}) == 1
    assert [r[2] for r in results] == ["warm-{}".format(i) for i in range(5)]
    assert api.connections == 1


def test_python_reconnects_when_server_drops_connection(api, start):
    start("python", PY_ECHO, "lambda_function.lambda_handler")
    api.drop_connection_after_post = True
    assert [api.invoke(i).json for i in range(3)] == [0, 1, 2]
    assert api.connections >= 3


def test_python_warm_round_trip_latency(api, start):
    round_trip(api, start, "python", PY_ECHO, "lambda_function.lambda_handler")


def round_trip(api, start, kind, files, handler, count=300):
    start(kind, files, handler)
    for i in range(20):  # warm up
        api.invoke(i)
    began = time.perf_counter()
    for i in range(count):
        assert api.invoke(i).kind == "response"
    per_invoke_ms = (time.perf_counter() - began) * 1000 / count
    print("\n{} warm round trip through the fake Runtime API: {:.3f} ms".format(kind, per_invoke_ms))
    assert api.connections == 1
    # Generous bound for a loaded 2-core machine; it catches the 40 ms
    # Nagle/delayed-ACK stall a non-keep-alive or split-write client shows.
    assert per_invoke_ms < 10


# ===================================================================== Node.js

NODE_ASYNC = {"index.mjs": "export const handler = async (event) => event;\n"}


@needs_node
def test_node_esm_mjs_async_echo(api, start):
    start("node", NODE_ASYNC, "index.handler")
    out = api.invoke({"a": [1, "x", None], "ü": "ß"})
    assert out.kind == "response"
    assert out.json == {"a": [1, "x", None], "ü": "ß"}


@needs_node
def test_node_commonjs_callback(api, start):
    files = {"index.js": "exports.handler = function (event, context, callback) { callback(null, {got: event}); };\n"}
    start("node", files, "index.handler")
    assert api.invoke(7).json == {"got": 7}


@needs_node
def test_node_type_module_js(api, start):
    files = {
        "package.json": '{"type": "module"}',
        "src/app.js": "export async function handler(e) { return {esm: typeof require === 'undefined', e}; }\n",
    }
    start("node", files, "src/app.handler")
    assert api.invoke(1).json == {"esm": True, "e": 1}


@needs_node
def test_node_cjs_extension_and_nested_export(api, start):
    files = {"lib/fn.cjs": "module.exports = { nested: { handler: async () => 'cjs' } };\n"}
    start("node", files, "lib/fn.nested.handler")
    assert api.invoke({}).json == "cjs"


@needs_node
def test_node_js_prefers_commonjs_without_type_module(api, start):
    files = {"index.js": "exports.handler = async () => typeof module;\n", "index.mjs": "export const handler = async () => 'mjs';\n"}
    start("node", files, "index.handler")
    assert api.invoke({}).json == "object"


@needs_node
def test_node_handler_module_from_node_modules_and_layer_on_node_path(api, start, tmp_path):
    layer = tmp_path / "layer" / "node_modules" / "layerlib"
    layer.mkdir(parents=True)
    (layer / "index.js").write_text("exports.who = 'layer';\n")
    files = {
        "node_modules/pkgfn/package.json": '{"main": "main.js"}',
        "node_modules/pkgfn/main.js": "exports.handler = async () => require('layerlib').who;\n",
    }
    start("node", files, "pkgfn.handler", env={"NODE_PATH": str(tmp_path / "layer" / "node_modules")})
    assert api.invoke({}).json == "layer"


@needs_node
def test_node_context_fields(api, start):
    files = {
        "index.js": """
        exports.handler = async (event, context) => ({
          functionName: context.functionName,
          functionVersion: context.functionVersion,
          invokedFunctionArn: context.invokedFunctionArn,
          memoryLimitInMB: context.memoryLimitInMB,
          awsRequestId: context.awsRequestId,
          logGroupName: context.logGroupName,
          logStreamName: context.logStreamName,
          identity: context.identity === undefined ? 'undefined' : context.identity,
          clientContext: context.clientContext === undefined ? 'undefined' : context.clientContext,
          callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
          remaining: context.getRemainingTimeInMillis(),
          legacy: [typeof context.succeed, typeof context.fail, typeof context.done],
          trace: process.env._X_AMZN_TRACE_ID,
        });
        """
    }
    start("node", files, "index.handler")
    out = api.invoke({}, request_id="node-ctx", deadline_ms=int(time.time() * 1000) + 5000)
    body = out.json
    remaining = body.pop("remaining")
    assert 0 < remaining <= 5000
    assert body == {
        "functionName": "fn",
        "functionVersion": "$LATEST",
        "invokedFunctionArn": FUNCTION_ARN,
        "memoryLimitInMB": "256",
        "awsRequestId": "node-ctx",
        "logGroupName": "/aws/lambda/fn",
        "logStreamName": "2024/05/01/[$LATEST]0123456789abcdef",
        "identity": "undefined",
        "clientContext": "undefined",
        "callbackWaitsForEmptyEventLoop": True,
        "legacy": ["function", "function", "function"],
        "trace": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    }
    client_context = {"client": {"installation_id": "i"}, "custom": {"k": "v"}, "env": {"e": 1}}
    identity = {"cognitoIdentityId": "id", "cognitoIdentityPoolId": "pool"}
    with_headers = api.invoke(
        {},
        extra_headers={
            "Lambda-Runtime-Client-Context": json.dumps(client_context),
            "Lambda-Runtime-Cognito-Identity": json.dumps(identity),
        },
    ).json
    assert with_headers["clientContext"] == client_context
    assert with_headers["identity"] == identity


@needs_node
def test_node_callback_waits_for_empty_event_loop(api, start):
    files = {
        "index.js": """
        let timerFired = false;
        exports.handler = (event, context, callback) => {
          if (event === 'check') return callback(null, timerFired);
          if (event === 'nowait') {
            context.callbackWaitsForEmptyEventLoop = false;
            setTimeout(() => {}, 1500);
            return callback(null, 'immediate');
          }
          setTimeout(() => { timerFired = true; }, 300);
          callback(null, 'after-timer');
        };
        """
    }
    start("node", files, "index.handler")
    began = time.monotonic()
    assert api.invoke("wait").json == "after-timer"
    assert time.monotonic() - began >= 0.25
    assert api.invoke("check").json is True
    began = time.monotonic()
    assert api.invoke("nowait").json == "immediate"
    assert time.monotonic() - began < 1.0


@needs_node
def test_node_sync_handler_without_callback_returns_null(api, start):
    files = {"index.js": "exports.handler = (event) => { return 'ignored'; };\n"}
    start("node", files, "index.handler")
    out = api.invoke({})
    assert out.kind == "response"
    assert out.raw == b"null"


@needs_node
def test_node_legacy_context_succeed_fail(api, start):
    files = {
        "index.js": """
        exports.handler = (event, context) => {
          if (event === 'ok') context.succeed({fine: true});
          else context.fail(new TypeError('bad'));
        };
        """
    }
    start("node", files, "index.handler")
    assert api.invoke("ok").json == {"fine": True}
    failed = api.invoke("fail")
    assert failed.kind == "error"
    assert failed.json["errorType"] == "TypeError"
    assert failed.json["errorMessage"] == "bad"


@needs_node
def test_node_async_error_shape_and_log(api, start, tmp_path):
    files = {
        "index.js": """
        exports.handler = async (event) => {
          if (event === 'string') throw 'plain string';
          const err = new Error('boom');
          err.detail = 42;
          throw err;
        };
        """
    }
    start("node", files, "index.handler")
    out = api.invoke({}, request_id="node-err")
    assert out.kind == "error"
    assert out.headers["Lambda-Runtime-Function-Error-Type"] == "Error"
    body = out.json
    assert list(body) == ["errorType", "errorMessage", "trace"]
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "boom"
    assert body["trace"][0] == "Error: boom"
    assert str(tmp_path / "index.js") in body["trace"][1]
    line = re.search(r"(\S+)\tnode-err\tERROR\tInvoke Error \t(.*)\n", out.stdout)
    assert line, out.stdout
    logged = json.loads(line.group(2))
    assert logged["errorType"] == "Error" and logged["errorMessage"] == "boom" and logged["detail"] == 42
    assert logged["stack"][0] == "Error: boom"
    plain = api.invoke("string")
    assert plain.json == {"errorType": "string", "errorMessage": "plain string", "trace": []}


@needs_node
def test_node_callback_error(api, start):
    files = {"index.js": "exports.handler = (e, c, cb) => cb(new RangeError('too far'));\n"}
    start("node", files, "index.handler")
    out = api.invoke({})
    assert out.headers["Lambda-Runtime-Function-Error-Type"] == "RangeError"
    assert out.json["errorMessage"] == "too far"
    assert out.json["trace"][0] == "RangeError: too far"


@needs_node
def test_node_unusual_error_names_are_still_reported(api, start):
    files = {
        "index.js": """
        exports.handler = async (event) => {
          const e = new Error('odd');
          e.name = event === 'greek' ? 'ΣφάλμαError' : undefined;
          throw e;
        };
        """
    }
    proc = start("node", files, "index.handler")
    greek = api.invoke("greek")
    assert greek.json["errorType"] == "ΣφάλμαError"
    assert greek.headers["Lambda-Runtime-Function-Error-Type"] == "??????Error"
    unnamed = api.invoke("none")
    assert unnamed.kind == "error"
    assert unnamed.json["errorMessage"] == "odd"
    assert proc.proc.poll() is None


@needs_node
def test_node_init_missing_module(api, start, tmp_path):
    proc = start("node", {}, "index.handler")
    out = init_error(api, proc)
    body = out.json
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Error: Cannot find module 'index'\nRequire stack:\n- {}".format(NODE_BOOTSTRAP)
    assert body["trace"][0] == "Runtime.ImportModuleError: Error: Cannot find module 'index'"
    assert proc.proc.returncode == 129
    assert "\tundefined\tERROR\tUncaught Exception \t{" in out.stdout


@needs_node
def test_node_init_handler_not_found(api, start):
    proc = start("node", NODE_ASYNC, "index.nope")
    out = init_error(api, proc)
    assert out.json["errorType"] == "Runtime.HandlerNotFound"
    assert out.json["errorMessage"] == "index.nope is undefined or not exported"
    assert out.json["trace"][0] == "Runtime.HandlerNotFound: index.nope is undefined or not exported"


@needs_node
def test_node_init_handler_not_a_function(api, start):
    proc = start("node", {"index.js": "exports.handler = 5;\n"}, "index.handler")
    out = init_error(api, proc)
    assert out.json["errorType"] == "Runtime.HandlerNotFound"
    assert out.json["errorMessage"] == "index.handler is not a function"


@needs_node
def test_node_init_malformed_handler(api, start):
    proc = start("node", NODE_ASYNC, "index")
    out = init_error(api, proc)
    assert out.json["errorType"] == "Runtime.MalformedHandlerName"
    assert out.json["errorMessage"] == "Bad handler"


@needs_node
def test_node_init_relative_path_handler(api, start):
    proc = start("node", NODE_ASYNC, "../index.handler")
    out = init_error(api, proc)
    assert out.json["errorType"] == "Runtime.MalformedHandlerName"
    assert out.json["errorMessage"] == (
        "'../index.handler' is not a valid handler name. "
        "Use absolute paths when specifying root directories in handler names."
    )


@needs_node
def test_node_init_syntax_error(api, start):
    proc = start("node", {"index.js": "exports.handler = async () => );\n"}, "index.handler")
    out = init_error(api, proc)
    assert out.json["errorType"] == "Runtime.UserCodeSyntaxError"
    assert out.json["errorMessage"] == "SyntaxError: Unexpected token ')'"
    assert out.json["trace"][0] == "Runtime.UserCodeSyntaxError: SyntaxError: Unexpected token ')'"
    assert proc.proc.returncode == 129


@needs_node
def test_node_init_syntax_error_in_esm(api, start):
    proc = start("node", {"index.mjs": "export const handler = async () => );\n"}, "index.handler")
    out = init_error(api, proc)
    assert out.json["errorType"] == "Runtime.UserCodeSyntaxError"
    assert out.json["errorMessage"] == "SyntaxError: Unexpected token ')'"


@needs_node
def test_node_init_exception_at_load(api, start):
    proc = start("node", {"index.mjs": "throw new TypeError('bad config');\n"}, "index.handler")
    out = init_error(api, proc)
    assert out.json["errorType"] == "TypeError"
    assert out.json["errorMessage"] == "bad config"


@needs_node
def test_node_marshal_error(api, start):
    files = {"index.js": "exports.handler = async (e) => (e === 'fn' ? () => 1 : { big: 10n });\n"}
    proc = start("node", files, "index.handler")
    # JSON has no text for a function: the result reads as null.
    as_null = api.invoke("fn")
    assert as_null.kind == "response" and as_null.raw == b"null"
    out = api.invoke({})
    assert out.kind == "error"
    assert out.json["errorType"] == "Error"
    assert out.json["errorMessage"] == "Unable to stringify response body"
    # The process stays usable.
    assert api.invoke({}).kind == "error"
    assert proc.proc.poll() is None


@needs_node
def test_node_console_format(api, start):
    files = {
        "index.js": """
        console.log('at init');
        exports.handler = async (event) => {
          console.log('log %s', 'formatted', {a: 1});
          console.info('info');
          console.warn('warn');
          console.error('error');
          console.debug('debug');
          console.trace('trace');
          console.log('two\\nlines');
          process.stdout.write('raw stdout\\n');
          return 'ok';
        };
        """
    }
    start("node", files, "index.handler")
    out = api.invoke({}, request_id="node-log")
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.search(r"^{}\tundefined\tINFO\tat init\n".format(stamp), out.stdout, re.M)
    for level, msg in [
        ("INFO", "log formatted { a: 1 }"),
        ("INFO", "info"),
        ("WARN", "warn"),
        ("ERROR", "error"),
        ("DEBUG", "debug"),
        ("TRACE", "trace"),
        ("INFO", "two\rlines"),
    ]:
        assert re.search(r"^{}\tnode-log\t{}\t{}\n".format(stamp, level, re.escape(msg)), out.stdout, re.M), (
            level,
            msg,
            out.stdout,
        )
    assert "raw stdout\n" in out.stdout


@needs_node
def test_node_console_survives_a_full_stdout_pipe(api, start):
    # 3000 lines (~400 KB) overflow the 64 KB pipe while nobody reads it:
    # the patched console must wait for room, losing and reordering nothing.
    files = {
        "index.js": """
        exports.handler = async () => {
          process.stdout.write('');
          for (let i = 0; i < 3000; i++) console.log('line %d %s', i, 'x'.repeat(100));
          return 'done';
        };
        """
    }
    proc = start("node", files, "index.handler")
    request_id = api.send({})
    stop = threading.Event()

    def slow_reader():
        time.sleep(0.5)
        while not stop.is_set():
            proc.drain()
            time.sleep(0.01)

    reader = threading.Thread(target=slow_reader)
    reader.start()
    try:
        out = api.wait(request_id)
    finally:
        stop.set()
        reader.join()
    assert out.json == "done"
    numbers = [int(m) for m in re.findall(r"\tINFO\tline (\d+) x{100}\n", out.stdout)]
    assert numbers == list(range(3000))


@needs_node
def test_node_log_level_filter(api, start):
    files = {"index.js": "exports.handler = async () => { console.info('hidden'); console.warn('shown'); return 1; };\n"}
    start("node", files, "index.handler", env={"AWS_LAMBDA_LOG_LEVEL": "WARN"})
    out = api.invoke({}, request_id="lvl")
    assert "\tlvl\tWARN\tshown\n" in out.stdout
    assert "hidden" not in out.stdout


@needs_node
def test_node_json_log_format(api, start):
    files = {
        "index.js": """
        exports.handler = async (event) => {
          console.log({a: 1});
          console.warn('n=%d', 5);
          const e = new TypeError('odd');
          e.extra = 'x';
          console.error(e);
          console.error('wrapped', e);
          if (event === 'throw') throw new Error('bad');
          return 1;
        };
        """
    }
    start("node", files, "index.handler", env={"AWS_LAMBDA_LOG_FORMAT": "JSON"})
    out = api.invoke({}, request_id="nj")
    entries = [json.loads(line) for line in out.stdout.splitlines()]
    for entry in entries:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry.pop("timestamp"))
    obj, warn, err, wrapped = entries
    assert obj == {"level": "INFO", "requestId": "nj", "message": {"a": 1}}
    assert warn == {"level": "WARN", "requestId": "nj", "message": "n=5"}
    assert err["level"] == "ERROR"
    assert err["message"]["errorType"] == "TypeError"
    assert err["message"]["errorMessage"] == "odd"
    assert err["message"]["extra"] == "x"
    assert err["message"]["stackTrace"][0] == "TypeError: odd"
    assert wrapped["message"].startswith("wrapped TypeError: odd")
    assert wrapped["errorType"] == "TypeError" and wrapped["errorMessage"] == "odd"
    failed = api.invoke("throw", request_id="nj2")
    logged = json.loads(failed.stdout.splitlines()[-1])
    assert logged["level"] == "ERROR" and logged["requestId"] == "nj2"
    assert logged["message"]["errorType"] == "Error"
    assert logged["message"]["errorMessage"] == "bad"


@needs_node
def test_node_unhandled_rejection_fails_invocation_and_exits(api, start):
    files = {
        "index.js": """
        exports.handler = async () => {
          Promise.reject(new Error('lost'));
          await new Promise((r) => setTimeout(r, 1000));
          return 'late';
        };
        """
    }
    proc = start("node", files, "index.handler")
    out = api.invoke({}, request_id="rej")
    assert out.kind == "error"
    assert out.headers["Lambda-Runtime-Function-Error-Type"] == "Runtime.UnhandledPromiseRejection"
    assert out.json["errorMessage"] == "Error: lost"
    assert out.json["trace"][0] == "Runtime.UnhandledPromiseRejection: Error: lost"
    assert proc.wait_exit() == 128
    assert "\trej\tERROR\tUnhandled Promise Rejection \t{" in proc.stdout


@needs_node
def test_node_uncaught_exception_fails_invocation_and_exits(api, start):
    files = {
        "index.js": """
        exports.handler = (event, context, callback) => {
          setTimeout(() => { throw new SyntaxError('in timer'); }, 10);
        };
        """
    }
    proc = start("node", files, "index.handler")
    out = api.invoke({}, request_id="unc")
    assert out.kind == "error"
    assert out.json["errorType"] == "SyntaxError"
    assert out.json["errorMessage"] == "in timer"
    assert proc.wait_exit() == 129


@needs_node
def test_node_warm_reuse_and_keep_alive(api, start):
    files = {"index.js": "let n = 0;\nexports.handler = async (e, c) => [++n, process.pid, c.awsRequestId];\n"}
    start("node", files, "index.handler")
    results = [api.invoke({}, request_id="nw-{}".format(i)).json for i in range(5)]
    assert [r[0] for r in results] == [1, 2, 3, 4, 5]
    assert len({r[1] for r in results}) == 1
    assert [r[2] for r in results] == ["nw-{}".format(i) for i in range(5)]
    assert api.connections == 1


@needs_node
def test_node_reconnects_when_server_drops_connection(api, start):
    start("node", NODE_ASYNC, "index.handler")
    api.drop_connection_after_post = True
    assert [api.invoke(i).json for i in range(3)] == [0, 1, 2]
    assert api.connections >= 3


@needs_node
def test_node_warm_round_trip_latency(api, start):
    round_trip(api, start, "node", NODE_ASYNC, "index.handler")
