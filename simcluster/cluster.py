"""`canopy simcluster`: one simulated K3s cluster — the API server in single-cluster mode, and its kubelets' Nodes.

The Nodes are registered on start (kept if they exist, as a restarted kubelet does) and their heartbeats posted
every `nodeStatusReportFrequency`, shrunk by `--time-scale` like every duration of the simulation.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.registry import BUILTIN
from controlplane import errors
from controlplane.controllers import Controller
from controlplane.controllers.garbagecollector import GarbageCollector
from controlplane.controllers.namespace import NamespaceController
from controlplane.server import ServerConfig, serving
from controlplane.storage.keys import ROOT_WORKSPACE
from controlplane.store import Store, now_rfc3339
from simcluster import nodes
from simcluster.clock import Clock
from simcluster.events import EventRecorder
from simcluster.kubelet import PodWorkers
from simcluster.logs import ContainerLogs
from simcluster.scheduler import Scheduler
from simcluster.workloads import DeploymentController, ReplicaSetController

NODES = BUILTIN.lookup("", "v1", "nodes")
LEASES = BUILTIN.lookup("coordination.k8s.io", "v1", "leases")
assert NODES is not None and LEASES is not None


@dataclass
class SimClusterConfig:
    name: str
    data_dir: Path
    port: int = 6443
    bind_address: str = "127.0.0.1"
    nodes: int = 3
    node_memory: str = "8Gi"
    node_cpu: str = "4"
    time_scale: float = 1.0
    etcd_servers: tuple[str, ...] = ()
    tls_sans: tuple[str, ...] = field(default_factory=tuple)

    def server(self) -> ServerConfig:
        return ServerConfig(data_dir=self.data_dir, port=self.port, bind_address=self.bind_address,
                            etcd_servers=self.etcd_servers, tls_sans=self.tls_sans, cluster_name=self.name,
                            run_controllers=False)


class Kubelets:
    """The Nodes' side of the kubelets: registration and heartbeats."""

    def __init__(self, store: Store, config: SimClusterConfig) -> None:
        self.store = store
        self.config = config

    def names(self) -> list[str]:
        return [nodes.node_name(self.config.name, i) for i in range(self.config.nodes)]

    async def register(self) -> None:
        c = self.config
        await self.store.ensure_workspace(ROOT_WORKSPACE)  # kube-node-lease, for the leases
        for index, name in enumerate(self.names()):
            if self.store.peek(ROOT_WORKSPACE, NODES, "", name) is None:
                with contextlib.suppress(errors.StatusError):  # registered meanwhile: keep it
                    await self.store.create(ROOT_WORKSPACE, NODES, "", nodes.node(c.name, index, memory=c.node_memory,
                                                                                   cpu=c.node_cpu))
            status = nodes.initial_status(c.name, index, memory=c.node_memory, cpu=c.node_cpu, now=now_rfc3339())
            await self._write_status(name, functools.partial(_replace, status))

    async def _write_status(self, name: str, make: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        def write(obj: dict[str, Any]) -> dict[str, Any]:
            obj["status"] = make(obj.get("status") or {})
            return obj

        await self.store.guaranteed_update(ROOT_WORKSPACE, NODES, "", name, write, subresource="status")

    async def renew_leases(self) -> None:
        """Each kubelet renews its node's Lease every 10 s (scaled); a missing one is made again."""
        while True:
            now = _micro_time()
            for name in self.names():
                node_obj = self.store.peek(ROOT_WORKSPACE, NODES, "", name)
                if node_obj is None:
                    continue
                wanted = nodes.lease(node_obj.obj, now)
                try:
                    await self.store.guaranteed_update(
                        ROOT_WORKSPACE, LEASES, nodes.NODE_LEASE_NAMESPACE, name,
                        functools.partial(_renewed, now),
                    )
                except errors.StatusError as exc:
                    if exc.code != 404:
                        raise
                    with contextlib.suppress(errors.StatusError):
                        await self.store.create(ROOT_WORKSPACE, LEASES, nodes.NODE_LEASE_NAMESPACE, wanted)
            await asyncio.sleep(nodes.LEASE_RENEW_SECONDS * self.config.time_scale)

    async def heartbeats(self) -> None:
        interval = nodes.REPORT_FREQUENCY_SECONDS * self.config.time_scale
        while True:
            await asyncio.sleep(interval)
            for name in self.names():
                with contextlib.suppress(errors.StatusError):  # deleted by someone: a real kubelet re-registers
                    await self._write_status(name, functools.partial(nodes.heartbeat, now=now_rfc3339()))


def _replace(new: dict[str, Any], _: dict[str, Any]) -> dict[str, Any]:
    return new


def _renewed(renew_time: str, lease: dict[str, Any]) -> dict[str, Any]:
    lease.setdefault("spec", {})["renewTime"] = renew_time
    return lease


def _micro_time() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def controllers(store: Store, config: SimClusterConfig, pod_workers: PodWorkers) -> list[Controller]:
    """The cluster's control loops (kube-controller-manager's, the scheduler, the kubelets' pod workers), each fed
    by the watch cache and working through its own queue."""
    recorder = pod_workers.recorder
    clock = pod_workers.clock
    return [
        GarbageCollector(store, BUILTIN),
        NamespaceController(store, BUILTIN),
        DeploymentController(store, recorder, clock),
        ReplicaSetController(store, recorder, clock),
        Scheduler(store, recorder, clock),
        pod_workers,
    ]


async def run_until_signalled(config: SimClusterConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    logs = ContainerLogs(config.data_dir / "pods")
    async with serving(dataclasses.replace(config.server(), pod_logs=logs)) as server:
        kubelets = Kubelets(server.store, config)
        await kubelets.register()
        pod_workers = PodWorkers(server.store, EventRecorder(server.store), Clock(config.time_scale), logs,
                                 kubelets.names())
        running = controllers(server.store, config, pod_workers)
        for controller in running:
            server.store.cache.add_listener(controller.on_event, on_relist=controller.resync)
            controller.start()
        beating = asyncio.gather(kubelets.heartbeats(), kubelets.renew_leases())
        print(f"simulated cluster {config.name} listening on {server.url} with {config.nodes} nodes", flush=True)
        print(f"  export KUBECONFIG={server.kubeconfig}", flush=True)
        try:
            await stop.wait()
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
            for controller in running:
                server.store.cache.remove_listener(controller.on_event, controller.resync)
                await controller.queue.stop()
            await pod_workers.stop()
        print("stopping", flush=True)
