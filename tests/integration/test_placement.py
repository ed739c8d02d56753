"""Clusters and Placements (issue 5, the control plane's side): the platform admin registers clusters in root and
says which workspaces may use them; a tenant places its workloads with a Placement and sees, with kubectl alone,
where they go and why not elsewhere — and never a cluster it may not use.

The heartbeats a syncer would send are faked by a thread patching `status.lastHeartbeatTime`. The server of this
module is its own (with its embedded etcd, so that it is the one running the controllers) and is started with short
heartbeat thresholds, so that a silent cluster turns unhealthy and leaves its placements in moments; no assertion
depends on how long that takes. Every Cluster here allows named workspaces only (`root:*` is unit-tested), so that
the tests' workspaces see only their own.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.placement import set_condition
from tests.conftest import ApiServer, Kubectl
from tests.integration.support import canopy, eventually, http, mint, standalone_server, table, table_rows_by_name

HEARTBEAT_THRESHOLD = 3.0
UNHEALTHY_GRACE = 1.5
WORKLOAD = "workload.canopy.dev/v1alpha1"

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with standalone_server(tmp_path_factory.mktemp("placement-server"), "--cluster-heartbeat-threshold",
                           str(HEARTBEAT_THRESHOLD), "--cluster-unhealthy-grace", str(UNHEALTHY_GRACE)) as server:
        yield server


@pytest.fixture(scope="module")
def admin(server: ApiServer) -> Kubectl:
    return Kubectl(server.admin_kubeconfig, "root")


class Heartbeats:
    """What the syncers of the test's clusters would send: a heartbeat every few hundred milliseconds."""

    def __init__(self, server: ApiServer) -> None:
        self.server = server
        self.beating: set[str] = set()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(0.2):
            for name in list(self.beating):
                now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                url = f"{self.server.url}/clusters/root/apis/{WORKLOAD}/clusters/{name}/status"
                http("PATCH", url, {"status": {"lastHeartbeatTime": now}}, content_type="application/merge-patch+json")


@pytest.fixture(scope="module")
def beating(server: ApiServer) -> Iterator[Heartbeats]:
    beats = Heartbeats(server)
    beats.thread.start()
    yield beats
    beats.stopped.set()
    beats.thread.join()


@pytest.fixture
def heartbeats(beating: Heartbeats) -> Iterator[Heartbeats]:
    """The heartbeats of one test's clusters, which fall silent after it (each test makes its own clusters)."""
    yield beating
    beating.beating.clear()


def suffix() -> str:
    """A random part of names and label values (a letter first: kubectl would read `1e5432` as a number)."""
    return f"x{secrets.token_hex(3)}"


def register(admin: Kubectl, heartbeats: Heartbeats, name: str, labels: dict[str, str], allowed: list[str]) -> None:
    """A Cluster as the admin registers it, whose syncer then reports: version, nodes, Ready, heartbeats."""
    cluster = {"apiVersion": WORKLOAD, "kind": "Cluster", "metadata": {"name": name, "labels": labels},
               "spec": {"allowedWorkspaces": allowed}}
    admin("apply", "-f", "-", input=json.dumps(cluster))
    heartbeats.beating.add(name)

    def report() -> bool:
        """What a syncer does: read, set its fields and its own condition, write back guarded by resourceVersion."""
        obj = json.loads(admin("get", "cluster", name, "-o", "json"))
        status = obj.get("status") or {}
        status.update(kubernetesVersion="v1.32.0+k3s1", nodes=3, capacity={"cpu": "12", "memory": "24Gi"},
                      allocatable={"cpu": "11500m", "memory": "23Gi"})
        status["conditions"] = set_condition(status.get("conditions"), "Ready", "True", "SyncerReady",
                                             "the syncer reaches the cluster",
                                             datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        obj["status"] = status
        result = admin.run("replace", "--subresource=status", "-f", "-", input=json.dumps(obj), check=False)
        assert result.returncode == 0 or "Conflict" in result.stderr, result.stderr
        return result.returncode == 0

    eventually(report, what=f"cluster {name} reporting")


def tenant(server: ApiServer, tmp_path: Path) -> Kubectl:
    """A workspace owned by a tenant, and the tenant's kubectl in it."""
    name, user = f"t-{suffix()}", f"alice-{suffix()}"
    canopy("workspace", "create", name, "--parent", "root", "--owner", user, "--kubeconfig",
           str(server.admin_kubeconfig))
    kubectl = mint(server, f"root:{name}", user, tmp_path / f"{user}.kubeconfig")
    eventually(lambda: kubectl.run("get", "placements", check=False).returncode == 0, what=f"{user} in root:{name}")
    return kubectl


def place(kubectl: Kubectl, name: str, **spec: Any) -> None:
    placement = {"apiVersion": WORKLOAD, "kind": "Placement", "metadata": {"name": name}, "spec": spec}
    kubectl("apply", "-f", "-", input=json.dumps(placement))


def placement(kubectl: Kubectl, name: str) -> dict[str, Any]:
    return yaml.safe_load(kubectl("get", "placement", name, "-o", "yaml"))


def chosen(kubectl: Kubectl, name: str) -> str:
    return table_rows_by_name(kubectl("get", "placements"))[name]["CLUSTERS"]


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or () if c["type"] == kind), {})


