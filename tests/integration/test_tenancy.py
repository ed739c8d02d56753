"""Tenancy (issue 3): every workspace is a cluster of its own, and a tenant sees nothing of any other.

Two tenants, made the way a platform admin makes them (`canopy workspace create`, `canopy kubeconfig`): alice owns
`root:ta-<x>` and bob owns `root:tb-<x>`. Each keeps a ConfigMap named `same` in `default`, whose data says whose it
is, and a Secret. Whatever one of them tries against the other's workspace -- any verb, discovery, path tricks,
headers, watches, impersonation -- is refused, and the other's data never appears in the answer.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.client import HTTPSConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from controlplane.auth.authn import token_hash
from controlplane.storage.etcd import EtcdStorage
from controlplane.storage.keys import ROOT
from tests.certs import CertificateAuthority
from tests.conftest import KUBECTL, ApiServer, Etcd, Kubectl, client_tls
from tests.integration.support import (
    assert_status,
    canopy,
    cells,
    configmap,
    deployment,
    etcd_keys,
    eventually,
    http,
    kubectl_stream,
    table,
    table_rows_by_name,
    to_yaml,
)

SUFFIX = secrets.token_hex(3)
TENANCY = "tenancy.canopy.dev/v1alpha1"
CM_PATH = "/api/v1/namespaces/default/configmaps"


# ---- tenants ----------------------------------------------------------------------------------------------------

@dataclass
class Tenant:
    user: str
    workspace: str
    url: str  # https://host:port/clusters/<workspace>
    kubeconfig: Path
    token: str
    data: str  # the value in the tenant's ConfigMap `same`: no other tenant may ever see it
    password: str  # the value in the tenant's Secret `creds`

    @property
    def kubectl(self) -> Kubectl:
        return Kubectl(self.kubeconfig, self.workspace)


def mint_kubeconfig(apiserver: ApiServer, workspace: str, user: str, out: Path) -> tuple[Path, str]:
    """(kubeconfig, its bearer token) minted with `canopy kubeconfig`."""
    canopy("kubeconfig", "--kubeconfig", str(apiserver.admin_kubeconfig), "--workspace", workspace, "--user", user,
           "-o", str(out))
    return out, yaml.safe_load(out.read_text())["users"][0]["user"]["token"]


def create_workspace(apiserver: ApiServer, name: str, owner: str, parent: str = "root") -> str:
    canopy("workspace", "create", name, "--parent", parent, "--owner", owner, "--kubeconfig",
           str(apiserver.admin_kubeconfig))
    return f"{parent}:{name}"


def member_can_read(url: str, token: str, ca_file: Path) -> bool:
    return http("GET", f"{url}/api", token=token, tls=client_tls(ca_file))[0] == 200


def make_tenant(apiserver: ApiServer, user: str, name: str, directory: Path) -> Tenant:
    workspace = create_workspace(apiserver, name, user)
    kubeconfig, token = mint_kubeconfig(apiserver, workspace, user, directory / f"{user}.kubeconfig")
    url = f"{apiserver.url}/clusters/{workspace}"
    tenant = Tenant(user, workspace, url, kubeconfig, token, f"{user}-secret-value-{SUFFIX}",
                    f"{user}-password-{SUFFIX}")
    eventually(lambda: member_can_read(url, token, apiserver.ca_file), what=f"{user} can use {workspace}")
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
              "stringData": {"password": tenant.password}}
    objects = to_yaml(configmap("same", {"owner": tenant.data}, labels={"tenancy-test": "yes"}), secret,
                      deployment("web", replicas=1))
    tenant.kubectl("apply", "-f", "-", input=objects)
    return tenant


@pytest.fixture(scope="module")
def tenants(apiserver: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Tenant, Tenant]:
    directory = tmp_path_factory.mktemp("tenants")
    return (make_tenant(apiserver, "alice", f"ta-{SUFFIX}", directory),
            make_tenant(apiserver, "bob", f"tb-{SUFFIX}", directory))


@pytest.fixture(scope="module")
def alice(tenants: tuple[Tenant, Tenant]) -> Tenant:
    return tenants[0]


@pytest.fixture(scope="module")
def bob(tenants: tuple[Tenant, Tenant]) -> Tenant:
    return tenants[1]


@pytest.fixture(scope="module")
def carol(apiserver: ApiServer, alice: Tenant, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    """carol, whom alice gave `view` in `default` of her workspace."""
    kubeconfig, token = mint_kubeconfig(apiserver, alice.workspace, "carol",
                                        tmp_path_factory.mktemp("carol") / "carol.kubeconfig")
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "carol-view", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "carol"}],
    }
    assert alice.kubectl("apply", "-f", "-", input=to_yaml(binding)) == (
        "rolebinding.rbac.authorization.k8s.io/carol-view created\n"
    )
    eventually(lambda: member_can_read(alice.url, token, apiserver.ca_file), what="carol's RoleBinding in effect")
    return Kubectl(kubeconfig, alice.workspace)


def ca_only(apiserver: ApiServer) -> ssl.SSLContext:
    return client_tls(apiserver.ca_file)


def as_user(method: str, url: str, token: str, apiserver: ApiServer, body: Any = None, **kwargs: Any
            ) -> tuple[int, Any, dict[str, str]]:
    return http(method, url, body, token=token, tls=ca_only(apiserver), **kwargs)


def text_of(body: Any) -> str:
    return body if isinstance(body, str) else json.dumps(body)


def assert_untouched(tenant: Tenant) -> None:
    """The tenant's ConfigMaps are as the tenant left them, and no one else added any (read as the admin)."""
    status, body, _ = http("GET", f"{tenant.url}{CM_PATH}")
    assert status == 200, body
    found = {item["metadata"]["name"]: item.get("data") for item in body["items"]}
    assert found["same"] == {"owner": tenant.data}
    assert not {"intruder", "by-carol", "as-carol"} & set(found), found


def fresh_cache(tmp_path: Path) -> tuple[str, str]:
    """kubectl flags for a discovery cache of its own, so its output does not depend on what other runs cached."""
    return "--cache-dir", str(tmp_path / "kubectl-cache")


# ---- 1. a tenant's kubeconfig just works --------------------------------------------------------------------------

