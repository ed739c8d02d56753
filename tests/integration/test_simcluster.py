"""`canopy simcluster`: a simulated K3s cluster that kubectl and the official client see as a cluster with nodes."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from tests.conftest import client_tls
from tests.integration.simsupport import SimCluster, simulated_cluster
from tests.integration.support import eventually, table_rows_by_name


@pytest.fixture(scope="module")
def simcluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimCluster]:
    with simulated_cluster(tmp_path_factory.mktemp("simcluster")) as cluster:
        yield cluster


def test_kubectl_sees_a_k3s_like_cluster_with_its_nodes(simcluster: SimCluster) -> None:
    rows = table_rows_by_name(simcluster.kubectl("get", "nodes"))
    assert set(rows) == {"edge-1-server-0", "edge-1-agent-0", "edge-1-agent-1"}
    assert rows["edge-1-server-0"]["ROLES"] == "control-plane,master"
    assert {row["STATUS"] for row in rows.values()} == {"Ready"}
    assert {row["VERSION"] for row in rows.values()} == {"v1.32.4+k3s1"}
    described = simcluster.kubectl("describe", "node", "edge-1-agent-0")
    assert "KubeletReady                 kubelet is posting ready status" in described
    assert "memory:             4Gi" in described


def test_its_kubeconfig_points_at_the_cluster_itself(simcluster: SimCluster) -> None:
    kubeconfig = simcluster.data_dir / "kubeconfig"
    server = json.loads(simcluster.kubectl("config", "view", "-o", "json"))["clusters"][0]["cluster"]["server"]
    assert "/clusters/" not in server
    with urllib.request.urlopen(f"{server}/version", context=client_tls(simcluster.data_dir / "pki" / "ca.crt")) as r:
        assert json.loads(r.read())["gitVersion"].startswith("v1.32")
    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        names = sorted(n.metadata.name for n in client.CoreV1Api(api).list_node().items)
    finally:
        api.close()
    assert names == ["edge-1-agent-0", "edge-1-agent-1", "edge-1-server-0"]


def test_it_serves_kubernetes_kinds_only(simcluster: SimCluster) -> None:
    resources = simcluster.kubectl("api-resources", "-o", "name").split()
    assert "nodes" in resources and "deployments.apps" in resources
    assert not [r for r in resources if r.endswith(".tenancy.canopy.dev")]


def test_kubelets_post_heartbeats(simcluster: SimCluster) -> None:
    def heartbeat() -> str:
        return simcluster.kubectl(
            "get", "node", "edge-1-agent-1", "-o",
            'jsonpath={.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}',
        )

    first = heartbeat()
    eventually(lambda: heartbeat() != first, what="a newer heartbeat")  # every 300 s x 0.001


def test_every_kubelet_renews_its_node_lease(simcluster: SimCluster) -> None:
    rows = table_rows_by_name(simcluster.kubectl("get", "leases", "-n", "kube-node-lease"))
    assert {name: row["HOLDER"] for name, row in rows.items()} == {
        "edge-1-server-0": "edge-1-server-0", "edge-1-agent-0": "edge-1-agent-0", "edge-1-agent-1": "edge-1-agent-1",
    }
    described = simcluster.kubectl("describe", "node", "edge-1-server-0")
    assert "HolderIdentity:  edge-1-server-0" in described

    def renewed() -> str:
        return simcluster.kubectl("get", "lease", "-n", "kube-node-lease", "edge-1-server-0", "-o",
                                  "jsonpath={.spec.renewTime}")

    first = renewed()
    eventually(lambda: renewed() != first, what="a renewed lease")  # every 10 s x 0.001


def test_a_restarted_cluster_restarts_its_pods_as_after_a_reboot(tmp_path: Path) -> None:
    manifest = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
        "spec:\n  containers:\n  - {name: web, image: nginx:1.27}\n"
    )

    def running(cluster: SimCluster) -> dict[str, Any] | None:
        pod = json.loads(cluster.kubectl("get", "pod", "web", "-o", "json"))
        statuses = pod["status"].get("containerStatuses") or [{}]
        return pod if "running" in statuses[0].get("state", {}) else None

    with simulated_cluster(tmp_path, nodes=1, time_scale=0.01) as cluster:
        cluster.kubectl("apply", "-f", "-", input=manifest)
        first = eventually(lambda: running(cluster), what="web running")
    with simulated_cluster(tmp_path, nodes=1, time_scale=0.01) as cluster:
        again = eventually(lambda: (p := running(cluster)) and p["status"]["containerStatuses"][0]["restartCount"]
                           and p, what="web running again")
        status = again["status"]["containerStatuses"][0]
        assert status["restartCount"] == 1
        last = status["lastState"]["terminated"]
        assert (last["reason"], last["exitCode"]) == ("Unknown", 255)
        assert last["containerID"] == first["status"]["containerStatuses"][0]["containerID"]
        assert status["containerID"] != last["containerID"]
