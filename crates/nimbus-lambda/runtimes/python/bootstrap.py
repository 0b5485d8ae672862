"""nimbus's Lambda runtime bootstrap for the python3.9 .. python3.13 runtimes.

nimbus runs it as `python3 -u bootstrap.py` with cwd = LAMBDA_TASK_ROOT. It
imports the function's handler, then loops over the Lambda Runtime API
(AWS_LAMBDA_RUNTIME_API): GET the next invocation, call the handler, POST the
result or the error. Standard library only, and compatible with Python 3.9.

What user code can observe (error types and texts, the error JSON, the context
object, the root logger and its line format, JSON marshalling including
Decimal) follows AWS's own Python runtime, because functions and their tests
branch on those details.
"""

import datetime
import decimal
import http.client
import importlib
import json
import logging
import math
import os
import re
import sys
import time
import traceback
import uuid
from urllib.parse import quote

API_PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
XRAY_CAUSE_HEADER = "Lambda-Runtime-Function-XRay-Error-Cause"
MAX_XRAY_CAUSE_HEADER = 16 * 1024

# The error log entry is one line on stdout: its lines are joined with "\r"
# and the traceback's leading spaces become NO-BREAK SPACEs, as AWS prints it.
ERROR_LOG_LINE_TERMINATE = "\r"
ERROR_LOG_INDENT = "\u00a0"

UNHANDLED_EXCEPTION_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. "
    "The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. "
    "To determine if the runtime has been updated, check the runtime version in the INIT_START log entry. "
    "If this error correlates with a change in the runtime version, you may be able to mitigate this "
    "error by temporarily rolling back to the previous runtime version. "
    "For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)

# Request id of the invocation in progress (the last one once it is done, as
# on AWS), read by the log filter.
_current_request_id = None


class FaultException(Exception):
    """A failure the runtime reports with one of AWS's `Runtime.*` types."""

    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


# ---------------------------------------------------------------- Runtime API


class RuntimeApiClient:
    """One persistent HTTP/1.1 connection to the Runtime API.

    A warm invocation is two requests (GET next, POST response); reusing the
    connection keeps that well under a millisecond. If the server closed the
    idle connection, the request is retried once on a fresh one.
    """

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host = host.strip("[]") or "127.0.0.1"
        self.port = int(port)
        self.conn = None

    def _request(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            if self.conn is None:
                # No timeout: GET next legitimately blocks until an invocation.
                self.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.HTTPException, ConnectionError) as err:
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise RuntimeApiError("{} {}: {}".format(method, path, err)) from err
                continue
            if response.will_close:
                self.conn.close()
                self.conn = None
            return response, data
        raise AssertionError("unreachable")

    def next_invocation(self):
        response, body = self._request("GET", API_PREFIX + "/invocation/next")
        if response.status != 200:
            raise RuntimeApiError(
                "GET invocation/next returned {}: {!r}".format(response.status, body[:200])
            )
        return Invocation(response.headers, body)

    def post_response(self, request_id, body, content_type):
        path = "{}/invocation/{}/response".format(API_PREFIX, quote(request_id, safe=""))
        self._post(path, body, {"Content-Type": content_type})

    def post_invocation_error(self, request_id, error, xray_cause):
        path = "{}/invocation/{}/error".format(API_PREFIX, quote(request_id, safe=""))
        headers = {"Content-Type": "application/json", ERROR_TYPE_HEADER: _header_value(error["errorType"])}
        # The cause only serves X-Ray; a deep recursion's would be an
        # oversized header that could get the whole POST refused.
        if len(xray_cause) <= MAX_XRAY_CAUSE_HEADER:
            headers[XRAY_CAUSE_HEADER] = xray_cause
        self._post(path, to_json(error).encode("utf-8"), headers)

    def post_init_error(self, error):
        headers = {"Content-Type": "application/json", ERROR_TYPE_HEADER: _header_value(error["errorType"])}
        self._post(API_PREFIX + "/init/error", to_json(error).encode("utf-8"), headers)

    def _post(self, path, body, headers):
        # Everything the invocation printed must be in the pipe before nimbus
        # sees the outcome, so its log lines are never attributed late.
        flush_std_streams()
        response, data = self._request("POST", path, body, headers)
        if response.status >= 500:
            # "Container error. Non-recoverable state. Runtime should exit promptly."
            raise RuntimeApiError("POST {} returned {}: {!r}".format(path, response.status, data[:200]))
        if response.status >= 300:
            # 400/403/413: the server refused this outcome and has already
            # failed the invocation; the environment itself is still usable.
            sys.stderr.write(
                "nimbus runtime: POST {} returned {}: {}\n".format(
                    path, response.status, data[:500].decode("utf-8", "replace")
                )
            )


