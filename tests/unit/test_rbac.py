"""RBAC evaluation: what kube-apiserver's RBAC authorizer allows, the reasons it gives, and its forbidden messages."""

from __future__ import annotations

from typing import Any

from controlplane.auth.rbac import (
    DEFAULT_CLUSTER_ROLES,
    Attributes,
    PolicyIndex,
    Rule,
    UserInfo,
    describe_denial,
    forbidden_error,
)

ALICE = UserInfo("alice")
BOB = UserInfo("bob", ("devs", "system:authenticated"))
BUILDER = UserInfo("system:serviceaccount:ci:builder", ("system:serviceaccounts", "system:serviceaccounts:ci"))


# --------------------------------------------------------------------------------------------------------------
# Object builders: the JSON dicts as the store holds them
# --------------------------------------------------------------------------------------------------------------


def rule(verbs: list[str], groups: list[str] | None = None, resources: list[str] | None = None,
         names: list[str] | None = None, urls: list[str] | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"verbs": verbs}
    if groups is not None:
        out["apiGroups"] = groups
    if resources is not None:
        out["resources"] = resources
    if names is not None:
        out["resourceNames"] = names
    if urls is not None:
        out["nonResourceURLs"] = urls
    return out


def cluster_role(name: str, *rules: dict[str, list[str]], labels: dict[str, str] | None = None,
                 aggregation: dict[str, Any] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                           "metadata": {"name": name, "labels": labels or {}}, "rules": list(rules)}
    if aggregation is not None:
        obj["aggregationRule"] = aggregation
    return obj


def role(namespace: str, name: str, *rules: dict[str, list[str]]) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": namespace}, "rules": list(rules)}


def user(name: str) -> dict[str, str]:
    return {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": name}


def group(name: str) -> dict[str, str]:
    return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": name}


def service_account(name: str, namespace: str = "") -> dict[str, str]:
    subject = {"kind": "ServiceAccount", "name": name}
    if namespace:
        subject["namespace"] = namespace
    return subject


def cluster_binding(name: str, role_name: str, *subjects: dict[str, str], kind: str = "ClusterRole") -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role_name},
            "subjects": list(subjects)}


def binding(namespace: str, name: str, role_kind: str, role_name: str, *subjects: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
            "subjects": list(subjects)}


def index(roles: list[dict[str, Any]] | None = None, cluster_roles: list[dict[str, Any]] | None = None,
          role_bindings: list[dict[str, Any]] | None = None,
          cluster_role_bindings: list[dict[str, Any]] | None = None) -> PolicyIndex:
    return PolicyIndex(roles or [], cluster_roles or [], role_bindings or [], cluster_role_bindings or [])


def granted(*rules: dict[str, list[str]], to: UserInfo = ALICE) -> PolicyIndex:
    """A workspace where a ClusterRoleBinding gives `to` a ClusterRole with these rules."""
    subject = user(to.name)
    return index(cluster_roles=[cluster_role("custom", *rules)],
                 cluster_role_bindings=[cluster_binding("custom", "custom", subject)])


def can(policy: PolicyIndex, verb: str, resource: str, namespace: str = "", name: str = "", subresource: str = "",
        api_group: str = "", who: UserInfo = ALICE) -> bool:
    attrs = Attributes(who, verb, True, api_group, resource, subresource, namespace, name)
    return policy.allowed(attrs)[0]


def can_get_path(policy: PolicyIndex, path: str, who: UserInfo = ALICE, verb: str = "get") -> bool:
    return policy.allowed(Attributes(who, verb, False, path=path))[0]


# --------------------------------------------------------------------------------------------------------------
# Matching a request against a rule
# --------------------------------------------------------------------------------------------------------------


def test_verb_wildcard_matches_every_verb_and_listed_verbs_only_themselves() -> None:
    everything = granted(rule(["*"], [""], ["configmaps"]))
    only_get = granted(rule(["get"], [""], ["configmaps"]))
    assert all(can(everything, v, "configmaps", "default") for v in ("get", "deletecollection", "escalate"))
    assert can(only_get, "get", "configmaps", "default", "cm")
    assert not can(only_get, "list", "configmaps", "default")