def test_tenant_kubeconfig_works_with_no_extra_flags(alice: Tenant) -> None:
    """The kubeconfig is all kubectl needs: the workspace URL, the CA and the token are in it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    result = subprocess.run([KUBECTL, "--kubeconfig", str(alice.kubeconfig), "get", "cm"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = table_rows_by_name(result.stdout)
    assert list(rows) == ["same"]
    assert rows["same"]["DATA"] == "1"


def test_whoami_names_the_tenant(alice: Tenant) -> None:
    rows = table_rows_by_name(alice.kubectl("auth", "whoami"))
    assert rows["Username"]["VALUE"] == "alice"
    assert "system:authenticated" in rows["Groups"]["VALUE"]


def test_owner_is_cluster_admin_of_the_workspace(alice: Tenant) -> None:
    assert alice.kubectl("auth", "can-i", "create", "deployments") == "yes\n"
    assert alice.kubectl("auth", "can-i", "delete", "clusterrolebindings") == "yes\n"


def test_admin_lists_both_workspaces_ready_with_their_urls(apiserver: ApiServer, alice: Tenant, bob: Tenant) -> None:
    admin = Kubectl(apiserver.admin_kubeconfig, "root")
    rows = table_rows_by_name(admin("get", "ws"))
    for tenant in (alice, bob):
        name = tenant.workspace.removeprefix("root:")
        assert rows[name]["PHASE"] == "Ready", rows[name]
        assert rows[name]["URL"] == tenant.url


# ---- 2. a stranger gets 403 and nothing else ---------------------------------------------------------------------

def _scale(replicas: int) -> dict[str, Any]:
    return {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": replicas}}


def _crb(user: str) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "mine"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]}


MERGE_PATCH = "application/merge-patch+json"

# (id, method, path inside the workspace, body, content type)
STRANGER_REQUESTS: list[tuple[str, str, str, Any, str]] = [
    ("get", "GET", f"{CM_PATH}/same", None, ""),
    ("list", "GET", CM_PATH, None, ""),
    ("list-all-namespaces", "GET", "/api/v1/configmaps", None, ""),
    ("watch", "GET", f"{CM_PATH}?watch=true", None, ""),
    ("watch-all-namespaces-from-0", "GET", "/api/v1/configmaps?watch=1&resourceVersion=0", None, ""),
    ("create", "POST", CM_PATH, configmap("intruder", {"owner": "stranger"}), ""),
    ("update", "PUT", f"{CM_PATH}/same", configmap("same", {"owner": "stranger"}), ""),
    ("patch", "PATCH", f"{CM_PATH}/same", {"data": {"owner": "stranger"}}, MERGE_PATCH),
    ("apply", "PATCH", f"{CM_PATH}/same?fieldManager=stranger", configmap("same", {"owner": "stranger"}),
     "application/apply-patch+yaml"),
    ("delete", "DELETE", f"{CM_PATH}/same", None, ""),
    ("deletecollection", "DELETE", CM_PATH, None, ""),
    ("get-secret", "GET", "/api/v1/namespaces/default/secrets/creds", None, ""),
    ("get-scale", "GET", "/apis/apps/v1/namespaces/default/deployments/web/scale", None, ""),
    ("update-scale", "PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale", _scale(5), ""),
    ("get-deployment-status", "GET", "/apis/apps/v1/namespaces/default/deployments/web/status", None, ""),
    ("patch-pod-status", "PATCH", "/api/v1/namespaces/default/pods/web/status", {"status": {}}, MERGE_PATCH),
    ("discovery-api", "GET", "/api", None, ""),
    ("discovery-apis", "GET", "/apis", None, ""),
    ("discovery-core-v1", "GET", "/api/v1", None, ""),
    ("discovery-apps-v1", "GET", "/apis/apps/v1", None, ""),
    ("openapi-v3", "GET", "/openapi/v3", None, ""),
    ("openapi-v3-core", "GET", "/openapi/v3/api/v1", None, ""),
    ("openapi-v2", "GET", "/openapi/v2", None, ""),
    ("get-namespace", "GET", "/api/v1/namespaces/default", None, ""),
    ("list-namespaces", "GET", "/api/v1/namespaces", None, ""),
    ("create-namespace", "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                        "metadata": {"name": "intruder"}}, ""),
    ("delete-namespace", "DELETE", "/api/v1/namespaces/default", None, ""),
    ("list-clusterrolebindings", "GET", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", None, ""),
    ("bind-self-cluster-admin", "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", _crb, ""),
    ("list-workspaces", "GET", f"/apis/{TENANCY}/workspaces", None, ""),
    ("create-workspace", "POST", f"/apis/{TENANCY}/workspaces", {"apiVersion": TENANCY, "kind": "Workspace",
                                                                  "metadata": {"name": "intruder"}}, ""),
    ("self-subject-access-review", "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
     {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
      "spec": {"resourceAttributes": {"verb": "get", "resource": "configmaps", "namespace": "default"}}}, ""),
]


@pytest.fixture(params=["bob-on-alice", "alice-on-bob"])
def stranger_and_owner(request: pytest.FixtureRequest, alice: Tenant, bob: Tenant) -> tuple[Tenant, Tenant]:
    return (bob, alice) if request.param == "bob-on-alice" else (alice, bob)


def no_access_message(user: str, workspace: str) -> str:
    return (f'User "{user}" cannot access workspace "{workspace}": it does not exist, or the user has no role in it; '
            "ask the workspace's owner for a RoleBinding")


@pytest.mark.parametrize(("method", "path", "body", "content_type"),
                         [pytest.param(*case[1:], id=case[0]) for case in STRANGER_REQUESTS])
def test_stranger_gets_403_and_no_data_for_every_verb(
    apiserver: ApiServer, stranger_and_owner: tuple[Tenant, Tenant], method: str, path: str, body: Any,
    content_type: str,
) -> None:
    stranger, owner = stranger_and_owner
    if callable(body):  # a body that names the stranger
        body = body(stranger.user)
    status, answer, _ = as_user(method, owner.url + path, stranger.token, apiserver, body,
                                content_type=content_type or "application/json", timeout=20)
    assert status == 403, answer
    assert assert_status(answer, 403, "Forbidden")["message"] == no_access_message(stranger.user, owner.workspace)
    assert owner.data not in text_of(answer) and owner.password not in text_of(answer)
    assert_untouched(owner)


def test_stranger_with_kubectl_is_told_forbidden(apiserver: ApiServer, alice: Tenant, tmp_path: Path) -> None:
    """bob holds a kubeconfig for alice's workspace (minted by the admin), but no role in it."""
    kubeconfig, _ = mint_kubeconfig(apiserver, alice.workspace, "bob", tmp_path / "bob-at-alice.kubeconfig")
    bob_there = Kubectl(kubeconfig, alice.workspace)
    cache = fresh_cache(tmp_path)

    # kubectl first reads discovery, which is refused too; it cannot decode that refusal and prints "Forbidden:
    # unknown" (as it would against kube-apiserver). `get --raw` skips discovery and shows the server's message.
    got = bob_there.run(*cache, "get", "cm", "same", "-o", "yaml", check=False)
    assert got.returncode == 1
    assert "Error from server (Forbidden)" in got.stderr
    assert alice.data not in got.stdout + got.stderr

    raw = bob_there.run(*cache, "get", "--raw", f"/clusters/{alice.workspace}{CM_PATH}/same", check=False)
    assert raw.returncode == 1
    assert raw.stderr.strip() == f"Error from server (Forbidden): {no_access_message('bob', alice.workspace)}"

    created = bob_there.run(*cache, "create", "configmap", "intruder", "--from-literal=a=b", check=False)
    assert created.returncode == 1
    assert created.stderr == f"error: failed to create configmap: {no_access_message('bob', alice.workspace)}\n"
    assert_untouched(alice)


