"""Lambda layers through unmodified boto3: PublishLayerVersion,
GetLayerVersion(ByArn), ListLayerVersions, ListLayers, DeleteLayerVersion,
and functions that import code from their layers (merged in order, as /opt
is on AWS)."""

import json

import pytest
from botocore.exceptions import ClientError
from compat_util import zip_of
from conftest import _CONFIG, _session, unique_name

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture(scope="module")
def lam(endpoint):
    return _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)


def error_of(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


@pytest.fixture
def layer(lam):
    names = []

    def publish(files, **kwargs):
        name = kwargs.pop("name", None) or unique_name("layer")
        names.append(name)
        return lam.publish_layer_version(LayerName=name, Content={"ZipFile": zip_of(files)}, **kwargs)

    yield publish
    for name in set(names):
        for v in lam.list_layer_versions(LayerName=name)["LayerVersions"]:
            lam.delete_layer_version(LayerName=name, VersionNumber=v["Version"])


@pytest.fixture
def function(lam):
    made = []

    def make(runtime, handler, files, layers):
        name = unique_name("layered")
        lam.create_function(
            FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
            Code={"ZipFile": zip_of(files)}, Layers=layers,
        )
        made.append(name)
        return name

    yield make
    for name in made:
        lam.delete_function(FunctionName=name)


def test_publish_get_list_delete(lam, layer, account_id):
    first = layer({"python/a.py": "X = 1\n"}, Description="one", CompatibleRuntimes=["python3.12"],
                  LicenseInfo="MIT", CompatibleArchitectures=["x86_64"])
    name = first["LayerArn"].rsplit(":", 1)[1]
    assert first["LayerArn"] == f"arn:aws:lambda:us-east-1:{account_id}:layer:{name}"
    assert first["LayerVersionArn"] == first["LayerArn"] + ":1"
    assert first["Version"] == 1
    assert first["Content"]["CodeSize"] > 0
    assert first["LicenseInfo"] == "MIT"
    second = layer({"python/a.py": "X = 2\n"}, name=name, CompatibleRuntimes=["nodejs20.x"])
    assert second["Version"] == 2

    got = lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert got["Description"] == "one"
    assert got["Content"]["CodeSha256"] == first["Content"]["CodeSha256"]
    by_arn = lam.get_layer_version_by_arn(Arn=first["LayerVersionArn"])
    assert by_arn["Version"] == 1

    versions = lam.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]
    only_py = lam.list_layer_versions(LayerName=name, CompatibleRuntime="python3.12")["LayerVersions"]
    assert [v["Version"] for v in only_py] == [1]
    layers = {l["LayerName"]: l for l in lam.list_layers()["Layers"]}
    assert layers[name]["LatestMatchingVersion"]["Version"] == 2

    lam.delete_layer_version(LayerName=name, VersionNumber=1)
    lam.delete_layer_version(LayerName=name, VersionNumber=1)  # idempotent
    with pytest.raises(ClientError) as e:
        lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert error_of(e) == ("ResourceNotFoundException", "The resource you requested does not exist.")
    # Numbers are never reused.
    assert layer({"python/a.py": "X = 3\n"}, name=name)["Version"] == 3


def test_python_function_imports_from_layers_in_order(lam, layer, function):
    base = layer({"python/shared.py": "WHO = 'base'\n", "python/only_base.py": "OK = True\n"})
    top = layer({"python/shared.py": "WHO = 'top'\n"})
    handler = "import shared, only_base\ndef handler(e, c):\n    return {'who': shared.WHO, 'base': only_base.OK}\n"
    name = function("python3.12", "app.handler", {"app.py": handler},
                    [base["LayerVersionArn"], top["LayerVersionArn"]])
    config = lam.get_function_configuration(FunctionName=name)
    assert [l["Arn"] for l in config["Layers"]] == [base["LayerVersionArn"], top["LayerVersionArn"]]
    assert config["Layers"][0]["CodeSize"] == base["Content"]["CodeSize"]
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in r
    assert json.loads(r["Payload"].read()) == {"who": "top", "base": True}


def test_node_function_requires_from_a_layer(lam, layer, function):
    lib = layer({"nodejs/node_modules/greeting/index.js": "exports.hi = (n) => `hi ${n}`;\n"})
    handler = "const g = require('greeting');\nexports.handler = async (e) => ({msg: g.hi(e.name)});\n"
    name = function("nodejs20.x", "index.handler", {"index.js": handler}, [lib["LayerVersionArn"]])
    r = lam.invoke(FunctionName=name, Payload=json.dumps({"name": "nimbus"}))
    assert "FunctionError" not in r, r["Payload"].read()
    assert json.loads(r["Payload"].read()) == {"msg": "hi nimbus"}


def test_layer_errors(lam, layer, function, account_id):
    one = layer({"python/x.py": ""})
    missing = one["LayerArn"] + ":99"
    with pytest.raises(ClientError) as e:
        function("python3.12", "app.handler", {"app.py": ""}, [missing])
    assert error_of(e) == ("InvalidParameterValueException", f"Layer version {missing} does not exist.")
    name = one["LayerArn"].rsplit(":", 1)[1]
    two = layer({"python/x.py": ""}, name=name)
    with pytest.raises(ClientError) as e:
        function("python3.12", "app.handler", {"app.py": ""}, [one["LayerVersionArn"], two["LayerVersionArn"]])
    assert error_of(e) == (
        "InvalidParameterValueException",
        "Two different versions of the same layer are not allowed to be referenced in the same function.",
    )
    many = [layer({"python/x.py": ""})["LayerVersionArn"] for _ in range(6)]
    with pytest.raises(ClientError) as e:
        function("python3.12", "app.handler", {"app.py": ""}, many)
    assert error_of(e) == ("InvalidParameterValueException", "Cannot reference more than 5 layers.")
    with pytest.raises(ClientError) as e:
        lam.publish_layer_version(LayerName="bad name", Content={"ZipFile": zip_of({"a": ""})})
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        lam.publish_layer_version(LayerName=unique_name("l"), Content={"ZipFile": b"not a zip"})
    assert error_of(e) == (
        "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    )


def test_update_configuration_changes_layers(lam, layer, function):
    v1 = layer({"python/mod.py": "V = 1\n"})
    name = function("python3.12", "app.handler", {"app.py": "import mod\ndef handler(e, c):\n    return mod.V\n"},
                    [v1["LayerVersionArn"]])
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == 1
    v2 = layer({"python/mod.py": "V = 2\n"}, name=v1["LayerArn"].rsplit(":", 1)[1])
    lam.update_function_configuration(FunctionName=name, Layers=[v2["LayerVersionArn"]])
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == 2
    lam.update_function_configuration(FunctionName=name, Layers=[])
    assert "Layers" not in lam.get_function_configuration(FunctionName=name)
