"""Lambda bad input not covered elsewhere, each with the exact error: list
parameters, function URL CORS, InvokeWithResponseStream's invocation type,
layer architectures, and the members DynamoDB stream event source mappings
refuse. The client skips botocore's own checks so nimbus answers."""

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError
from conftest import unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def error_of(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def package():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
    return buf.getvalue()


@pytest.fixture
def fn(lambda_client):
    name = unique_name("bad")
    lambda_client.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": package()}
    )
    yield name
    lambda_client.delete_function(FunctionName=name)


def test_list_functions_parameters(lambda_client):
    with pytest.raises(ClientError) as e:
        lambda_client.list_functions(MaxItems=0)
    assert error_of(e) == (
        "ValidationException",
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1",
    )
    with pytest.raises(ClientError) as e:
        lambda_client.list_functions(FunctionVersion="SOME")
    assert error_of(e) == (
        "ValidationException",
        "1 validation error detected: Value 'SOME' at 'functionVersion' failed to satisfy constraint: "
        "Member must satisfy enum value set: [ALL]",
    )


def test_function_url_cors(lambda_client, fn):
    with pytest.raises(ClientError) as e:
        lambda_client.create_function_url_config(FunctionName=fn, AuthType="NONE", Cors={"MaxAge": 86401})
    assert error_of(e) == (
        "ValidationException",
        "1 validation error detected: Value '86401' at 'cors.maxAge' failed to satisfy constraint: "
        "Member must have value less than or equal to 86400",
    )
    with pytest.raises(ClientError) as e:
        lambda_client.create_function_url_config(FunctionName=fn, AuthType="NONE", InvokeMode="STREAMING")
    assert error_of(e)[0] == "ValidationException"


def test_response_stream_invocation_type(lambda_client, fn):
    with pytest.raises(ClientError) as e:
        lambda_client.invoke_with_response_stream(FunctionName=fn, InvocationType="Event", Payload=b"{}")
    assert error_of(e) == (
        "ValidationException",
        "1 validation error detected: Value 'Event' at 'invocationType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [RequestResponse, DryRun]",
    )


def test_layer_architectures(lambda_client):
    with pytest.raises(ClientError) as e:
        lambda_client.publish_layer_version(
            LayerName=unique_name("l"), Content={"ZipFile": package()}, CompatibleArchitectures=["sparc"]
        )
    assert error_of(e) == (
        "ValidationException",
        "1 validation error detected: Value '[sparc]' at 'compatibleArchitectures' failed to satisfy "
        "constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]",
    )


@pytest.fixture
def stream(endpoint):
    from conftest import _CONFIG, _session

    ddb = _session().client("dynamodb", endpoint_url=endpoint, config=_CONFIG)
    table = unique_name("badstream")
    ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    yield ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    ddb.delete_table(TableName=table)


@pytest.mark.parametrize(
    "kwargs, code, message",
    [
        ({"StartingPosition": "AT_TIMESTAMP"}, "InvalidParameterValueException",
         "Unsupported starting position for DynamoDB streams: AT_TIMESTAMP. Use TRIM_HORIZON or LATEST."),
        ({"StartingPosition": "LATEST", "TumblingWindowInSeconds": 901}, "ValidationException",
         "1 validation error detected: Value '901' at 'tumblingWindowInSeconds' failed to satisfy constraint: "
         "Member must have value less than or equal to 900"),
        ({"StartingPosition": "LATEST", "ScalingConfig": {"MaximumConcurrency": 5}}, "InvalidParameterValueException",
         "Unsupported parameter for DynamoDB stream event source: ScalingConfig"),
        ({"StartingPosition": "LATEST", "MaximumRecordAgeInSeconds": 59}, "ValidationException",
         "1 validation error detected: Value '59' at 'maximumRecordAgeInSeconds' failed to satisfy constraint: "
         "Member must have value greater than or equal to 60"),
        ({"StartingPosition": "LATEST", "ParallelizationFactor": 11}, "ValidationException",
         "1 validation error detected: Value '11' at 'parallelizationFactor' failed to satisfy constraint: "
         "Member must have value less than or equal to 10"),
        ({"StartingPosition": "LATEST", "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:lambda:us-east-1:000000000000:function:f"}}},
         "InvalidParameterValueException",
         "The OnFailure destination arn:aws:lambda:us-east-1:000000000000:function:f of a stream event source "
         "must be an SQS queue or an SNS topic."),
    ],
)
def test_stream_mapping_members(lambda_client, fn, stream, kwargs, code, message):
    with pytest.raises(ClientError) as e:
        lambda_client.create_event_source_mapping(EventSourceArn=stream, FunctionName=fn, **kwargs)
    got_code, got_message = error_of(e)
    assert got_code == code
    if message is not None:
        assert got_message == message
    else:
        assert "SNS" in got_message