# ---- 3. path tricks ----------------------------------------------------------------------------------------------

def raw_request(apiserver: ApiServer, method: str, path: str, *, token: str = "",
                headers: dict[str, str] | None = None) -> tuple[int, str]:
    """One request with `path` sent exactly as given (http.client does not normalise `..` or `//`)."""
    parts = urlsplit(apiserver.url)
    conn = HTTPSConnection(parts.hostname or "", parts.port, context=ca_only(apiserver), timeout=20)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        if token:
            conn.putheader("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


# (id, method, path): alice (her workspace {a}) reaching for bob's ConfigMap in his workspace {b}.
# {b_name}: bob's workspace without "root:"; {same}: the path of `same` inside a workspace.
PATH_TRICKS = [
    ("dotdot-after-workspace", "GET", "/clusters/{a}/../{b}{same}"),
    ("dotdot-inside-api", "GET", "/clusters/{a}/api/v1/../../../{b}{same}"),
    ("dotdot-after-name", "GET", "/clusters/{a}{same}/../../../../../../../{b}{same}"),
    ("dotdot-from-root", "GET", "/api/v1/../../clusters/{b}{same}"),
    ("dotdot-segment-in-workspace", "GET", "/clusters/{a}:..:{b_name}{same}"),
    ("encoded-dotdot", "GET", "/clusters/{a}/%2e%2e/{b}{same}"),
    ("encoded-slash-dotdot", "GET", "/clusters/{a}%2F..%2F{b}{same}"),
    ("encoded-slash-joining", "GET", "/clusters/{a}%2F{b}{same}"),
    ("encoded-slash-after", "GET", "/clusters/{b}%2Fapi%2Fv1/namespaces/default/configmaps/same"),
    ("encoded-colon", "GET", "/clusters/root%3A{b_name}{same}"),
    ("encoded-colon-lower", "GET", "/clusters/root%3a{b_name}{same}"),
    ("encoded-colon-nesting", "GET", "/clusters/{a}%3A{b}{same}"),
    ("double-slash-before-clusters", "GET", "//clusters/{b}{same}"),
    ("double-slash-before-workspace", "GET", "/clusters//{b}{same}"),
    ("double-slash-after-workspace", "GET", "/clusters/{b}/{same}"),
    ("upper-case", "GET", "/clusters/{b_upper}{same}"),
    ("upper-case-root-only", "GET", "/clusters/ROOT:{b_name}{same}"),
    ("wildcard", "GET", "/clusters/*/api/v1/configmaps"),
    ("wildcard-child", "GET", "/clusters/root:*/api/v1/configmaps"),
    ("wildcard-suffix", "GET", "/clusters/root:tb-*/api/v1/configmaps"),
    ("empty-workspace", "GET", "/clusters//api/v1/configmaps"),
    ("empty-workspace-namespaced", "GET", "/clusters/{same}"),
    ("empty-name", "GET", "/clusters/{b}" + CM_PATH + "/"),
    ("empty-name-delete", "DELETE", "/clusters/{b}" + CM_PATH + "/"),
    ("empty-namespace", "GET", "/clusters/{b}/api/v1/namespaces//configmaps/same"),
    ("overlong-name", "GET", "/clusters/{b}" + CM_PATH + "/" + "a" * 10_000),
    ("overlong-workspace", "GET", "/clusters/{b}:" + "a" * 10_000 + "/api/v1/configmaps"),
]


@pytest.mark.parametrize(("method", "path"), [pytest.param(*case[1:], id=case[0]) for case in PATH_TRICKS])
def test_path_tricks_never_reach_another_workspace(apiserver: ApiServer, alice: Tenant, bob: Tenant, method: str,
                                                    path: str) -> None:
    path = path.format(a=alice.workspace, b=bob.workspace, b_name=bob.workspace.removeprefix("root:"),
                       b_upper=bob.workspace.upper(), same=f"{CM_PATH}/same")
    status, text = raw_request(apiserver, method, path, token=alice.token)
    assert status in (400, 403, 404), (status, text[:500])
    assert bob.data not in text
    assert_untouched(bob)
    assert member_can_read(alice.url, alice.token, apiserver.ca_file)  # and the server keeps serving


@pytest.mark.parametrize(("query", "headers"), [
    pytest.param("?workspace={b}", {}, id="query-workspace"),
    pytest.param("?cluster={b}", {}, id="query-cluster"),
    pytest.param("", {"X-Workspace": "{b}"}, id="x-workspace"),
    pytest.param("", {"X-Kubernetes-Workspace": "{b}"}, id="x-kubernetes-workspace"),
    pytest.param("", {"X-Kubernetes-Cluster": "{b}"}, id="x-kubernetes-cluster"),
    pytest.param("", {"X-Remote-User": "bob", "X-Remote-Group": "system:masters"}, id="front-proxy-headers"),
])
def test_workspace_named_in_query_or_header_is_ignored(apiserver: ApiServer, alice: Tenant, bob: Tenant, query: str,
                                                       headers: dict[str, str]) -> None:
    """Only the path says which workspace a request is for: alice asking hers gets hers, never bob's."""
    headers = {k: v.format(b=bob.workspace) for k, v in headers.items()}
    status, body, _ = as_user("GET", f"{alice.url}{CM_PATH}/same{query.format(b=bob.workspace)}", alice.token,
                              apiserver, headers=headers)
    assert bob.data not in text_of(body)
    if status == 200:
        assert body["data"] == {"owner": alice.data}
    else:
        assert status in (400, 403), body


@pytest.mark.parametrize("headers", [
    pytest.param({"Impersonate-User": "bob"}, id="as-bob"),
    pytest.param({"Impersonate-User": "admin", "Impersonate-Group": "system:masters"}, id="as-system-masters"),
])
def test_impersonation_headers_without_rights_in_that_workspace_get_403(
    apiserver: ApiServer, alice: Tenant, bob: Tenant, headers: dict[str, str]
) -> None:
    """alice may impersonate in her own workspace, not in bob's: the check is made where the request goes."""
    status, body, _ = as_user("GET", f"{bob.url}{CM_PATH}/same", alice.token, apiserver, headers=headers)
    assert status == 403, body
    assert_status(body, 403, "Forbidden")
    assert bob.data not in text_of(body)


def test_front_proxy_headers_do_not_authenticate_anyone(apiserver: ApiServer, bob: Tenant) -> None:
    status, body, _ = http("GET", f"{bob.url}{CM_PATH}/same", tls=ca_only(apiserver),
                           headers={"X-Remote-User": "admin", "X-Remote-Group": "system:masters"})
    assert status == 401, body
    assert_status(body, 401, "Unauthorized")


# ---- 4. watches --------------------------------------------------------------------------------------------------

class Watch:
    """A raw HTTP watch, read event by event; a read that waits more than the deadline fails the test."""

    def __init__(self, apiserver: ApiServer, tenant: Tenant, query: str) -> None:
        parts = urlsplit(apiserver.url)
        self.conn = HTTPSConnection(parts.hostname or "", parts.port, context=ca_only(apiserver),
                                                timeout=20)
        self.conn.request("GET", f"/clusters/{tenant.workspace}/api/v1/configmaps?watch=1&{query}",
                          headers={"Authorization": f"Bearer {tenant.token}"})
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.read()
        self.events: list[dict[str, Any]] = []

    def until(self, event_type: str, name: str) -> dict[str, Any]:
        while True:
            line = self.response.readline()
            assert line, f"the watch ended before {event_type} {name}; events so far: {self.events}"
            event = json.loads(line)
            self.events.append(event)
            if event["type"] == event_type and event["object"].get("metadata", {}).get("name") == name:
                return event

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def watches(apiserver: ApiServer) -> Iterator[list[Watch]]:
    opened: list[Watch] = []
    yield opened
    for watch in opened:
        watch.close()


def churn(tenant: Tenant, name: str) -> None:
    """Create, update and delete a ConfigMap `name` in the tenant's workspace."""
    base = f"{tenant.url}{CM_PATH}"
    status, body, _ = http("POST", base, configmap(name, {"owner": tenant.data}))
    assert status == 201, body
    status, body, _ = http("PATCH", f"{base}/{name}", {"data": {"owner": tenant.data, "again": tenant.data}},
                           content_type=MERGE_PATCH)
    assert status == 200, body
    status, body, _ = http("DELETE", f"{base}/{name}")
    assert status == 200, body


def assert_only_own_events(watch: Watch, tenant: Tenant, other: Tenant) -> None:
    assert watch.events
    for event in watch.events:
        assert other.data not in json.dumps(event), event
        assert event["type"] in ("ADDED", "MODIFIED", "DELETED"), event
        assert (event["object"].get("data") or {}).get("owner") in (None, tenant.data), event


@pytest.fixture
def scratch(alice: Tenant) -> Iterator[str]:
    """A fresh ConfigMap name for a test to use in alice's workspace; whatever it made is gone afterwards, so the
    other tests still find only `same` there."""
    name = f"scratch-{secrets.token_hex(3)}"
    yield name
    status, body, _ = http("DELETE", f"{alice.url}{CM_PATH}/{name}")
    assert status in (200, 404), body


def test_watch_from_zero_never_carries_another_workspaces_events(
    apiserver: ApiServer, alice: Tenant, bob: Tenant, watches: list[Watch], scratch: str
) -> None:
    watch = Watch(apiserver, alice, "resourceVersion=0")
    watches.append(watch)
    watch.until("ADDED", "same")
    churn(bob, scratch)
    http("POST", f"{alice.url}{CM_PATH}", configmap(scratch, {"owner": alice.data}))
    added = watch.until("ADDED", scratch)  # bob's changes came first: had they leaked, they would be in `events`
    assert added["object"]["data"] == {"owner": alice.data}
    assert_only_own_events(watch, alice, bob)


def test_watch_from_a_later_resource_version_and_after_reconnecting_stays_in_its_workspace(
    apiserver: ApiServer, alice: Tenant, bob: Tenant, watches: list[Watch], scratch: str
) -> None:
    status, listed, _ = http("GET", f"{alice.url}{CM_PATH}", token=alice.token, tls=ca_only(apiserver))
    assert status == 200, listed
    churn(bob, scratch)

    first = Watch(apiserver, alice, f"resourceVersion={listed['metadata']['resourceVersion']}")
    watches.append(first)
    churn(bob, scratch)
    http("POST", f"{alice.url}{CM_PATH}", configmap(scratch, {"owner": alice.data}))
    added = first.until("ADDED", scratch)
    assert_only_own_events(first, alice, bob)
    assert [e["type"] for e in first.events] == ["ADDED"]
    first.close()

    churn(bob, scratch)  # while alice is disconnected
    again = Watch(apiserver, alice, f"resourceVersion={added['object']['metadata']['resourceVersion']}")
    watches.append(again)
    churn(bob, scratch)
    http("PATCH", f"{alice.url}{CM_PATH}/{scratch}", {"data": {"owner": alice.data, "n": "2"}},
         content_type=MERGE_PATCH)
    http("DELETE", f"{alice.url}{CM_PATH}/{scratch}")
    modified = again.until("MODIFIED", scratch)
    assert modified["object"]["data"] == {"owner": alice.data, "n": "2"}
    again.until("DELETED", scratch)
    assert_only_own_events(again, alice, bob)
    assert [e["type"] for e in again.events] == ["MODIFIED", "DELETED"]


def test_kubectl_get_watch_shows_only_own_changes(alice: Tenant, bob: Tenant, scratch: str) -> None:
    with kubectl_stream(alice.kubectl, "get", "cm", "-w", "-o", 'jsonpath={.metadata.name} {.data.owner}{"\\n"}'
                        ) as stream:
        assert stream.expect(lambda line: True) == f"same {alice.data}"
        churn(bob, scratch)
        churn(bob, f"{scratch}-bob")
        http("POST", f"{alice.url}{CM_PATH}", configmap(scratch, {"owner": alice.data}))
        stream.expect(lambda line: line.startswith(f"{scratch} "))
    assert stream.seen_stdout == [f"same {alice.data}", f"{scratch} {alice.data}"]


# ---- 5. lists and selectors --------------------------------------------------------------------------------------

def test_get_all_namespaces_lists_only_own_workspace(alice: Tenant, bob: Tenant) -> None:
    header, rows = table(alice.kubectl("get", "cm", "-A"))
    assert header[:2] == ["NAMESPACE", "NAME"]
    assert [row[:2] for row in rows] == [["default", "same"]]
    items = json.loads(alice.kubectl("get", "cm", "-A", "-o", "json"))["items"]
    assert [item["data"] for item in items] == [{"owner": alice.data}]
    secrets_listed = json.loads(alice.kubectl("get", "secrets", "-A", "-o", "json"))["items"]
    assert [item["metadata"]["name"] for item in secrets_listed] == ["creds"]
    assert bob.password not in base64.b64decode(secrets_listed[0]["data"]["password"]).decode()


@pytest.mark.parametrize("selector", [
    pytest.param(("-l", "tenancy-test=yes"), id="label-equals"),
    pytest.param(("-l", "tenancy-test"), id="label-exists"),
    pytest.param(("-l", "tenancy-test in (yes,no)"), id="label-set"),
    pytest.param(("--field-selector", "metadata.name=same"), id="field-name"),
    pytest.param(("--field-selector", "metadata.namespace=default"), id="field-namespace"),
    pytest.param(("--field-selector", "metadata.name=same,metadata.namespace=default"), id="field-both"),
])
def test_selectors_return_only_own_workspace_objects(alice: Tenant, bob: Tenant, selector: tuple[str, str]) -> None:
    for tenant, other in ((alice, bob), (bob, alice)):
        items = json.loads(tenant.kubectl("get", "cm", "-A", *selector, "-o", "json"))["items"]
        assert [(i["metadata"]["namespace"], i["metadata"]["name"], i["data"]) for i in items] == [
            ("default", "same", {"owner": tenant.data})
        ]
        assert other.data not in json.dumps(items)


# ---- 6. what strangers, anonymous callers and the admin are told ---------------------------------------------------

def test_nonexistent_workspace_and_one_without_a_role_look_the_same(apiserver: ApiServer, alice: Tenant,
                                                                     bob: Tenant) -> None:
    missing = f"root:tx-{secrets.token_hex(3)}"
    for path in (f"{CM_PATH}/same", "/api", "/apis/apps/v1", "/api/v1/namespaces"):
        status_existing, existing, _ = as_user("GET", f"{alice.url}{path}", bob.token, apiserver)
        status_missing, absent, _ = as_user("GET", f"{apiserver.url}/clusters/{missing}{path}", bob.token, apiserver)
        assert status_existing == status_missing == 403
        assert_status(existing, 403, "Forbidden")
        assert_status(absent, 403, "Forbidden")
        assert {**existing, "message": existing["message"].replace(alice.workspace, "WS")} == {
            **absent, "message": absent["message"].replace(missing, "WS")
        }


@pytest.mark.parametrize("path", ["{ws}/api/v1/namespaces/default/configmaps/same", "{ws}/api", "{ws}/apis",
                                  "{ws}/openapi/v3", "/api/v1/namespaces", "/apis", "/clusters/root:nope-x/api"])
def test_anonymous_requests_get_401(apiserver: ApiServer, alice: Tenant, path: str) -> None:
    url = apiserver.url + path.format(ws=f"/clusters/{alice.workspace}")
    status, body, _ = http("GET", url, tls=ca_only(apiserver))
    assert status == 401, body
    assert_status(body, 401, "Unauthorized")
    assert alice.data not in text_of(body)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/livez", "/version"])
def test_health_and_version_answer_without_credentials(apiserver: ApiServer, path: str) -> None:
    status, body, _ = http("GET", apiserver.url + path, tls=ca_only(apiserver))
    assert status == 200, body
    if path == "/version":
        assert "gitVersion" in body


def test_admin_gets_404_naming_a_workspace_that_does_not_exist(apiserver: ApiServer) -> None:
    missing = f"root:tx-{secrets.token_hex(3)}"
    status, body, _ = http("GET", f"{apiserver.url}/clusters/{missing}{CM_PATH}")
    assert status == 404, body
    assert f'"{missing}"' in assert_status(body, 404, "NotFound")["message"]


# ---- 7. bad credentials and bad input ----------------------------------------------------------------------------

def create_access_token(apiserver: ApiServer, user: str, *, expires: datetime | None = None) -> str:
    token = "canopy-test-" + secrets.token_urlsafe(24)
    spec: dict[str, Any] = {"user": user, "tokenHash": token_hash(token)}
    if expires is not None:
        spec["expirationTimestamp"] = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"apiVersion": TENANCY, "kind": "AccessToken", "metadata": {"generateName": "test-"}, "spec": spec}
    status, answer, _ = http("POST", f"{apiserver.url}/clusters/root/apis/{TENANCY}/accesstokens", body)
    assert status == 201, answer
    return token


