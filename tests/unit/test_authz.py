"""The authorizer: system:masters, strangers, members' free discovery, RBAC, and when decisions are forgotten."""

from __future__ import annotations

from typing import Any, cast

import pytest

from controlplane.auth.authz import RBAC_GROUP, Authorizer, no_access_message
from controlplane.auth.rbac import Attributes, UserInfo
from controlplane.storage.keys import ObjectKey
from controlplane.storage.watchcache import WatchCache
from tests.unit.fakes import FakeCache

WS = "root:team-a"
OTHER_WS = "root:team-b"
MISSING_WS = "root:nowhere"

ALICE = UserInfo("alice", ("system:authenticated",))
BOB = UserInfo("bob", ("devs", "system:authenticated"))
STRANGER = UserInfo("eve", ("system:authenticated",))
MASTER = UserInfo("admin", ("system:masters", "system:authenticated"))


def rbac_key(resource: str, name: str, namespace: str = "", workspace: str = WS) -> ObjectKey:
    return ObjectKey(workspace, RBAC_GROUP, resource, namespace, name)


def subject(kind: str, name: str) -> dict[str, str]:
    return {"kind": kind, "apiGroup": RBAC_GROUP, "name": name}


def role(namespace: str, name: str, *rules: dict[str, list[str]]) -> dict[str, Any]:
    return {"apiVersion": f"{RBAC_GROUP}/v1", "kind": "Role", "metadata": {"name": name, "namespace": namespace},
            "rules": list(rules)}


def role_binding(
    namespace: str, name: str, role_kind: str, role_name: str, *subjects: dict[str, str]
) -> dict[str, Any]:
    return {"apiVersion": f"{RBAC_GROUP}/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": role_kind, "name": role_name}, "subjects": list(subjects)}


def cluster_role_binding(name: str, role_name: str, *subjects: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": f"{RBAC_GROUP}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role_name},
            "subjects": list(subjects)}


def bind_view_in_default(cache: FakeCache, user: str = "alice", *, workspace: str = WS, quietly: bool = False) -> None:
    """`user` may read (view) namespace `default` of `workspace`, and nothing else."""
    cache.put(rbac_key("rolebindings", f"{user}-view", "default", workspace),
              role_binding("default", f"{user}-view", "ClusterRole", "view", subject("User", user)), quietly=quietly)


def started(cache: FakeCache) -> Authorizer:
    authorizer = Authorizer(cast(WatchCache, cache))
    authorizer.start()
    return authorizer


def get(user: UserInfo, resource: str, name: str = "", namespace: str = "default", group: str = "",
        verb: str = "get", subresource: str = "") -> Attributes:
    return Attributes(user, verb, True, api_group=group, resource=resource, subresource=subresource,
                      namespace=namespace, name=name)


def path(user: UserInfo, url: str, verb: str = "get") -> Attributes:
    return Attributes(user, verb, False, path=url)


# --------------------------------------------------------------------------------------------------------------
# system:masters and strangers
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("attrs", [
    get(MASTER, "secrets", "db", verb="delete"),
    get(MASTER, "clusterroles", group=RBAC_GROUP, namespace="", verb="escalate"),
    path(MASTER, "/metrics"),
    Attributes(MASTER, "impersonate", True, resource="users", name="anyone"),
])
@pytest.mark.parametrize("workspace", [WS, MISSING_WS])
def test_system_masters_may_do_anything_in_any_workspace(attrs: Attributes, workspace: str) -> None:
    authorizer = started(FakeCache())

    allowed, reason = authorizer.authorize(workspace, attrs)

    assert allowed
    assert reason == 'allowed: User "admin" is in group "system:masters"'
    assert authorizer.is_member(MASTER, workspace)


