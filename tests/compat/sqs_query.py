"""The awsQuery side of SQS for the compat suite: a boto3 client whose SQS
model is switched to the query protocol (botocore's own QuerySerializer
builds the flattened form and its QueryParser reads our XML), hand-built
signed form requests, and reading `<ErrorResponse>` documents.

The model is today's SQS model with the query protocol's serialization
names added (`locationName`/`flattened`, as the SQS model had them while
SQS spoke query: `Attribute.N.Name/Value`, `Tag.N.Key/Value`, member lists
named after their entry shapes).
"""

import copy
import json
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import _CONFIG, REGION

NS = "http://queue.amazonaws.com/doc/2012-11-05/"
X = {"q": NS}

# Query names of flattened string lists, by their awsJson member name.
LIST_MEMBERS = {
    "QueueUrls": "QueueUrl",
    "queueUrls": "QueueUrl",
    "AttributeNames": "AttributeName",
    "MessageAttributeNames": "MessageAttributeName",
    "MessageSystemAttributeNames": "MessageSystemAttributeName",
    "TagKeys": "TagKey",
    "AWSAccountIds": "AWSAccountId",
    "Actions": "ActionName",
    "StringListValues": "StringListValue",
    "BinaryListValues": "BinaryListValue",
}
# Query names of flattened maps: element, key, value.
MAP_MEMBERS = {
    "Attributes": ("Attribute", "Name", "Value"),
    "MessageAttributes": ("MessageAttribute", "Name", "Value"),
    "MessageSystemAttributes": ("MessageSystemAttribute", "Name", "Value"),
    "Tags": ("Tag", "Key", "Value"),
    "tags": ("Tag", "Key", "Value"),
}


def query_model(json_model):
    """The SQS model as it was for the query protocol."""
    model = copy.deepcopy(json_model)
    meta = model["metadata"]
    meta["protocol"] = "query"
    meta["protocols"] = ["query"]
    meta["xmlNamespace"] = NS
    for key in ("jsonVersion", "targetPrefix", "awsQueryCompatible"):
        meta.pop(key, None)
    shapes = model["shapes"]
    for op in model["operations"].values():
        if "output" in op:
            op["output"]["resultWrapper"] = op["name"] + "Result"
    for shape in shapes.values():
        if shape["type"] != "structure":
            continue
        for member_name, member in shape["members"].items():
            target = shapes[member["shape"]]
            if target["type"] == "list":
                target["flattened"] = True
                element = shapes[target["member"]["shape"]]
                if element["type"] == "structure":
                    # Lists of structures are named after the entry shape.
                    target["member"]["locationName"] = target["member"]["shape"]
                else:
                    target["member"]["locationName"] = LIST_MEMBERS[member_name]
            elif target["type"] == "map":
                name, key, value = MAP_MEMBERS[member_name]
                target["flattened"] = True
                target["key"]["locationName"] = key
                target["value"]["locationName"] = value
                member["locationName"] = name
    return model


def query_client(endpoint):
    """A boto3 SQS client on the query protocol."""
    base = botocore.session.get_session()
    json_model = base.get_component("data_loader").load_service_model("sqs", "service-2")
    data_dir = Path(tempfile.mkdtemp(prefix="sqs-query-model-"))
    model_dir = data_dir / "sqs" / json_model["metadata"]["apiVersion"]
    model_dir.mkdir(parents=True)
    (model_dir / "service-2.json").write_text(json.dumps(query_model(json_model)))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(data_dir))
    b3 = boto3.session.Session(
        botocore_session=session,
        aws_access_key_id="AKIDCOMPATTEST",
        aws_secret_access_key="compat-secret",
        region_name=REGION,
    )
    client = b3.client("sqs", endpoint_url=endpoint, config=_CONFIG)
    assert client.meta.service_model.protocol == "query"
    return client


class Raw:
    """Signed awsQuery requests built by hand."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.creds = Credentials("AKIDCOMPATTEST", "compat-secret")

    def send(self, params, method="POST", path="/"):
        url = self.endpoint + path
        data = urllib.parse.urlencode(params)
        if method == "GET":
            request = AWSRequest(method="GET", url=url + "?" + data)
        else:
            request = AWSRequest(
                method="POST",
                url=url,
                data=data,
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            )
        SigV4Auth(self.creds, "sqs", REGION).add_auth(request)
        prepared = request.prepare()
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        return _send(prepared.method, prepared.url, dict(prepared.headers), body)


class _Response:
    """What the tests read of an HTTP response (headers are case-insensitive)."""

    def __init__(self, status, headers, body):
        self.status_code = status
        self.headers = headers
        self.text = body.decode()


def _send(method, url, headers, body):
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return _Response(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return _Response(e.code, e.headers, e.read())


def xml_error(response):
    root = ET.fromstring(response.text)
    assert root.tag == f"{{{NS}}}ErrorResponse"
    error = root.find("q:Error", X)
    assert root.find("q:RequestId", X).text == response.headers["x-amzn-RequestId"]
    return (
        response.status_code,
        error.find("q:Type", X).text,
        error.find("q:Code", X).text,
        error.find("q:Message", X).text,
    )
