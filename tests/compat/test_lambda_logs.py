"""Lambda function output reaches CloudWatch Logs: group /aws/lambda/NAME,
one stream per execution environment named as AWS names them, with the
START / END / REPORT lines around what the function printed."""

import io
import re
import time
import zipfile

import pytest
from conftest import _CONFIG, _session, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture(scope="module")
def lam(endpoint):
    return _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture(scope="module")
def logs(endpoint):
    return _session().client("logs", endpoint_url=endpoint, config=_CONFIG)


def test_invocation_logs_land_in_cloudwatch_logs(lam, logs):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    print('hello from', c.aws_request_id)\n    return 1\n")
    name = unique_name("logged")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": buf.getvalue()},
    )
    try:
        ids = [lam.invoke(FunctionName=name)["ResponseMetadata"]["RequestId"] for _ in range(2)]
        group = f"/aws/lambda/{name}"
        deadline = time.time() + 10
        messages = []
        while time.time() < deadline:
            try:
                events = logs.filter_log_events(logGroupName=group).get("events", [])
            except logs.exceptions.ResourceNotFoundException:
                events = []  # the first write has not landed yet
            messages = [e["message"] for e in events]
            if sum(m.startswith("REPORT") for m in messages) == 2:
                break
            time.sleep(0.1)
        for request_id in ids:
            assert f"START RequestId: {request_id} Version: $LATEST" in messages
            assert f"hello from {request_id}" in messages
            assert f"END RequestId: {request_id}" in messages
            assert any(m.startswith(f"REPORT RequestId: {request_id}\tDuration: ") for m in messages)
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        assert len(streams) == 1  # both invokes ran in the same warm environment
        assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", streams[0]["logStreamName"])
    finally:
        lam.delete_function(FunctionName=name)