def test_user_without_a_binding_is_told_the_workspace_does_not_exist_or_they_have_no_role() -> None:
    cache = FakeCache()
    bind_view_in_default(cache)

    allowed, reason = started(cache).authorize(WS, get(STRANGER, "pods", "web"))

    assert not allowed
    assert reason == no_access_message(STRANGER, WS)
    assert reason == (
        'User "eve" cannot access workspace "root:team-a": it does not exist, or the user has no role in it; '
        "ask the workspace's owner for a RoleBinding"
    )


@pytest.mark.parametrize("attrs", [
    get(STRANGER, "pods", "web"),
    get(STRANGER, "namespaces", namespace="", verb="list"),
    path(STRANGER, "/api"),
    path(STRANGER, "/apis/apps/v1"),
    path(STRANGER, "/version"),
    get(STRANGER, "selfsubjectaccessreviews", group="authorization.k8s.io", namespace="", verb="create"),
])
def test_stranger_learns_nothing_about_whether_a_workspace_exists(attrs: Attributes) -> None:
    cache = FakeCache()
    bind_view_in_default(cache)
    authorizer = started(cache)

    existing = authorizer.authorize(WS, attrs)
    missing = authorizer.authorize(MISSING_WS, attrs)

    assert existing[0] is missing[0] is False
    assert existing[1].replace(WS, "<ws>") == missing[1].replace(MISSING_WS, "<ws>")
    assert not authorizer.is_member(STRANGER, WS)
    assert not authorizer.is_member(STRANGER, MISSING_WS)


def test_binding_in_another_workspace_makes_nobody_a_member_here() -> None:
    cache = FakeCache()
    bind_view_in_default(cache, workspace=OTHER_WS)

    allowed, reason = started(cache).authorize(WS, get(ALICE, "pods", "web"))

    assert not allowed
    assert reason == no_access_message(ALICE, WS)


# --------------------------------------------------------------------------------------------------------------
# What every member may do
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/api",
    "/api/",
    "/api/v1",
    "/apis",
    "/apis/apps",
    "/apis/apps/v1",
    "/openapi/v2",
    "/openapi/v3",
    "/openapi/v3/apis/apps/v1",
    "/version",
])
def test_member_may_get_discovery_and_openapi(url: str) -> None:
    cache = FakeCache()
    bind_view_in_default(cache)

    allowed, _ = started(cache).authorize(WS, path(ALICE, url))

    assert allowed


@pytest.mark.parametrize(("group", "resource"), [
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
])
def test_member_may_ask_about_themselves(group: str, resource: str) -> None:
    cache = FakeCache()
    bind_view_in_default(cache)

    allowed, _ = started(cache).authorize(WS, get(ALICE, resource, group=group, namespace="", verb="create"))

    assert allowed


@pytest.mark.parametrize("attrs", [
    path(ALICE, "/api", verb="post"),
    path(ALICE, "/apisx"),
    path(ALICE, "/healthz"),
    path(ALICE, "/metrics"),
    get(ALICE, "subjectaccessreviews", group="authorization.k8s.io", namespace="", verb="create"),
    get(ALICE, "selfsubjectaccessreviews", group="authorization.k8s.io", namespace="", verb="list"),
    get(ALICE, "selfsubjectaccessreviews", group="", namespace="", verb="create"),
])
def test_member_gets_nothing_else_for_free(attrs: Attributes) -> None:
    cache = FakeCache()
    bind_view_in_default(cache)

    allowed, _ = started(cache).authorize(WS, attrs)

    assert not allowed


def test_member_through_a_group_binding_gets_discovery() -> None:
    cache = FakeCache()
    cache.put(rbac_key("clusterrolebindings", "devs"), cluster_role_binding("devs", "view", subject("Group", "devs")))

    assert started(cache).authorize(WS, path(BOB, "/apis/apps/v1"))[0]


# --------------------------------------------------------------------------------------------------------------
# RBAC, and kube-apiserver's messages
# --------------------------------------------------------------------------------------------------------------


