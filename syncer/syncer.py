"""`canopy syncer`: one process per physical cluster, linking it to the control plane. Pull model: it dials both.

Level-based, as a Kubernetes controller: informers on both sides fill caches and queue keys; each key is
reconciled from the current state of both sides, so a restarted syncer converges without duplicate creates and
writes nothing when nothing changed.
- Heartbeat: every 10 s the Cluster's status gets the time, the cluster's version, node count, capacity and
  allocatable, and `Ready`. The Cluster's status also says which workspaces it serves (the placement controller
  writes that); the syncer follows it.
- Down, per Deployment in a served workspace: a finalizer upstream, the downstream namespace, the ConfigMaps,
  Secrets and ServiceAccount it references, and the Deployment with this cluster's share of the replicas
  (syncer/translate.py says how each is transformed and named).
- Up: the Deployment's status (with the other clusters' shares kept), a read-only mirror of each downstream pod in
  the tenant's namespace, and the Events about them, with downstream names translated.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from resource import RLIM_INFINITY, RLIMIT_NOFILE, getrlimit, setrlimit
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from api import placement as placements
from api.types import CLUSTER_HEARTBEAT_SECONDS
from controlplane.controllers.workqueue import WorkQueue
from controlplane.registry.quantity import Quantity, parse_quantity
from syncer import translate as t
from syncer.downstream import Informer, api_client
from syncer.tunnel import TunnelClient
from syncer.upstream import (
    CLUSTERS,
    CONFIGMAPS,
    DEPLOYMENTS,
    EVENTS,
    PODS,
    SECRETS,
    SERVICEACCOUNTS,
    SERVICES,
    Expired,
    Resource,
    Upstream,
    UpstreamError,
)

log = logging.getLogger(__name__)

PLACEMENTS = Resource("workload.canopy.dev", "v1alpha1", "placements", namespaced=False)
_KINDS: dict[str, Resource] = {"ConfigMap": CONFIGMAPS, "Secret": SECRETS, "ServiceAccount": SERVICEACCOUNTS}

Item = tuple[str, str, str, str]  # (kind, workspace or downstream namespace, namespace, name)
Key = tuple[str, str]  # (namespace, name)
Tenants = tuple[str, str, dict[str, Any]]  # (workspace, kind, object): the tenant's object a downstream write is for
# What a cluster answers when it refuses an object as written (not when it is merely unavailable): the tenant hears
# of it on the object, as an Event.
_REFUSALS = frozenset({400, 403, 422})


def _add_quantities(a: str, b: str) -> str:
    total = parse_quantity(a).value + parse_quantity(b).value
    return str(Quantity(total, parse_quantity(b).format))


def _revision(obj: dict[str, Any]) -> int:
    """The control plane's resourceVersions are etcd revisions: ordered integers."""
    try:
        return int(obj["metadata"].get("resourceVersion") or 0)
    except ValueError:
        return 0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class WorkspaceView:
    """What the syncer knows of one served workspace: its Deployments and Placements, kept by a watch."""

    name: str
    namespaces: set[str] = field(default_factory=set)  # placed on this cluster (the Cluster's status says)
    deployments: dict[Key, dict[str, Any]] = field(default_factory=dict)
    services: dict[Key, dict[str, Any]] = field(default_factory=dict)
    mirrors: dict[Key, dict[str, Any]] = field(default_factory=dict)  # this cluster's mirror pods
    placements: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name
    task: asyncio.Task[None] | None = None
    listed_kinds: set[str] = field(default_factory=set)

    @property
    def listed(self) -> bool:
        """Its Deployments, Services, Placements and mirrors have been listed: until then, "not there" means "not
        known yet"."""
        return {"Deployment", "Service", "Placement", "Pod"} <= self.listed_kinds

    def keep_mirror(self, mirror: dict[str, Any]) -> None:
        """Remember `mirror` as written or watched, unless what is remembered is newer (a write's answer can come
        before the watch brings an older change)."""
        key = (mirror["metadata"]["namespace"], mirror["metadata"]["name"])
        known = self.mirrors.get(key)
        if known is None or _revision(known) <= _revision(mirror):
            self.mirrors[key] = mirror

    def synced(self, kind: str) -> dict[Key, dict[str, Any]]:
        """The upstream objects of `kind` ("Deployment" or "Service") this workspace has."""
        return self.deployments if kind == "Deployment" else self.services

    def wanted(self, namespace: str) -> bool:
        """Whether anything of `namespace` is to be on this cluster (else its downstream namespace can go)."""
        return namespace in self.namespaces and any(
            key[0] == namespace and not obj["metadata"].get("deletionTimestamp")
            for objects in (self.deployments, self.services) for key, obj in objects.items())

    def requeue(self, queue: WorkQueue[Item]) -> None:
        for kind in ("Deployment", "Service"):
            for key in self.synced(kind):
                queue.add((kind, self.name, *key))


