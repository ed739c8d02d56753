"""Workspace (tenancy.canopy.dev/v1alpha1): born Initializing, and held by the workspace controller's finalizer.

Setting both on create, rather than by the controller afterwards, saves two etcd writes per workspace and closes
the window in which a Workspace could be deleted before the controller had put its finalizer on it (and so before
anything would wipe the child's keys).
"""

from __future__ import annotations

from api.types import WORKSPACE, WORKSPACE_FINALIZER
from controlplane.registry.base import Object, metadata
from controlplane.registry.owntype import OwnTypeStrategy


class WorkspaceStrategy(OwnTypeStrategy):
    def __init__(self) -> None:
        super().__init__(WORKSPACE)

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"phase": "Initializing"}
        meta = metadata(obj)
        finalizers = list(meta.get("finalizers") or [])
        if WORKSPACE_FINALIZER not in finalizers:
            meta["finalizers"] = [*finalizers, WORKSPACE_FINALIZER]
