"""The control plane's own controllers, run inside `canopy server`."""

from __future__ import annotations

from dataclasses import dataclass

from controlplane.controllers.garbagecollector import GarbageCollector
from controlplane.controllers.namespace import NamespaceController
from controlplane.store import Store


@dataclass
class Controllers:
    garbage_collector: GarbageCollector
    namespaces: NamespaceController

    async def stop(self) -> None:
        await self.garbage_collector.queue.stop()
        await self.namespaces.queue.stop()


async def start_controllers(store: Store) -> Controllers:
    gc = GarbageCollector(store)
    ns = NamespaceController(store)
    store.cache.add_listener(gc.on_event, on_relist=gc.resync)
    store.cache.add_listener(ns.on_event, on_relist=ns.resync)
    gc.start()
    ns.start()
    return Controllers(gc, ns)
