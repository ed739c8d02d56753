"""One request's security, in kube-apiserver's order: who (authenticate), as whom (impersonate), whether (admit)."""

from __future__ import annotations

from typing import Any, cast
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from controlplane.apiserver.requestinfo import RequestInfo, request_info
from controlplane.apiserver.security import admit, attributes, authenticate, impersonate, is_public
from controlplane.auth.authn import TokenAuthenticator, token_hash
from controlplane.auth.authz import RBAC_GROUP, Authorizer, no_access_message
from controlplane.auth.rbac import Attributes, UserInfo
from controlplane.errors import StatusError
from controlplane.storage.keys import ROOT_WORKSPACE, ObjectKey
from controlplane.storage.watchcache import WatchCache
from controlplane.store import Store
from tests.unit.fakes import FakeCache

WS = "root:team-a"
ALICE = UserInfo("alice", ("system:authenticated",))
STRANGER = UserInfo("eve", ("system:authenticated",))
MASTER = UserInfo("admin", ("system:masters", "system:authenticated"))


class FakeStore:
    """The one question admit() asks the store."""

    def __init__(self, *workspaces: str) -> None:
        self.workspaces = {ROOT_WORKSPACE, *workspaces}

    def workspace_exists(self, ws: str) -> bool:
        return ws in self.workspaces


def rbac_key(resource: str, name: str, namespace: str = "") -> ObjectKey:
    return ObjectKey(WS, RBAC_GROUP, resource, namespace, name)


def rule(verbs: list[str], groups: list[str], resources: list[str]) -> dict[str, list[str]]:
    return {"verbs": verbs, "apiGroups": groups, "resources": resources}


def grant(cache: FakeCache, user: str, *rules: dict[str, list[str]], namespace: str = "") -> None:
    """Give `user` these rules in WS: cluster-wide, or in one namespace."""
    name = f"{user}-{len(cache.objects)}"
    role_ref = {"apiGroup": RBAC_GROUP, "kind": "Role" if namespace else "ClusterRole", "name": name}
    binding = {"metadata": {"name": name, "namespace": namespace}, "roleRef": role_ref,
               "subjects": [{"kind": "User", "apiGroup": RBAC_GROUP, "name": user}]}
    role = {"metadata": {"name": name, "namespace": namespace}, "rules": list(rules)}
    if namespace:
        cache.put(rbac_key("roles", name, namespace), role)
        cache.put(rbac_key("rolebindings", name, namespace), binding)
    else:
        cache.put(rbac_key("clusterroles", name), role)
        cache.put(rbac_key("clusterrolebindings", name), binding)


def bind_view(cache: FakeCache, user: str, namespace: str = "default") -> None:
    cache.put(rbac_key("rolebindings", f"{user}-view", namespace), {
        "metadata": {"name": f"{user}-view", "namespace": namespace},
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "apiGroup": RBAC_GROUP, "name": user}],
    })


def authorizer_over(cache: FakeCache) -> Authorizer:
    authorizer = Authorizer(cast(WatchCache, cache))
    authorizer.start()
    return authorizer


def a_member(cache: FakeCache) -> Authorizer:
    """An authorizer for WS, where alice may view namespace default."""
    bind_view(cache, "alice")
    return authorizer_over(cache)


def request(headers: list[tuple[str, str]] | None = None, path: str = "/api/v1/namespaces/default/pods",
            peercert: dict[str, Any] | None = None) -> web.Request:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: peercert if name == "peercert" else default
    return make_mocked_request("GET", path, headers=CIMultiDict(headers or []), transport=transport)


def info(method: str, path: str) -> RequestInfo:
    return request_info(method, path, {})


def status_of(call: Any, *args: Any) -> StatusError:
    with pytest.raises(StatusError) as caught:
        call(*args)
    return caught.value


IMPERSONATOR_RULES = (
    rule(["impersonate"], [""], ["users", "groups", "serviceaccounts"]),
    rule(["impersonate"], ["authentication.k8s.io"], ["uids"]),
)