@pytest.fixture(scope="module")
def expired_token(apiserver: ApiServer, alice: Tenant) -> str:
    expired = create_access_token(apiserver, "alice", expires=datetime.now(UTC) - timedelta(hours=1))
    # Created after the expired one: once it works, the server has seen the expired one too.
    current = create_access_token(apiserver, "alice", expires=datetime.now(UTC) + timedelta(hours=1))
    eventually(lambda: member_can_read(alice.url, current, apiserver.ca_file), what="the new token known")
    return expired


@pytest.fixture(params=["malformed", "unknown", "expired"])
def bad_token(request: pytest.FixtureRequest) -> str:
    if request.param == "malformed":
        return "not a token"
    if request.param == "unknown":
        return "canopy-" + secrets.token_urlsafe(32)
    return str(request.getfixturevalue("expired_token"))


def test_bad_bearer_token_gets_401_status(apiserver: ApiServer, alice: Tenant, bad_token: str) -> None:
    status, body, _ = as_user("GET", f"{alice.url}{CM_PATH}", bad_token, apiserver)
    assert status == 401, body
    assert_status(body, 401, "Unauthorized")
    assert alice.data not in text_of(body)


def test_expired_token_is_told_it_expired(apiserver: ApiServer, alice: Tenant, expired_token: str) -> None:
    _, body, _ = as_user("GET", f"{alice.url}{CM_PATH}", expired_token, apiserver)
    assert "expired" in assert_status(body, 401, "Unauthorized")["message"]


