"""ObjectMeta, label and selector validation shared by every strategy (controlplane.registry.meta)."""

from __future__ import annotations

from controlplane.registry.formats import name_is_dns_subdomain
from controlplane.registry.meta import (
    selector_is_convertible,
    selector_matches,
    validate_annotations,
    validate_label_selector,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)


def meta_causes(meta: dict, *, namespaced: bool | None = True, kube_finalizers: bool = True) -> list[tuple[str, str]]:
    causes = validate_object_meta(
        meta, namespaced=namespaced, name_validator=name_is_dns_subdomain, kube_finalizers=kube_finalizers
    )
    return [(c.field, c.message) for c in causes]


def test_name_or_generate_name_is_required() -> None:
    assert meta_causes({"namespace": "default"}) == [
        ("metadata.name", "Required value: name or generateName is required")
    ]


def test_generate_name_is_checked_as_a_prefix() -> None:
    assert meta_causes({"name": "web-abcde", "generateName": "web-", "namespace": "default"}) == []
    causes = meta_causes({"name": "x", "generateName": "Web_", "namespace": "default"})
    assert causes[0][0] == "metadata.generateName"
    assert causes[0][1].startswith('Invalid value: "Web_": a lowercase RFC 1123 subdomain')


def test_namespace_rules() -> None:
    assert meta_causes({"name": "a"}) == [("metadata.namespace", "Required value")]
    assert meta_causes({"name": "a", "namespace": "x"}, namespaced=False) == [
        ("metadata.namespace", "Forbidden: not allowed on this type")
    ]
    assert meta_causes({"name": "a"}, namespaced=None) == []


def test_labels_report_at_the_map_path_in_sorted_order() -> None:
    causes = validate_labels({"z": "ok", "bad key!": "v", "a": "bad value"}, "metadata.labels")
    assert [c.field for c in causes] == ["metadata.labels", "metadata.labels"]
    assert causes[0].message.startswith('Invalid value: "bad value": a valid label must be an empty string')
    assert causes[1].message.startswith('Invalid value: "bad key!": name part must consist of alphanumeric')


def test_annotation_keys_are_case_insensitive_and_size_is_capped() -> None:
    assert validate_annotations({"Example.COM/Key": "v"}, "metadata.annotations") == []
    big = {"a": "x" * (256 * 1024)}
    causes = validate_annotations(big, "metadata.annotations")
    assert [(c.field, c.message, c.type) for c in causes] == [
        ("metadata.annotations", "Too long: must have at most 262144 bytes", "FieldValueTooLong")
    ]


def test_finalizers() -> None:
    base = {"name": "a", "namespace": "default"}
    assert meta_causes({**base, "finalizers": ["kubernetes", "example.com/x"]}) == []
    assert meta_causes({**base, "finalizers": ["custom"]}) == [
        (
            "metadata.finalizers[0]",
            'Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
        )
    ]
    assert meta_causes({**base, "finalizers": ["custom"]}, kube_finalizers=False) == []
    both = meta_causes({**base, "finalizers": ["orphan", "foregroundDeletion"]})
    assert both == [
        (
            "metadata.finalizers",
            'Invalid value: []string{"orphan", "foregroundDeletion"}: finalizer orphan and '
            "foregroundDeletion cannot be both set",
        )
    ]


def test_owner_references() -> None:
    refs = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": ""}]
    assert meta_causes({"name": "a", "namespace": "d", "ownerReferences": refs}) == [
        ("metadata.ownerReferences.uid", 'Invalid value: "": must not be empty')
    ]


def test_negative_generation() -> None:
    assert meta_causes({"name": "a", "namespace": "d", "generation": -1}) == [
        ("metadata.generation", "Invalid value: -1: must be greater than or equal to 0")
    ]


def test_update_rules() -> None:
    old = {"name": "a", "uid": "1", "deletionTimestamp": "2024-01-01T00:00:00Z", "finalizers": ["example.com/a"]}
    new = {
        "name": "b",
        "uid": "1",
        "deletionTimestamp": "2024-01-01T00:00:00Z",
        "finalizers": ["example.com/a", "example.com/b"],
    }
    causes = validate_object_meta_update(new, old)
    assert [(c.field, c.message) for c in causes] == [
        (
            "metadata.finalizers",
            "Forbidden: no new finalizers can be added if the object is being deleted, found new "
            'finalizers []string{"example.com/b"}',
        ),
        ("metadata.name", 'Invalid value: "b": field is immutable'),
    ]


def test_selector_validation() -> None:
    selector = {"matchExpressions": [{"key": "k", "operator": "In"}, {"key": "k", "operator": "Maybe"}]}
    causes = validate_label_selector(selector, "spec.selector")
    assert [(c.field, c.message) for c in causes] == [
        (
            "spec.selector.matchExpressions[0].values",
            "Required value: must be specified when `operator` is 'In' or 'NotIn'",
        ),
        ("spec.selector.matchExpressions[1].operator", 'Invalid value: "Maybe": not a valid selector operator'),
    ]
    assert not selector_is_convertible(selector)
    assert selector_is_convertible({"matchLabels": {"a": "b"}})


def test_selector_matching() -> None:
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "env", "operator": "NotIn", "values": ["prod"]},
        ],
    }
    assert selector_matches(selector, {"app": "web", "tier": "a"})
    assert not selector_matches(selector, {"app": "web", "tier": "c"})
    assert not selector_matches(selector, {"app": "web", "tier": "a", "canary": ""})
    assert not selector_matches(selector, {"app": "web", "tier": "a", "env": "prod"})
    assert selector_matches({}, {})
    assert not selector_matches(None, {"app": "web"})