# --------------------------------------------------------------------------------------------------------------
# is_public
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/version"),
    ("GET", "/version/"),
    ("HEAD", "/version"),
    ("GET", "/healthz"),
    ("GET", "/livez"),
    ("GET", "/readyz"),
    ("GET", "/readyz/etcd"),
    ("GET", "/clusters/root:team-a/healthz"),
])
def test_health_and_version_are_open_to_anyone(method: str, path: str) -> None:
    assert is_public(info(method, path))


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/version"),
    ("DELETE", "/healthz"),
    ("GET", "/"),
    ("GET", "/api"),
    ("GET", "/apis/apps/v1"),
    ("GET", "/openapi/v3"),
    ("GET", "/metrics"),
    ("GET", "/versions"),
    ("GET", "/healthzz"),
    ("GET", "/api/v1/namespaces/default/pods"),
])
def test_everything_else_needs_credentials(method: str, path: str) -> None:
    assert not is_public(info(method, path))


# --------------------------------------------------------------------------------------------------------------
# authenticate
# --------------------------------------------------------------------------------------------------------------


def tokens_knowing(token: str, user: str, groups: list[str]) -> TokenAuthenticator:
    cache = FakeCache()
    cache.put(ObjectKey(ROOT_WORKSPACE, "tenancy.canopy.dev", "accesstokens", "", user),
              {"spec": {"user": user, "groups": groups, "tokenHash": token_hash(token)}})
    tokens = TokenAuthenticator(cast(WatchCache, cache))
    tokens.start()
    return tokens


def test_bearer_token_names_the_user() -> None:
    tokens = tokens_knowing("s3cret", "alice", ["devs"])

    user = authenticate(request([("Authorization", "Bearer s3cret")]), tokens)

    assert user == UserInfo("alice", ("devs", "system:authenticated"))


def test_client_certificate_names_the_user_and_groups() -> None:
    peercert = {"subject": ((("organizationName", "ops"),), (("commonName", "carol"),))}

    user = authenticate(request(peercert=peercert), tokens_knowing("s3cret", "alice", []))

    assert user == UserInfo("carol", ("ops", "system:authenticated"))


@pytest.mark.parametrize("authorization", ["Bearer wrong", "Basic YWxpY2U6cGFzcw==", "Bearer"])
def test_bad_bearer_token_is_401_even_with_a_client_certificate(authorization: str) -> None:
    peercert = {"subject": ((("commonName", "carol"),),)}

    error = status_of(authenticate, request([("Authorization", authorization)], peercert=peercert),
                      tokens_knowing("s3cret", "alice", []))

    assert (error.code, error.reason) == (401, "Unauthorized")
    assert error.message.startswith("Unauthorized: ")


def test_no_credentials_is_401_saying_what_is_needed() -> None:
    error = status_of(authenticate, request(), tokens_knowing("s3cret", "alice", []))

    assert (error.code, error.reason) == (401, "Unauthorized")
    assert "bearer token or a client certificate" in error.message


# --------------------------------------------------------------------------------------------------------------
# attributes
# --------------------------------------------------------------------------------------------------------------


def test_resource_request_becomes_resource_attributes() -> None:
    attrs = attributes(ALICE, info("DELETE", "/clusters/root:team-a/apis/apps/v1/namespaces/prod/deployments/web"))

    assert attrs == Attributes(ALICE, "delete", True, api_group="apps", resource="deployments", namespace="prod",
                               name="web")


def test_a_namespace_object_is_in_its_own_namespace() -> None:
    """So that a RoleBinding in namespace `prod` lets its subjects `kubectl get namespace prod`."""
    attrs = attributes(ALICE, info("GET", "/api/v1/namespaces/prod"))

    assert attrs == Attributes(ALICE, "get", True, resource="namespaces", namespace="prod", name="prod")


def test_a_namespace_subresource_is_in_its_own_namespace() -> None:
    attrs = attributes(ALICE, info("PUT", "/api/v1/namespaces/prod/finalize"))

    assert attrs == Attributes(ALICE, "update", True, resource="namespaces", subresource="finalize",
                               namespace="prod", name="prod")


def test_listing_namespaces_is_at_the_cluster_scope() -> None:
    attrs = attributes(ALICE, info("GET", "/api/v1/namespaces"))

    assert attrs == Attributes(ALICE, "list", True, resource="namespaces")


