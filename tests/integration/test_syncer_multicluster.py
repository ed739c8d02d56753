"""One tenant, two clusters: a Placement divides the replicas; when a cluster's syncer goes silent its share moves to
the other cluster after the grace period, and comes back when it reports again. Every part is a real process; the
control plane runs with short heartbeat thresholds so that this takes seconds (no assertion depends on how long).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ApiServer, Kubectl
from tests.integration.simsupport import SimCluster, simulated_cluster
from tests.integration.support import canopy, eventually, mint, standalone_server

WAIT = 90.0


@dataclass
class Fleet:
    server: ApiServer
    clusters: dict[str, SimCluster]
    kubeconfigs: dict[str, Path]
    base: Path
    syncers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start_syncer(self, name: str) -> None:
        with (self.base / f"{name}-syncer.log").open("ab") as out:
            self.syncers[name] = subprocess.Popen(
                [sys.executable, "-m", "controlplane.cli", "syncer", "--cluster", name, "--kubeconfig",
                 str(self.kubeconfigs[name]), "--cluster-kubeconfig", str(self.clusters[name].kubeconfig),
                 "--heartbeat-seconds", "0.5"],
                stdout=out, stderr=subprocess.STDOUT,
            )

    def stop_syncer(self, name: str) -> None:
        process = self.syncers.pop(name)
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    base = tmp_path_factory.mktemp("fleet")
    with standalone_server(base / "server", "--cluster-heartbeat-threshold", "2",
                           "--cluster-unhealthy-grace", "2") as server, \
            simulated_cluster(base / "edge-1", name="edge-1", nodes=1, time_scale=0.01) as one, \
            simulated_cluster(base / "edge-2", name="edge-2", nodes=1, time_scale=0.01) as two:
        kubeconfigs = {}
        for name in ("edge-1", "edge-2"):
            kubeconfigs[name] = base / f"{name}.kubeconfig"
            canopy("cluster", "register", name, "--kubeconfig", str(server.admin_kubeconfig), "--labels",
                   "region=eu", "--allow-workspace", "root:*", "-o", str(kubeconfigs[name]))
        fleet = Fleet(server, {"edge-1": one, "edge-2": two}, kubeconfigs, base)
        try:
            for name in kubeconfigs:
                fleet.start_syncer(name)
            yield fleet
        finally:
            for name in list(fleet.syncers):
                fleet.stop_syncer(name)


def mirrors_by_cluster(kubectl: Kubectl) -> dict[str, list[str]]:
    pods = json.loads(kubectl("get", "pods", "-l", "app=web", "-o", "json"))["items"]
    by_cluster: dict[str, list[str]] = {}
    for pod in pods:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        statuses = pod["status"].get("containerStatuses") or [{}]
        if "running" in statuses[0].get("state", {}):
            by_cluster.setdefault(pod["metadata"]["labels"]["workload.canopy.dev/cluster"], []).append(
                pod["metadata"]["name"])
    return by_cluster


def test_replicas_are_divided_move_off_a_silent_cluster_and_come_back(fleet: Fleet, tmp_path: Path) -> None:
    name = f"ivy-{secrets.token_hex(3)}"
    canopy("workspace", "create", name, "--owner", "ivy", "--kubeconfig", str(fleet.server.admin_kubeconfig))
    ivy = mint(fleet.server, f"root:{name}", "ivy", tmp_path / "ivy.kubeconfig")
    ivy("apply", "-f", "-", input=textwrap.dedent("""\
        apiVersion: workload.canopy.dev/v1alpha1
        kind: Placement
        metadata: {name: eu}
        spec:
          clusterSelector: {matchLabels: {region: eu}}
        """))
    eventually(lambda: "edge-1,edge-2" in ivy("get", "placements"), timeout=WAIT, what="both clusters chosen")
    ivy("create", "deployment", "web", "--image=nginx:1.27", "--replicas=4")

    def spread(expected: dict[str, int]) -> bool:
        counts = {cluster: len(names) for cluster, names in mirrors_by_cluster(ivy).items()}
        return counts == expected

    eventually(lambda: spread({"edge-1": 2, "edge-2": 2}), timeout=WAIT, what="2 replicas on each cluster")
    ivy("rollout", "status", "deployment/web", "--timeout=60s")

    fleet.stop_syncer("edge-2")
    eventually(lambda: ivy("get", "placements", "--no-headers").split()[1] == "edge-1", timeout=WAIT,
               what="edge-2 dropped from the placement")
    def stale_on_edge_2() -> list[dict[str, Any]] | None:
        pods = [p for p in json.loads(ivy("get", "pods", "-l", "app=web", "-o", "json"))["items"]
                if p["metadata"]["labels"]["workload.canopy.dev/cluster"] == "edge-2"]
        marked = [p for p in pods if any(c["type"] == "workload.canopy.dev/Stale" and c["status"] == "True"
                                         for c in p["status"].get("conditions", []))]
        return pods if pods and len(marked) == len(pods) else None

    stale = eventually(stale_on_edge_2, timeout=WAIT, what="edge-2's mirrors marked stale")
    ready = {c["type"]: c for c in stale[0]["status"]["conditions"]}["Ready"]
    assert ready["status"] == "False" and "edge-2" in ready["message"]
    placement = json.loads(ivy("get", "placement", "eu", "-o", "json"))
    why = {c["name"]: c["reason"] for c in placement["status"]["clusters"]}
    assert why == {"edge-1": "Chosen", "edge-2": "Unhealthy"}
    eventually(lambda: len(mirrors_by_cluster(ivy).get("edge-1", [])) == 4, timeout=WAIT,
               what="edge-1 running all 4 replicas")
    eventually(lambda: json.loads(ivy("get", "deployment", "web", "-o", "json"))["status"].get("readyReplicas") == 4,
               timeout=WAIT, what="the Deployment 4/4 ready from edge-1 alone")

    fleet.start_syncer("edge-2")
    eventually(lambda: "edge-1,edge-2" in ivy("get", "placements"), timeout=WAIT, what="edge-2 chosen again")
    eventually(lambda: spread({"edge-1": 2, "edge-2": 2}), timeout=WAIT, what="the replicas back on both clusters")

    def nothing_stale() -> bool:
        pods = json.loads(ivy("get", "pods", "-l", "app=web", "-o", "json"))["items"]
        return len(pods) == 4 and not any(c["type"] == "workload.canopy.dev/Stale" and c["status"] == "True"
                                          for p in pods for c in p["status"].get("conditions", []))

    eventually(nothing_stale, timeout=WAIT, what="four current mirrors, none stale")
