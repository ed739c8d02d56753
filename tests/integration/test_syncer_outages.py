"""Outages: the control plane or the cluster goes away for a while and comes back, the syncer running throughout. It
retries with back-off meanwhile and catches up on everything afterwards. Every part is a real process; a restarted
server or cluster is the same one (same data directory, same port), as after a reboot.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.conftest import Kubectl
from tests.integration.simsupport import SimCluster, placed_tenant, running_syncer, simulated_cluster
from tests.integration.support import eventually, standalone_server, table_rows_by_name

WAIT = 90.0
# Quick to judge a silent cluster unhealthy (so its mirrors are marked stale), slow to move its share away.
SERVER_FLAGS = ("--cluster-heartbeat-threshold", "2", "--cluster-unhealthy-grace", "600")


def downstream_pods(cluster: SimCluster, namespace: str) -> list[dict[str, Any]]:
    return [p for p in json.loads(cluster.kubectl("get", "pods", "-n", namespace, "-o", "json"))["items"]
            if not p["metadata"].get("deletionTimestamp")]


def mirrors_match(kubectl: Kubectl, cluster: SimCluster, namespace: str, count: int) -> bool:
    """The tenant's pods are exactly the cluster's `count` pods, all Running, none marked stale."""
    on_cluster = downstream_pods(cluster, namespace)
    mirrors = json.loads(kubectl("get", "pods", "-l", "app=web", "-o", "json"))["items"]
    stale = [m for m in mirrors if any(c["type"] == "workload.canopy.dev/Stale" and c["status"] == "True"
                                       for c in m["status"].get("conditions") or [])]
    rows = table_rows_by_name(kubectl("get", "pods", "-l", "app=web"))
    return (len(on_cluster) == count and set(rows) == {f"{p['metadata']['name']}.edge-1" for p in on_cluster}
            and all(r["STATUS"] == "Running" for r in rows.values()) and not stale)


def two_web_pods(kubectl: Kubectl, cluster: SimCluster) -> str:
    """A Deployment `web` of two nginx pods, rolled out and mirrored; the downstream namespace it runs in."""
    kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2")
    kubectl("rollout", "status", "deployment/web", "--timeout=60s")
    namespace = json.loads(kubectl("get", "pods", "-l", "app=web", "-o", "json"))["items"][0]["metadata"][
        "annotations"]["workload.canopy.dev/downstream-namespace"]
    eventually(lambda: mirrors_match(kubectl, cluster, namespace, 2), timeout=WAIT, what="two mirrors")
    return str(namespace)


def test_a_control_plane_outage_is_caught_up_on_both_ways(tmp_path: Path) -> None:
    with simulated_cluster(tmp_path / "edge-1", name="edge-1", nodes=1, time_scale=0.01) as cluster, \
            standalone_server(tmp_path / "server", *SERVER_FLAGS) as server, \
            running_syncer(server, cluster, tmp_path):
        port = urlsplit(server.url).port
        mo = placed_tenant(server, tmp_path, "mo")
        namespace = two_web_pods(mo, cluster)

        server.process.terminate()  # the control plane goes down; the syncer stays up
        server.process.wait(timeout=30)
        gone = downstream_pods(cluster, namespace)[0]["metadata"]["name"]
        cluster.kubectl("delete", "pod", gone, "-n", namespace)
        eventually(lambda: len([p for p in downstream_pods(cluster, namespace)
                                if p["status"].get("phase") == "Running"]) == 2, timeout=WAIT,
                   what="the cluster replacing the pod while the control plane is down")

        with standalone_server(tmp_path / "server", *SERVER_FLAGS, port=port):
            eventually(lambda: mirrors_match(mo, cluster, namespace, 2), timeout=WAIT,
                       what="the pods changed meanwhile mirrored, the deleted one's mirror gone")
            mo("scale", "deployment/web", "--replicas=3")
            eventually(lambda: mirrors_match(mo, cluster, namespace, 3), timeout=WAIT,
                       what="a change made after the outage reaching the cluster and coming back")
            assert mo.run("get", "pod", f"{gone}.edge-1", check=False).returncode != 0


def test_a_cluster_outage_marks_what_came_from_it_stale_and_is_caught_up_on(tmp_path: Path) -> None:
    cluster_dir = tmp_path / "edge-1"
    with standalone_server(tmp_path / "server", *SERVER_FLAGS) as server, ExitStack() as stack:
        first_run = ExitStack()
        stack.callback(first_run.close)
        cluster = first_run.enter_context(simulated_cluster(cluster_dir, name="edge-1", nodes=1, time_scale=0.01))
        port = cluster.port
        running = stack.enter_context(running_syncer(server, cluster, tmp_path))
        noa = placed_tenant(server, tmp_path, "noa")
        namespace = two_web_pods(noa, cluster)

        first_run.close()  # the cluster goes down; the syncer stays up

        def marked_stale() -> bool:
            mirrors = json.loads(noa("get", "pods", "-l", "app=web", "-o", "json"))["items"]
            return len(mirrors) == 2 and all(
                any(c["type"] == "workload.canopy.dev/Stale" and c["status"] == "True"
                    and "unreachable since" in c["message"] for c in m["status"]["conditions"])
                for m in mirrors)

        eventually(marked_stale, timeout=WAIT, what="the mirrors marked stale while the cluster is down")
        noa("scale", "deployment/web", "--replicas=3")
        assert running.poll() is None, "the syncer keeps retrying"

        with simulated_cluster(cluster_dir, name="edge-1", nodes=1, time_scale=0.01, port=port) as cluster:
            eventually(lambda: mirrors_match(noa, cluster, namespace, 3), timeout=WAIT,
                       what="the change made meanwhile on the cluster, and its pods mirrored fresh")
            assert table_rows_by_name(noa("get", "deployment", "web"))["web"]["READY"] == "3/3"