def test_kubectl_with_a_bad_token_must_log_in(alice: Tenant, bad_token: str, tmp_path: Path) -> None:
    config = yaml.safe_load(alice.kubeconfig.read_text())
    config["users"][0]["user"]["token"] = bad_token
    kubeconfig = tmp_path / "bad.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    result = Kubectl(kubeconfig, alice.workspace).run(*fresh_cache(tmp_path), "get", "cm", check=False)
    assert result.returncode == 1
    assert "error: You must be logged in to the server" in result.stderr
    assert alice.data not in result.stdout + result.stderr


def other_ca_client(tmp_path: Path, apiserver: ApiServer, version: ssl.TLSVersion) -> ssl.SSLContext:
    """A context trusting the server, presenting a certificate for `admin` from a CA the server does not know."""
    cert, key = CertificateAuthority(tmp_path / "other-ca").issue("admin", server=False)
    context = client_tls(apiserver.ca_file, cert, key)
    context.minimum_version = context.maximum_version = version
    return context


def test_client_certificate_from_another_ca_is_refused_at_the_tls_handshake(apiserver: ApiServer,
                                                                            tmp_path: Path) -> None:
    context = other_ca_client(tmp_path, apiserver, ssl.TLSVersion.TLSv1_2)
    parts = urlsplit(apiserver.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock, pytest.raises(ssl.SSLError):
        context.wrap_socket(sock, server_hostname=parts.hostname)
    status, body, _ = http("GET", f"{apiserver.url}/version")
    assert status == 200, body  # the server keeps serving


def test_client_certificate_from_another_ca_is_told_unknown_ca_over_tls13(apiserver: ApiServer, alice: Tenant,
                                                                          tmp_path: Path) -> None:
    """In TLS 1.3 the client finishes its handshake before the server checks its certificate: the server's alert
    (unknown CA) arrives when the client reads, instead of any HTTP answer."""
    context = other_ca_client(tmp_path, apiserver, ssl.TLSVersion.TLSv1_3)
    with pytest.raises(OSError, match=r"(?i)unknown.ca"):  # urllib's URLError wrapping the ssl.SSLError
        http("GET", f"{alice.url}{CM_PATH}", tls=context)
    assert member_can_read(alice.url, alice.token, apiserver.ca_file)  # the server keeps serving


@pytest.mark.parametrize("name", ["Team_A", "a.b", "-a", "a" * 64])
def test_workspace_with_an_invalid_name_is_422(apiserver: ApiServer, name: str) -> None:
    admin = Kubectl(apiserver.admin_kubeconfig, "root")
    manifest = to_yaml({"apiVersion": TENANCY, "kind": "Workspace", "metadata": {"name": name}})
    result = admin.run("apply", "-f", "-", input=manifest, check=False)
    assert result.returncode == 1
    assert f'The Workspace "{name}" is invalid: metadata.name: Invalid value: "{name}"' in result.stderr
    status, body, _ = http("POST", f"{apiserver.url}/clusters/root/apis/{TENANCY}/workspaces",
                           {"apiVersion": TENANCY, "kind": "Workspace", "metadata": {"name": name}})
    assert status == 422, body
    assert_status(body, 422, "Invalid")


def test_workspace_in_a_parent_that_does_not_exist_is_404(apiserver: ApiServer) -> None:
    parent = f"root:tx-{secrets.token_hex(3)}"
    status, body, _ = http("POST", f"{apiserver.url}/clusters/{parent}/apis/{TENANCY}/workspaces",
                           {"apiVersion": TENANCY, "kind": "Workspace", "metadata": {"name": "child"}})
    assert status == 404, body
    assert f'workspace "{parent}" does not exist' in assert_status(body, 404, "NotFound")["message"]

    result = canopy("workspace", "create", "child", "--parent", parent, "--owner", "alice", "--kubeconfig",
                    str(apiserver.admin_kubeconfig), check=False)
    assert result.returncode == 1
    assert f'workspace "{parent}" does not exist' in result.stderr


def workspace_names(apiserver: ApiServer) -> set[str]:
    status, body, _ = http("GET", f"{apiserver.url}/clusters/root/apis/{TENANCY}/workspaces")
    assert status == 200, body
    return {item["metadata"]["name"] for item in body["items"]}


@pytest.mark.parametrize("kind", ["missing", "not-yaml", "not-a-kubeconfig", "empty"])
def test_workspace_create_with_a_bad_admin_kubeconfig_fails_clearly(apiserver: ApiServer, tmp_path: Path,
                                                                    kind: str) -> None:
    path = tmp_path / "admin.kubeconfig"
    if kind == "not-yaml":
        path.write_text("clusters: [\n")
    elif kind == "not-a-kubeconfig":
        path.write_text("just a sentence\n")
    elif kind == "empty":
        path.write_text("")
    name = f"tz-{secrets.token_hex(3)}"
    result = canopy("workspace", "create", name, "--owner", "alice", "--kubeconfig", str(path), check=False)
    assert result.returncode == 1, result
    assert result.stderr.startswith("canopy: ") and str(path) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert name not in workspace_names(apiserver)


@pytest.mark.parametrize("workspace", ["team-a", "ROOT:team-a", "root:Team_A", "root:", "root::a", "root/a"])
def test_kubeconfig_for_an_invalid_workspace_path_is_a_usage_error(apiserver: ApiServer, tmp_path: Path,
                                                                    workspace: str) -> None:
    out = tmp_path / "u.kubeconfig"
    result = canopy("kubeconfig", "--kubeconfig", str(apiserver.admin_kubeconfig), "--workspace", workspace,
                    "--user", "u", "-o", str(out), check=False)
    assert result.returncode == 2
    assert "Usage:" in result.stderr
    assert f"Invalid value for '--workspace': \"{workspace}\" is not a workspace path" in result.stderr
    assert not out.exists()


# ---- 8. RBAC inside a workspace ----------------------------------------------------------------------------------

CAROL_CANNOT_CREATE = ('configmaps is forbidden: User "carol" cannot create resource "configmaps" in API group "" in '
                       'the namespace "default"')


def test_viewer_can_read_configmaps(carol: Kubectl, alice: Tenant) -> None:
    assert list(table_rows_by_name(carol("get", "cm"))) == ["same"]
    assert json.loads(carol("get", "cm", "same", "-o", "json"))["data"] == {"owner": alice.data}


def test_viewer_cannot_create(carol: Kubectl, alice: Tenant) -> None:
    result = carol.run("create", "-f", "-", input=to_yaml(configmap("by-carol")), check=False)
    assert result.returncode == 1
    assert result.stderr == f'Error from server (Forbidden): error when creating "STDIN": {CAROL_CANNOT_CREATE}\n'
    typed = carol.run("create", "configmap", "by-carol", "--from-literal=a=b", check=False)
    assert typed.returncode == 1
    assert CAROL_CANNOT_CREATE in typed.stderr
    assert_untouched(alice)


def test_viewer_cannot_read_secrets(carol: Kubectl, alice: Tenant) -> None:
    got = carol.run("get", "secret", "creds", "-o", "yaml", check=False)
    assert got.returncode == 1
    assert got.stderr == ('Error from server (Forbidden): secrets "creds" is forbidden: User "carol" cannot get '
                          'resource "secrets" in API group "" in the namespace "default"\n')
    assert alice.password not in got.stdout
    listed = carol.run("get", "secrets", check=False)
    assert listed.returncode == 1
    assert 'User "carol" cannot list resource "secrets"' in listed.stderr


def test_viewer_role_is_only_in_its_namespace(carol: Kubectl) -> None:
    result = carol.run("get", "cm", "-n", "kube-system", check=False)
    assert result.returncode == 1
    assert 'User "carol" cannot list resource "configmaps" in API group "" in the namespace "kube-system"' in (
        result.stderr
    )


def test_viewer_can_i(carol: Kubectl) -> None:
    assert carol("auth", "can-i", "get", "configmaps") == "yes\n"
    denied = carol.run("auth", "can-i", "create", "configmaps", check=False)
    assert denied.returncode == 1
    assert denied.stdout.split(" - ")[0].strip() == "no"
    header, *lines = carol("auth", "can-i", "--list").splitlines()
    assert cells(header) == ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]
    verbs = {cells(line)[0]: cells(line)[-1] for line in lines if not line.startswith(" ")}
    assert verbs["configmaps"] == "[get list watch]"
    assert "secrets" not in verbs


