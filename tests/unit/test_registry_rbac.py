"""Role, ClusterRole, RoleBinding and ClusterRoleBinding strategies: defaults, the rule and subject checks, and the
immutable roleRef, worded as kube-apiserver 1.32 words them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from controlplane.errors import Cause, invalid
from controlplane.registry import strategy_for

RBAC = "rbac.authorization.k8s.io"
API_VERSION = f"{RBAC}/v1"


def create(kind: str, obj: dict[str, Any]) -> tuple[dict[str, Any], list[Cause]]:
    obj = copy.deepcopy(obj)
    strategy = strategy_for(RBAC, kind)
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj, strategy.validate(obj)


def update(kind: str, obj: dict[str, Any], old: dict[str, Any]) -> tuple[dict[str, Any], list[Cause]]:
    obj = copy.deepcopy(obj)
    strategy = strategy_for(RBAC, kind)
    strategy.prepare_for_update(obj, old)
    strategy.default(obj)
    return obj, strategy.validate(obj) + strategy.validate_update(obj, old)


def messages(causes: list[Cause]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in causes]


def role(*rules: dict[str, Any], name: str = "reader") -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": "Role", "metadata": {"name": name, "namespace": "dev"},
            "rules": list(rules)}


def cluster_role(*rules: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": "ClusterRole", "metadata": {"name": "reader"}, "rules": list(rules),
            **fields}


def role_binding(role_ref: dict[str, Any], *subjects: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": "RoleBinding", "metadata": {"name": "readers", "namespace": "dev"},
            "roleRef": role_ref, "subjects": list(subjects)}


def cluster_role_binding(role_ref: dict[str, Any], *subjects: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": "ClusterRoleBinding", "metadata": {"name": "readers"},
            "roleRef": role_ref, "subjects": list(subjects)}


READ_PODS = {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}
HEALTHZ = {"nonResourceURLs": ["/healthz", "/readyz/*"], "verbs": ["get"]}
VIEW = {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"}
ALICE = {"kind": "User", "name": "alice", "apiGroup": RBAC}
BUILDER = {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"}


# ---- Role and ClusterRole ------------------------------------------------------------------------------------


def test_valid_roles_are_stored_as_sent_without_a_generation() -> None:
    body = role(READ_PODS, {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["web"],
                            "verbs": ["*"]})
    obj, causes = create("Role", body)
    assert causes == [] and obj == body
    body = cluster_role(READ_PODS, HEALTHZ)
    obj, causes = create("ClusterRole", body)
    assert causes == [] and obj == body
    obj, causes = update("ClusterRole", cluster_role(HEALTHZ), body)
    assert causes == [] and "generation" not in obj["metadata"]


def test_a_role_without_rules_is_valid() -> None:
    assert create("Role", role())[1] == []
    assert create("ClusterRole", {"apiVersion": API_VERSION, "kind": "ClusterRole", "metadata": {"name": "x"}})[1] == []


def test_rules_need_verbs_api_groups_and_resources() -> None:
    _, causes = create("Role", role(READ_PODS, {}))
    assert messages(causes) == [
        "rules[1].verbs: Required value: verbs must contain at least one value",
        "rules[1].apiGroups: Required value: resource rules must supply at least one api group",
        "rules[1].resources: Required value: resource rules must supply at least one resource",
    ]
    assert {c.type for c in causes} == {"FieldValueRequired"}


def test_an_empty_core_group_counts_as_an_api_group_but_an_empty_list_does_not() -> None:
    assert create("Role", role({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}))[1] == []
    _, causes = create("Role", role({"apiGroups": [], "resources": ["pods"], "verbs": []}))
    assert [c.field for c in causes] == ["rules[0].verbs", "rules[0].apiGroups"]


def test_namespaced_roles_cannot_grant_non_resource_urls() -> None:
    _, causes = create("Role", role(HEALTHZ))
    assert messages(causes) == [
        'rules[0].nonResourceURLs: Invalid value: []string{"/healthz", "/readyz/*"}: '
        "namespaced rules cannot apply to non-resource URLs"
    ]


def test_a_rule_cannot_mix_resources_and_non_resource_urls() -> None:
    mixed = {"nonResourceURLs": ["/metrics"], "resourceNames": ["x"], "verbs": ["get"]}
    _, causes = create("ClusterRole", cluster_role(mixed))
    assert messages(causes) == [
        'rules[0].nonResourceURLs: Invalid value: []string{"/metrics"}: '
        "rules cannot apply to both regular resources and non-resource URLs"
    ]
    _, causes = create("Role", role({**mixed, "verbs": []}))
    assert [c.field for c in causes] == ["rules[0].verbs", "rules[0].nonResourceURLs", "rules[0].nonResourceURLs"]


def test_role_names_are_path_segments_not_dns_names() -> None:
    assert create("Role", role(name="system:Pod-Reader"))[1] == []
    assert messages(create("Role", role(name="a/b%c"))[1]) == [
        "metadata.name: Invalid value: \"a/b%c\": may not contain '/'",
        "metadata.name: Invalid value: \"a/b%c\": may not contain '%'",
    ]
    assert messages(create("Role", role(name=".."))[1]) == ["metadata.name: Invalid value: \"..\": may not be '..'"]


def test_a_generate_name_prefix_is_held_to_the_whole_name_rule() -> None:
    body = role()
    body["metadata"] = {"generateName": ".", "name": ".x7k2p", "namespace": "dev"}
    assert messages(create("Role", body)[1]) == ["metadata.generateName: Invalid value: \".\": may not be '.'"]


def test_scope() -> None:
    body = role()
    del body["metadata"]["namespace"]
    assert messages(create("Role", body)[1]) == ["metadata.namespace: Required value"]
    body = cluster_role()
    body["metadata"]["namespace"] = "dev"
    assert messages(create("ClusterRole", body)[1]) == ["metadata.namespace: Forbidden: not allowed on this type"]


def test_aggregation_rule() -> None:
    selector = {"matchLabels": {"rbac.example.com/aggregate-to-view": "true"}}
    body = cluster_role(aggregationRule={"clusterRoleSelectors": [selector]})
    assert create("ClusterRole", body)[1] == []
    assert messages(create("ClusterRole", cluster_role(aggregationRule={}))[1]) == [
        "aggregationRule.clusterRoleSelectors: Required value: "
        "at least one clusterRoleSelector required if aggregationRule is non-nil"
    ]
    assert create("ClusterRole", cluster_role(aggregationRule=None))[1] == []


def test_an_aggregation_selector_that_does_not_convert_is_also_an_invalid_label_selector() -> None:
    bad = {"matchExpressions": [{"key": "tier", "operator": "Near", "values": ["x"]}]}
    _, causes = create("ClusterRole", cluster_role(aggregationRule={"clusterRoleSelectors": [bad]}))
    assert messages(causes) == [
        'aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator: Invalid value: "Near": '
        "not a valid selector operator",
        'aggregationRule.clusterRoleSelectors[0]: Invalid value: "null": invalid label selector.',
    ]


# ---- RoleBinding and ClusterRoleBinding ----------------------------------------------------------------------


def test_valid_bindings() -> None:
    body = role_binding({"apiGroup": RBAC, "kind": "Role", "name": "reader"}, ALICE, BUILDER,
                        {"kind": "Group", "name": "devs", "apiGroup": RBAC})
    obj, causes = create("RoleBinding", body)
    assert causes == [] and obj == body
    assert create("RoleBinding", role_binding(VIEW, {"kind": "ServiceAccount", "name": "default"}))[1] == []
    obj, causes = create("ClusterRoleBinding", cluster_role_binding(VIEW, ALICE, BUILDER))
    assert causes == [] and "generation" not in obj["metadata"]


def test_binding_defaults_fill_in_the_rbac_group() -> None:
    body = role_binding({"kind": "Role", "name": "reader"}, {"kind": "User", "name": "alice"},
                        {"kind": "Group", "name": "devs"}, {"kind": "ServiceAccount", "name": "default"})
    obj, causes = create("RoleBinding", body)
    assert causes == []
    assert obj["roleRef"] == {"apiGroup": RBAC, "kind": "Role", "name": "reader"}
    assert obj["subjects"] == [
        {"kind": "User", "name": "alice", "apiGroup": RBAC},
        {"kind": "Group", "name": "devs", "apiGroup": RBAC},
        {"kind": "ServiceAccount", "name": "default"},
    ]


def test_defaults_leave_a_given_group_and_unknown_kinds_alone() -> None:
    subjects = [{"kind": "User", "name": "bob", "apiGroup": "example.com"}, {"kind": "Robot", "name": "r2"}]
    obj, causes = create("RoleBinding", role_binding(VIEW, *subjects))
    assert obj["subjects"] == subjects
    assert messages(causes) == [
        'subjects[0].apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"',
        'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    ]


def test_a_missing_role_ref_is_defaulted_then_refused() -> None:
    body = role_binding(VIEW)
    del body["roleRef"]
    obj, causes = create("RoleBinding", body)
    assert obj["roleRef"] == {"apiGroup": RBAC}
    assert messages(causes) == [
        'roleRef.kind: Unsupported value: "": supported values: "Role", "ClusterRole"',
        "roleRef.name: Required value",
    ]


def test_role_ref_rules() -> None:
    ref = {"apiGroup": "example.com", "kind": "Policy", "name": "a/b"}
    assert messages(create("RoleBinding", role_binding(ref))[1]) == [
        'roleRef.apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"',
        'roleRef.kind: Unsupported value: "Policy": supported values: "Role", "ClusterRole"',
        "roleRef.name: Invalid value: \"a/b\": may not contain '/'",
    ]


def test_cluster_role_bindings_can_only_refer_to_cluster_roles() -> None:
    _, causes = create("ClusterRoleBinding", cluster_role_binding({"apiGroup": RBAC, "kind": "Role", "name": "r"}))
    assert messages(causes) == ['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"']
    assert [c.type for c in causes] == ["FieldValueNotSupported"]


def test_subject_names_are_required() -> None:
    _, causes = create("RoleBinding", role_binding(VIEW, {"kind": "User"}, {"kind": "ServiceAccount", "name": ""}))
    assert messages(causes) == ["subjects[0].name: Required value", "subjects[1].name: Required value"]


def test_service_account_subjects() -> None:
    bad = {"kind": "ServiceAccount", "name": "Builder", "apiGroup": RBAC}
    _, causes = create("RoleBinding", role_binding(VIEW, bad))
    assert [c.field for c in causes] == ["subjects[0].name", "subjects[0].apiGroup"]
    assert causes[0].message.startswith('Invalid value: "Builder": a lowercase RFC 1123 subdomain')
    assert causes[1].message == 'Unsupported value: "rbac.authorization.k8s.io": supported values: ""'


def test_cluster_role_binding_service_accounts_need_a_namespace() -> None:
    no_namespace = {"kind": "ServiceAccount", "name": "builder"}
    assert create("RoleBinding", role_binding(VIEW, no_namespace))[1] == []
    _, causes = create("ClusterRoleBinding", cluster_role_binding(VIEW, no_namespace))
    assert messages(causes) == ["subjects[0].namespace: Required value"]


# ---- updates -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["RoleBinding", "ClusterRoleBinding"])
def test_role_ref_cannot_change(kind: str) -> None:
    make = role_binding if kind == "RoleBinding" else cluster_role_binding
    old, _ = create(kind, make(VIEW, ALICE))
    obj, causes = update(kind, make({"kind": "ClusterRole", "name": "edit"}, ALICE), old)
    assert obj["roleRef"]["apiGroup"] == RBAC
    assert messages(causes) == [
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", '
        'Name:"edit"}: cannot change roleRef'
    ]
    status = invalid(kind, "readers", RBAC, causes)
    assert status.message == (
        f'{kind}.rbac.authorization.k8s.io "readers" is invalid: roleRef: Invalid value: rbac.RoleRef{{APIGroup:'
        '"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef'
    )


def test_subjects_may_change_and_an_omitted_role_ref_group_is_no_change() -> None:
    old, _ = create("RoleBinding", role_binding(VIEW, ALICE))
    obj, causes = update("RoleBinding", role_binding({"kind": "ClusterRole", "name": "view"}, BUILDER), old)
    assert causes == []
    assert obj["subjects"] == [BUILDER] and "generation" not in obj["metadata"]


def test_role_updates_are_validated_like_creates() -> None:
    old, _ = create("Role", role(READ_PODS))
    _, causes = update("Role", role({"apiGroups": [""], "resources": ["pods"]}), old)
    assert messages(causes) == ["rules[0].verbs: Required value: verbs must contain at least one value"]