def served(admin: Kubectl, cluster: str) -> dict[str, list[str]]:
    """{workspace: namespaces} the Cluster's status says it serves."""
    obj = json.loads(admin("get", "cluster", cluster, "-o", "json"))
    return {e["workspace"]: e["namespaces"] for e in (obj.get("status") or {}).get("workspaces") or ()}


# ---- the admin's clusters ---------------------------------------------------------------------------------------

def test_the_admin_sees_clusters_with_ready_version_and_nodes(admin: Kubectl, heartbeats: Heartbeats) -> None:
    name = f"edge-{suffix()}"
    register(admin, heartbeats, name, {"region": "eu"}, [])

    def row() -> dict[str, str] | None:
        found = table_rows_by_name(admin("get", "clusters", "-o", "wide")).get(name)
        return found if found and found["HEARTBEAT"] == "True" else None

    shown = eventually(row, what=f"{name} heartbeating")
    assert shown["READY"] == "True" and shown["VERSION"] == "v1.32.0+k3s1" and shown["NODES"] == "3"
    header, _ = table(admin("get", "clusters"))
    assert header == ["NAME", "READY", "VERSION", "NODES", "AGE"]


def test_a_cluster_outside_root_is_refused(server: ApiServer, tmp_path: Path) -> None:
    kubectl = tenant(server, tmp_path)
    cluster = {"apiVersion": WORKLOAD, "kind": "Cluster", "metadata": {"name": "mine"}}
    result = kubectl.run("create", "-f", "-", input=json.dumps(cluster), check=False)
    assert result.returncode != 0
    assert "Error from server (Forbidden)" in result.stderr
    assert "Clusters live in the root workspace" in result.stderr and "platform admin" in result.stderr
    assert "No resources found" in kubectl.run("get", "clusters").stderr


def test_tenants_cannot_read_the_clusters_in_root(server: ApiServer, tmp_path: Path) -> None:
    kubectl = tenant(server, tmp_path)
    result = kubectl.run("--server", f"{server.url}/clusters/root", "get", "clusters", check=False)
    assert result.returncode != 0 and "Forbidden" in result.stderr


def test_edit_and_view_cover_placements_but_never_clusters(server: ApiServer, tmp_path: Path) -> None:
    owner = tenant(server, tmp_path)
    editor, viewer = f"bob-{suffix()}", f"carol-{suffix()}"
    owner("create", "clusterrolebinding", "bob-edit", "--clusterrole=edit", f"--user={editor}")
    owner("create", "clusterrolebinding", "carol-view", "--clusterrole=view", f"--user={viewer}")
    bob = mint(server, owner.workspace, editor, tmp_path / "bob.kubeconfig")
    carol = mint(server, owner.workspace, viewer, tmp_path / "carol.kubeconfig")

    def can(kubectl: Kubectl, verb: str, resource: str) -> str:
        return kubectl.run("auth", "can-i", verb, resource, check=False).stdout.strip()

    assert [can(bob, verb, "placements") for verb in ("create", "delete", "list")] == ["yes", "yes", "yes"]
    assert [can(carol, verb, "placements") for verb in ("get", "watch", "create")] == ["yes", "yes", "no"]
    assert [can(bob, "get", "clusters"), can(carol, "list", "clusters")] == ["no", "no"]
    place(bob, "by-bob")
    assert "by-bob" in carol("get", "placements")


