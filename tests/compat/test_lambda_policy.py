"""Lambda resource policies through unmodified boto3: AddPermission,
GetPolicy, RemovePermission, with AWS's statement shapes and errors."""

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError
from conftest import _CONFIG, _session, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture(scope="module")
def lam(endpoint):
    return _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture
def fn(lam):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
    name = unique_name("policy")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": buf.getvalue()},
    )
    yield name
    lam.delete_function(FunctionName=name)


def error_of(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_add_get_remove(lam, fn, account_id):
    arn = f"arn:aws:lambda:us-east-1:{account_id}:function:{fn}"
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=fn)
    assert error_of(e) == ("ResourceNotFoundException", "The resource you requested does not exist.")

    r = lam.add_permission(
        FunctionName=fn, StatementId="s3-invoke", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bucket", SourceAccount=account_id,
    )
    statement = json.loads(r["Statement"])
    assert statement == {
        "Sid": "s3-invoke",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": arn,
        "Condition": {
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"},
            "StringEquals": {"AWS:SourceAccount": account_id},
        },
    }
    lam.add_permission(FunctionName=fn, StatementId="acct", Action="lambda:*", Principal="111122223333")
    policy = lam.get_policy(FunctionName=fn)
    doc = json.loads(policy["Policy"])
    assert doc["Version"] == "2012-10-17"
    assert [s["Sid"] for s in doc["Statement"]] == ["s3-invoke", "acct"]
    assert doc["Statement"][1]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert policy["RevisionId"] == lam.get_function(FunctionName=fn)["Configuration"]["RevisionId"]

    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=fn, StatementId="acct", Action="lambda:*", Principal="*")
    assert error_of(e) == (
        "ResourceConflictException",
        "The statement id (sid) provided already exists. Please choose a new statement id, "
        "or remove the existing statement.",
    )
    lam.remove_permission(FunctionName=fn, StatementId="acct")
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=fn, StatementId="acct")
    assert error_of(e) == ("ResourceNotFoundException", "Statement acct is not found in resource policy.")
    lam.remove_permission(FunctionName=fn, StatementId="s3-invoke")
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=fn)
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_qualified_policies_are_separate(lam, fn):
    lam.publish_version(FunctionName=fn)
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    r = lam.add_permission(
        FunctionName=fn, Qualifier="live", StatementId="a", Action="lambda:InvokeFunction", Principal="*"
    )
    assert json.loads(r["Statement"])["Resource"].endswith(f":function:{fn}:live")
    assert json.loads(lam.get_policy(FunctionName=fn, Qualifier="live")["Policy"])["Statement"][0]["Sid"] == "a"
    with pytest.raises(ClientError):
        lam.get_policy(FunctionName=fn)
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=fn, Qualifier="nope", StatementId="b", Action="lambda:*", Principal="*")
    assert error_of(e)[0] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"StatementId": "bad id", "Action": "lambda:*", "Principal": "*"},
            "1 validation error detected: Value 'bad id' at 'statementId' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)",
        ),
        (
            {"StatementId": "x", "Action": "s3:GetObject", "Principal": "*"},
            "1 validation error detected: Value 's3:GetObject' at 'action' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
        ),
    ],
)
def test_bad_input(lam, fn, kwargs, message):
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=fn, **kwargs)
    assert error_of(e) == ("ValidationException", message)


def test_revision_id_mismatch(lam, fn):
    with pytest.raises(ClientError) as e:
        lam.add_permission(
            FunctionName=fn, StatementId="x", Action="lambda:*", Principal="*", RevisionId="not-current"
        )
    assert error_of(e)[0] == "PreconditionFailedException"