def test_api_group_must_match_exactly_or_be_a_wildcard() -> None:
    core = granted(rule(["get"], [""], ["deployments"]))
    apps = granted(rule(["get"], ["apps"], ["deployments"]))
    any_group = granted(rule(["get"], ["*"], ["deployments"]))
    assert not can(core, "get", "deployments", "default", "web", api_group="apps")
    assert can(apps, "get", "deployments", "default", "web", api_group="apps")
    assert can(any_group, "get", "deployments", "default", "web", api_group="apps")


def test_rule_for_a_resource_does_not_cover_its_subresources() -> None:
    policy = granted(rule(["get"], [""], ["pods"]))
    assert can(policy, "get", "pods", "default", "web")
    assert not can(policy, "get", "pods", "default", "web", subresource="log")


def test_rule_for_a_subresource_covers_only_that_subresource() -> None:
    policy = granted(rule(["get"], [""], ["pods/log"]))
    assert can(policy, "get", "pods", "default", "web", subresource="log")
    assert not can(policy, "get", "pods", "default", "web")
    assert not can(policy, "get", "pods", "default", "web", subresource="status")


def test_star_resource_covers_every_resource_and_subresource() -> None:
    policy = granted(rule(["get"], ["*"], ["*"]))
    assert can(policy, "get", "pods", "default", "web", subresource="log")
    assert can(policy, "get", "deployments", "default", "web", subresource="scale", api_group="apps")


def test_star_slash_subresource_covers_that_subresource_of_any_resource() -> None:
    policy = granted(rule(["update"], ["apps"], ["*/scale"]))
    assert can(policy, "update", "deployments", "default", "web", subresource="scale", api_group="apps")
    assert can(policy, "update", "replicasets", "default", "web", subresource="scale", api_group="apps")
    assert not can(policy, "update", "deployments", "default", "web", api_group="apps")
    assert not can(policy, "update", "deployments", "default", "web", subresource="status", api_group="apps")


def test_resource_slash_star_is_not_a_wildcard() -> None:
    policy = granted(rule(["get"], [""], ["pods/*"]))
    assert not can(policy, "get", "pods", "default", "web", subresource="log")
    assert not can(policy, "get", "pods", "default", "web")


def test_resource_names_restrict_the_rule_to_named_objects() -> None:
    policy = granted(rule(["get", "update"], [""], ["configmaps"], names=["settings"]))
    assert can(policy, "get", "configmaps", "default", "settings")
    assert can(policy, "update", "configmaps", "default", "settings")
    assert not can(policy, "get", "configmaps", "default", "other")


def test_resource_names_never_match_requests_without_a_name() -> None:
    policy = granted(rule(["*"], [""], ["configmaps"], names=["settings"]))
    for verb in ("create", "list", "watch", "deletecollection"):
        assert not can(policy, verb, "configmaps", "default"), verb


def test_non_resource_urls_match_exactly_or_by_trailing_star_prefix() -> None:
    policy = granted(rule(["get"], urls=["/healthz", "/apis/*", "/version*"]))
    assert can_get_path(policy, "/healthz")
    assert not can_get_path(policy, "/healthz/etcd")
    assert can_get_path(policy, "/apis/apps/v1")
    assert not can_get_path(policy, "/apis")
    assert can_get_path(policy, "/version")
    assert can_get_path(policy, "/version/")
    assert not can_get_path(policy, "/healthz", verb="post")


def test_non_resource_url_star_matches_every_path() -> None:
    policy = granted(rule(["get"], urls=["*"]))
    assert can_get_path(policy, "/")
    assert can_get_path(policy, "/openapi/v3/apis/apps/v1")


def test_resource_rules_and_url_rules_do_not_grant_each_other() -> None:
    urls_only = granted(rule(["*"], urls=["*"]))
    resources_only = granted(rule(["*"], ["*"], ["*"]))
    assert not can(urls_only, "get", "pods", "default", "web")
    assert not can_get_path(resources_only, "/api")


def test_rule_equality_ignores_how_empty_lists_were_written() -> None:
    assert Rule.from_dict({"verbs": ["get"], "resourceNames": None}) == Rule.from_dict(
        {"verbs": ["get"], "resourceNames": []}
    )
    assert Rule.from_dict({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}).to_dict() == {
        "verbs": ["get"], "apiGroups": [""], "resources": ["pods"]
    }


