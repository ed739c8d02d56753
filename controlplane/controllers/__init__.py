"""The control plane's own controllers, run inside `canopy server`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from controlplane.controllers.garbagecollector import GarbageCollector
from controlplane.controllers.namespace import NamespaceController
from controlplane.controllers.workqueue import WorkQueue
from controlplane.controllers.workspace import WorkspaceController
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


async def start_controllers(store: Store, base_url: str) -> Controllers:
    """Start the controllers (on the elected replica); `base_url` is where this server is reached."""
    running: list[Controller] = [
        GarbageCollector(store), NamespaceController(store), WorkspaceController(store, base_url)
    ]
    for controller in running:
        store.cache.add_listener(controller.on_event, on_relist=controller.resync)
        controller.start()
    return Controllers(store, running)
