import pytest

from controlplane.apiserver.negotiation import decode_body, negotiate, wants_yaml
from controlplane.errors import StatusError

KUBECTL_GET = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


def test_kubectl_get_asks_for_a_table() -> None:
    assert negotiate(KUBECTL_GET).as_kind == "Table"


def test_plain_clients_get_objects() -> None:
    assert negotiate("application/json").as_kind == ""
    assert negotiate("").as_kind == ""
    assert negotiate("*/*").as_kind == ""


def test_unservable_first_choice_falls_through_to_the_next() -> None:
    assert negotiate("application/vnd.kubernetes.protobuf, application/json").as_kind == ""


def test_nothing_servable_is_406() -> None:
    with pytest.raises(StatusError) as err:
        negotiate("application/vnd.kubernetes.protobuf")
    assert err.value.code == 406


def test_yaml_is_recognised() -> None:
    assert wants_yaml("application/yaml")
    assert not wants_yaml("application/json")


def test_malformed_json_is_400_and_says_so() -> None:
    with pytest.raises(StatusError) as err:
        decode_body(b'{"kind": ', "application/json")
    assert err.value.code == 400
    assert "not valid JSON" in err.value.message


def test_unknown_media_type_is_415() -> None:
    with pytest.raises(StatusError) as err:
        decode_body(b"x", "text/plain")
    assert err.value.code == 415


def test_yaml_body_is_decoded() -> None:
    decoded = decode_body(b"kind: ConfigMap\ndata: {a: b}\n", "application/yaml")
    assert decoded == {"kind": "ConfigMap", "data": {"a": "b"}}