class RuntimeApiError(Exception):
    pass


def _header_value(text):
    """http.client refuses header text outside latin-1 and control
    characters; an exception class may well be named in Greek."""
    return "".join(c if " " <= c <= "~" else "?" for c in str(text))


class Invocation:
    def __init__(self, headers, body):
        self.request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self.deadline_ms = _int_or_zero(headers.get("Lambda-Runtime-Deadline-Ms"))
        self.function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.trace_id = headers.get("Lambda-Runtime-Trace-Id")
        self.client_context = headers.get("Lambda-Runtime-Client-Context")
        self.cognito_identity = headers.get("Lambda-Runtime-Cognito-Identity")
        self.content_type = headers.get("Content-Type") or "application/json"
        self.body = body


def _int_or_zero(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return 0


# ------------------------------------------------------------- JSON marshalling


class _Encoder(json.JSONEncoder):
    """JSON as AWS's runtime writes it: Decimal values become JSON numbers
    with their exact digits (NaN decimals become NaN); anything else that is
    not JSON raises the standard "Object of type X is not JSON serializable".

    The standard library cannot emit raw number text from `default`, so each
    Decimal is encoded as a unique placeholder string that is swapped for the
    number's text afterwards.
    """

    def __init__(self):
        # AWS's python3.12 runtime alone writes non-ASCII text unescaped.
        ascii_only = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
        super().__init__(ensure_ascii=ascii_only)
        self._numbers = []
        self._tag = "__nimbus_decimal_{}_".format(uuid.uuid4().hex)

    def default(self, o):
        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return math.nan
            self._numbers.append(str(o))
            return "{}{}__".format(self._tag, len(self._numbers) - 1)
        return super().default(o)

    def encode(self, o):
        self._numbers = []
        text = super().encode(o)
        if not self._numbers:
            return text
        numbers = self._numbers
        pattern = re.compile('"{}(\\d+)__"'.format(re.escape(self._tag)))
        return pattern.sub(lambda m: numbers[int(m.group(1))], text)


def to_json(obj):
    return _Encoder().encode(obj)


def marshal_response(response):
    """Returns (body bytes, content type) or raises Runtime.MarshalError."""
    if isinstance(response, bytes):
        return response, "application/unknown"
    try:
        return to_json(response).encode("utf-8"), "application/json"
    except Exception as err:
        raise FaultException(
            FaultException.MARSHAL_ERROR, "Unable to marshal response: {}".format(err)
        )


def unmarshal_event(body, content_type):
    if content_type != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as err:
        raise FaultException(
            FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(err)
        )


# ------------------------------------------------------------------- context


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id={},cognito_identity_pool_id={}])".format(
            self.cognito_identity_id, self.cognito_identity_pool_id
        )


class Client:
    __slots__ = [
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]

    def __repr__(self):
        fields = ",".join("{}={}".format(f, getattr(self, f)) for f in self.__slots__)
        return "Client([{}])".format(fields)


class ClientContext:
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "ClientContext([custom={},env={},client={}])".format(self.custom, self.env, self.client)


def _object_from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field))
    return obj