# ---- 9. impersonation --------------------------------------------------------------------------------------------

def test_owner_can_act_as_a_viewer(alice: Tenant, carol: Kubectl) -> None:
    assert list(table_rows_by_name(alice.kubectl("--as", "carol", "get", "cm"))) == ["same"]
    result = alice.kubectl.run("--as", "carol", "create", "-f", "-", input=to_yaml(configmap("as-carol")),
                               check=False)
    assert result.returncode == 1
    assert result.stderr == f'Error from server (Forbidden): error when creating "STDIN": {CAROL_CANNOT_CREATE}\n'
    assert_untouched(alice)


def test_viewer_cannot_impersonate(carol: Kubectl, alice: Tenant) -> None:
    result = carol.run("--as", "alice", "get", "cm", "same", "-o", "yaml", check=False)
    assert result.returncode == 1
    assert result.stderr == ('Error from server (Forbidden): users "alice" is forbidden: User "carol" cannot '
                             'impersonate resource "users" in API group "" at the cluster scope\n')
    groups = carol.run("--as", "carol", "--as-group", "system:masters", "get", "secrets", check=False)
    assert groups.returncode == 1
    assert 'User "carol" cannot impersonate resource' in groups.stderr
    assert alice.password not in groups.stdout


def test_stranger_cannot_impersonate_in_another_workspace(apiserver: ApiServer, alice: Tenant, bob: Tenant) -> None:
    status, body, _ = as_user("GET", f"{alice.url}{CM_PATH}/same", bob.token, apiserver,
                              headers={"Impersonate-User": "alice"})
    assert status == 403, body
    assert assert_status(body, 403, "Forbidden")["message"] == no_access_message("bob", alice.workspace)
    assert alice.data not in text_of(body)