def test_a_resource_named_namespaces_in_another_group_stays_cluster_scoped() -> None:
    attrs = attributes(ALICE, info("GET", "/apis/example.com/v1/namespaces/prod"))

    assert attrs.namespace == ""
    assert attrs.name == "prod"


@pytest.mark.parametrize(("path", "resource", "subresource"), [
    ("/api/v1/namespaces/default/pods/web/log", "pods", "log"),
    ("/api/v1/namespaces/default/pods/web/exec", "pods", "exec"),
    ("/apis/apps/v1/namespaces/default/deployments/web/scale", "deployments", "scale"),
    ("/apis/apps/v1/namespaces/default/deployments/web/status", "deployments", "status"),
])
def test_subresources_are_kept_apart_from_their_resource(path: str, resource: str, subresource: str) -> None:
    attrs = attributes(ALICE, info("GET", path))

    assert (attrs.resource, attrs.subresource, attrs.namespace, attrs.name) == (resource, subresource, "default", "web")


@pytest.mark.parametrize("path", ["/api", "/apis/apps/v1", "/openapi/v3", "/version", "/healthz"])
def test_non_resource_request_carries_its_path_and_http_verb(path: str) -> None:
    attrs = attributes(ALICE, info("GET", f"/clusters/root:team-a{path}"))

    assert attrs == Attributes(ALICE, "get", False, path=path)


# --------------------------------------------------------------------------------------------------------------
# impersonate
# --------------------------------------------------------------------------------------------------------------


def test_no_impersonation_headers_keep_the_same_user() -> None:
    assert impersonate(request(), ALICE, WS, a_member(FakeCache())) is ALICE


@pytest.mark.parametrize("headers", [
    [("Impersonate-Group", "admins")],
    [("Impersonate-Uid", "1234")],
    [("Impersonate-Extra-Scopes", "view")],
])
def test_impersonation_without_impersonate_user_is_400(headers: list[tuple[str, str]]) -> None:
    error = status_of(impersonate, request(headers), ALICE, WS, a_member(FakeCache()))

    assert (error.code, error.reason) == (400, "BadRequest")
    assert "need Impersonate-User too" in error.message


def test_impersonate_extra_is_refused_as_unsupported() -> None:
    cache = FakeCache()
    grant(cache, "alice", *IMPERSONATOR_RULES)

    error = status_of(impersonate, request([("Impersonate-User", "bob"), ("Impersonate-Extra-Scopes", "view")]),
                      ALICE, WS, authorizer_over(cache))

    assert error.code == 400
    assert "not supported" in error.message


def test_impersonating_a_user_without_permission_is_403_with_kube_apiservers_message() -> None:
    error = status_of(impersonate, request([("Impersonate-User", "bob")]), ALICE, WS, a_member(FakeCache()))

    assert (error.code, error.reason) == (403, "Forbidden")
    assert error.message == (
        'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster '
        "scope"
    )


def test_impersonating_a_group_without_permission_is_403_with_kube_apiservers_message() -> None:
    cache = FakeCache()
    grant(cache, "alice", rule(["impersonate"], [""], ["users"]))

    error = status_of(impersonate, request([("Impersonate-User", "bob"), ("Impersonate-Group", "admins")]),
                      ALICE, WS, authorizer_over(cache))

    assert error.code == 403
    assert error.message == (
        'groups "admins" is forbidden: User "alice" cannot impersonate resource "groups" in API group "" at the '
        "cluster scope"
    )


def test_stranger_impersonating_is_told_only_that_they_have_no_role() -> None:
    error = status_of(impersonate, request([("Impersonate-User", "bob")]), STRANGER, WS, a_member(FakeCache()))

    assert error.code == 403
    assert error.message == no_access_message(STRANGER, WS)


def test_allowed_impersonation_acts_as_the_user_with_its_groups_and_system_authenticated() -> None:
    cache = FakeCache()
    grant(cache, "alice", *IMPERSONATOR_RULES)
    headers = [("Impersonate-User", "bob"), ("Impersonate-Group", "devs"), ("Impersonate-Group", "ops")]

    acting = impersonate(request(headers), ALICE, WS, authorizer_over(cache))

    assert acting == UserInfo("bob", ("devs", "ops", "system:authenticated"))