class LambdaContext:
    """The handler's `context`. Every value AWS reads from the environment is
    a string there (memory_limit_in_mb included), so it is one here too."""

    def __init__(self, invocation, client_context, cognito_identity):
        self.aws_request_id = invocation.request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invocation.function_arn
        self.tenant_id = None
        self.client_context = _object_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _object_from_dict(Client, self.client_context.client)
        self.identity = _object_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._deadline_ms = invocation.deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id={},log_group_name={},log_stream_name={},"
            "function_name={},memory_limit_in_mb={},function_version={},"
            "invoked_function_arn={},client_context={},identity={},tenant_id={}])".format(
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


def _parse_json_header(text, name):
    if not text:
        return None
    try:
        return json.loads(text)
    except Exception as err:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR,
            "Unable to parse {} JSON: {}".format(name, err),
        )


# ------------------------------------------------------------------- logging


class _Unbuffered:
    """stdout/stderr as AWS's runtime wraps them: every write is flushed."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        written = self.stream.write(msg)
        self.stream.flush()
        return written

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


class _StdoutHandler(logging.Handler):
    def emit(self, record):
        try:
            sys.stdout.write(self.format(record))
        except Exception:
            self.handleError(record)


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _current_request_id or ""
        return True


# LogRecord attributes that are not copied into a JSON log entry as extras.
_RESERVED_RECORD_FIELDS = {
    "name",
    "msg",
    "args",
    "levelname",
    "levelno",
    "pathname",
    "filename",
    "module",
    "exc_info",
    "exc_text",
    "stack_info",
    "lineno",
    "funcName",
    "created",
    "msecs",
    "relativeCreated",
    "thread",
    "threadName",
    "processName",
    "process",
    "aws_request_id",
    "tenant_id",
}


class _JsonFormatter(logging.Formatter):
    """AWS_LAMBDA_LOG_FORMAT=JSON: one JSON object per record with AWS's
    field names; `extra=` fields are included, None values are dropped."""

    def format(self, record):
        # Custom levels fold into the standard ones, as on AWS.
        record.levelno = min(50, max(0, record.levelno)) // 10 * 10
        record.levelname = logging.getLevelName(record.levelno)
        exc_info = record.exc_info
        created = datetime.datetime.fromtimestamp(record.created, tz=datetime.timezone.utc)
        entry = {
            "timestamp": created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc_info[2]) if exc_info else None,
            "errorType": exc_info[0].__name__ if exc_info else None,
            "errorMessage": str(exc_info[1]) if exc_info else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": "{}:{}:{}".format(record.pathname, record.funcName, record.lineno) if exc_info else None,
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED_RECORD_FIELDS and key not in entry:
                entry[key] = value
        entry = {k: v for k, v in entry.items() if v is not None}
        return json.dumps(entry, ensure_ascii=False) + "\n"


def json_log_format():
    return (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"


def setup_logging():
    # AWS switches every logging.Formatter to UTC, user formatters included.
    logging.Formatter.converter = time.gmtime
    handler = _StdoutHandler()
    if json_log_format():
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    # Lambda's TRACE has no Python counterpart; AWS maps it to DEBUG.
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    level = {None: "", "TRACE": "DEBUG"}.get(level, level).upper()
    if level in logging._nameToLevel:
        root.setLevel(level)
    root.addHandler(handler)


def flush_std_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _indent_with_nbsp(line):
    stripped = line.lstrip(" ")
    return ERROR_LOG_INDENT * (len(line) - len(stripped)) + stripped


def log_error(error):
    if json_log_format():
        entry = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), "level": "ERROR"}
        entry.update(error)
        sys.stdout.write(to_json(entry) + "\n")
        return
    description = "[ERROR]"
    if error["errorType"]:
        description += " " + error["errorType"]
    if error["errorMessage"]:
        if error["errorType"]:
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description, "Traceback (most recent call last):"]
    for element in error["stackTrace"]:
        if element == "":
            lines.append("")
        else:
            lines.extend(_indent_with_nbsp(line) for line in element.splitlines())
    sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


# -------------------------------------------------------------------- errors


def make_error(message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace or [],
    }


def _user_frames(tb):
    """The traceback minus the leading frames of this bootstrap."""
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i, frame in enumerate(frames):
        if "/bootstrap.py" not in frame[0]:
            return frames[i:]
    return frames


def error_from_exception(exc, request_id=None):
    """(error JSON, X-Ray cause JSON) for an exception from user code."""
    if isinstance(exc, FaultException):
        error = make_error(exc.message, exc.error_type, exc.trace, request_id)
        xray = _xray_cause("LambdaValidationError", exc.message, [])
        return error, xray
    frames = _user_frames(exc.__traceback__)
    error_type = type(exc).__name__
    error = make_error(str(exc), error_type, traceback.format_list(frames), request_id)
    return error, _xray_cause(error_type, str(exc), frames)


def _xray_cause(error_type, message, frames):
    stack = [{"label": name, "path": path, "line": line} for path, line, name, _ in frames]
    cause = {
        "working_directory": os.getcwd(),
        "exceptions": [{"message": message, "type": error_type, "stack": stack}],
        "paths": sorted({frame[0] for frame in frames}),
    }
    # HTTP header values cannot hold raw non-ASCII text.
    return json.dumps(cause, ensure_ascii=True)


# ------------------------------------------------------------------- handler


def load_handler(handler):
    """Imports the module named by `_HANDLER` ("pkg/mod.func" or
    "pkg.mod.func") and returns the function, or raises AWS's Runtime.* fault."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as err:
        raise FaultException(
            FaultException.MALFORMED_HANDLER_NAME, "Bad handler '{}': {}".format(handler, err)
        )
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module {} as a handler module".format(module_name),
            )
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as err:
        raise FaultException(
            FaultException.IMPORT_MODULE_ERROR,
            "Unable to import module '{}': {}".format(module_name, err),
        )
    except SyntaxError as err:
        trace = ['  File "%s" Line %s\n    %s' % (err.filename, err.lineno, err.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '{}': {}".format(module_name, err),
            trace,
        )
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND,
            "Handler '{}' missing on module '{}'".format(function_name, module_name),
        )


