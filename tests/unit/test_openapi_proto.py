"""controlplane.openapi_proto: /openapi/v2 as the gnostic protobuf kubectl decodes.

The bytes are read back with message classes google.protobuf builds from `_GNOSTIC` below, a table written here
from gnostic's OpenAPIv2.proto independently of the encoder's: every message of Canopy's document is declared, so
a field the encoder put under a wrong number shows up as an unknown field. The decoded document is turned back into
Swagger JSON and compared with the document it came from, and the YAML of the extensions kubectl parses is
compared with the exact text kube-apiserver serves.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

from api.registry import BUILTIN
from controlplane.openapi import openapi_v2
from controlplane.openapi_proto import encode_openapi_v2

# message: [(field, number, type), ...]; type is string, bool, or a message of the table; a leading * repeats it.
# `oneof` lists, per message, the fields that are one choice (so that a false boolean still has presence).
_GNOSTIC: dict[str, list[tuple[str, int, str]]] = {
    "Document": [
        ("swagger", 1, "string"), ("info", 2, "Info"), ("paths", 8, "Paths"), ("definitions", 9, "Definitions"),
        ("security", 12, "*SecurityRequirement"), ("security_definitions", 13, "SecurityDefinitions"),
    ],
    "Info": [("title", 1, "string"), ("version", 2, "string")],
    "Paths": [("vendor_extension", 1, "*NamedAny"), ("path", 2, "*NamedPathItem")],
    "NamedPathItem": [("name", 1, "string"), ("value", 2, "PathItem")],
    "PathItem": [
        ("get", 2, "Operation"), ("put", 3, "Operation"), ("post", 4, "Operation"), ("delete", 5, "Operation"),
        ("patch", 8, "Operation"), ("parameters", 9, "*ParametersItem"),
    ],
    "Operation": [
        ("tags", 1, "*string"), ("description", 3, "string"), ("operation_id", 5, "string"),
        ("produces", 6, "*string"), ("consumes", 7, "*string"), ("parameters", 8, "*ParametersItem"),
        ("responses", 9, "Responses"), ("schemes", 10, "*string"), ("vendor_extension", 13, "*NamedAny"),
    ],
    "ParametersItem": [("parameter", 1, "Parameter"), ("json_reference", 2, "JsonReference")],
    "JsonReference": [("ref", 1, "string")],
    "Parameter": [("body_parameter", 1, "BodyParameter"), ("non_body_parameter", 2, "NonBodyParameter")],
    "BodyParameter": [
        ("name", 2, "string"), ("location", 3, "string"), ("required", 4, "bool"), ("schema", 5, "Schema"),
    ],
    "NonBodyParameter": [("query", 3, "QueryParameterSubSchema"), ("path", 4, "PathParameterSubSchema")],
    "QueryParameterSubSchema": [
        ("location", 2, "string"), ("description", 3, "string"), ("name", 4, "string"), ("type", 6, "string"),
        ("unique_items", 20, "bool"),
    ],
    "PathParameterSubSchema": [
        ("required", 1, "bool"), ("location", 2, "string"), ("description", 3, "string"), ("name", 4, "string"),
        ("type", 5, "string"),
    ],
    "Responses": [("response_code", 1, "*NamedResponseValue")],
    "NamedResponseValue": [("name", 1, "string"), ("value", 2, "ResponseValue")],
    "ResponseValue": [("response", 1, "Response")],
    "Response": [("description", 1, "string"), ("schema", 2, "SchemaItem")],
    "SchemaItem": [("schema", 1, "Schema")],
    "Definitions": [("additional_properties", 1, "*NamedSchema")],
    "Properties": [("additional_properties", 1, "*NamedSchema")],
    "NamedSchema": [("name", 1, "string"), ("value", 2, "Schema")],
    "Schema": [
        ("ref", 1, "string"), ("format", 2, "string"), ("description", 4, "string"), ("required", 19, "*string"),
        ("enum", 20, "*Any"), ("additional_properties", 21, "AdditionalPropertiesItem"), ("type", 22, "TypeItem"),
        ("items", 23, "ItemsItem"), ("all_of", 24, "*Schema"), ("properties", 25, "Properties"),
        ("vendor_extension", 31, "*NamedAny"),
    ],
    "TypeItem": [("value", 1, "*string")],
    "ItemsItem": [("schema", 1, "*Schema")],
    "AdditionalPropertiesItem": [("schema", 1, "Schema"), ("boolean", 2, "bool")],
    "NamedAny": [("name", 1, "string"), ("value", 2, "Any")],
    "Any": [("yaml", 2, "string")],
    "SecurityDefinitions": [("additional_properties", 1, "*NamedSecurityDefinitionsItem")],
    "NamedSecurityDefinitionsItem": [("name", 1, "string"), ("value", 2, "SecurityDefinitionsItem")],
    "SecurityDefinitionsItem": [("api_key_security", 2, "ApiKeySecurity")],
    "ApiKeySecurity": [
        ("type", 1, "string"), ("name", 2, "string"), ("location", 3, "string"), ("description", 4, "string"),
    ],
    "SecurityRequirement": [("additional_properties", 1, "*NamedStringArray")],
    "NamedStringArray": [("name", 1, "string"), ("value", 2, "StringArray")],
    "StringArray": [("value", 1, "*string")],
}  # fmt: skip
_ONEOFS = {"AdditionalPropertiesItem": ("schema", "boolean"), "ParametersItem": ("parameter", "json_reference")}


def _classes() -> dict[str, type[Message]]:
    file = descriptor_pb2.FileDescriptorProto(name="canopy_test_gnostic.proto", package="gnostic", syntax="proto3")
    scalars = {"string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
               "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL}  # fmt: skip
    for name, fields in _GNOSTIC.items():
        message = file.message_type.add(name=name)
        oneof = _ONEOFS.get(name, ())
        if oneof:
            message.oneof_decl.add(name="choice")
        for field_name, number, kind in fields:
            repeated, kind = kind.startswith("*"), kind.lstrip("*")
            entry = message.field.add(name=field_name, number=number)
            entry.label = entry.LABEL_REPEATED if repeated else entry.LABEL_OPTIONAL
            if kind in scalars:
                entry.type = scalars[kind]
            else:
                entry.type, entry.type_name = entry.TYPE_MESSAGE, f".gnostic.{kind}"
            if field_name in oneof:
                entry.oneof_index = 0
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"gnostic.{name}")) for name in _GNOSTIC}


CLASSES = _classes()


def decode(raw: bytes) -> Any:
    document = CLASSES["Document"]()
    document.ParseFromString(raw)
    return document


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_v2(BUILTIN)


@pytest.fixture(scope="module")
def decoded(document: dict[str, Any]) -> Any:
    return decode(encode_openapi_v2(document))


# Back to Swagger JSON, from the decoded messages


def _extensions(named: Any) -> dict[str, Any]:
    return {entry.name: yaml.safe_load(entry.value.yaml) for entry in named}


def _schema(message: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if message.ref:
        out["$ref"] = message.ref
    if message.description:
        out["description"] = message.description
    if message.HasField("type"):
        (out["type"],) = message.type.value
    if message.format:
        out["format"] = message.format
    if message.HasField("properties"):
        out["properties"] = {p.name: _schema(p.value) for p in message.properties.additional_properties}
    if message.required:
        out["required"] = list(message.required)
    if message.HasField("items"):
        (item,) = message.items.schema
        out["items"] = _schema(item)
    if message.HasField("additional_properties"):
        choice = message.additional_properties
        out["additionalProperties"] = (
            _schema(choice.schema) if choice.WhichOneof("choice") == "schema" else choice.boolean
        )
    if message.all_of:
        out["allOf"] = [_schema(s) for s in message.all_of]
    if message.enum:
        out["enum"] = [yaml.safe_load(e.yaml) for e in message.enum]
    return {**out, **_extensions(message.vendor_extension)}


def _parameter(item: Any) -> dict[str, Any]:
    if item.WhichOneof("choice") == "json_reference":
        return {"$ref": item.json_reference.ref}
    body, non_body = item.parameter.body_parameter, item.parameter.non_body_parameter
    if item.parameter.HasField("body_parameter"):
        return {"in": body.location, "name": body.name, "required": body.required, "schema": _schema(body.schema)}
    if non_body.HasField("path"):
        path = non_body.path
        return {"description": path.description, "in": path.location, "name": path.name, "required": path.required,
                "type": path.type}  # fmt: skip
    query = non_body.query
    return {"description": query.description, "in": query.location, "name": query.name, "type": query.type,
            "uniqueItems": query.unique_items}  # fmt: skip


def _operation(message: Any) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for code in message.responses.response_code:
        response = code.value.response
        responses[code.name] = {"description": response.description}
        if response.HasField("schema"):
            responses[code.name]["schema"] = _schema(response.schema.schema)
    return {
        "consumes": list(message.consumes),
        "description": message.description,
        "operationId": message.operation_id,
        "parameters": [_parameter(p) for p in message.parameters],
        "produces": list(message.produces),
        "responses": responses,
        "schemes": list(message.schemes),
        "tags": list(message.tags),
        **_extensions(message.vendor_extension),
    }


def _path_item(message: Any) -> dict[str, Any]:
    out = {verb: _operation(getattr(message, verb)) for verb in ("get", "put", "post", "delete", "patch")
           if message.HasField(verb)}  # fmt: skip
    if message.parameters:
        out["parameters"] = [_parameter(p) for p in message.parameters]
    return out


def _document(message: Any) -> dict[str, Any]:
    schemes = {}
    for named in message.security_definitions.additional_properties:
        key = named.value.api_key_security
        schemes[named.name] = {"description": key.description, "in": key.location, "name": key.name, "type": key.type}
    return {
        "swagger": message.swagger,
        "info": {"title": message.info.title, "version": message.info.version},
        "paths": {p.name: _path_item(p.value) for p in message.paths.path},
        "definitions": {d.name: _schema(d.value) for d in message.definitions.additional_properties},
        "securityDefinitions": schemes,
        "security": [{n.name: list(n.value.value) for n in s.additional_properties} for s in message.security],
    }


def _unknown_fields(message: Message, where: str = "Document") -> list[str]:
    found = [f"{where}: field {field.field_number}" for field in UnknownFieldSet(message)]
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        children = value if descriptor.is_repeated else [value]
        for i, child in enumerate(children):
            found += _unknown_fields(child, f"{where}.{descriptor.name}[{i}]")
    return found


def definition(decoded: Any, name: str) -> Any:
    return next(d.value for d in decoded.definitions.additional_properties if d.name == name)


def prop(schema: Any, name: str) -> Any:
    return next(p.value for p in schema.properties.additional_properties if p.name == name)


def extension(named: Any, name: str) -> str:
    return next(e.value.yaml for e in named if e.name == name)


# The whole document


def test_every_field_lands_on_a_number_gnostic_declares(decoded: Any) -> None:
    assert _unknown_fields(decoded) == []


def test_the_document_reads_back_as_the_json_it_was_built_from(document: dict[str, Any], decoded: Any) -> None:
    assert _document(decoded) == document


def test_definitions_keep_the_document_order(document: dict[str, Any], decoded: Any) -> None:
    assert [d.name for d in decoded.definitions.additional_properties] == list(document["definitions"])


def test_the_deployment_replicas_description_and_type_survive(decoded: Any) -> None:
    spec = definition(decoded, "io.k8s.api.apps.v1.DeploymentSpec")
    replicas = prop(spec, "replicas")
    assert list(replicas.type.value) == ["integer"]
    assert replicas.format == "int32"
    assert replicas.description.startswith("Number of desired pods.")
    assert prop(spec, "template").ref == "#/definitions/io.k8s.api.core.v1.PodTemplateSpec"


# Extensions, as kube-apiserver's YAML text


def test_gvk_extension_is_the_list_kube_apiserver_sends(decoded: Any) -> None:
    deployment = definition(decoded, "io.k8s.api.apps.v1.Deployment")
    assert extension(deployment.vendor_extension, "x-kubernetes-group-version-kind") == (
        "- group: apps\n  kind: Deployment\n  version: v1\n"
    )


def test_core_group_is_an_empty_string_not_null(decoded: Any) -> None:
    # kubectl drops a GVK whose group does not unmarshal to a string.
    status = definition(decoded, "io.k8s.apimachinery.pkg.apis.meta.v1.Status")
    assert extension(status.vendor_extension, "x-kubernetes-group-version-kind") == (
        '- group: ""\n  kind: Status\n  version: v1\n'
    )


def test_patch_metadata_extensions_are_plain_yaml(decoded: Any) -> None:
    containers = prop(definition(decoded, "io.k8s.api.core.v1.PodSpec"), "containers")
    assert extension(containers.vendor_extension, "x-kubernetes-patch-strategy") == "merge\n"
    assert extension(containers.vendor_extension, "x-kubernetes-patch-merge-key") == "name\n"
    assert extension(containers.vendor_extension, "x-kubernetes-list-type") == "map\n"
    assert extension(containers.vendor_extension, "x-kubernetes-list-map-keys") == "- name\n"
    assert [e.name for e in containers.vendor_extension] == sorted(e.name for e in containers.vendor_extension)
    ports = prop(definition(decoded, "io.k8s.api.core.v1.Container"), "ports")
    assert extension(ports.vendor_extension, "x-kubernetes-list-map-keys") == "- containerPort\n- protocol\n"


def test_patch_operation_has_its_gvk_consumes_and_field_validation(decoded: Any) -> None:
    # What cli-runtime's v2 query-parameter check and kubectl's GetConsumes walk.
    item = next(p.value for p in decoded.paths.path
                if p.name == "/apis/apps/v1/namespaces/{namespace}/deployments/{name}")  # fmt: skip
    patch = item.patch
    assert extension(patch.vendor_extension, "x-kubernetes-group-version-kind") == (
        "group: apps\nkind: Deployment\nversion: v1\n"
    )
    assert "application/strategic-merge-patch+json" in patch.consumes
    queries = [p.parameter.non_body_parameter.query.name for p in patch.parameters]
    assert "fieldValidation" in queries
    assert patch.parameters[0].parameter.body_parameter.schema.ref == (
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
    )


# Small documents


def _one_definition(schema: dict[str, Any]) -> Any:
    raw = encode_openapi_v2({"swagger": "2.0", "definitions": {"T": schema}})
    return decode(raw).definitions.additional_properties[0].value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("", '""\n'),
        ("true", '"true"\n'),
        ("1", '"1"\n'),
        ("null", '"null"\n'),
        ("b: c", "'b: c'\n"),
        ("-", "'-'\n"),
        ("it's", "it's\n"),
        ("it's #1", "'it''s #1'\n"),
        ("merge,retainKeys", "merge,retainKeys\n"),
        ("a\tb", '"a\\tb"\n'),
        (True, "true\n"),
        (7, "7\n"),
        (2.0, "2\n"),
        (0.25, "0.25\n"),
        (None, "null\n"),
        ([], "[]\n"),
        ({"b": ["x"], "a": {}}, "a: {}\nb:\n    - x\n"),
        ([{"k": {"n": 1}}, ["y"]], "- k:\n    n: 1\n- - y\n"),
    ],
)
def test_extension_values_are_written_as_go_yaml_writes_them(value: Any, text: str) -> None:
    assert _one_definition({"type": "object", "x-value": value}).vendor_extension[0].value.yaml == text
    assert yaml.safe_load(text) == value


def test_additional_properties_false_is_kept() -> None:
    choice = _one_definition({"type": "object", "additionalProperties": False}).additional_properties
    assert choice.WhichOneof("choice") == "boolean"
    assert choice.boolean is False


def test_empty_properties_are_still_present() -> None:
    # kube-openapi reads a schema with properties as a kind, one without as a map.
    assert _one_definition({"type": "object", "properties": {}}).HasField("properties")
    assert not _one_definition({"type": "object"}).HasField("properties")


def test_a_parameter_reference_becomes_a_json_reference() -> None:
    raw = encode_openapi_v2({"paths": {"/x": {"parameters": [{"$ref": "#/parameters/pretty"}]}}})
    (parameter,) = decode(raw).paths.path[0].value.parameters
    assert parameter.WhichOneof("choice") == "json_reference"
    assert parameter.json_reference.ref == "#/parameters/pretty"


@pytest.mark.parametrize(
    "doc",
    [
        {"definitions": {"T": {"type": "object", "oneOf": []}}},
        {"paths": {"/x": {"get": {"parameters": [{"in": "cookie", "name": "c"}]}}}},
        {"definitions": {"T": {"description": 3}}},
    ],
)
def test_what_swagger_2_cannot_say_is_an_error(doc: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        encode_openapi_v2(doc)
