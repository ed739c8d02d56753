"""ConfigMap and Secret strategies: keys, size caps, stringData, base64 decoding and immutability."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from controlplane.errors import Cause
from controlplane.registry import strategy_for
from controlplane.registry.configmap import Base64Error, decode_base64


def create(kind: str, obj: dict[str, Any]) -> tuple[dict[str, Any], list[Cause]]:
    obj = copy.deepcopy(obj)
    strategy = strategy_for("", kind)
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj, strategy.validate(obj)


def update(kind: str, obj: dict[str, Any], old: dict[str, Any]) -> tuple[dict[str, Any], list[Cause]]:
    obj = copy.deepcopy(obj)
    strategy = strategy_for("", kind)
    strategy.prepare_for_update(obj, old)
    strategy.default(obj)
    return obj, strategy.validate(obj) + strategy.validate_update(obj, old)


def messages(causes: list[Cause]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in causes]


def configmap(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "default"}, **fields}


def secret(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}, **fields}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# ---- ConfigMap -----------------------------------------------------------------------------------------------


def test_configmap_keys() -> None:
    obj, causes = create(
        "ConfigMap", configmap(data={"good.key": "v", "bad key": "v", "dup": "x"}, binaryData={"dup": b64("x")})
    )
    assert "generation" not in obj["metadata"] and "status" not in obj
    assert messages(causes) == [
        "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', "
        "'_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        'data[dup]: Invalid value: "dup": duplicate of key present in binaryData',
    ]


def test_configmap_size_cap_counts_data_and_binary_data() -> None:
    _, causes = create("ConfigMap", configmap(data={"a": "x" * (1024 * 1024 - 2)}, binaryData={"b": b64("xyz")}))
    assert [(c.field, c.message, c.type) for c in causes] == [
        ("", "Too long: must have at most 1048576 bytes", "FieldValueTooLong")
    ]


def test_immutable_configmap() -> None:
    old, _ = create("ConfigMap", configmap(data={"a": "1"}, immutable=True))
    _, causes = update("ConfigMap", configmap(data={"a": "2"}), old)
    assert messages(causes) == [
        "immutable: Forbidden: field is immutable when `immutable` is set",
        "data: Forbidden: field is immutable when `immutable` is set",
    ]
    labelled = configmap(data={"a": "1"}, immutable=True)
    labelled["metadata"]["labels"] = {"x": "y"}
    assert update("ConfigMap", labelled, old)[1] == []


def test_configmap_decode_errors() -> None:
    strategy = strategy_for("", "ConfigMap")
    assert strategy.decode_error(configmap(binaryData={"a": "abc*"})) == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: illegal base64 data at input byte 3'
    )
    assert strategy.decode_error(configmap(data={"a": 1})) == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct '
        "field ConfigMap.data of type string"
    )


# ---- base64 as Go decodes it ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset"),
    [("abc*", 3), ("YQ", 0), ("YQ=", 3), ("Y===", 1), ("YQ==x", 4), ("YQ==YQ==", 4), ("a", 0), ("abcde", 4)],
)
def test_base64_error_offsets_match_go(text: str, offset: int) -> None:
    with pytest.raises(Base64Error) as err:
        decode_base64(text)
    assert str(err.value) == f"illegal base64 data at input byte {offset}"


def test_base64_accepts_newlines_and_padding() -> None:
    assert decode_base64("aGVs\nbG8=") == b"hello"
    assert decode_base64("") == b""
    assert decode_base64("YQ==") == b"a"


# ---- Secret --------------------------------------------------------------------------------------------------


def test_secret_defaults_and_string_data() -> None:
    obj, causes = create("Secret", secret(data={"a": b64("old"), "b": b64("keep")}, stringData={"a": "new", "c": "x"}))
    assert causes == []
    assert obj["type"] == "Opaque"
    assert "stringData" not in obj
    assert obj["data"] == {"a": b64("new"), "b": b64("keep"), "c": b64("x")}


def test_string_data_is_merged_on_update_too() -> None:
    old, _ = create("Secret", secret(data={"a": b64("1")}))
    obj, causes = update("Secret", secret(stringData={"a": "2"}), old)
    assert causes == [] and obj["data"] == {"a": b64("2")}


def test_secret_keys_size_and_decode_errors() -> None:
    _, causes = create("Secret", secret(data={"no/slash": b64("x")}))
    assert [c.field for c in causes] == ["data[no/slash]"]
    big = base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()
    _, causes = create("Secret", secret(data={"a": big}))
    assert messages(causes) == ["data: Too long: must have at most 1048576 bytes"]
    assert strategy_for("", "Secret").decode_error(secret(data={"a": "not base64!"})) == (
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3'
    )


def test_secret_types_require_their_keys() -> None:
    _, causes = create("Secret", secret(type="kubernetes.io/tls", data={"tls.crt": b64("c")}))
    assert messages(causes) == ["data[tls.key]: Required value"]
    _, causes = create("Secret", secret(type="kubernetes.io/basic-auth"))
    assert messages(causes) == ["data[username]: Required value", "data[password]: Required value"]
    _, causes = create("Secret", secret(type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": b64("[1]")}))
    assert messages(causes) == [
        'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go '
        "value of type map[string]interface {}"
    ]
    _, causes = create("Secret", secret(type="kubernetes.io/service-account-token"))
    assert messages(causes) == ["metadata.annotations[kubernetes.io/service-account.name]: Required value"]


def test_secret_type_and_immutability() -> None:
    old, _ = create("Secret", secret(data={"a": b64("1")}, immutable=True))
    _, causes = update("Secret", secret(type="kubernetes.io/tls", data={"a": b64("2")}, immutable=True), old)
    assert messages(causes)[-2:] == [
        'type: Invalid value: "kubernetes.io/tls": field is immutable',
        "data: Forbidden: field is immutable when `immutable` is set",
    ]
    _, causes = update("Secret", secret(stringData={"a": "1"}, immutable=True), old)
    assert causes == []