def test_member_is_allowed_what_their_role_grants_and_told_why() -> None:
    cache = FakeCache()
    bind_view_in_default(cache)

    allowed, reason = started(cache).authorize(WS, get(ALICE, "pods", "web"))

    assert allowed
    assert reason == 'RBAC: allowed by RoleBinding "alice-view/default" of ClusterRole "view" to User "alice"'


def test_member_refused_a_named_resource_gets_kube_apiservers_forbidden_message() -> None:
    cache = FakeCache()
    bind_view_in_default(cache)

    allowed, reason = started(cache).authorize(WS, get(ALICE, "pods", "web", verb="delete"))

    assert not allowed
    assert reason == (
        'pods "web" is forbidden: User "alice" cannot delete resource "pods" in API group "" in the namespace "default"'
    )


def test_member_refused_in_another_namespace_gets_kube_apiservers_forbidden_message() -> None:
    cache = FakeCache()
    bind_view_in_default(cache)

    allowed, reason = started(cache).authorize(WS, get(ALICE, "deployments", namespace="prod", group="apps",
                                                       verb="list"))

    assert not allowed
    assert reason == (
        'deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" in the '
        'namespace "prod"'
    )


def test_member_refused_at_the_cluster_scope_gets_kube_apiservers_forbidden_message() -> None:
    cache = FakeCache()
    bind_view_in_default(cache)

    allowed, reason = started(cache).authorize(WS, get(ALICE, "namespaces", namespace="", verb="list"))

    assert not allowed
    assert reason == (
        'namespaces is forbidden: User "alice" cannot list resource "namespaces" in API group "" at the cluster scope'
    )


def test_member_refused_a_subresource_gets_kube_apiservers_forbidden_message() -> None:
    cache = FakeCache()
    bind_view_in_default(cache)

    allowed, reason = started(cache).authorize(WS, get(ALICE, "pods", "web", verb="create", subresource="exec"))

    assert not allowed
    assert reason == (
        'pods "web" is forbidden: User "alice" cannot create resource "pods/exec" in API group "" in the namespace '
        '"default"'
    )


def test_member_refused_a_path_gets_kube_apiservers_forbidden_message() -> None:
    cache = FakeCache()
    bind_view_in_default(cache)

    allowed, reason = started(cache).authorize(WS, path(ALICE, "/metrics"))

    assert not allowed
    assert reason == 'forbidden: User "alice" cannot get path "/metrics"'


def test_binding_to_a_missing_role_makes_a_member_and_the_denial_names_the_missing_role() -> None:
    cache = FakeCache()
    cache.put(rbac_key("rolebindings", "ghostly", "default"),
              role_binding("default", "ghostly", "ClusterRole", "ghost", subject("User", "alice")))
    authorizer = started(cache)

    allowed, reason = authorizer.authorize(WS, get(ALICE, "pods", "web"))

    assert authorizer.is_member(ALICE, WS)
    assert not allowed
    assert reason == (
        'pods "web" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "default": '
        'RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found'
    )


def test_workspace_roles_are_used() -> None:
    cache = FakeCache()
    cache.put(rbac_key("roles", "cm-reader", "default"),
              role("default", "cm-reader", {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]}))
    cache.put(rbac_key("rolebindings", "alice-cm", "default"),
              role_binding("default", "alice-cm", "Role", "cm-reader", subject("User", "alice")))
    authorizer = started(cache)

    assert authorizer.authorize(WS, get(ALICE, "configmaps", "settings"))[0]
    assert not authorizer.authorize(WS, get(ALICE, "secrets", "settings"))[0]


def test_policy_is_the_workspaces_own() -> None:
    cache = FakeCache()
    bind_view_in_default(cache)
    authorizer = started(cache)

    assert authorizer.policy(WS).has_any_binding(ALICE)
    assert not authorizer.policy(OTHER_WS).has_any_binding(ALICE)


# --------------------------------------------------------------------------------------------------------------
# When decisions are forgotten
# --------------------------------------------------------------------------------------------------------------