# --------------------------------------------------------------------------------------------------------------
# Bindings and subjects
# --------------------------------------------------------------------------------------------------------------

READ_PODS = cluster_role("pod-reader", rule(["get", "list"], [""], ["pods"]))


def test_clusterrolebinding_grants_in_every_namespace_and_at_cluster_scope() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   cluster_role_bindings=[cluster_binding("read-pods", "pod-reader", user("alice"))])
    assert can(policy, "list", "pods", "default")
    assert can(policy, "list", "pods", "kube-system")
    assert can(policy, "list", "pods")


def test_rolebinding_to_clusterrole_only_grants_in_its_namespace() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   role_bindings=[binding("team-a", "read-pods", "ClusterRole", "pod-reader", user("alice"))])
    assert can(policy, "list", "pods", "team-a")
    assert not can(policy, "list", "pods", "team-b")
    assert not can(policy, "list", "pods")


def test_rolebinding_to_role_uses_the_role_of_its_own_namespace() -> None:
    policy = index(roles=[role("team-a", "reader", rule(["get"], [""], ["configmaps"])),
                          role("team-b", "reader", rule(["get"], [""], ["secrets"]))],
                   role_bindings=[binding("team-a", "read", "Role", "reader", user("alice"))])
    assert can(policy, "get", "configmaps", "team-a", "cm")
    assert not can(policy, "get", "secrets", "team-a", "s")
    assert not can(policy, "get", "configmaps", "team-b", "cm")


def test_rolebinding_never_grants_cluster_scoped_requests_nor_non_resource_urls() -> None:
    everything = cluster_role("everything", rule(["*"], ["*"], ["*"]), rule(["*"], urls=["*"]))
    policy = index(cluster_roles=[everything],
                   role_bindings=[binding("team-a", "all", "ClusterRole", "everything", user("alice"))])
    assert can(policy, "delete", "pods", "team-a", "web")
    assert not can(policy, "list", "namespaces")
    assert not can_get_path(policy, "/healthz")


def test_group_subject_grants_to_members_of_the_group_only() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   role_bindings=[binding("default", "devs", "ClusterRole", "pod-reader", group("devs"))])
    assert can(policy, "list", "pods", "default", who=BOB)
    assert not can(policy, "list", "pods", "default", who=ALICE)
    assert not can(policy, "list", "pods", "default", who=UserInfo("devs"))


def test_service_account_subject_matches_its_token_user_name() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   cluster_role_bindings=[cluster_binding("ci", "pod-reader", service_account("builder", "ci"))])
    assert can(policy, "list", "pods", "default", who=BUILDER)
    assert not can(policy, "list", "pods", "default", who=UserInfo("system:serviceaccount:other:builder"))


def test_service_account_without_namespace_defaults_to_the_rolebinding_namespace() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   role_bindings=[binding("ci", "builder", "ClusterRole", "pod-reader", service_account("builder"))])
    assert can(policy, "list", "pods", "ci", who=BUILDER)


def test_service_account_without_namespace_never_matches_in_a_clusterrolebinding() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   cluster_role_bindings=[cluster_binding("ci", "pod-reader", service_account("builder"))])
    assert not can(policy, "list", "pods", "ci", who=BUILDER)
    assert not policy.has_any_binding(BUILDER)


def test_subject_of_unknown_kind_matches_nobody() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   cluster_role_bindings=[cluster_binding("odd", "pod-reader", {"kind": "Robot", "name": "alice"})])
    assert not can(policy, "list", "pods", "default")


def test_binding_to_a_missing_role_grants_nothing_and_the_denial_reason_names_it() -> None:
    policy = index(role_bindings=[binding("default", "ghost", "Role", "gone", user("alice"))],
                   cluster_role_bindings=[cluster_binding("ghost", "vanished", user("alice"))])
    assert policy.allowed(Attributes(ALICE, "list", True, resource="pods", namespace="default")) == (
        False,
        'RBAC: [clusterrole.rbac.authorization.k8s.io "vanished" not found, '
        'role.rbac.authorization.k8s.io "gone" not found]',
    )


