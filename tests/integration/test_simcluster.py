"""`canopy simcluster`: a simulated K3s cluster that kubectl and the official client see as a cluster with nodes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config

from controlplane.etcd_embedded import free_port
from tests.conftest import Kubectl, client_tls
from tests.integration.support import eventually, table_rows_by_name


@dataclass
class SimCluster:
    kubectl: Kubectl
    data_dir: Path


@pytest.fixture(scope="module")
def simcluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimCluster]:
    data_dir = tmp_path_factory.mktemp("simcluster")
    port = free_port()
    log = (data_dir / "simcluster.log").open("wb")
    # A cluster of its own: its embedded etcd, as `canopy simcluster` starts by default.
    process = subprocess.Popen(
        [sys.executable, "-m", "controlplane.cli", "simcluster", "--name", "edge-1", "--data-dir", str(data_dir),
         "--port", str(port), "--nodes", "3", "--node-memory", "4Gi", "--time-scale", "0.001"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    kubeconfig = data_dir / "kubeconfig"
    try:
        deadline = time.monotonic() + 60
        while not kubeconfig.exists():
            assert process.poll() is None, (data_dir / "simcluster.log").read_text()
            assert time.monotonic() < deadline, (data_dir / "simcluster.log").read_text()
            time.sleep(0.1)
        kubectl = Kubectl(kubeconfig, "root")

        def all_nodes_ready() -> bool:
            listed = kubectl.run("get", "nodes", "--no-headers", check=False).stdout.splitlines()
            return len(listed) == 3 and all(line.split()[1] == "Ready" for line in listed)

        # The kubeconfig is written as soon as the API serves; the kubelets register their nodes right after.
        eventually(all_nodes_ready, what="three Ready nodes")
        yield SimCluster(kubectl, data_dir)
    finally:
        process.terminate()
        process.wait(timeout=30)


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