# ---- a tenant's placement ---------------------------------------------------------------------------------------

def test_a_placement_chooses_the_selected_clusters_and_explains_the_others(
    server: ApiServer, admin: Kubectl, heartbeats: Heartbeats, tmp_path: Path
) -> None:
    kubectl = tenant(server, tmp_path)
    s = suffix()
    eu1, eu2, us1, hidden = f"eu-1-{s}", f"eu-2-{s}", f"us-1-{s}", f"hidden-{s}"
    register(admin, heartbeats, eu1, {"region": "eu", "run": s}, ["root:someone-else", kubectl.workspace])
    register(admin, heartbeats, eu2, {"region": "eu", "run": s}, [kubectl.workspace])
    register(admin, heartbeats, us1, {"region": "us", "run": s}, [kubectl.workspace])
    register(admin, heartbeats, hidden, {"region": "eu", "run": s}, ["root:someone-else"])
    place(kubectl, "eu", clusterSelector={"matchLabels": {"region": "eu", "run": s}})

    assert eventually(lambda: chosen(kubectl, "eu") == f"{eu1},{eu2}", what="eu-1 and eu-2 chosen")
    header, _ = table(kubectl("get", "placements"))
    assert header == ["NAME", "CLUSTERS", "AGE"]
    shown = kubectl("get", "placement", "eu", "-o", "yaml")
    assert hidden not in shown
    status = yaml.safe_load(shown)["status"]
    assert status["chosenClusters"] == [eu1, eu2]
    why = {c["name"]: c for c in status["clusters"] if c["name"] in (eu1, eu2, us1)}
    assert {n: (c["chosen"], c["reason"]) for n, c in why.items()} == {
        eu1: (True, "Chosen"), eu2: (True, "Chosen"), us1: (False, "NotSelected")
    }
    assert f"run={s}" in why[us1]["message"] and "region=us" in why[us1]["message"]
    ready = condition(yaml.safe_load(shown), "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Placed")
    assert hidden not in kubectl("describe", "placement", "eu")


def test_a_workspace_no_cluster_allows_is_told_to_ask_the_admin(server: ApiServer, tmp_path: Path) -> None:
    kubectl = tenant(server, tmp_path)
    place(kubectl, "anywhere", clusterSelector={"matchLabels": {"region": "nowhere"}})
    ready = eventually(lambda: condition(placement(kubectl, "anywhere"), "Ready"), what="a Ready condition")
    assert (ready["status"], ready["reason"]) == ("False", "NoClusterAvailable")
    assert "allowedWorkspaces" in ready["message"]
    assert placement(kubectl, "anywhere")["status"]["chosenClusters"] == []


def test_clusters_list_the_workspaces_and_namespaces_placed_on_them(
    server: ApiServer, admin: Kubectl, heartbeats: Heartbeats, tmp_path: Path
) -> None:
    kubectl = tenant(server, tmp_path)
    s = suffix()
    shop, other = f"shop-{s}", f"other-{s}"
    register(admin, heartbeats, shop, {"tier": "shop", "run": s}, [kubectl.workspace])
    register(admin, heartbeats, other, {"tier": "batch", "run": s}, [kubectl.workspace])
    kubectl("create", "namespace", "storefront")
    kubectl("label", "namespace", "storefront", "team=shop")
    place(kubectl, "shop", clusterSelector={"matchLabels": {"tier": "shop"}},
          namespaceSelector={"matchLabels": {"team": "shop"}}, replicas="Duplicated")

    assert eventually(lambda: served(admin, shop).get(kubectl.workspace) == ["storefront"],
                      what=f"{shop} serving storefront")
    assert kubectl.workspace not in served(admin, other)
    assert placement(kubectl, "shop")["status"]["namespaces"] == ["storefront"]

    kubectl("create", "namespace", "checkout")
    kubectl("label", "namespace", "checkout", "team=shop")
    assert eventually(lambda: served(admin, shop).get(kubectl.workspace) == ["checkout", "storefront"],
                      what="a newly labelled namespace placed too")

    kubectl("delete", "placement", "shop")
    assert eventually(lambda: kubectl.workspace not in served(admin, shop), what=f"{shop} no longer serving")