def test_permission_to_impersonate_one_user_is_not_permission_to_impersonate_another() -> None:
    cache = FakeCache()
    grant(cache, "alice", {"verbs": ["impersonate"], "apiGroups": [""], "resources": ["users"],
                           "resourceNames": ["bob"]})
    authorizer = authorizer_over(cache)

    assert impersonate(request([("Impersonate-User", "bob")]), ALICE, WS, authorizer).name == "bob"
    assert status_of(impersonate, request([("Impersonate-User", "carol")]), ALICE, WS, authorizer).code == 403


def test_impersonating_a_service_account_checks_serviceaccounts_in_its_namespace() -> None:
    cache = FakeCache()
    grant(cache, "alice", rule(["impersonate"], [""], ["serviceaccounts"]), namespace="ci")
    authorizer = authorizer_over(cache)

    acting = impersonate(request([("Impersonate-User", "system:serviceaccount:ci:builder")]), ALICE, WS, authorizer)
    error = status_of(impersonate, request([("Impersonate-User", "system:serviceaccount:prod:builder")]),
                      ALICE, WS, authorizer)

    assert acting.name == "system:serviceaccount:ci:builder"
    assert error.message == (
        'serviceaccounts "builder" is forbidden: User "alice" cannot impersonate resource "serviceaccounts" in API '
        'group "" in the namespace "prod"'
    )


def test_permission_to_impersonate_users_does_not_cover_service_accounts() -> None:
    cache = FakeCache()
    grant(cache, "alice", rule(["impersonate"], [""], ["users"]))

    error = status_of(impersonate, request([("Impersonate-User", "system:serviceaccount:ci:builder")]),
                      ALICE, WS, authorizer_over(cache))

    assert error.code == 403
    assert 'cannot impersonate resource "serviceaccounts"' in error.message


def test_impersonating_a_service_account_without_groups_gives_its_service_account_groups() -> None:
    """kube-apiserver: a service account's groups are a fixed mapping, added when no Impersonate-Group is sent,
    so that RoleBindings to `system:serviceaccounts:<ns>` apply to the impersonated account."""
    cache = FakeCache()
    grant(cache, "alice", *IMPERSONATOR_RULES)

    acting = impersonate(request([("Impersonate-User", "system:serviceaccount:ci:builder")]),
                         ALICE, WS, authorizer_over(cache))

    assert acting == UserInfo(
        "system:serviceaccount:ci:builder",
        ("system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"),
    )


@pytest.mark.parametrize("target", ["system:serviceaccount:ci", "system:serviceaccount:ci:builder:extra"])
def test_a_malformed_service_account_name_is_impersonated_as_a_user(target: str) -> None:
    """kube-apiserver's serviceaccount.SplitUsername wants exactly <namespace>:<name>; anything else is a user name
    and needs permission to impersonate `users`."""
    cache = FakeCache()
    grant(cache, "alice", rule(["impersonate"], [""], ["serviceaccounts"]), namespace="ci")

    error = status_of(impersonate, request([("Impersonate-User", target)]), ALICE, WS, authorizer_over(cache))

    assert error.code == 403
    assert 'cannot impersonate resource "users"' in error.message


def test_impersonate_uid_checks_uids_in_authentication_k8s_io() -> None:
    cache = FakeCache()
    grant(cache, "alice", rule(["impersonate"], [""], ["users"]))

    error = status_of(impersonate, request([("Impersonate-User", "bob"), ("Impersonate-Uid", "1234")]),
                      ALICE, WS, authorizer_over(cache))

    assert error.message == (
        'uids.authentication.k8s.io "1234" is forbidden: User "alice" cannot impersonate resource "uids" in API '
        'group "authentication.k8s.io" at the cluster scope'
    )


def test_allowed_impersonate_uid_sets_the_uid() -> None:
    cache = FakeCache()
    grant(cache, "alice", *IMPERSONATOR_RULES)

    acting = impersonate(request([("Impersonate-User", "bob"), ("Impersonate-Uid", "1234")]),
                         ALICE, WS, authorizer_over(cache))

    assert acting == UserInfo("bob", ("system:authenticated",), "1234")


