"""RBAC's escalation check: a Role or binding may only grant what its writer already holds (or may bind/escalate)."""

from __future__ import annotations

from typing import Any

from controlplane.auth.escalation import escalation_problem, uncovered
from controlplane.auth.rbac import Attributes, PolicyIndex, Rule, UserInfo

CAROL = UserInfo("carol", ("system:authenticated",))


def binding(name: str, role: str, user: str = "carol", *, namespace: str = "default", kind: str = "ClusterRole"
            ) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
            "subjects": [{"kind": "User", "name": user}]}


def role(name: str, *rules: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace}, "rules": list(rules)}


def policy_with_admin_in_default() -> PolicyIndex:
    return PolicyIndex([], [], [binding("carol-admin", "admin")], [])


def never(_: Attributes) -> bool:
    return False


def problem(policy: PolicyIndex, resource: str, obj: dict[str, Any], allowed: Any = never) -> str:
    return escalation_problem(policy, CAROL, resource, obj, allowed)


def test_namespace_admin_cannot_bind_herself_to_cluster_admin() -> None:
    message = problem(policy_with_admin_in_default(), "rolebindings", binding("mine", "cluster-admin"))
    assert message.startswith('user "carol" (groups=["system:authenticated"]) is attempting to grant RBAC '
                              "permissions not currently held:\n")
    assert '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}' in message
    assert '{NonResourceURLs:["*"], Verbs:["*"]}' in message


def test_namespace_admin_may_grant_edit_which_she_holds() -> None:
    assert problem(policy_with_admin_in_default(), "rolebindings", binding("dave-edit", "edit", "dave")) == ""


def test_admin_of_one_namespace_grants_nothing_in_another() -> None:
    other = binding("dave-view", "view", "dave", namespace="prod")
    assert "not currently held" in problem(policy_with_admin_in_default(), "rolebindings", other)


def test_role_with_rules_the_writer_holds_is_allowed_and_one_beyond_them_is_not() -> None:
    policy = policy_with_admin_in_default()
    held = role("pods", {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]})
    beyond = role("nodes", {"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]})
    assert problem(policy, "roles", held) == ""
    assert '{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}' in problem(policy, "roles", beyond)


def test_bind_verb_on_the_role_allows_binding_it_without_holding_it() -> None:
    def may_bind_cluster_admin(attrs: Attributes) -> bool:
        return attrs.verb == "bind" and attrs.resource == "clusterroles" and attrs.name == "cluster-admin"

    assert problem(PolicyIndex([], [], [], []), "rolebindings", binding("b", "cluster-admin"),
                   may_bind_cluster_admin) == ""


def test_escalate_verb_allows_writing_any_role() -> None:
    def may_escalate(attrs: Attributes) -> bool:
        return attrs.verb == "escalate" and attrs.resource == "clusterroles"

    anything = {"metadata": {"name": "all"}, "rules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]}
    assert problem(PolicyIndex([], [], [], []), "clusterroles", anything, may_escalate) == ""


def test_binding_to_a_missing_role_grants_nothing_so_escalates_nothing() -> None:
    assert problem(PolicyIndex([], [], [], []), "rolebindings", binding("b", "ghost", kind="Role")) == ""


def test_coverage_follows_wildcards_subresources_names_and_urls() -> None:
    owned = [
        Rule(("get",), ("",), ("*/log",)),
        Rule(("*",), ("apps",), ("deployments",), ("web",)),
        Rule(("get",), non_resource_urls=("/healthz*",)),
    ]
    assert uncovered(owned, [Rule(("get",), ("",), ("pods/log",))]) == []
    assert uncovered(owned, [Rule(("update",), ("apps",), ("deployments",), ("web",))]) == []
    assert uncovered(owned, [Rule(("update",), ("apps",), ("deployments",))]) == [
        Rule(("update",), ("apps",), ("deployments",))
    ]
    assert uncovered(owned, [Rule(("get",), non_resource_urls=("/healthz/etcd",))]) == []
    assert uncovered(owned, [Rule(("get",), non_resource_urls=("/metrics",))]) == [
        Rule(("get",), non_resource_urls=("/metrics",))
    ]
