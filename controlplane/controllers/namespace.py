"""Namespace lifecycle: every namespace gets its `default` ServiceAccount; a namespace being deleted is emptied,
then released.

`kubectl delete namespace` only marks the namespace (phase Terminating, the `kubernetes` finalizer in
spec.finalizers holds it). This controller deletes everything in it, resource by resource, and once nothing is
left removes the finalizer, which lets the store delete the namespace itself. Level-based: on start it picks up
every namespace that is already terminating.
"""

from __future__ import annotations

import logging

from api.registry import Registry
from api.types import SERVED
from controlplane import errors
from controlplane.controllers.workqueue import WorkQueue
from controlplane.storage.keys import resource_prefix
from controlplane.storage.watchcache import DELETED, WatchEvent
from controlplane.store import DeleteOptions, Store

log = logging.getLogger(__name__)

Item = tuple[str, str]  # (workspace, namespace)


class NamespaceController:
    def __init__(self, store: Store, registry: Registry = SERVED) -> None:
        self.store = store
        self.registry = registry
        self.namespaces = registry.lookup("", "v1", "namespaces")
        self.service_accounts = registry.lookup("", "v1", "serviceaccounts")
        assert self.namespaces is not None and self.service_accounts is not None
        self.queue: WorkQueue[Item] = WorkQueue("namespace", self._sync)

    def on_event(self, event: WatchEvent) -> None:
        key = event.key
        if (key.group, key.resource) == ("", "namespaces") and event.type != DELETED:
            self.queue.add((key.workspace, key.name))
        elif (key.group, key.resource, key.name) == ("", "serviceaccounts", "default") and event.type == DELETED:
            self.queue.add((key.workspace, key.namespace))

    def start(self) -> None:
        self.resync()
        self.queue.start()

    def resync(self) -> None:
        for cached in self.store.cache.list_everywhere("", "namespaces"):
            self.queue.add((cached.key.workspace, cached.key.name))

    async def _sync(self, item: Item) -> bool:
        ws, name = item
        ns = self.store.peek(ws, self.namespaces, "", name)
        if ns is None:
            return True
        if not ns.obj["metadata"].get("deletionTimestamp"):
            await self._ensure_default_service_account(ws, name)
            return True
        remaining = 0
        for rt in self.registry:
            if not rt.namespaced:
                continue
            prefix = resource_prefix(ws, rt.group, rt.plural, name)
            for cached in self.store.cache.list((ws, rt.group, rt.plural), prefix):
                remaining += 1
                if cached.obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    await self.store.delete(ws, rt, name, cached.key.name, DeleteOptions())
                except errors.StatusError as exc:
                    if exc.code != 404:
                        raise
        if remaining:
            return False  # retried with back-off until the namespace is empty
        await self.store.guaranteed_update(ws, self.namespaces, "", name, _drop_kubernetes_finalizer,
                                           subresource="finalize")
        log.info("namespace %s in workspace %s is empty and deleted", name, ws)
        return True


    async def _ensure_default_service_account(self, ws: str, namespace: str) -> None:
        if self.store.peek(ws, self.service_accounts, namespace, "default") is not None:
            return
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}
        try:
            await self.store.create(ws, self.service_accounts, namespace, body)
        except errors.StatusError as exc:
            if exc.code not in (403, 404, 409):  # namespace going or gone, or a racing creator won
                raise


def _drop_kubernetes_finalizer(obj: dict) -> dict:
    spec = obj.setdefault("spec", {})
    spec["finalizers"] = [f for f in spec.get("finalizers", []) if f != "kubernetes"]
    if not spec["finalizers"]:
        del spec["finalizers"]
    return obj
