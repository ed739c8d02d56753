"""The control plane's own controllers, run inside `canopy server`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from api.types import HEARTBEAT_THRESHOLD_SECONDS, UNHEALTHY_GRACE_SECONDS
from controlplane.controllers.cluster import ClusterHealthController
from controlplane.controllers.diagnosis import DiagnosisController
from controlplane.controllers.garbagecollector import GarbageCollector
from controlplane.controllers.namespace import NamespaceController
from controlplane.controllers.placement import PlacementController
from controlplane.controllers.workqueue import WorkQueue
from controlplane.controllers.workspace import WorkspaceController
from controlplane.podlogs import PodLogSource
from controlplane.storage.watchcache import WatchEvent
from controlplane.store import Store


class Controller(Protocol):
    queue: WorkQueue[Any]

    def on_event(self, event: WatchEvent) -> None: ...
    def resync(self) -> None: ...
    def start(self) -> None: ...


@dataclass
class Controllers:
    store: Store
    running: list[Controller]

    async def stop(self) -> None:
        for controller in self.running:
            self.store.cache.remove_listener(controller.on_event, controller.resync)
            await controller.queue.stop()


async def start_controllers(
    store: Store,
    base_url: str,
    *,
    cluster_heartbeat_threshold: float = HEARTBEAT_THRESHOLD_SECONDS,
    cluster_unhealthy_grace: float = UNHEALTHY_GRACE_SECONDS,
    pod_logs: PodLogSource | None = None,
) -> Controllers:
    """Start the controllers (on the elected replica); `base_url` is where this server is reached. A Cluster whose
    last heartbeat is older than `cluster_heartbeat_threshold` seconds is HeartbeatHealthy=False, and Placements
    stop choosing it after `cluster_unhealthy_grace` seconds of that. The diagnosis reads previous containers'
    logs through `pod_logs` (the syncers' tunnels)."""
    running: list[Controller] = [
        GarbageCollector(store), NamespaceController(store), WorkspaceController(store, base_url),
        ClusterHealthController(store, threshold=cluster_heartbeat_threshold),
        PlacementController(store, grace=cluster_unhealthy_grace), DiagnosisController(store, pod_logs),
    ]
    for controller in running:
        store.cache.add_listener(controller.on_event, on_relist=controller.resync)
        controller.start()
    return Controllers(store, running)