def test_system_masters_may_impersonate_anyone_and_become_them() -> None:
    acting = impersonate(request([("Impersonate-User", "bob")]), MASTER, WS, authorizer_over(FakeCache()))

    assert acting == UserInfo("bob", ("system:authenticated",))


def test_impersonating_system_anonymous_puts_it_in_system_unauthenticated() -> None:
    """kube-apiserver adds system:unauthenticated (never system:authenticated) when acting as system:anonymous."""
    acting = impersonate(request([("Impersonate-User", "system:anonymous")]), MASTER, WS, authorizer_over(FakeCache()))

    assert acting == UserInfo("system:anonymous", ("system:unauthenticated",))


def test_impersonating_a_user_in_system_unauthenticated_does_not_add_system_authenticated() -> None:
    """kube-apiserver: 'If system:unauthenticated group has been specified we should not include the
    system:authenticated group.'"""
    headers = [("Impersonate-User", "bob"), ("Impersonate-Group", "system:unauthenticated")]

    acting = impersonate(request(headers), MASTER, WS, authorizer_over(FakeCache()))

    assert acting == UserInfo("bob", ("system:unauthenticated",))


def test_empty_impersonate_user_header_is_no_impersonation() -> None:
    """kube-apiserver treats an empty Impersonate-User as absent (`len(requestedUser) > 0`): the caller stays
    themselves, rather than asking to become a user with no name."""
    assert impersonate(request([("Impersonate-User", "")]), ALICE, WS, a_member(FakeCache())) is ALICE


# --------------------------------------------------------------------------------------------------------------
# admit
# --------------------------------------------------------------------------------------------------------------


def test_master_is_told_a_missing_workspace_does_not_exist_and_how_to_create_it() -> None:
    error = status_of(admit, MASTER, info("GET", "/clusters/root:team-a:ghost/api/v1/namespaces"),
                      cast(Store, FakeStore(WS)), authorizer_over(FakeCache()))

    assert (error.code, error.reason) == (404, "NotFound")
    assert error.message.startswith('workspace "root:team-a:ghost" does not exist')
    assert '"canopy workspace create ghost --parent root:team-a"' in error.message


def test_master_is_admitted_to_an_existing_workspace() -> None:
    admit(MASTER, info("DELETE", "/clusters/root:team-a/api/v1/namespaces/default"), cast(Store, FakeStore(WS)),
          authorizer_over(FakeCache()))


@pytest.mark.parametrize("workspace", [WS, "root:team-a:ghost"])
def test_stranger_gets_the_same_403_for_an_existing_and_a_missing_workspace(workspace: str) -> None:
    error = status_of(admit, STRANGER, info("GET", f"/clusters/{workspace}/api/v1/namespaces/default/pods"),
                      cast(Store, FakeStore(WS)), a_member(FakeCache()))

    assert (error.code, error.reason) == (403, "Forbidden")
    assert error.message == no_access_message(STRANGER, workspace)


def test_member_is_admitted_to_what_rbac_allows() -> None:
    admit(ALICE, info("GET", "/clusters/root:team-a/api/v1/namespaces/default/pods/web"), cast(Store, FakeStore(WS)),
          a_member(FakeCache()))


def test_member_with_a_rolebinding_in_a_namespace_may_get_that_namespace() -> None:
    store, authorizer = cast(Store, FakeStore(WS)), a_member(FakeCache())

    admit(ALICE, info("GET", "/clusters/root:team-a/api/v1/namespaces/default"), store, authorizer)
    error = status_of(admit, ALICE, info("GET", "/clusters/root:team-a/api/v1/namespaces/prod"), store, authorizer)

    assert error.message == (
        'namespaces "prod" is forbidden: User "alice" cannot get resource "namespaces" in API group "" in the '
        'namespace "prod"'
    )


def test_member_refused_by_rbac_gets_403_with_kube_apiservers_message() -> None:
    error = status_of(admit, ALICE, info("DELETE", "/clusters/root:team-a/api/v1/namespaces/default/pods/web"),
                      cast(Store, FakeStore(WS)), a_member(FakeCache()))

    assert (error.code, error.reason) == (403, "Forbidden")
    assert error.message == (
        'pods "web" is forbidden: User "alice" cannot delete resource "pods" in API group "" in the namespace '
        '"default"'
    )