def test_other_bindings_still_grant_when_one_role_is_missing() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   cluster_role_bindings=[cluster_binding("a-ghost", "vanished", user("alice")),
                                          cluster_binding("b-read", "pod-reader", user("alice"))])
    assert policy.allowed(Attributes(ALICE, "list", True, resource="pods", namespace="default")) == (
        True, 'RBAC: allowed by ClusterRoleBinding "b-read" of ClusterRole "pod-reader" to User "alice"'
    )


def test_clusterrolebinding_naming_a_role_grants_nothing() -> None:
    policy = index(roles=[role("default", "reader", rule(["*"], ["*"], ["*"]))],
                   cluster_role_bindings=[cluster_binding("wrong", "reader", user("alice"), kind="Role")])
    assert policy.allowed(Attributes(ALICE, "get", True, resource="pods", namespace="default", name="web")) == (
        False, 'RBAC: role.rbac.authorization.k8s.io "reader" not found'
    )


# --------------------------------------------------------------------------------------------------------------
# Reasons
# --------------------------------------------------------------------------------------------------------------


def test_allowed_reason_names_clusterrolebinding_clusterrole_and_user() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   cluster_role_bindings=[cluster_binding("x", "pod-reader", user("bob"), user("alice"))])
    assert policy.allowed(Attributes(ALICE, "get", True, resource="pods", namespace="default", name="web")) == (
        True, 'RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "pod-reader" to User "alice"'
    )


def test_allowed_reason_for_a_rolebinding_shows_name_slash_namespace_and_the_first_matching_subject() -> None:
    policy = index(roles=[role("default", "reader", rule(["get"], [""], ["pods"]))],
                   role_bindings=[binding("default", "rb", "Role", "reader", group("devs"), user("bob"))])
    assert policy.allowed(Attributes(BOB, "get", True, resource="pods", namespace="default", name="web")) == (
        True, 'RBAC: allowed by RoleBinding "rb/default" of Role "reader" to Group "devs"'
    )


def test_allowed_reason_for_a_service_account_shows_name_slash_namespace() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   role_bindings=[binding("ci", "b", "ClusterRole", "pod-reader", service_account("builder"))])
    assert policy.allowed(Attributes(BUILDER, "list", True, resource="pods", namespace="ci"))[1] == (
        'RBAC: allowed by RoleBinding "b/ci" of ClusterRole "pod-reader" to ServiceAccount "builder/ci"'
    )


def test_clusterrolebindings_are_consulted_before_rolebindings_each_in_name_order() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   role_bindings=[binding("default", "a", "ClusterRole", "pod-reader", user("alice"))],
                   cluster_role_bindings=[cluster_binding("zz", "pod-reader", user("alice")),
                                          cluster_binding("mm", "pod-reader", group("devs"), user("alice"))])
    assert policy.allowed(Attributes(ALICE, "list", True, resource="pods", namespace="default"))[1] == (
        'RBAC: allowed by ClusterRoleBinding "mm" of ClusterRole "pod-reader" to User "alice"'
    )


def test_denial_without_resolution_errors_has_an_empty_reason() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   cluster_role_bindings=[cluster_binding("read", "pod-reader", user("alice"))])
    assert policy.allowed(Attributes(ALICE, "delete", True, resource="pods", namespace="default", name="w")) == (
        False, ""
    )
    assert policy.allowed(Attributes(UserInfo("mallory"), "get", True, resource="pods")) == (False, "")


def test_the_same_resolution_error_twice_is_reported_once_without_brackets() -> None:
    policy = index(cluster_role_bindings=[cluster_binding("a", "gone", user("alice")),
                                          cluster_binding("b", "gone", user("alice"))])
    assert policy.allowed(Attributes(ALICE, "get", True, resource="pods")) == (
        False, 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found'
    )


# --------------------------------------------------------------------------------------------------------------
# The default ClusterRoles
# --------------------------------------------------------------------------------------------------------------


def bound_to(cluster_role_name: str, namespace: str = "team-a", who: UserInfo = ALICE) -> PolicyIndex:
    return index(role_bindings=[binding(namespace, "grant", "ClusterRole", cluster_role_name, user(who.name))])