# ---- 10. audit log -----------------------------------------------------------------------------------------------

def audit_lines(apiserver: ApiServer) -> list[dict[str, Any]]:
    path = apiserver.data_dir / "audit.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def find_audit(apiserver: ApiServer, **fields: Any) -> dict[str, Any] | None:
    return next((line for line in audit_lines(apiserver) if all(line.get(k) == v for k, v in fields.items())), None)


def test_audit_log_records_who_did_what_where(apiserver: ApiServer, alice: Tenant, bob: Tenant, scratch: str
                                             ) -> None:
    status, body, _ = as_user("POST", f"{alice.url}{CM_PATH}", alice.token, apiserver, configmap(scratch))
    assert status == 201, body
    assert as_user("GET", f"{alice.url}{CM_PATH}/{scratch}", alice.token, apiserver)[0] == 200
    assert as_user("GET", f"{alice.url}{CM_PATH}/{scratch}", bob.token, apiserver)[0] == 403

    where = {"workspace": alice.workspace, "resource": "configmaps", "namespace": "default"}
    got = eventually(lambda: find_audit(apiserver, user="alice", verb="get", name=scratch, **where),
                     what="alice's get in the audit log")
    assert got["code"] == 200
    created = eventually(lambda: find_audit(apiserver, user="alice", verb="create", code=201, **where),
                         what="alice's create in the audit log")
    assert created["method"] == "POST"
    refused = eventually(lambda: find_audit(apiserver, user="bob", verb="get", name=scratch, **where),
                         what="bob's refused get in the audit log")
    assert refused["code"] == 403