def test_a_silent_cluster_turns_unhealthy_leaves_after_the_grace_and_comes_back(
    server: ApiServer, admin: Kubectl, heartbeats: Heartbeats, tmp_path: Path
) -> None:
    kubectl = tenant(server, tmp_path)
    s = suffix()
    steady, flaky = f"steady-{s}", f"flaky-{s}"
    register(admin, heartbeats, steady, {"run": s}, [kubectl.workspace])
    register(admin, heartbeats, flaky, {"run": s}, [kubectl.workspace])
    place(kubectl, "both", clusterSelector={"matchLabels": {"run": s}})
    assert eventually(lambda: chosen(kubectl, "both") == f"{flaky},{steady}", what="both chosen")
    assert eventually(lambda: kubectl.workspace in served(admin, flaky), what=f"{flaky} serving the workspace")

    heartbeats.beating.discard(flaky)

    def missed() -> dict[str, Any] | None:
        found = condition(json.loads(admin("get", "cluster", flaky, "-o", "json")), "HeartbeatHealthy")
        return found if found.get("status") == "False" else None

    health = eventually(missed, what=f"{flaky} HeartbeatHealthy=False")
    assert health["reason"] == "HeartbeatMissed"
    assert "no heartbeat since" in health["message"] and f"syncer of cluster {flaky}" in health["message"]
    assert table_rows_by_name(admin("get", "clusters", "-o", "wide"))[flaky]["HEARTBEAT"] == "False"

    assert eventually(lambda: chosen(kubectl, "both") == steady, what=f"{flaky} out of the placement")
    why = {c["name"]: c for c in placement(kubectl, "both")["status"]["clusters"]}
    assert (why[flaky]["chosen"], why[flaky]["reason"]) == (False, "Unhealthy")
    assert "HeartbeatMissed" in why[flaky]["message"]
    assert eventually(lambda: kubectl.workspace not in served(admin, flaky), what=f"{flaky} no longer serving")
    assert kubectl.workspace in served(admin, steady)

    heartbeats.beating.add(flaky)
    assert eventually(lambda: chosen(kubectl, "both") == f"{flaky},{steady}", what=f"{flaky} back")
    assert eventually(lambda: kubectl.workspace in served(admin, flaky), what=f"{flaky} serving again")
    healthy = condition(json.loads(admin("get", "cluster", flaky, "-o", "json")), "HeartbeatHealthy")
    assert (healthy["status"], healthy["reason"]) == ("True", "HeartbeatReceived")


def test_no_status_is_rewritten_when_nothing_changed(
    server: ApiServer, admin: Kubectl, heartbeats: Heartbeats, tmp_path: Path
) -> None:
    kubectl = tenant(server, tmp_path)
    s = suffix()
    register(admin, heartbeats, f"calm-{s}", {"run": s}, [kubectl.workspace])
    place(kubectl, "calm", clusterSelector={"matchLabels": {"run": s}})
    eventually(lambda: chosen(kubectl, "calm") == f"calm-{s}", what="the cluster chosen")
    before = placement(kubectl, "calm")
    # Heartbeats keep coming and the controllers keep looking; the placement's status stays as it was written.
    time.sleep(HEARTBEAT_THRESHOLD * 2)
    after = placement(kubectl, "calm")
    assert after == before