def test_view_reads_pods_logs_deployments_and_its_namespace_but_not_secrets() -> None:
    view = bound_to("view")
    assert can(view, "list", "pods", "team-a")
    assert can(view, "get", "pods", "team-a", "web", subresource="log")
    assert can(view, "watch", "deployments", "team-a", api_group="apps")
    assert can(view, "get", "deployments", "team-a", "web", subresource="scale", api_group="apps")
    assert can(view, "get", "namespaces", "team-a", "team-a")
    assert not can(view, "get", "secrets", "team-a", "token")
    assert not can(view, "list", "secrets", "team-a")
    assert not can(view, "create", "configmaps", "team-a")
    assert not can(view, "get", "pods", "team-a", "web", subresource="exec")


def test_edit_creates_and_scales_deployments_reads_secrets_but_cannot_touch_rbac() -> None:
    edit = bound_to("edit")
    assert can(edit, "create", "deployments", "team-a", api_group="apps")
    assert can(edit, "update", "deployments", "team-a", "web", subresource="scale", api_group="apps")
    assert can(edit, "patch", "replicasets", "team-a", "web", api_group="apps")
    assert can(edit, "get", "secrets", "team-a", "token")
    assert can(edit, "create", "events", "team-a")
    assert can(edit, "create", "pods", "team-a", "web", subresource="exec")
    assert can(edit, "list", "pods", "team-a")  # through view, which edit aggregates
    assert not can(edit, "create", "rolebindings", "team-a", api_group="rbac.authorization.k8s.io")
    assert not can(edit, "update", "pods", "team-a", "web", subresource="status")


def test_admin_creates_rolebindings_in_its_namespace_but_not_clusterrolebindings() -> None:
    admin = bound_to("admin")
    assert can(admin, "create", "rolebindings", "team-a", api_group="rbac.authorization.k8s.io")
    assert can(admin, "create", "localsubjectaccessreviews", "team-a", api_group="authorization.k8s.io")
    assert can(admin, "delete", "deployments", "team-a", "web", api_group="apps")
    assert not can(admin, "create", "rolebindings", "team-b", api_group="rbac.authorization.k8s.io")
    assert not can(admin, "create", "clusterrolebindings", api_group="rbac.authorization.k8s.io")
    assert not can(admin, "create", "namespaces")


def test_cluster_admin_may_do_anything_including_non_resource_urls() -> None:
    policy = index(cluster_role_bindings=[cluster_binding("root", "cluster-admin", group("platform"))])
    root = UserInfo("root", ("platform",))
    assert can(policy, "escalate", "clusterroles", api_group="rbac.authorization.k8s.io", who=root)
    assert can(policy, "delete", "namespaces", name="default", who=root)
    assert can(policy, "create", "pods", "x", "p", subresource="eviction", who=root)
    assert can_get_path(policy, "/healthz", who=root)
    assert can_get_path(policy, "/metrics", who=root, verb="post")


def test_workspaces_are_managed_by_admin_and_edit_and_read_by_view() -> None:
    def workspaces(role_name: str) -> PolicyIndex:
        return index(cluster_role_bindings=[cluster_binding("ws", role_name, user("alice"))])

    for role_name in ("admin", "edit"):
        assert can(workspaces(role_name), "create", "workspaces", api_group="tenancy.canopy.dev"), role_name
        assert can(workspaces(role_name), "delete", "workspaces", name="team-a", api_group="tenancy.canopy.dev")
    assert can(workspaces("view"), "list", "workspaces", api_group="tenancy.canopy.dev")
    assert can(workspaces("view"), "get", "workspaces", name="team-a", subresource="status",
               api_group="tenancy.canopy.dev")
    assert not can(workspaces("view"), "create", "workspaces", api_group="tenancy.canopy.dev")
    assert not can(workspaces("admin"), "create", "accesstokens", api_group="tenancy.canopy.dev")


