"""Workspace lifecycle: a Workspace object in a parent makes the child workspace; deleting it removes all of it.

`team-a` in `root` is the logical cluster `root:team-a`, served at /clusters/root:team-a. On creation the
controller holds the Workspace with a finalizer, binds its owner (the annotation `tenancy.canopy.dev/owner`) to
cluster-admin in it, and writes the URL into the status (Initializing -> Ready). The
child's system namespaces are not made here but by the first request into it (`Store.ensure_workspace`), so a
workspace nobody uses stays one object in its parent. A
deleted Workspace is held by a finalizer while the controller deletes every key of the child and of every
workspace below it (`root:team-a:...`) — two etcd range deletions, whatever they hold — and then lets it go.
Level-based: on start, and after a relist, every Workspace is looked at again.
"""

from __future__ import annotations

import logging
from typing import Any

from api.types import SERVED, WORKSPACE_FINALIZER, WORKSPACE_OWNER_ANNOTATION
from controlplane import errors
from controlplane.controllers.workqueue import WorkQueue
from controlplane.storage.keys import ROOT, workspace_prefix
from controlplane.storage.watchcache import DELETED, WatchEvent
from controlplane.store import Store

log = logging.getLogger(__name__)

OWNER_BINDING = "tenancy.canopy.dev:owner"
Item = tuple[str, str]  # (parent workspace, workspace name)


def child_of(parent: str, name: str) -> str:
    return f"{parent}:{name}"


class WorkspaceController:
    def __init__(self, store: Store, base_url: str) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")
        rt = SERVED.lookup("tenancy.canopy.dev", "v1alpha1", "workspaces")
        bindings = SERVED.lookup("rbac.authorization.k8s.io", "v1", "clusterrolebindings")
        assert rt is not None and bindings is not None
        self.workspaces = rt
        self.bindings = bindings
        self.queue: WorkQueue[Item] = WorkQueue("workspace", self._sync)

    def on_event(self, event: WatchEvent) -> None:
        key = event.key
        if (key.group, key.resource) == (self.workspaces.group, self.workspaces.plural) and event.type != DELETED:
            self.queue.add((key.workspace, key.name))

    def resync(self) -> None:
        for cached in self.store.cache.list_everywhere(self.workspaces.group, self.workspaces.plural):
            self.queue.add((cached.key.workspace, cached.key.name))

    def start(self) -> None:
        self.resync()
        self.queue.start()

    async def _sync(self, item: Item) -> bool:
        parent, name = item
        cached = self.store.peek(parent, self.workspaces, "", name)
        if cached is None:
            return True
        meta = cached.obj["metadata"]
        child = child_of(parent, name)
        if meta.get("deletionTimestamp"):
            if WORKSPACE_FINALIZER in (meta.get("finalizers") or []):
                await self._set_status(parent, name, {"phase": "Terminating"})
                await self._wipe(child)
                await self._update(parent, name, _without_finalizer)
            return True
        if WORKSPACE_FINALIZER not in (meta.get("finalizers") or []):
            await self._update(parent, name, _with_finalizer)
        phase = (cached.obj.get("status") or {}).get("phase")
        if phase != "Ready":
            if phase != "Initializing":  # made before the strategy set it on create
                await self._set_status(parent, name, {"phase": "Initializing"})
            owner = (meta.get("annotations") or {}).get(WORKSPACE_OWNER_ANNOTATION)
            if owner:
                await self._bind_owner(child, owner)
            await self._set_status(parent, name, {"phase": "Ready", "URL": f"{self.base_url}/clusters/{child}"})
            log.info("workspace %s is ready", child)
        return True

    async def _bind_owner(self, child: str, owner: str) -> None:
        """The owner is cluster-admin in the workspace: a ClusterRoleBinding there, which they may change."""
        if self.store.peek(child, self.bindings, "", OWNER_BINDING) is not None:
            return
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": OWNER_BINDING},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": owner}],
        }
        try:
            await self.store.create(child, self.bindings, "", binding)
        except errors.StatusError as exc:
            if exc.code != 409:
                raise

    async def _wipe(self, child: str) -> None:
        """Everything of the workspace and of the workspaces below it leaves etcd."""
        await self.store.storage.delete_prefix(workspace_prefix(child))
        await self.store.storage.delete_prefix(f"{ROOT}{child}:")
        self.store.forget_workspace(child)
        log.info("workspace %s and the workspaces below it are deleted", child)

    async def _set_status(self, parent: str, name: str, status: dict[str, Any]) -> None:
        def write(obj: dict[str, Any]) -> dict[str, Any]:
            obj["status"] = {**(obj.get("status") or {}), **status}
            return obj

        await self._update(parent, name, write, subresource="status")

    async def _update(self, parent: str, name: str, mutate: Any, subresource: str = "") -> None:
        try:
            await self.store.guaranteed_update(parent, self.workspaces, "", name, mutate, subresource=subresource)
        except errors.StatusError as exc:
            if exc.code != 404:
                raise


def _with_finalizer(obj: dict[str, Any]) -> dict[str, Any]:
    obj["metadata"]["finalizers"] = [*(obj["metadata"].get("finalizers") or []), WORKSPACE_FINALIZER]
    return obj


def _without_finalizer(obj: dict[str, Any]) -> dict[str, Any]:
    remaining = [f for f in obj["metadata"].get("finalizers") or [] if f != WORKSPACE_FINALIZER]
    if remaining:
        obj["metadata"]["finalizers"] = remaining
    else:
        obj["metadata"].pop("finalizers", None)
    return obj