def test_new_binding_takes_effect_at_once() -> None:
    cache = FakeCache()
    bind_view_in_default(cache, "bob")
    authorizer = started(cache)
    assert not authorizer.authorize(WS, get(ALICE, "pods", "web"))[0]

    bind_view_in_default(cache, "alice")

    assert authorizer.authorize(WS, get(ALICE, "pods", "web"))[0]


def test_deleted_binding_takes_effect_at_once() -> None:
    cache = FakeCache()
    bind_view_in_default(cache)
    authorizer = started(cache)
    assert authorizer.authorize(WS, get(ALICE, "pods", "web"))[0]

    cache.delete(rbac_key("rolebindings", "alice-view", "default"))

    assert authorizer.authorize(WS, get(ALICE, "pods", "web")) == (False, no_access_message(ALICE, WS))


def test_changed_role_takes_effect_at_once() -> None:
    cache = FakeCache()
    cache.put(rbac_key("roles", "reader", "default"),
              role("default", "reader", {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]}))
    cache.put(rbac_key("rolebindings", "alice", "default"),
              role_binding("default", "alice", "Role", "reader", subject("User", "alice")))
    authorizer = started(cache)
    assert not authorizer.authorize(WS, get(ALICE, "secrets", "db"))[0]

    cache.put(rbac_key("roles", "reader", "default"),
              role("default", "reader", {"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}))

    assert authorizer.authorize(WS, get(ALICE, "secrets", "db"))[0]


def test_decisions_are_remembered_until_an_rbac_object_of_the_workspace_changes() -> None:
    cache = FakeCache()
    bind_view_in_default(cache, "bob")
    authorizer = started(cache)
    assert not authorizer.authorize(WS, get(ALICE, "pods", "web"))[0]

    bind_view_in_default(cache, "alice", quietly=True)  # in the cache, but the authorizer has not heard of it
    cache.put(ObjectKey(WS, "", "configmaps", "default", "c"), {"metadata": {"name": "c"}})  # not RBAC
    assert not authorizer.authorize(WS, get(ALICE, "pods", "web"))[0]

    cache.put(rbac_key("clusterroles", "unrelated"), {"metadata": {"name": "unrelated"}, "rules": []})

    assert authorizer.authorize(WS, get(ALICE, "pods", "web"))[0]


def test_rbac_change_in_another_workspace_leaves_this_workspaces_decisions_alone() -> None:
    cache = FakeCache()
    bind_view_in_default(cache, "bob")
    authorizer = started(cache)
    assert not authorizer.authorize(WS, get(ALICE, "pods", "web"))[0]
    bind_view_in_default(cache, "alice", quietly=True)

    bind_view_in_default(cache, "alice", workspace=OTHER_WS)

    assert not authorizer.authorize(WS, get(ALICE, "pods", "web"))[0]
    assert authorizer.authorize(OTHER_WS, get(ALICE, "pods", "web"))[0]


def test_relist_forgets_every_decision() -> None:
    cache = FakeCache()
    bind_view_in_default(cache, "bob")
    bind_view_in_default(cache, "bob", workspace=OTHER_WS)
    authorizer = started(cache)
    assert not authorizer.authorize(WS, get(ALICE, "pods", "web"))[0]
    assert not authorizer.authorize(OTHER_WS, get(ALICE, "pods", "web"))[0]
    bind_view_in_default(cache, "alice", quietly=True)
    bind_view_in_default(cache, "alice", workspace=OTHER_WS, quietly=True)

    cache.relist()

    assert authorizer.authorize(WS, get(ALICE, "pods", "web"))[0]
    assert authorizer.authorize(OTHER_WS, get(ALICE, "pods", "web"))[0]


def test_stopped_authorizer_no_longer_follows_the_cache() -> None:
    cache = FakeCache()
    authorizer = started(cache)

    authorizer.stop()

    assert cache.listeners == []
    assert cache.relist_listeners == []