def handle_invocation(client, handler, invocation):
    global _current_request_id
    _current_request_id = invocation.request_id
    if invocation.trace_id is not None:
        os.environ["_X_AMZN_TRACE_ID"] = invocation.trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)

    try:
        context = LambdaContext(
            invocation,
            _parse_json_header(invocation.client_context, "Client Context"),
            _parse_json_header(invocation.cognito_identity, "Cognito Identity"),
        )
        event = unmarshal_event(invocation.body, invocation.content_type)
        result, content_type = marshal_response(handler(event, context))
    except Exception as exc:
        error, xray = error_from_exception(exc, invocation.request_id)
        log_error(error)
        client.post_invocation_error(invocation.request_id, error, xray)
        return
    client.post_response(invocation.request_id, result, content_type)


def main():
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    # sys.path[0] is this script's directory; the function's own modules must
    # win over everything else, layers (PYTHONPATH) included.
    sys.path[0] = task_root
    sys.stdout = _Unbuffered(sys.stdout)
    sys.stderr = _Unbuffered(sys.stderr)
    client = RuntimeApiClient(os.environ["AWS_LAMBDA_RUNTIME_API"])

    try:
        setup_logging()
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:
        error, _ = error_from_exception(exc)
        logging.warning(UNHANDLED_EXCEPTION_WARNING)
        log_error(error)
        client.post_init_error(error)
        sys.exit(1)

    while True:
        handle_invocation(client, handler, client.next_invocation())


if __name__ == "__main__":
    try:
        main()
    except RuntimeApiError as err:
        sys.stderr.write("nimbus runtime: {}\n".format(err))
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