def test_audit_log_names_the_object_a_create_made(apiserver: ApiServer, alice: Tenant, scratch: str) -> None:
    """As kube-apiserver's audit does (objectRef.name from the object in the request body)."""
    status, body, _ = as_user("POST", f"{alice.url}{CM_PATH}", alice.token, apiserver, configmap(scratch))
    assert status == 201, body
    assert as_user("GET", f"{alice.url}{CM_PATH}/{scratch}", alice.token, apiserver)[0] == 200
    # The get is logged after the create: once it is in the file, so is the create.
    eventually(lambda: find_audit(apiserver, user="alice", workspace=alice.workspace, verb="get", name=scratch),
               what="alice's get in the audit log")
    line = find_audit(apiserver, user="alice", workspace=alice.workspace, verb="create", resource="configmaps",
                      name=scratch)
    creates = [entry for entry in audit_lines(apiserver) if entry.get("verb") == "create"
               and entry.get("user") == "alice" and entry.get("resource") == "configmaps"]
    assert line is not None and line["code"] == 201, f"no create line naming {scratch}; create lines: {creates}"


def test_audit_log_holds_no_secret_values(apiserver: ApiServer, alice: Tenant, bob: Tenant) -> None:
    assert as_user("GET", f"{alice.url}/api/v1/namespaces/default/secrets/creds", alice.token, apiserver)[0] == 200
    eventually(lambda: find_audit(apiserver, user="alice", resource="secrets", name="creds"),
               what="the secret read in the audit log")
    text = (apiserver.data_dir / "audit.log").read_text()
    for tenant in (alice, bob):
        assert tenant.password not in text
        assert base64.b64encode(tenant.password.encode()).decode() not in text


# ---- 11. Secrets at rest -----------------------------------------------------------------------------------------

def etcd_get(etcd: Etcd, key: str) -> bytes | None:
    async def read() -> bytes | None:
        storage = EtcdStorage([etcd.endpoint])  # no encryption configured: values exactly as stored
        await storage.connect()
        try:
            kv = await storage.get(key)
            return kv.value if kv else None
        finally:
            await storage.close()

    return asyncio.run(read())


def test_secrets_are_encrypted_in_etcd_and_read_back_decoded(etcd: Etcd, alice: Tenant) -> None:
    stored = etcd_get(etcd, f"{ROOT}{alice.workspace}/core/secrets/default/creds")
    assert stored is not None
    assert stored.startswith(b"k8s:enc:aesgcm:v1:")
    assert alice.password.encode() not in stored
    assert base64.b64encode(alice.password.encode()) not in stored
    assert b"creds" not in stored  # not even the object's name is in the clear

    value = alice.kubectl("get", "secret", "creds", "-o", "jsonpath={.data.password}")
    assert base64.b64decode(value).decode() == alice.password


def test_configmaps_are_not_encrypted(etcd: Etcd, alice: Tenant) -> None:
    stored = etcd_get(etcd, f"{ROOT}{alice.workspace}/core/configmaps/default/same")
    assert stored is not None and alice.data.encode() in stored


# ---- 12. deleting a workspace ------------------------------------------------------------------------------------

def test_deleting_a_workspace_removes_everything_and_shuts_its_owner_out(
    apiserver: ApiServer, etcd: Etcd, tmp_path: Path
) -> None:
    workspace = create_workspace(apiserver, f"td-{SUFFIX}", "dave")
    child = create_workspace(apiserver, "sub", "dave", parent=workspace)
    kubeconfig, token = mint_kubeconfig(apiserver, workspace, "dave", tmp_path / "dave.kubeconfig")
    url = f"{apiserver.url}/clusters/{workspace}"
    eventually(lambda: member_can_read(url, token, apiserver.ca_file), what="dave can use his workspace")
    dave = Kubectl(kubeconfig, workspace)
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}
    dave("apply", "-f", "-", input=to_yaml(configmap("c", {"k": "v"}), secret))
    assert etcd_keys(etcd, f"{ROOT}{workspace}/") and etcd_keys(etcd, f"{ROOT}{child}/")

    result = canopy("workspace", "delete", workspace, "--kubeconfig", str(apiserver.admin_kubeconfig))
    assert result.stdout == f"workspace {workspace} deleted\n"

    assert etcd_keys(etcd, f"{ROOT}{workspace}/") == []
    assert etcd_keys(etcd, f"{ROOT}{workspace}:") == []

    def owner_refused() -> tuple[int, Any] | None:
        status, body, _ = as_user("GET", f"{url}{CM_PATH}", token, apiserver)
        return (status, body) if status == 403 else None

    _, body = eventually(owner_refused, what="the owner refused in the deleted workspace")
    assert assert_status(body, 403, "Forbidden")["message"] == no_access_message("dave", workspace)

    def admin_told_missing() -> dict[str, Any] | None:
        status, body, _ = http("GET", f"{url}{CM_PATH}")
        return body if status == 404 else None

    missing = eventually(admin_told_missing, what="404 for the admin in the deleted workspace")
    assert f'"{workspace}" does not exist' in assert_status(missing, 404, "NotFound")["message"]
    assert workspace.removeprefix("root:") not in workspace_names(apiserver)

