"""The garbage collector: dependents go when their owners go.

An object whose `metadata.ownerReferences` all point at owners that no longer exist is deleted (deleting a
Deployment removes its ReplicaSets, and theirs their Pods). Owners deleted with `propagationPolicy: Foreground`
keep the `foregroundDeletion` finalizer until their dependents are gone; with `Orphan`, the `orphan` finalizer
until the references to them have been removed from the dependents. Owners are matched by uid inside one
workspace: a uid from another workspace never owns anything here.

Level-based: the owner index is rebuilt from the watch cache on start, so a restart misses nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from api.registry import Registry, ResourceType
from api.types import SERVED
from controlplane import errors
from controlplane.controllers.workqueue import WorkQueue
from controlplane.storage.keys import ObjectKey
from controlplane.storage.watchcache import DELETED, CachedObject, WatchEvent
from controlplane.store import DeleteOptions, Store

log = logging.getLogger(__name__)

Uid = tuple[str, str]  # (workspace, uid)


class GarbageCollector:
    def __init__(self, store: Store, registry: Registry = SERVED) -> None:
        self.store = store
        self.registry = registry
        self._types = {(rt.group, rt.plural): rt for rt in registry}
        self._objects: dict[Uid, ObjectKey] = {}  # every live object by uid
        self._dependents: dict[Uid, set[ObjectKey]] = {}  # owner uid -> objects that name it as owner
        self._owners_of: dict[ObjectKey, set[str]] = {}
        self.queue: WorkQueue[Uid] = WorkQueue("garbage-collector", self._sync)

    # ---- the index, fed synchronously from the watch cache -----------------------------------------------

    def _index(self, key: ObjectKey, obj: dict[str, Any]) -> None:
        self._unindex(key)
        uid = obj["metadata"].get("uid", "")
        if uid:
            self._objects[(key.workspace, uid)] = key
        owners = {ref.get("uid", "") for ref in obj["metadata"].get("ownerReferences") or [] if ref.get("uid")}
        if owners:
            self._owners_of[key] = owners
            for owner in owners:
                self._dependents.setdefault((key.workspace, owner), set()).add(key)

    def _unindex(self, key: ObjectKey) -> None:
        for owner in self._owners_of.pop(key, set()):
            deps = self._dependents.get((key.workspace, owner))
            if deps is not None:
                deps.discard(key)
                if not deps:
                    del self._dependents[(key.workspace, owner)]

    def on_event(self, event: WatchEvent) -> None:
        key, meta = event.key, event.obj["metadata"]
        uid = meta.get("uid", "")
        if event.type == DELETED:
            self._unindex(key)
            self._objects.pop((key.workspace, uid), None)
            if (key.workspace, uid) in self._dependents:
                self.queue.add((key.workspace, uid))
            for owner in meta.get("ownerReferences") or []:
                self._requeue_owner(key.workspace, owner.get("uid", ""))
            return
        self._index(key, event.obj)
        finalizers = meta.get("finalizers") or []
        if meta.get("deletionTimestamp") and ("foregroundDeletion" in finalizers or "orphan" in finalizers):
            self.queue.add((key.workspace, uid))
        for owner in meta.get("ownerReferences") or []:
            if (key.workspace, owner.get("uid", "")) not in self._objects:
                self.queue.add((key.workspace, owner.get("uid", "")))

    def _requeue_owner(self, ws: str, owner_uid: str) -> None:
        """A dependent went away: an owner waiting in foreground deletion may now be free to go."""
        key = self._objects.get((ws, owner_uid))
        if key is not None:
            self.queue.add((ws, owner_uid))

    def start(self) -> None:
        self.resync()
        self.queue.start()

    def resync(self) -> None:
        """Rebuild the index from the cache and queue every owner that is gone or being deleted (at start, and
        after the cache relisted, when deletions may have happened unseen)."""
        self._objects.clear()
        self._dependents.clear()
        self._owners_of.clear()
        for rt in self.registry:
            for cached in self.store.cache.list_everywhere(rt.group, rt.plural):
                self._index(cached.key, cached.obj)
        for (ws, owner), _ in list(self._dependents.items()):
            if (ws, owner) not in self._objects:
                self.queue.add((ws, owner))
        for (ws, uid), key in list(self._objects.items()):
            cached = self._cached(key)
            if cached is not None and cached.obj["metadata"].get("deletionTimestamp"):
                self.queue.add((ws, uid))

    # ---- work ------------------------------------------------------------------------------------------------

    def _cached(self, key: ObjectKey) -> CachedObject | None:
        rt = self._types.get((key.group, key.resource))
        if rt is None:
            return None
        return self.store.peek(key.workspace, rt, key.namespace, key.name)

    async def _sync(self, item: Uid) -> bool:
        ws, uid = item
        owner_key = self._objects.get(item)
        dependents = sorted(self._dependents.get(item, set()), key=lambda k: k.encode())
        if owner_key is None:
            # The owner is gone: delete dependents that have no other live owner, unlink the rest.
            for dep in dependents:
                await self._collect(dep, ws, uid)
            return True
        owner = self._cached(owner_key)
        if owner is None:
            return True
        meta = owner.obj["metadata"]
        finalizers = meta.get("finalizers") or []
        if not meta.get("deletionTimestamp"):
            return True
        if "orphan" in finalizers:
            for dep in dependents:
                await self._unlink(dep, uid)
            await self._remove_finalizer(owner_key, "orphan")
            return True
        if "foregroundDeletion" in finalizers:
            for dep in dependents:
                await self._delete(dep, "Foreground")
            if self._dependents.get(item):
                return False  # wait until the dependents are really gone
            await self._remove_finalizer(owner_key, "foregroundDeletion")
        return True

    async def _collect(self, dep: ObjectKey, ws: str, gone_uid: str) -> None:
        cached = self._cached(dep)
        if cached is None:
            return
        refs = cached.obj["metadata"].get("ownerReferences") or []
        alive = [r for r in refs if r.get("uid") != gone_uid and (ws, r.get("uid", "")) in self._objects]
        if alive:
            await self._unlink(dep, gone_uid)
        else:
            await self._delete(dep, "Background")

    async def _delete(self, key: ObjectKey, policy: str) -> None:
        rt = self._types[(key.group, key.resource)]
        try:
            options = DeleteOptions(propagation_policy=policy)
            await self.store.delete(key.workspace, rt, key.namespace, key.name, options)
        except errors.StatusError as exc:
            if exc.code != 404:
                raise

    async def _unlink(self, key: ObjectKey, owner_uid: str) -> None:
        def drop(obj: dict[str, Any]) -> dict[str, Any]:
            refs = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != owner_uid]
            if refs:
                obj["metadata"]["ownerReferences"] = refs
            else:
                obj["metadata"].pop("ownerReferences", None)
            return obj

        await self._update(key, drop)

    async def _remove_finalizer(self, key: ObjectKey, finalizer: str) -> None:
        def drop(obj: dict[str, Any]) -> dict[str, Any]:
            remaining = [f for f in obj["metadata"].get("finalizers") or [] if f != finalizer]
            if remaining:
                obj["metadata"]["finalizers"] = remaining
            else:
                obj["metadata"].pop("finalizers", None)
            return obj

        await self._update(key, drop)

    async def _update(self, key: ObjectKey, mutate: Any) -> None:
        rt: ResourceType = self._types[(key.group, key.resource)]
        try:
            await self.store.guaranteed_update(key.workspace, rt, key.namespace, key.name, mutate)
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