class NotReady(Exception):
    """What the decision needs is not known yet (no heartbeat, or a workspace not listed): try again shortly."""


class Syncer:
    def __init__(self, cluster: str, upstream: Upstream, api: client.ApiClient, *,
                 heartbeat_seconds: float = CLUSTER_HEARTBEAT_SECONDS) -> None:
        self.cluster = cluster
        self.up = upstream
        self.api = api
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.heartbeat_seconds = heartbeat_seconds
        self.workspaces: dict[str, WorkspaceView] = {}
        self.followed = False  # the served workspaces are known (one heartbeat went through)
        self.served: set[str] = set()  # as the Cluster's status last said, followed or not yet
        self.queue: WorkQueue[Item] = WorkQueue("syncer", self._sync)
        self.finalizer = t.syncer_finalizer(cluster)
        # What the control plane marked stale while this cluster was silent: written again after the next heartbeat
        # that goes through, not before (until then the caches may hold only what was last seen).
        self.marked: set[Item] = set()

    # ---- running ---------------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        self.namespaces = Informer("namespaces", self.core.list_namespace, self._on_namespace,
                                   label_selector=t.MANAGED_SELECTOR)
        self.deployments = Informer("deployments", self.apps.list_deployment_for_all_namespaces,
                                    functools.partial(self._on_downstream, "Deployment"),
                                    label_selector=t.MANAGED_SELECTOR)
        self.services = Informer("services", self.core.list_service_for_all_namespaces,
                                 functools.partial(self._on_downstream, "Service"), label_selector=t.MANAGED_SELECTOR)
        self.pods = Informer("pods", self.core.list_pod_for_all_namespaces, self._on_pod)
        self.events = Informer("events", self.core.list_event_for_all_namespaces, self._on_event)
        informers = (self.namespaces, self.deployments, self.services, self.pods, self.events)
        for informer in informers:
            informer.start()
        # As client-go's WaitForCacheSync: reconciling against a half-filled cache would create what exists.
        await asyncio.gather(*(informer.synced.wait() for informer in informers))
        self.queue.start()
        beating = asyncio.create_task(self._heartbeats(), name="heartbeat")
        tunnel = asyncio.create_task(TunnelClient(self.cluster, self.up, self.core).run(), name="tunnel")
        try:
            await stop.wait()
        finally:
            beating.cancel()
            tunnel.cancel()
            for informer in informers:
                informer.stop()
            for view in self.workspaces.values():
                if view.task is not None:
                    view.task.cancel()
            await self.queue.stop()

    async def _blocking(self, call: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, call)

    # ---- heartbeat and the served workspaces -------------------------------------------------------------------

    async def _heartbeats(self) -> None:
        while True:
            try:
                await self._heartbeat()
            except (UpstreamError, ApiException, HTTPError, OSError) as exc:
                log.warning("heartbeat failed: %s; retrying", exc)
            await asyncio.sleep(self.heartbeat_seconds)

    async def _heartbeat(self) -> None:
        version = await self._blocking(lambda: client.VersionApi(self.api).get_code())
        nodes = (await self._blocking(self.core.list_node)).items
        capacity: dict[str, str] = {}
        allocatable: dict[str, str] = {}
        for node in nodes:
            status = node.status
            for target, source in ((capacity, status.capacity or {}), (allocatable, status.allocatable or {})):
                for resource, quantity in source.items():
                    target[resource] = _add_quantities(target.get(resource, "0"), quantity)
        now = _now()
        patch = {"status": {
            "lastHeartbeatTime": now, "kubernetesVersion": version.git_version, "nodes": len(nodes),
            "capacity": capacity, "allocatable": allocatable,
        }}
        cluster = await self.up.merge_patch(CLUSTERS, "root", "", self.cluster, patch, subresource="status")
        conditions = placements.set_condition((cluster.get("status") or {}).get("conditions") or [], "Ready", "True",
                                              "SyncerConnected", f"the syncer reaches the cluster ({len(nodes)} nodes)",
                                              now)
        if conditions != (cluster.get("status") or {}).get("conditions"):
            # Only Ready is ours; HeartbeatHealthy is the control plane's. A merge patch would replace the whole
            # list with what was read, so the write is pinned to that read's resourceVersion (409: next beat).
            try:
                cluster = await self.up.replace(CLUSTERS, "root", "", self.cluster, {
                    **cluster, "status": {**(cluster.get("status") or {}), "conditions": conditions}},
                    subresource="status")
            except UpstreamError as exc:
                if exc.status != 409:
                    raise
        self._follow_workspaces(cluster)
        for item in self.marked:
            self.queue.add(item)
        self.marked.clear()

    def _follow_workspaces(self, cluster: dict[str, Any]) -> None:
        """Start following the workspaces the Cluster's status lists, stop following those it no longer does.
        Nothing here waits for a workspace: a heartbeat takes as long with a thousand of them as with one."""
        served = {e["workspace"]: set(e.get("namespaces") or [])
                  for e in (cluster.get("status") or {}).get("workspaces") or [] if isinstance(e, dict)}
        for name, namespaces in served.items():
            view = self.workspaces.get(name)
            if view is None:
                view = self.workspaces[name] = WorkspaceView(name, namespaces=namespaces)
                view.task = asyncio.create_task(self._watch_workspace(view), name=f"workspace-{name}")
            elif namespaces != view.namespaces:
                view.namespaces = namespaces
                view.requeue(self.queue)
        self.followed = True
        self.served = set(served)
        for name in set(self.workspaces) - set(served):
            view = self.workspaces.pop(name)
            if view.task is not None:
                view.task.cancel()
            for namespace, deployment in view.deployments:
                self.queue.add(("Deployment", name, namespace, deployment))

    async def _watch_workspace(self, view: WorkspaceView) -> None:
        await asyncio.gather(
            self._watch(view, PLACEMENTS, {}, lambda type_, obj: self._on_placement(view, type_, obj)),
            self._watch(view, DEPLOYMENTS, {}, lambda type_, obj: self._on_upstream(view, "Deployment", type_, obj)),
            self._watch(view, SERVICES, {}, lambda type_, obj: self._on_upstream(view, "Service", type_, obj)),
            self._watch(view, PODS, {"labelSelector": f"{t.CLUSTER_LABEL}={self.cluster}"},
                        lambda type_, obj: self._on_mirror(view, type_, obj)),
            *(self._watch(view, resource, {}, lambda type_, obj, kind=kind: self._on_referenced(view, kind, type_, obj))
              for kind, resource in _KINDS.items()),
        )

    async def _watch(self, view: WorkspaceView, resource: Resource, params: dict[str, str],
                     on_event: Callable[[str, dict[str, Any]], None]) -> None:
        """List, then watch from the list's resourceVersion; relist on 410 Gone, retry with back-off on errors."""
        delay = 0.2
        while True:
            try:
                listed = await self.up.list(resource, view.name, params=params)
                on_event("RELISTED", listed)
                delay = 0.2
                async for event in self.up.watch(resource, view.name, listed["metadata"]["resourceVersion"],
                                                 params=params):
                    if event.type != "BOOKMARK":
                        on_event(event.type, event.obj)
            except asyncio.CancelledError:
                raise
            except Expired:
                continue
            except (UpstreamError, ValueError) as exc:
                log.warning("workspace %s, %s: %s; retrying in %.1fs", view.name, resource.plural, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    def _on_upstream(self, view: WorkspaceView, kind: str, type_: str, obj: dict[str, Any]) -> None:
        """A Deployment or Service of the workspace changed (or all were listed again)."""
        objects = view.synced(kind)
        if type_ == "RELISTED":
            fresh = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in obj.get("items", [])
                     if kind == "Deployment" or t.goes_down(o)}
            for key in set(objects) | set(fresh):
                self._look_again((kind, view.name, *key), fresh.get(key))
            objects.clear()
            objects.update(fresh)
            view.listed_kinds.add(kind)
            return
        if kind == "Service" and not t.goes_down(obj):
            return
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        if type_ == "DELETED":
            objects.pop(key, None)
            self.queue.add((kind, view.name, *key))
        else:
            objects[key] = obj
            self._look_again((kind, view.name, *key), obj)

    def _look_again(self, item: Item, upstream: dict[str, Any] | None) -> None:
        """Queue `item`, unless the control plane marked what this cluster reported in it as stale: then it waits
        for the next heartbeat that goes through."""
        stale = upstream is not None and (t.mirror_marked_stale(upstream) if item[0] == "Pod"
                                          else item[0] == "Deployment"
                                          and t.deployment_marked_stale(upstream, self.cluster))
        if stale:
            self.marked.add(item)
        else:
            self.queue.add(item)

    def _on_referenced(self, view: WorkspaceView, kind: str, type_: str, obj: dict[str, Any]) -> None:
        """A ConfigMap, Secret or ServiceAccount changed: the Deployments that use it sync it down again."""
        if type_ == "RELISTED":
            return
        namespace, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        for (ns, deployment_name), deployment in view.deployments.items():
            if ns == namespace and (kind, name) in t.references(deployment):
                self.queue.add(("Deployment", view.name, ns, deployment_name))

    def _on_mirror(self, view: WorkspaceView, type_: str, obj: dict[str, Any]) -> None:
        """A tenant deleting a mirror pod deletes the pod on the cluster (its ReplicaSet makes a new one)."""
        if type_ == "RELISTED":
            view.mirrors = {(m["metadata"]["namespace"], m["metadata"]["name"]): m for m in obj.get("items", [])}
            view.listed_kinds.add("Pod")
        elif type_ == "DELETED":
            view.mirrors.pop((obj["metadata"]["namespace"], obj["metadata"]["name"]), None)
        else:
            view.keep_mirror(obj)
        if type_ == "DELETED":
            # Gone at once (a forced delete, or a mirror not bound yet): its pod goes too. When that pod is gone
            # already, it was the syncer that removed the mirror.
            meta = obj["metadata"]
            pod_name = t.downstream_pod_name(meta["name"], self.cluster) or ""
            pod = self.pods.cache.get((t.downstream_namespace(view.name, meta["namespace"]), pod_name))
            if pod is not None and pod["metadata"].get("uid") == (meta.get("annotations") or {}).get(
                    t.DOWNSTREAM_UID_ANNOTATION):
                self.queue.add(("MirrorDeleted", view.name, meta["namespace"], meta["name"]))
            return
        for mirror in obj.get("items", []) if type_ == "RELISTED" else [obj]:
            # Its pod looked at again: that removes a mirror whose pod went while this workspace was not followed
            # (the cluster unreachable, the syncer down), and puts the pod's status back over a stale mark the
            # control plane made while the cluster was silent. A mirror that is as its pod is left alone.
            pod_name = t.downstream_pod_name(mirror["metadata"]["name"], self.cluster)
            if pod_name is not None:
                dns = t.downstream_namespace(view.name, mirror["metadata"]["namespace"])
                pod = self.pods.cache.get((dns, pod_name))
                if pod is None or mirror.get("status") != t.mirror_status(pod):
                    self._look_again(("Pod", dns, "", pod_name), mirror)
            if mirror["metadata"].get("deletionTimestamp"):
                self.queue.add(("MirrorDeleted", view.name, mirror["metadata"]["namespace"],
                                mirror["metadata"]["name"]))

    def _on_placement(self, view: WorkspaceView, type_: str, obj: dict[str, Any]) -> None:
        """A Placement changed (its status chooses the clusters): every Deployment of the workspace is looked at
        again, as its share may have changed."""
        if type_ == "RELISTED":
            view.placements = {p["metadata"]["name"]: p for p in obj.get("items", [])}
            view.listed_kinds.add("Placement")
        elif type_ == "DELETED":
            view.placements.pop(obj["metadata"]["name"], None)
        else:
            view.placements[obj["metadata"]["name"]] = obj
        view.requeue(self.queue)

    # ---- downstream events --------------------------------------------------------------------------------------

    def _upstream_of(self, downstream_namespace: str) -> tuple[str, str] | None:
        ns = self.namespaces.cache.get(("", downstream_namespace))
        if ns is None:
            return None
        return t.upstream_locator(ns)

    def _on_namespace(self, _: str, obj: dict[str, Any]) -> None:
        """A managed namespace appeared (or changed): its pods and events can now be placed upstream."""
        namespace = obj["metadata"]["name"]
        for pod_namespace, name in list(self.pods.cache):
            if pod_namespace == namespace:
                self.queue.add(("Pod", namespace, "", name))

    def _on_downstream(self, kind: str, _: str, obj: dict[str, Any]) -> None:
        """A Deployment or Service the syncer made changed on the cluster (drift, or its own write)."""
        located = t.upstream_of_object(obj)
        if located is not None:
            workspace, namespace, name = located
            self.queue.add((kind, workspace, namespace, name))

    def _on_pod(self, _: str, obj: dict[str, Any]) -> None:
        self.queue.add(("Pod", obj["metadata"]["namespace"], "", obj["metadata"]["name"]))

    def _on_event(self, type_: str, obj: dict[str, Any]) -> None:
        if type_ != "DELETED":
            self.queue.add(("Event", obj["metadata"]["namespace"], "", obj["metadata"]["name"]))

    # ---- reconciling ----------------------------------------------------------------------------------------------

    async def _sync(self, item: Item) -> bool:
        kind = item[0]
        handlers: dict[str, Callable[[Item], Awaitable[None]]] = {
            "Deployment": self._sync_deployment, "Service": self._sync_service, "Pod": self._sync_pod,
            "Event": self._sync_event,
            "MirrorDeleted": self._delete_downstream_pod,
        }
        try:
            await handlers[kind](item)
        except NotReady:
            return False
        except (UpstreamError, ApiException, HTTPError, OSError) as exc:
            log.warning("syncing %s: %s; will retry", item, exc)
            return False
        return True

    def _placement(self, view: WorkspaceView, namespace: str) -> dict[str, Any] | None:
        """The Placement that puts `namespace` on this cluster, or None when none does (then what is synced of it
        is removed). The Cluster's status and the Placements are read through separate watches, so for a moment
        they can disagree; until they agree nothing is decided."""
        placing = next((p for p in view.placements.values()
                        if namespace in ((p.get("status") or {}).get("namespaces") or [])
                        and self.cluster in ((p.get("status") or {}).get("chosenClusters") or [])), None)
        if (namespace in view.namespaces) != (placing is not None):
            raise NotReady
        return placing

    def _known_view(self, workspace: str) -> WorkspaceView | None:
        """The workspace's view, None when it is not served; NotReady while that is not known for sure."""
        view = self.workspaces.get(workspace)
        if (view is None and (not self.followed or workspace in self.served)) or (view is not None and not view.listed):
            raise NotReady  # never remove downstream what may still be wanted upstream
        return view

    async def _sync_deployment(self, item: Item) -> None:
        _, workspace, namespace, name = item
        view = self._known_view(workspace)
        if not self.deployments.connected:
            raise NotReady  # the cluster is out of reach; its status would be only what was last seen
        up = view.deployments.get((namespace, name)) if view else None
        dns = t.downstream_namespace(workspace, namespace)
        placement = self._placement(view, namespace) if view is not None and up is not None else None
        if up is None or up["metadata"].get("deletionTimestamp") or placement is None:
            await self._remove_downstream("Deployment", dns, name)
            await self._clean_namespace(view, namespace, dns)
            if up is not None and self.finalizer in (up["metadata"].get("finalizers") or []):
                finalizers = [f for f in up["metadata"]["finalizers"] if f != self.finalizer]
                await self.up.merge_patch(DEPLOYMENTS, workspace, namespace, name,
                                          {"metadata": {"finalizers": finalizers or None,
                                                        "resourceVersion": up["metadata"]["resourceVersion"]}})
            return
        if self.finalizer not in (up["metadata"].get("finalizers") or []):
            await self.up.merge_patch(DEPLOYMENTS, workspace, namespace, name, {"metadata": {
                "finalizers": [*(up["metadata"].get("finalizers") or []), self.finalizer],
                "resourceVersion": up["metadata"]["resourceVersion"]}})
        await self._ensure_namespace(workspace, namespace, dns)
        for kind, ref in sorted(t.references(up)):
            source = await self.up.get(_KINDS[kind], workspace, namespace, ref)
            if source is not None:
                await self._apply_downstream(kind, dns, t.to_downstream(source, workspace, self.cluster))
        chosen = placement["status"]["chosenClusters"]
        share = placements.share((up.get("spec") or {}).get("replicas", 1), chosen, self.cluster,
                                 (placement.get("spec") or {}).get("replicas", "Divided"))
        desired = t.to_downstream(up, workspace, self.cluster, replicas=share)
        actual = self.deployments.cache.get((dns, name))
        if actual is None:
            await self._write_down(lambda: self.apps.create_namespaced_deployment(dns, desired),
                                   (workspace, "Deployment", up))
        elif t.needs_update(desired, actual):
            desired["metadata"]["resourceVersion"] = actual["metadata"]["resourceVersion"]
            await self._write_down(lambda: self.apps.replace_namespaced_deployment(name, dns, desired),
                                   (workspace, "Deployment", up))
        await self._reflect_status(workspace, namespace, name, up, actual, chosen)

    async def _reflect_status(self, workspace: str, namespace: str, name: str, up: dict[str, Any],
                              actual: dict[str, Any] | None, chosen: list[str]) -> None:
        body = t.reflect_deployment_status(up, self.cluster, actual, chosen, _now())
        if body != up:
            try:
                await self.up.replace(DEPLOYMENTS, workspace, namespace, name, body, subresource="status")
            except UpstreamError as exc:
                if exc.status != 409:
                    raise
                raise NotReady from exc  # changed meanwhile: look again once the watch has brought the change

    async def _sync_service(self, item: Item) -> None:
        """A Service goes to every cluster its namespace is placed on, whatever Deployments there are."""
        _, workspace, namespace, name = item
        view = self._known_view(workspace)
        up = view.services.get((namespace, name)) if view else None
        dns = t.downstream_namespace(workspace, namespace)
        if (view is None or up is None or up["metadata"].get("deletionTimestamp")
                or self._placement(view, namespace) is None):
            await self._remove_downstream("Service", dns, name)
            await self._clean_namespace(view, namespace, dns)
            return
        await self._ensure_namespace(workspace, namespace, dns)
        await self._apply_downstream("Service", dns, t.to_downstream(up, workspace, self.cluster),
                                     (workspace, "Service", up))

    async def _write_down(self, write: Callable[[], Any], tenants: Tenants | None) -> None:
        """Make a write on the cluster for the tenant's object; when the cluster refuses it as written, the tenant
        is told on its object with an Event, and it is tried again later (a change to the object tries at once)."""
        try:
            await self._blocking(write)
        except ApiException as exc:
            if exc.status not in _REFUSALS or tenants is None:
                raise
            workspace, kind, up = tenants
            try:
                refusal = json.loads(exc.body or "{}").get("message") or exc.reason
            except ValueError:
                refusal = exc.reason
            log.info("cluster refused %s/%s in %s: %s", up["metadata"]["namespace"], up["metadata"]["name"],
                     workspace, refusal)
            await self._report_refusal(workspace, kind, up, str(refusal))
            raise NotReady from exc

    async def _report_refusal(self, workspace: str, kind: str, up: dict[str, Any], refusal: str) -> None:
        obj = {**up, "apiVersion": "v1" if kind == "Service" else "apps/v1", "kind": kind}
        namespace = up["metadata"]["namespace"]
        name = t.refusal_event(obj, self.cluster, refusal, _now(), None)["metadata"]["name"]
        existing = await self.up.get(EVENTS, workspace, namespace, name)
        event = t.refusal_event(obj, self.cluster, refusal, _now(), existing)
        with contextlib.suppress(UpstreamError):  # 409: written meanwhile; the next refusal counts on it
            if existing is None:
                await self.up.create(EVENTS, workspace, namespace, event)
            else:
                await self.up.replace(EVENTS, workspace, namespace, name, event)

    async def _remove_downstream(self, kind: str, dns: str, name: str) -> None:
        informer, delete = ((self.deployments, self.apps.delete_namespaced_deployment) if kind == "Deployment"
                            else (self.services, self.core.delete_namespaced_service))
        actual = informer.cache.get((dns, name))
        if actual is not None and t.is_managed(actual):
            with contextlib.suppress(ApiException):
                await self._blocking(lambda: delete(name, dns))

    async def _clean_namespace(self, view: WorkspaceView | None, namespace: str, dns: str) -> None:
        """A downstream namespace with nothing left to sync into it goes, and the copies of ConfigMaps, Secrets and
        ServiceAccounts in it with it."""
        existing = self.namespaces.cache.get(("", dns))
        if existing is None or existing["metadata"].get("deletionTimestamp") or not t.is_managed(existing):
            return
        if view is not None and view.wanted(namespace):
            return
        with contextlib.suppress(ApiException):
            await self._blocking(lambda: self.core.delete_namespace(dns))

    async def _ensure_namespace(self, workspace: str, namespace: str, dns: str) -> None:
        existing = self.namespaces.cache.get(("", dns))
        if existing is not None and existing["metadata"].get("deletionTimestamp"):
            raise NotReady  # emptied a moment ago and still going: nothing can be made in it until it is gone
        if existing is not None:
            return
        body = t.downstream_namespace_object(workspace, namespace, self.cluster)
        try:
            await self._blocking(lambda: self.core.create_namespace(body))
        except ApiException as exc:
            if exc.status != 409:
                raise

    async def _apply_downstream(self, kind: str, dns: str, desired: dict[str, Any],
                                tenants: Tenants | None = None) -> None:
        """Create or update a copy on the cluster; the tenant's object `tenants` names is told when the cluster
        refuses it."""
        name = desired["metadata"]["name"]
        calls = {
            "ConfigMap": (self.core.read_namespaced_config_map, self.core.create_namespaced_config_map,
                          self.core.replace_namespaced_config_map),
            "Secret": (self.core.read_namespaced_secret, self.core.create_namespaced_secret,
                       self.core.replace_namespaced_secret),
            "ServiceAccount": (self.core.read_namespaced_service_account, self.core.create_namespaced_service_account,
                               self.core.replace_namespaced_service_account),
            "Service": (self.core.read_namespaced_service, self.core.create_namespaced_service,
                        self.core.replace_namespaced_service),
        }
        read, create, replace = calls[kind]
        try:
            current = await self._blocking(lambda: self.api.sanitize_for_serialization(read(name, dns)))
        except ApiException as exc:
            if exc.status != 404:
                raise
            await self._write_down(lambda: create(dns, desired), tenants)
            return
        if not t.is_managed(current):
            return  # never touch what the syncer did not create
        if t.needs_update(desired, current):
            desired["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            await self._write_down(lambda: replace(name, dns, desired), tenants)

    async def _sync_pod(self, item: Item) -> None:
        _, dns, _, pod_name = item
        located = self._upstream_of(dns)
        if located is None:
            return
        workspace, namespace = located
        view = self._known_view(workspace)  # a restarted syncer's pods come before its workspaces: they wait
        if view is None:
            return
        if not self.pods.connected:
            # The cluster is out of reach: what the cache holds is only what was last seen, and the control plane
            # marks it so; it is written again once the pods are listed afresh.
            raise NotReady
        mirror_name = t.mirror_pod_name(pod_name, self.cluster)
        pod = self.pods.cache.get((dns, pod_name))
        existing = view.mirrors.get((namespace, mirror_name))
        if pod is None:
            if existing is not None:
                # A mirror is bound to a node, so a plain delete would leave it Terminating: its "kubelet" is here.
                await self.up.delete(PODS, workspace, namespace, mirror_name, grace_period_seconds=0)
                view.mirrors.pop((namespace, mirror_name), None)
            return
        owner = view.deployments.get((namespace, t.deployment_of(pod) or ""))
        if existing is None:
            mirror = t.mirror_pod(pod, namespace, owner, self.cluster)
            try:
                existing = await self.up.create(PODS, workspace, namespace, mirror)
            except UpstreamError as exc:
                if exc.status != 409:
                    raise
                existing = await self.up.get(PODS, workspace, namespace, mirror_name)
                if existing is None:
                    return
            view.keep_mirror(existing)
        node = (pod.get("spec") or {}).get("nodeName")
        if node and not (existing.get("spec") or {}).get("nodeName"):
            # Mirrored before it was scheduled: bound now, so that the mirror shows its node and deleting it
            # waits for its pod (a pod on no node would go at once).
            await self.up.bind(workspace, namespace, mirror_name, node, existing["metadata"]["uid"])
            existing = await self.up.get(PODS, workspace, namespace, mirror_name)
            if existing is None:
                return
            view.keep_mirror(existing)
        status = t.mirror_status(pod)
        if existing.get("status") != status:
            try:
                written = await self.up.replace(PODS, workspace, namespace, mirror_name,
                                                {**existing, "status": status}, subresource="status")
            except UpstreamError as exc:
                if exc.status not in (404, 409):
                    raise
                raise NotReady from exc  # changed or gone meanwhile: once the watch has brought that, again
            view.keep_mirror(written)

    async def _delete_downstream_pod(self, item: Item) -> None:
        _, workspace, namespace, mirror_name = item
        pod_name = t.downstream_pod_name(mirror_name, self.cluster)
        if pod_name is None:
            return
        dns = t.downstream_namespace(workspace, namespace)
        if (dns, pod_name) not in self.pods.cache:
            await self.up.delete(PODS, workspace, namespace, mirror_name, grace_period_seconds=0)
            return
        try:
            await self._blocking(lambda: self.core.delete_namespaced_pod(pod_name, dns))
        except ApiException as exc:
            if exc.status != 404:
                raise

    async def _sync_event(self, item: Item) -> None:
        _, dns, _, event_name = item
        located = self._upstream_of(dns)
        event = self.events.cache.get((dns, event_name))
        if located is None or event is None:
            return
        workspace, namespace = located
        view = self._known_view(workspace)
        if view is None:
            return

        def upstream_uid(kind: str, name: str) -> str | None:
            if kind == "Pod":
                mirror = view.mirrors.get((namespace, name))
                return mirror["metadata"]["uid"] if mirror else None
            deployment = view.deployments.get((namespace, name)) if kind == "Deployment" else None
            return deployment["metadata"]["uid"] if deployment else None

        translated = t.upstream_event(event, namespace, self.cluster, upstream_uid)
        if translated is None:
            involved = event.get("involvedObject") or {}
            if involved.get("kind") == "Pod" and (dns, involved.get("name", "")) in self.pods.cache:
                raise NotReady  # its pod is not mirrored yet (a restarted syncer's events come first): wait for it
            return
        name = translated["metadata"]["name"]
        existing = await self.up.get(EVENTS, workspace, namespace, name)
        if existing is None:
            with contextlib.suppress(UpstreamError):  # 409: made meanwhile; the next change updates it
                await self.up.create(EVENTS, workspace, namespace, translated)
        elif any(existing.get(k) != translated.get(k) for k in ("count", "lastTimestamp", "message")):
            translated["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
            await self.up.replace(EVENTS, workspace, namespace, name, translated)


async def run_until_signalled(cluster: str, kubeconfig_path: Path, cluster_kubeconfig: Path, *,
                              heartbeat_seconds: float = CLUSTER_HEARTBEAT_SECONDS) -> None:
    # A watch per resource per served workspace, each a connection: the default of 1,024 files is 140 workspaces.
    soft, hard = getrlimit(RLIMIT_NOFILE)
    wanted = 65536 if hard == RLIM_INFINITY else hard
    if soft != RLIM_INFINITY and soft < wanted:
        setrlimit(RLIMIT_NOFILE, (wanted, hard))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    api = api_client(cluster_kubeconfig)
    async with Upstream.from_kubeconfig(kubeconfig_path) as upstream:
        print(f"syncer for cluster {cluster}: control plane {upstream.base_url}, cluster "
              f"{api.configuration.host}", flush=True)
        await Syncer(cluster, upstream, api, heartbeat_seconds=heartbeat_seconds).run(stop)
    print("stopping", flush=True)