def test_default_cluster_roles_are_bootstrap_labelled_and_carry_their_aggregated_rules() -> None:
    for name in ("cluster-admin", "admin", "edit", "view"):
        obj = DEFAULT_CLUSTER_ROLES[name]
        assert obj["apiVersion"] == "rbac.authorization.k8s.io/v1" and obj["kind"] == "ClusterRole"
        assert obj["metadata"]["name"] == name
        assert obj["metadata"]["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults"
    assert DEFAULT_CLUSTER_ROLES["cluster-admin"]["rules"] == [
        {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
        {"verbs": ["*"], "nonResourceURLs": ["*"]},
    ]
    assert DEFAULT_CLUSTER_ROLES["view"]["aggregationRule"] == {
        "clusterRoleSelectors": [{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]
    }
    view_rules = DEFAULT_CLUSTER_ROLES["view"]["rules"]
    edit_rules = DEFAULT_CLUSTER_ROLES["edit"]["rules"]
    admin_rules = DEFAULT_CLUSTER_ROLES["admin"]["rules"]
    assert all(r in edit_rules for r in view_rules) and all(r in admin_rules for r in edit_rules)
    assert edit_rules[-len(view_rules):] == view_rules  # selected roles are appended in name order
    assert not any("secrets" in r.get("resources", []) for r in view_rules)


def test_workspace_cluster_role_replaces_the_default_of_the_same_name() -> None:
    narrow_view = cluster_role("view", rule(["get"], [""], ["configmaps"]))
    policy = index(cluster_roles=[narrow_view],
                   role_bindings=[binding("team-a", "v", "ClusterRole", "view", user("alice"))])
    assert can(policy, "get", "configmaps", "team-a", "cm")
    assert not can(policy, "list", "pods", "team-a")


def test_overriding_an_aggregated_source_changes_the_default_roles_built_from_it() -> None:
    view_without_core = cluster_role("system:aggregate-to-view", rule(["get"], [""], ["configmaps"]),
                                     labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"})
    policy = index(cluster_roles=[view_without_core],
                   role_bindings=[binding("team-a", "v", "ClusterRole", "edit", user("alice"))])
    assert can(policy, "get", "configmaps", "team-a", "cm")
    assert not can(policy, "list", "pods", "team-a")
    assert can(policy, "create", "pods", "team-a")  # edit's own writes are untouched


# --------------------------------------------------------------------------------------------------------------
# Aggregated ClusterRoles
# --------------------------------------------------------------------------------------------------------------


def aggregated(name: str, *selectors: dict[str, Any] | None, rules: list[dict[str, list[str]]] | None = None,
               labels: dict[str, str] | None = None) -> dict[str, Any]:
    return cluster_role(name, *(rules or []), labels=labels, aggregation={"clusterRoleSelectors": list(selectors)})


def granted_role(role_name: str, *cluster_roles: dict[str, Any]) -> PolicyIndex:
    return index(cluster_roles=list(cluster_roles),
                 cluster_role_bindings=[cluster_binding("grant", role_name, user("alice"))])


def test_aggregated_cluster_role_has_the_rules_of_the_roles_its_labels_select() -> None:
    policy = granted_role(
        "monitoring",
        aggregated("monitoring", {"matchLabels": {"team": "obs"}}),
        cluster_role("pods", rule(["get"], [""], ["pods"]), labels={"team": "obs"}),
        cluster_role("services", rule(["get"], [""], ["services"]), labels={"team": "obs"}),
        cluster_role("secrets", rule(["get"], [""], ["secrets"]), labels={"team": "sec"}),
    )
    assert can(policy, "get", "pods", "default", "p")
    assert can(policy, "get", "services", "default", "s")
    assert not can(policy, "get", "secrets", "default", "s")


def test_aggregation_match_expressions_in_notin_exists_and_does_not_exist() -> None:
    sources = (
        cluster_role("a", rule(["get"], [""], ["configmaps"]), labels={"src": "y", "tier": "gold"}),
        cluster_role("b", rule(["get"], [""], ["services"]), labels={"src": "y", "tier": "silver"}),
        cluster_role("c", rule(["get"], [""], ["pods"]), labels={"src": "y"}),
    )

    def reads(operator: str, *values: str) -> set[str]:
        # matchLabels keeps the defaults out: NotIn and DoesNotExist also select roles that lack the label.
        selector = {"matchLabels": {"src": "y"},
                    "matchExpressions": [{"key": "tier", "operator": operator, "values": list(values)}]}
        policy = granted_role("agg", aggregated("agg", selector), *sources)
        return {r for r in ("configmaps", "services", "pods") if can(policy, "get", r, "default", "x")}

    assert reads("In", "gold") == {"configmaps"}
    assert reads("NotIn", "gold") == {"services", "pods"}
    assert reads("Exists") == {"configmaps", "services"}
    assert reads("DoesNotExist") == {"pods"}


def test_not_in_selects_every_role_without_the_label_defaults_included() -> None:
    selector = {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gold"]}]}
    policy = granted_role("agg", aggregated("agg", selector))
    assert can_get_path(policy, "/healthz")  # cluster-admin's rules were aggregated too


def test_rules_are_unioned_across_selectors_without_duplicates_and_without_the_role_itself() -> None:
    shared = rule(["get"], [""], ["pods"])
    policy = index(cluster_roles=[
        aggregated("agg", {"matchLabels": {"x": "1"}}, {"matchLabels": {"y": "1"}}, labels={"x": "1"},
                   rules=[rule(["*"], ["*"], ["*"])]),
        cluster_role("one", shared, labels={"x": "1"}),
        cluster_role("two", shared, rule(["get"], [""], ["services"]), labels={"y": "1"}),
    ], cluster_role_bindings=[cluster_binding("grant", "agg", user("alice"))])
    assert policy.rules_for(ALICE, "") == (Rule.from_dict(shared), Rule.from_dict(rule(["get"], [""], ["services"])))


def test_a_workspace_role_labelled_aggregate_to_view_extends_view_edit_and_admin() -> None:
    widgets = cluster_role("widgets-view", rule(["get", "list", "watch"], ["example.com"], ["widgets"]),
                           labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"})
    for role_name in ("view", "edit", "admin"):
        policy = index(cluster_roles=[widgets],
                       role_bindings=[binding("team-a", "g", "ClusterRole", role_name, user("alice"))])
        assert can(policy, "list", "widgets", "team-a", api_group="example.com"), role_name
        assert can(policy, "list", "pods", "team-a"), role_name


def test_aggregation_that_selects_nothing_keeps_the_stored_rules() -> None:
    policy = granted_role("agg", aggregated("agg", {"matchLabels": {"nobody": "here"}},
                                            rules=[rule(["get"], [""], ["pods"])]))
    assert can(policy, "get", "pods", "default", "p")


def test_aggregation_with_an_invalid_selector_keeps_the_stored_rules() -> None:
    policy = granted_role(
        "agg",
        aggregated("agg", {"matchLabels": {"x": "1"}}, {"matchExpressions": [{"key": "x", "operator": "In"}]},
                   rules=[rule(["get"], [""], ["pods"])]),
        cluster_role("services", rule(["get"], [""], ["services"]), labels={"x": "1"}),
    )
    assert can(policy, "get", "pods", "default", "p")
    assert not can(policy, "get", "services", "default", "s")


def test_aggregation_cycles_terminate() -> None:
    pods, services = rule(["get"], [""], ["pods"]), rule(["get"], [""], ["services"])
    policy = granted_role(
        "a",
        aggregated("a", {"matchLabels": {"to-a": "1"}}, labels={"to-b": "1"}, rules=[pods]),
        aggregated("b", {"matchLabels": {"to-b": "1"}}, labels={"to-a": "1"}, rules=[services]),
    )
    # The controller's result depends on which role it syncs first; either settled state is fine.
    assert policy.rules_for(ALICE, "") in ((Rule.from_dict(pods),), (Rule.from_dict(services),))


# --------------------------------------------------------------------------------------------------------------
# rules_for, rules_review, has_any_binding
# --------------------------------------------------------------------------------------------------------------


def test_rules_for_lists_cluster_wide_rules_then_the_namespace_rules() -> None:
    policy = index(roles=[role("team-a", "cm", rule(["get"], [""], ["configmaps"]))],
                   cluster_roles=[READ_PODS],
                   role_bindings=[binding("team-a", "cm", "Role", "cm", user("alice"))],
                   cluster_role_bindings=[cluster_binding("pods", "pod-reader", user("alice"))])
    pods, configmaps = Rule.from_dict(READ_PODS["rules"][0]), Rule(("get",), ("",), ("configmaps",))
    assert policy.rules_for(ALICE, "team-a") == (pods, configmaps)
    assert policy.rules_for(ALICE, "team-b") == (pods,)
    assert policy.rules_for(BOB, "team-a") == ()


def test_rules_review_splits_resource_and_non_resource_rules() -> None:
    policy = granted(rule(["get"], [""], ["configmaps"], names=["settings"]), rule(["get"], urls=["/healthz"]))
    assert policy.rules_review(ALICE, "default") == (
        [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["settings"]}],
        [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}],
    )


def test_rules_review_status_reports_missing_roles_as_evaluation_error() -> None:
    policy = index(cluster_roles=[READ_PODS],
                   role_bindings=[binding("default", "ghost", "Role", "gone", user("alice"))],
                   cluster_role_bindings=[cluster_binding("pods", "pod-reader", user("alice"))])
    assert policy.rules_review_status(ALICE, "default") == {
        "resourceRules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}],
        "nonResourceRules": [],
        "incomplete": False,
        "evaluationError": 'role.rbac.authorization.k8s.io "gone" not found',
    }


def test_has_any_binding_by_user_group_or_service_account_whatever_the_role() -> None:
    policy = index(role_bindings=[binding("ci", "sa", "Role", "missing", service_account("builder")),
                                  binding("default", "g", "ClusterRole", "view", group("devs"))],
                   cluster_role_bindings=[cluster_binding("a", "view", user("alice"))])
    assert policy.has_any_binding(ALICE)
    assert policy.has_any_binding(UserInfo("carol", ("devs",)))
    assert policy.has_any_binding(BUILDER)
    assert not policy.has_any_binding(UserInfo("mallory", ("system:authenticated",)))


def test_user_info_and_attributes_are_hashable_so_decisions_can_be_cached() -> None:
    first = Attributes(UserInfo("alice", ("devs",), extra=(("scopes", ("a",)),)), "get", True, resource="pods")
    second = Attributes(UserInfo("alice", ("devs",), extra=(("scopes", ("a",)),)), "get", True, resource="pods")
    assert {first: 1}[second] == 1


# --------------------------------------------------------------------------------------------------------------
# Forbidden messages
# --------------------------------------------------------------------------------------------------------------


def test_denial_message_for_a_named_object_in_a_namespace() -> None:
    attrs = Attributes(UserInfo("bob"), "get", True, resource="pods", namespace="default", name="web")
    assert describe_denial(attrs) == (
        'pods "web" is forbidden: User "bob" cannot get resource "pods" in API group "" in the namespace "default"'
    )


def test_denial_message_for_a_collection_at_cluster_scope() -> None:
    attrs = Attributes(UserInfo("bob"), "list", True, resource="namespaces")
    assert describe_denial(attrs) == (
        'namespaces is forbidden: User "bob" cannot list resource "namespaces" in API group "" at the cluster scope'
    )


def test_denial_message_names_the_group_and_the_subresource() -> None:
    attrs = Attributes(UserInfo("bob"), "get", True, "apps", "deployments", "scale", "default", "x")
    assert describe_denial(attrs) == (
        'deployments.apps "x" is forbidden: User "bob" cannot get resource "deployments/scale" in API group "apps" '
        'in the namespace "default"'
    )


def test_denial_message_for_a_non_resource_path() -> None:
    assert describe_denial(Attributes(UserInfo("bob"), "get", False, path="/apis")) == (
        'forbidden: User "bob" cannot get path "/apis"'
    )


def test_denial_message_appends_the_authorizer_reason() -> None:
    policy = index(cluster_role_bindings=[cluster_binding("ghost", "vanished", user("bob"))])
    attrs = Attributes(UserInfo("bob"), "list", True, resource="pods", namespace="default")
    allowed, reason = policy.allowed(attrs)
    assert not allowed
    assert describe_denial(attrs, reason) == (
        'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default": '
        'RBAC: clusterrole.rbac.authorization.k8s.io "vanished" not found'
    )


def test_denial_message_quotes_names_as_go_does() -> None:
    attrs = Attributes(UserInfo('we"ird'), "get", True, resource="configmaps", namespace="default", name="a\tb")
    assert describe_denial(attrs).startswith('configmaps "a\\tb" is forbidden: User "we\\"ird" cannot get')


def test_forbidden_error_is_a_403_status_with_kube_details() -> None:
    attrs = Attributes(UserInfo("bob"), "get", True, "apps", "deployments", "", "default", "web")
    status = forbidden_error(attrs).to_status()
    assert status["code"] == 403 and status["reason"] == "Forbidden"
    assert status["message"].startswith('deployments.apps "web" is forbidden: ')
    assert status["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
