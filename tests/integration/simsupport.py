"""Start a simulated cluster (`canopy simcluster`, a process of its own with its embedded etcd) for a test module."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from controlplane.etcd_embedded import free_port
from tests.conftest import Kubectl
from tests.integration.support import eventually


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
