"""Start a simulated cluster (`canopy simcluster`, a process of its own with its embedded etcd) for a test module."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from controlplane.etcd_embedded import free_port
from tests.conftest import ApiServer, Kubectl
from tests.integration.support import canopy, eventually, mint


@dataclass
class SimCluster:
    kubectl: Kubectl
    data_dir: Path
    time_scale: float

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    @property
    def port(self) -> int:
        """The port it serves on, to start it again on the same one."""
        config = yaml.safe_load(self.kubeconfig.read_text())
        return int(urlsplit(config["clusters"][0]["cluster"]["server"]).port or 443)

    def log(self) -> str:
        return (self.data_dir / "simcluster.log").read_text(errors="replace")


@contextlib.contextmanager
def simulated_cluster(data_dir: Path, *, name: str = "edge-1", nodes: int = 3, node_memory: str = "4Gi",
                      node_cpu: str = "4", time_scale: float = 0.001, port: int | None = None) -> Iterator[SimCluster]:
    """Started with `data_dir` and `port` again, it is the same cluster after a restart."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "simcluster.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "controlplane.cli", "simcluster", "--name", name, "--data-dir", str(data_dir),
         "--port", str(port), "--nodes", str(nodes), "--node-memory", node_memory, "--node-cpu", node_cpu,
         "--time-scale", str(time_scale)],
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
            return len(listed) == nodes and all(line.split()[1] == "Ready" for line in listed)

        # The kubeconfig is written as soon as the API serves; the kubelets register their nodes right after.
        eventually(all_nodes_ready, what=f"{nodes} Ready nodes")
        yield SimCluster(kubectl, data_dir, time_scale)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@contextlib.contextmanager
def running_syncer(server: ApiServer, cluster: SimCluster, base: Path, *,
                   name: str = "edge-1") -> Iterator[subprocess.Popen[bytes]]:
    """`cluster` registered with `server` as Cluster `name` (every workspace allowed; once, so that this can be
    started again), and its `canopy syncer` running, heartbeating every 0.5 s; stopped on exit."""
    kubeconfig = base / f"{name}-syncer.kubeconfig"
    if not kubeconfig.exists():
        canopy("cluster", "register", name, "--kubeconfig", str(server.admin_kubeconfig), "--allow-workspace",
               "root:*", "-o", str(kubeconfig))
    with (base / f"{name}-syncer.log").open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "controlplane.cli", "syncer", "--cluster", name, "--kubeconfig",
             str(kubeconfig), "--cluster-kubeconfig", str(cluster.kubeconfig), "--heartbeat-seconds", "0.5"],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def placed_tenant(server: ApiServer, tmp_path: Path, user: str, *, cluster: str = "edge-1",
                  timeout: float = 60) -> Kubectl:
    """kubectl for `user` in a new workspace of theirs, with a Placement that has chosen `cluster`."""
    name = f"{user}-{secrets.token_hex(3)}"
    canopy("workspace", "create", name, "--owner", user, "--kubeconfig", str(server.admin_kubeconfig))
    kubectl = mint(server, f"root:{name}", user, tmp_path / f"{user}.kubeconfig")
    kubectl("apply", "-f", "-", input="apiVersion: workload.canopy.dev/v1alpha1\nkind: Placement\n"
                                      "metadata: {name: anywhere}\nspec: {}\n")
    eventually(lambda: cluster in kubectl("get", "placements"), timeout=timeout,
               what=f"the placement choosing {cluster}")
    return kubectl
