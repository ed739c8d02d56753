"""Placement: which clusters each workspace's Placements choose, and which workspaces each Cluster serves.

For a workspace, the controller reads from the watch cache its Placements, its namespaces and the Clusters in root
that it may use (`spec.allowedWorkspaces`), and writes
- each Placement's status: the chosen clusters, why every cluster the workspace may use was or was not chosen
  (never a word about the others), the namespaces it places, and its Ready condition;
- the workspace's entry in each Cluster's `status.workspaces`: the namespaces placed there, or no entry. That list
  is what the cluster's syncer syncs, and what it is authorized to read.
The decisions themselves are `api.placement`'s, shared with the syncer.

The work item is a workspace, so one sync sees all of a workspace's Placements at once (a namespace is placed by
the first Placement that selects it). A Placement or namespace event queues its workspace; a Cluster event that
changes what placement looks at (labels, allowedWorkspaces, the health conditions; not a heartbeat) queues every
workspace with Placements or an entry on a Cluster. While a chosen cluster is unhealthy, its workspace is looked at
again when the grace period ends. Level-based: on start and after a relist every such workspace is looked at, and
nothing is written when the statuses already say what was decided.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from api.placement import choose, clusters_for, condition, next_change, placed_namespaces, set_condition
from api.types import (
    HEARTBEAT_HEALTHY,
    READY,
    SERVED,
    UNHEALTHY_GRACE_SECONDS,
    WORKLOAD_GROUP,
    ClusterWorkspace,
    PlacementSpec,
    PlacementStatus,
)
from controlplane import errors
from controlplane.controllers.workqueue import WorkQueue
from controlplane.storage.keys import ROOT_WORKSPACE, resource_prefix
from controlplane.storage.watchcache import ADDED, DELETED, WatchEvent
from controlplane.store import Store, rfc3339

log = logging.getLogger(__name__)

PLACED = "Placed"
NO_CLUSTER_AVAILABLE = "NoClusterAvailable"
NO_CLUSTER_CHOSEN = "NoClusterChosen"
# A look again slightly after a grace period ends, not at the very instant.
_RECHECK_MARGIN_SECONDS = 0.05

Object = dict[str, Any]


def _placement_facts(cluster: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """What placement decisions read from a Cluster: its labels, its allowed workspaces and its health."""
    if cluster is None:
        return ()
    health = tuple(
        (found.get("status"), found.get("reason"), found.get("lastTransitionTime")) if found else None
        for found in (condition(cluster, HEARTBEAT_HEALTHY), condition(cluster, READY))
    )
    labels = (cluster.get("metadata") or {}).get("labels") or {}
    allowed = (cluster.get("spec") or {}).get("allowedWorkspaces") or []
    return tuple(sorted(labels.items())), tuple(allowed), health


def _ready(chosen: list[str], available: int, workspace: str) -> tuple[str, str, str]:
    if chosen:
        return "True", PLACED, f"workloads run on {', '.join(chosen)}"
    if not available:
        return ("False", NO_CLUSTER_AVAILABLE,
                f"no cluster is available to workspace {workspace}: the platform admin allows workspaces on clusters "
                "(spec.allowedWorkspaces of the Clusters in root); ask them to allow this one")
    return ("False", NO_CLUSTER_CHOSEN,
            f"none of the {available} clusters this workspace may use is chosen; status.clusters says why for each")


class PlacementController:
    def __init__(self, store: Store, *, grace: float = UNHEALTHY_GRACE_SECONDS) -> None:
        self.store = store
        self.grace = grace
        placements = SERVED.lookup(WORKLOAD_GROUP, "v1alpha1", "placements")
        clusters = SERVED.lookup(WORKLOAD_GROUP, "v1alpha1", "clusters")
        namespaces = SERVED.lookup("", "v1", "namespaces")
        assert placements is not None and clusters is not None and namespaces is not None
        self.placements = placements
        self.clusters = clusters
        self.namespaces = namespaces
        self.queue: WorkQueue[str] = WorkQueue("placement", self._sync)

    # ---- what to look at ---------------------------------------------------------------------------------------

    def on_event(self, event: WatchEvent) -> None:
        key = event.key
        resource = (key.group, key.resource)
        if resource == (WORKLOAD_GROUP, self.placements.plural):
            self.queue.add(key.workspace)
        elif resource == (WORKLOAD_GROUP, self.clusters.plural) and key.workspace == ROOT_WORKSPACE:
            if event.type == DELETED or _placement_facts(event.prev) != _placement_facts(event.obj):
                self.resync()
        elif resource == ("", self.namespaces.plural) and self._placing(key.workspace):
            labels = (event.obj.get("metadata") or {}).get("labels")
            if event.type in (ADDED, DELETED) or ((event.prev or {}).get("metadata") or {}).get("labels") != labels:
                self.queue.add(key.workspace)

    def resync(self) -> None:
        for workspace in self._workspaces():
            self.queue.add(workspace)

    def start(self) -> None:
        self.resync()
        self.queue.start()

    def _cluster_objects(self) -> list[Object]:
        resource = (ROOT_WORKSPACE, WORKLOAD_GROUP, self.clusters.plural)
        return [cached.obj for cached in self.store.cache.list(resource, resource_prefix(*resource))]

    def _listed_on_clusters(self) -> set[str]:
        return {entry.get("workspace", "") for cluster in self._cluster_objects()
                for entry in (cluster.get("status") or {}).get("workspaces") or ()}

    def _workspaces(self) -> set[str]:
        """Every workspace with Placements, and every one a Cluster still lists."""
        with_placements = {c.key.workspace for c in self.store.cache.list_everywhere(WORKLOAD_GROUP,
                                                                                     self.placements.plural)}
        return with_placements | self._listed_on_clusters()

    def _placing(self, workspace: str) -> bool:
        resource = (workspace, WORKLOAD_GROUP, self.placements.plural)
        return bool(self.store.cache.list(resource, resource_prefix(*resource))) or (
            workspace in self._listed_on_clusters())

    # ---- deciding ----------------------------------------------------------------------------------------------

    async def _sync(self, workspace: str) -> bool:
        now = datetime.now(UTC)
        clusters = self._cluster_objects()
        available = clusters_for(workspace, clusters)
        resource = (workspace, WORKLOAD_GROUP, self.placements.plural)
        placements = {c.key.name: c.obj for c in self.store.cache.list(resource, resource_prefix(*resource))}
        specs = {name: PlacementSpec.model_validate(obj.get("spec") or {}) for name, obj in placements.items()}
        ns_resource = (workspace, "", self.namespaces.plural)
        namespaces = {c.key.name: (c.obj.get("metadata") or {}).get("labels") or {}
                      for c in self.store.cache.list(ns_resource, resource_prefix(*ns_resource))}
        placed = placed_namespaces(specs, namespaces)
        on_cluster: dict[str, set[str]] = {}
        for name, obj in placements.items():
            chosen, explanations = choose(specs[name], available, now, grace=self.grace)
            for cluster in chosen:
                on_cluster.setdefault(cluster, set()).update(placed[name])
            status = PlacementStatus(chosen_clusters=chosen, clusters=explanations, namespaces=placed[name])
            await self._write_placement(workspace, obj, status.model_dump(mode="json", by_alias=True,
                                                                          exclude_none=True),
                                        _ready(chosen, len(available), workspace), rfc3339(now))
        for cluster in clusters:
            name = cluster["metadata"]["name"]
            namespaces_here = on_cluster.get(name)
            entry = ClusterWorkspace(workspace=workspace, namespaces=sorted(namespaces_here)).model_dump(
                mode="json", by_alias=True) if namespaces_here else None
            await self._write_cluster_entry(cluster, workspace, entry)
        wait = next_change(available, now, grace=self.grace)
        if wait is not None:
            self.queue.add_after(workspace, wait + _RECHECK_MARGIN_SECONDS)
        return True

    async def _write_placement(self, workspace: str, obj: Object, decided: Object, ready: tuple[str, str, str],
                               now: str) -> None:
        def status_of(current: Object) -> Object:
            old = current.get("status") or {}
            generation = (current.get("metadata") or {}).get("generation")
            conditions = set_condition(old.get("conditions"), READY, *ready, now, observed_generation=generation)
            return {**decided, "conditions": conditions}

        if status_of(obj) == obj.get("status"):
            return

        def write(current: Object) -> Object:
            current["status"] = status_of(current)
            return current

        name = obj["metadata"]["name"]
        try:
            await self.store.guaranteed_update(workspace, self.placements, "", name, write, subresource="status")
        except errors.StatusError as exc:
            if exc.code != 404:  # deleted meanwhile, or its workspace with it
                raise

    async def _write_cluster_entry(self, cluster: Object, workspace: str, entry: Object | None) -> None:
        def entries_of(current: Object) -> list[Object]:
            others = [e for e in (current.get("status") or {}).get("workspaces") or ()
                      if e.get("workspace") != workspace]
            return sorted([*others, *([entry] if entry else [])], key=lambda e: e.get("workspace", ""))

        if entries_of(cluster) == ((cluster.get("status") or {}).get("workspaces") or []):
            return

        def write(current: Object) -> Object:
            status = dict(current.get("status") or {})
            entries = entries_of(current)
            if entries:
                status["workspaces"] = entries
            else:
                status.pop("workspaces", None)
            current["status"] = status
            return current

        name = cluster["metadata"]["name"]
        try:
            await self.store.guaranteed_update(ROOT_WORKSPACE, self.clusters, "", name, write, subresource="status")
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
        log.info("cluster %s: workspace %s %s", name, workspace,
                 f"placed in namespaces {', '.join(entry['namespaces'])}" if entry else "no longer placed")
