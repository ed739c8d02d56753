"""Cluster health: the control plane's judgement of each Cluster's heartbeat, as the condition `HeartbeatHealthy`.

A cluster's syncer writes `status.lastHeartbeatTime` every CLUSTER_HEARTBEAT_SECONDS. This controller sets
HeartbeatHealthy True while the last heartbeat is at most the threshold old, False (reason `HeartbeatMissed`, saying
when the last one was and what to check) once it is older, and Unknown (`NoHeartbeat`) before the first one — as
the node lifecycle controller judges kubelets by their status updates. Nothing is written when a heartbeat arrives
and the condition already says True, so a healthy cluster costs its syncer's writes and none of ours. A silent
syncer makes no events, so after each look at a healthy cluster the controller looks again when its heartbeat will
have grown too old. Clusters live in root only (admission refuses them elsewhere).

A Cluster deleted is a cluster gone for good: its syncer's finalizer is taken off every Deployment (so that no
Deployment and no workspace waits for a syncer that will never come back) and its mirror pods are deleted. The
control plane does it on the deletion and again at start, for Clusters deleted while it was down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from api.placement import condition, set_condition
from api.registry import BUILTIN, ResourceType
from api.types import HEARTBEAT_HEALTHY, HEARTBEAT_THRESHOLD_SECONDS, SERVED, WORKLOAD_GROUP
from controlplane import errors
from controlplane.controllers.workqueue import WorkQueue
from controlplane.printers import parse_time
from controlplane.storage.keys import ROOT_WORKSPACE, resource_prefix
from controlplane.storage.watchcache import WatchEvent
from controlplane.store import DeleteOptions, Store, rfc3339
from syncer.naming import CLUSTER_LABEL, finalizer_cluster, syncer_finalizer
from syncer.status import cluster_summaries, stale_deployment
from syncer.up import stale_mirror_status

log = logging.getLogger(__name__)

PODS = BUILTIN.lookup("", "v1", "pods")
DEPLOYMENTS = BUILTIN.lookup("apps", "v1", "deployments")
assert PODS is not None and DEPLOYMENTS is not None

HEARTBEAT_MISSED = "HeartbeatMissed"
HEARTBEAT_RECEIVED = "HeartbeatReceived"
NO_HEARTBEAT = "NoHeartbeat"
# A look again slightly after the heartbeat turns too old, not at the very instant.
_RECHECK_MARGIN_SECONDS = 0.05


def heartbeat_health(cluster: dict[str, Any], now: datetime, threshold: float) -> tuple[str, str, str, float | None]:
    """(status, reason, message) of HeartbeatHealthy for `cluster` at `now`, and the seconds after which it would
    turn False if no heartbeat came (None when it is not True)."""
    name = (cluster.get("metadata") or {}).get("name", "")
    last = parse_time((cluster.get("status") or {}).get("lastHeartbeatTime"))
    if last is None:
        return ("Unknown", NO_HEARTBEAT,
                f"no heartbeat yet: start the cluster's syncer (canopy syncer --cluster {name} ...)", None)
    age = (now - last).total_seconds()
    if age <= threshold:
        return ("True", HEARTBEAT_RECEIVED, f"the syncer heartbeats at most {threshold:g}s apart",
                threshold - age + _RECHECK_MARGIN_SECONDS)
    return ("False", HEARTBEAT_MISSED,
            f"no heartbeat since {rfc3339(last)} (more than {threshold:g}s ago): check that the syncer of cluster "
            f"{name} is running and can reach the control plane; its log says why not", None)


class ClusterHealthController:
    def __init__(self, store: Store, *, threshold: float = HEARTBEAT_THRESHOLD_SECONDS) -> None:
        self.store = store
        self.threshold = threshold
        clusters = SERVED.lookup(WORKLOAD_GROUP, "v1alpha1", "clusters")
        assert clusters is not None
        self.clusters = clusters
        self.queue: WorkQueue[str] = WorkQueue("cluster-health", self._sync)

    def on_event(self, event: WatchEvent) -> None:
        key = event.key
        if (key.workspace, key.group, key.resource) == (ROOT_WORKSPACE, WORKLOAD_GROUP, self.clusters.plural):
            self.queue.add(key.name)

    def resync(self) -> None:
        resource = (ROOT_WORKSPACE, WORKLOAD_GROUP, self.clusters.plural)
        for cached in self.store.cache.list(resource, resource_prefix(*resource)):
            self.queue.add(cached.key.name)
        # Clusters deleted while the control plane was down still have finalizers out.
        for cached in self.store.cache.list_everywhere("apps", "deployments"):
            for finalizer in cached.obj["metadata"].get("finalizers") or ():
                cluster = finalizer_cluster(finalizer)
                if cluster is not None:
                    self.queue.add(cluster)

    def start(self) -> None:
        self.resync()
        self.queue.start()

    async def _sync(self, name: str) -> bool:
        cached = self.store.peek(ROOT_WORKSPACE, self.clusters, "", name)
        if cached is None:
            await self._release(name)
            return True
        now = datetime.now(UTC)
        status, reason, message, recheck = heartbeat_health(cached.obj, now, self.threshold)
        current = condition(cached.obj, HEARTBEAT_HEALTHY)
        if current is None or (current.get("status"), current.get("reason"), current.get("message")) != (
                status, reason, message):
            if status == "False":
                log.warning("cluster %s: %s", name, message)
            await self._judge(name, now)
        if status == "False":
            last_seen = (cached.obj.get("status") or {}).get("lastHeartbeatTime") or ""
            await self._mark_stale(name, str(last_seen), rfc3339(now))
        if recheck is not None:
            self.queue.add_after(name, recheck)
        return True

    async def _mark_stale(self, cluster: str, last_seen: str, now: str) -> None:
        """What came up from a cluster that stopped reporting is marked stale, never shown as current: its mirror
        pods get the Stale condition (and are not Ready), its share of each Deployment counts as not available.
        Its syncer clears the marks when it reports again. Marking twice with the same last-seen time writes
        nothing."""
        for cached in self.store.cache.list_everywhere("", "pods"):
            if (cached.obj["metadata"].get("labels") or {}).get(CLUSTER_LABEL) != cluster:
                continue
            key = cached.key
            await self._write(key.workspace, PODS, key.namespace, key.name, lambda pod: {
                **pod, "status": stale_mirror_status(pod.get("status") or {}, cluster, last_seen, now)})
        for cached in self.store.cache.list_everywhere("apps", "deployments"):
            if cluster not in cluster_summaries(cached.obj):
                continue
            key = cached.key
            await self._write(key.workspace, DEPLOYMENTS, key.namespace, key.name,
                              lambda deployment: stale_deployment(deployment, cluster, last_seen, now))

    async def _release(self, cluster: str) -> None:
        """What a deleted Cluster's syncer held or made upstream: its finalizers go, its mirror pods too."""
        finalizer = syncer_finalizer(cluster)
        for cached in self.store.cache.list_everywhere("apps", "deployments"):
            if finalizer not in (cached.obj["metadata"].get("finalizers") or ()):
                continue
            key = cached.key

            def release(deployment: dict[str, Any]) -> dict[str, Any]:
                meta = deployment["metadata"]
                meta["finalizers"] = [f for f in meta.get("finalizers") or () if f != finalizer]
                return deployment

            log.info("cluster %s is gone: releasing deployment %s/%s in %s", cluster, key.namespace, key.name,
                     key.workspace)
            await self._write(key.workspace, DEPLOYMENTS, key.namespace, key.name, release, subresource="")
        for cached in self.store.cache.list_everywhere("", "pods"):
            if (cached.obj["metadata"].get("labels") or {}).get(CLUSTER_LABEL) != cluster:
                continue
            key = cached.key
            try:
                await self.store.delete(key.workspace, PODS, key.namespace, key.name,
                                        DeleteOptions(grace_period_seconds=0))
            except errors.StatusError as exc:
                if exc.code != 404:
                    raise

    async def _write(self, workspace: str, rt: ResourceType, namespace: str, name: str,
                     mutate: Callable[[dict[str, Any]], dict[str, Any]], *, subresource: str = "status") -> None:
        try:
            await self.store.guaranteed_update(workspace, rt, namespace, name, mutate, subresource=subresource)
        except errors.StatusError as exc:
            if exc.code != 404:
                raise

    async def _judge(self, name: str, now: datetime) -> None:
        """Write HeartbeatHealthy as the stored Cluster (which may have a newer heartbeat than the cache) says."""

        def write(obj: dict[str, Any]) -> dict[str, Any]:
            status, reason, message, _ = heartbeat_health(obj, now, self.threshold)
            current = obj.get("status") or {}
            conditions = set_condition(current.get("conditions"), HEARTBEAT_HEALTHY, status, reason, message,
                                       rfc3339(now))
            obj["status"] = {**current, "conditions": conditions}
            return obj

        try:
            await self.store.guaranteed_update(ROOT_WORKSPACE, self.clusters, "", name, write, subresource="status")
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
