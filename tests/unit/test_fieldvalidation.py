"""Unknown and duplicate fields, worded and ordered as kube-apiserver's strict decoding reports them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from api.schema import Schema, permissive_schema, schema_for
from controlplane.fieldvalidation import (
    duplicate_fields,
    duplicate_yaml_keys,
    strict_decoding_errors,
    unknown_fields,
)


def typed(group: str, kind: str) -> Schema:
    node = schema_for(group, "v1", kind)
    assert node is not None
    return node


def deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
            **spec,
        },
    }


def test_a_valid_deployment_has_no_errors() -> None:
    body = deployment(
        replicas=3,
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
    )
    body["metadata"]["managedFields"] = [{"manager": "kubectl", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
    body["status"] = {"conditions": [{"type": "Available", "status": "True"}]}
    assert unknown_fields(body, typed("apps", "Deployment")) == []
    assert strict_decoding_errors(json.dumps(body), typed("apps", "Deployment")) == []


def test_conformance_example_unknown_then_duplicate_in_document_order() -> None:
    # The body of the "should detect unknown and duplicate fields of a typed object" conformance test.
    raw = """{
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "my-dep", "labels": {"app": "nginx"}},
        "spec": {
            "unknownField": "foo", "replicas": 2, "replicas": 3,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:latest"}]}}
        }
    }"""
    errors = strict_decoding_errors(raw, typed("apps", "Deployment"))
    assert errors == ['unknown field "spec.unknownField"', 'duplicate field "spec.replicas"']
    assert "strict decoding error: " + ", ".join(errors) == (
        'strict decoding error: unknown field "spec.unknownField", duplicate field "spec.replicas"'
    )


def test_unknown_metadata_field() -> None:
    body = deployment()
    body["metadata"]["unknownMeta"] = "foo"
    assert unknown_fields(body, typed("apps", "Deployment")) == ['unknown field "metadata.unknownMeta"']


def test_paths_through_arrays_use_indices() -> None:
    body = deployment()
    containers = body["spec"]["template"]["spec"]["containers"]
    containers.append({"name": "side", "imagee": "busybox", "volumeMounts": [{"mountPath": "/a", "hostPath": "/x"}]})
    body["spec"]["template"]["spec"]["initContainers"] = [{"name": "init", "restartPolicy": "Always", "bogus": 1}]
    assert unknown_fields(body, typed("apps", "Deployment")) == [
        'unknown field "spec.template.spec.containers[1].imagee"',
        'unknown field "spec.template.spec.containers[1].volumeMounts[0].hostPath"',
        'unknown field "spec.template.spec.initContainers[0].bogus"',
    ]


def test_top_level_and_misplaced_fields() -> None:
    body = deployment()
    body["spec"]["template"]["metadata"]["containers"] = []
    body["spce"] = {"replicas": 1}
    body["spec"]["template"]["spec"]["kind"] = "Pod"  # apiVersion and kind are only allowed at the top
    assert unknown_fields(body, typed("apps", "Deployment")) == [
        'unknown field "spec.template.metadata.containers"',
        'unknown field "spec.template.spec.kind"',
        'unknown field "spce"',
    ]


def test_nothing_under_an_unknown_field_is_reported() -> None:
    raw = '{"spec": {"extra": {"a": 1, "a": 2, "deeper": {"x": 1}}}}'
    assert strict_decoding_errors(raw, typed("apps", "Deployment")) == ['unknown field "spec.extra"']


def test_the_same_unknown_field_is_reported_once() -> None:
    raw = '{"spec": {"replicaz": 1, "replicaz": 2}}'
    assert strict_decoding_errors(raw, typed("apps", "Deployment")) == ['unknown field "spec.replicaz"']


def test_map_keys_and_free_form_fields_are_never_unknown() -> None:
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"any.key": "v"}}
    assert unknown_fields(configmap, typed("", "ConfigMap")) == []
    body = deployment()
    body["metadata"]["annotations"] = {"example.com/anything": "x"}
    body["metadata"]["managedFields"] = [{"fieldsV1": {"f:metadata": {"f:labels": {".": {}}}}, "bad": 1}]
    assert unknown_fields(body, typed("apps", "Deployment")) == ['unknown field "metadata.managedFields[0].bad"']


def test_kinds_without_a_typed_schema_only_check_their_metadata() -> None:
    schema = permissive_schema("canopy.dev", "v1alpha1", "Widget")
    body = {"apiVersion": "canopy.dev/v1alpha1", "kind": "Widget", "metadata": {"name": "w", "nme": "typo"}}
    body["spec"] = {"anything": {"goes": [1, 2]}}
    body["extra"] = True
    assert unknown_fields(body, schema) == ['unknown field "metadata.nme"']


def test_type_mismatches_are_left_to_other_validation() -> None:
    body = deployment()
    body["spec"]["template"]["spec"]["containers"] = {"name": "not-a-list"}
    body["spec"]["replicas"] = {"nested": True}
    body["metadata"] = None
    assert unknown_fields(body, typed("apps", "Deployment")) == []


def test_duplicates_anywhere_in_the_document() -> None:
    raw = (
        '{"kind": "Pod", "kind": "Pod", "metadata": {"labels": {"a": "1", "a": "2"}},'
        ' "spec": {"containers": [{"name": "a"}, {"name": "b", "image": "x", "image": "y"}]},'
        ' "status": {"conditions": [{"type": "Ready", "type": "Ready"}]}}'
    )
    expected = [
        'duplicate field "kind"',
        'duplicate field "metadata.labels.a"',
        'duplicate field "spec.containers[1].image"',
        'duplicate field "status.conditions[0].type"',
    ]
    assert duplicate_fields(raw) == expected
    assert duplicate_fields(raw.encode()) == expected
    assert strict_decoding_errors(raw, typed("", "Pod")) == expected


def test_duplicates_inside_free_form_fields_are_reported() -> None:
    raw = '{"metadata": {"managedFields": [{"fieldsV1": {"f:spec": {}, "f:spec": {}}}]}}'
    assert strict_decoding_errors(raw, typed("", "Pod")) == [
        'duplicate field "metadata.managedFields[0].fieldsV1.f:spec"'
    ]


def test_a_document_without_duplicates() -> None:
    assert duplicate_fields('{"a": {"b": [{"c": 1}, {"c": 2}]}, "b": 1}') == []
    assert duplicate_fields("[1, 2]") == []


def test_yaml_duplicate_keys_in_go_yaml_wording() -> None:
    body = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 2\n  replicas: 3\nkind: Deployment\n"
    assert duplicate_yaml_keys(body) == [
        'yaml: unmarshal errors:\n  line 5: key "replicas" already set in map\n  line 6: key "kind" already set in map'
    ]


def test_yaml_duplicates_across_documents_and_non_string_keys() -> None:
    body = b"a: 1\n---\nb:\n- {x: 1, x: 2}\n3: one\n3: two\n"
    assert duplicate_yaml_keys(body) == [
        'yaml: unmarshal errors:\n  line 4: key "x" already set in map\n  line 6: key 3 already set in map'
    ]
    assert duplicate_yaml_keys("a: 1\nb: {a: 2}\n") == []


def test_invalid_yaml_raises() -> None:
    with pytest.raises(yaml.YAMLError):
        duplicate_yaml_keys("a: [1, 2\n")
