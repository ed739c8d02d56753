"""The simulated cluster's kube-scheduler: it puts each new pod on a node, or says why none will take it.

It watches the pods that name no node and ask for the default scheduler, and decides with `simcluster.scheduling`
over what it keeps of every node: its schedulable view, and the pods counted on it (bound and not finished,
Succeeded and Failed pods take nothing, as the scheduler's informer never sees them). The counts are kept as pods
come and go, so a decision is one pass over the nodes, however many pods run.

As kube-scheduler does, a pod chosen for a node is counted there at once ("assumed"), and bound in the background
through the same Binding the API serves on pods/<name>/binding, carrying the pod's uid so that a pod deleted and
made again under the same name is not bound by mistake. Then the Normal `Scheduled` event, from
`default-scheduler`. When nothing fits: the Warning `FailedScheduling` event and the pod condition
`PodScheduled=False`, reason `Unschedulable`, both with the message that says why, node by node. Such a pod is
tried again when something might make room: a pod that held resources is deleted or finishes, a node is added or
changes what it offers (not its heartbeats), or the pod itself changes; and, as kube-scheduler flushes its
unschedulable queue, every 5 (simulated) minutes anyway, each try repeating the event (`x4 over 15m`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from api.registry import BUILTIN
from controlplane import errors
from controlplane.apiserver.handlers.binding import bind
from controlplane.controllers.workqueue import WorkQueue
from controlplane.registry.binding import Binding, scheduled_condition
from controlplane.registry.values import as_dict, as_list
from controlplane.storage.keys import ROOT_WORKSPACE, resource_prefix
from controlplane.storage.watchcache import ADDED, DELETED, WatchEvent
from controlplane.store import Store, now_rfc3339
from simcluster.clock import Clock
from simcluster.events import NORMAL, WARNING, EventRecorder, Source
from simcluster.scheduling import NodeInfo, schedule, scheduling_view, usage

log = logging.getLogger(__name__)

PODS = BUILTIN.lookup("", "v1", "pods")
assert PODS is not None

SCHEDULER_NAME = "default-scheduler"
SOURCE = Source(SCHEDULER_NAME)
# kube-scheduler's podMaxInUnschedulablePodsDuration: an unschedulable pod is tried again after this at the latest,
# by the flush that looks for such pods every FLUSH_SECONDS.
RETRY_UNSCHEDULABLE_SECONDS = 300.0
FLUSH_SECONDS = 30.0
# Bindings in flight at once: the scheduling loop waits for a slot, so it never runs far ahead of the API.
MAX_BINDINGS_IN_FLIGHT = 16
BIND_RETRY_SECONDS = 1.0  # real seconds before a binding that failed for another reason (etcd) is tried again

PodKey = tuple[str, str]  # (namespace, name)


def _finished(pod: dict[str, Any]) -> bool:
    return as_dict(pod.get("status")).get("phase") in ("Succeeded", "Failed")


def _ours(pod: dict[str, Any]) -> bool:
    """A pod this scheduler should place: no node yet, the default scheduler asked for, not gated, not going."""
    spec = as_dict(pod.get("spec"))
    return (not spec.get("nodeName") and spec.get("schedulerName", SCHEDULER_NAME) in ("", SCHEDULER_NAME)
            and not as_list(spec.get("schedulingGates")) and not pod["metadata"].get("deletionTimestamp"))


def _changed_beyond_status(pod: dict[str, Any], previous: dict[str, Any] | None) -> bool:
    """Whether an update changed more than the status (the scheduler's own condition write changes only that)."""
    if previous is None:
        return True

    def essence(obj: dict[str, Any]) -> tuple[Any, ...]:
        meta = obj.get("metadata", {})
        return obj.get("spec"), meta.get("labels"), meta.get("annotations"), meta.get("deletionTimestamp")

    return essence(pod) != essence(previous)


def _unschedulable(message: str, now: str, pod: dict[str, Any]) -> dict[str, Any]:
    """The pod with PodScheduled=False/Unschedulable (unchanged, so not written, if it got a node meanwhile)."""
    if as_dict(pod.get("spec")).get("nodeName"):
        return pod
    status = pod.setdefault("status", {})
    status["conditions"] = scheduled_condition(as_list(status.get("conditions")), "False", now=now,
                                               reason="Unschedulable", message=message)
    return pod


class Scheduler:
    def __init__(self, store: Store, recorder: EventRecorder, clock: Clock, *,
                 workspace: str = ROOT_WORKSPACE) -> None:
        self.store = store
        self.recorder = recorder
        self.clock = clock
        self.workspace = workspace
        self._nodes: dict[str, NodeInfo] = {}
        self._ordered: list[NodeInfo] | None = None  # the registered nodes by name, rebuilt when that set changes
        self._counted: dict[PodKey, str] = {}  # pod -> the node it is counted on (bound, or assumed while binding)
        self._unschedulable: dict[PodKey, float] = {}  # pod -> when (simulated) it last failed to fit
        self._binding_slots = asyncio.Semaphore(MAX_BINDINGS_IN_FLIGHT)
        self._bindings: set[asyncio.Task[None]] = set()
        self.queue: WorkQueue[PodKey] = WorkQueue("scheduler", self._schedule_one)

    # ---- what the watch cache tells ----------------------------------------------------------------------------

    def on_event(self, event: WatchEvent) -> None:
        key = event.key
        if key.workspace != self.workspace or key.group:
            return
        if key.resource == "nodes":
            self._node_event(event)
        elif key.resource == "pods":
            self._pod_event((key.namespace, key.name), event)

    def _node_event(self, event: WatchEvent) -> None:
        name = event.key.name
        if event.type == DELETED:
            if name in self._nodes:
                self._nodes[name].set_node(None)
                self._ordered = None
            return
        info = self._node_info(name)
        if info.node is None:
            self._ordered = None
        elif event.prev is not None and scheduling_view(event.prev) == scheduling_view(event.obj):
            return  # a heartbeat: nothing that decides where pods fit
        info.set_node(event.obj)
        self._retry_unschedulable()

    def _pod_event(self, key: PodKey, event: WatchEvent) -> None:
        pod = event.obj
        if event.type == DELETED:
            self._unschedulable.pop(key, None)
            if self._uncount(key):
                self._retry_unschedulable()
            self.recorder.forget(pod["metadata"].get("uid", ""))
            return
        node = as_dict(pod.get("spec")).get("nodeName")
        if node:
            self._unschedulable.pop(key, None)  # bound, by this scheduler or by someone else's Binding
        if node and not _finished(pod):
            self._count(key, node, pod)
        elif node and self._uncount(key):
            self._retry_unschedulable()  # it finished: its room is free
        if _ours(pod) and key not in self._counted and (
            event.type == ADDED or _changed_beyond_status(pod, event.prev)
        ):
            self._unschedulable.pop(key, None)
            self.queue.add(key)

    def _node_info(self, name: str) -> NodeInfo:
        info = self._nodes.get(name)
        if info is None:
            info = self._nodes[name] = NodeInfo(name)
        return info

    def _count(self, key: PodKey, node: str, pod: dict[str, Any]) -> None:
        if self._counted.get(key) == node:
            return
        self._uncount(key)
        self._node_info(node).add(key, usage(pod))
        self._counted[key] = node

    def _uncount(self, key: PodKey) -> bool:
        node = self._counted.pop(key, None)
        if node is None:
            return False
        self._nodes[node].remove(key)
        return True

    def _retry_unschedulable(self) -> None:
        for key in self._unschedulable:
            self.queue.add(key)
        self._unschedulable.clear()

    def _flush_unschedulable(self) -> None:
        """Try again the pods that have not fitted for RETRY_UNSCHEDULABLE_SECONDS; then come back later."""
        now = self.clock.monotonic()
        for key, since in list(self._unschedulable.items()):
            if now - since >= RETRY_UNSCHEDULABLE_SECONDS:
                del self._unschedulable[key]
                self.queue.add(key)
        asyncio.get_running_loop().call_later(self.clock.real(FLUSH_SECONDS), self._flush_unschedulable)

    # ---- controller ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        self.resync()
        self.queue.start()
        asyncio.get_running_loop().call_later(self.clock.real(FLUSH_SECONDS), self._flush_unschedulable)

    def resync(self) -> None:
        """Rebuild what is known of nodes and pods from the cache (at start, and after a relist)."""
        self._nodes.clear()
        self._counted.clear()
        self._ordered = None
        ws = self.workspace
        for cached in self.store.cache.list((ws, "", "nodes"), resource_prefix(ws, "", "nodes")):
            self._node_info(cached.key.name).set_node(cached.obj)
        for cached in self.store.cache.list((ws, "", "pods"), resource_prefix(ws, "", "pods")):
            key, pod = (cached.key.namespace, cached.key.name), cached.obj
            node = as_dict(pod.get("spec")).get("nodeName")
            if node and not _finished(pod):
                self._count(key, node, pod)
            elif _ours(pod):
                self.queue.add(key)

    # ---- scheduling ---------------------------------------------------------------------------------------------

    def _registered_nodes(self) -> list[NodeInfo]:
        if self._ordered is None:
            self._ordered = [info for _, info in sorted(self._nodes.items()) if info.node is not None]
        return self._ordered

    async def _schedule_one(self, key: PodKey) -> bool:
        namespace, name = key
        cached = self.store.peek(self.workspace, PODS, namespace, name)
        if cached is None or not _ours(cached.obj) or key in self._counted:
            return True
        pod = cached.obj
        decision = schedule(pod, self._registered_nodes())
        if decision.node:
            self._unschedulable.pop(key, None)
            self._count(key, decision.node, pod)  # assumed: the next pod sees this one's share taken
            await self._binding_slots.acquire()
            task = asyncio.create_task(self._bind(key, pod, decision.node), name=f"bind-{namespace}/{name}")
            self._bindings.add(task)
            task.add_done_callback(self._bindings.discard)
            return True
        self._unschedulable[key] = self.clock.monotonic()
        await self.recorder.record(pod, SOURCE, WARNING, "FailedScheduling", decision.message)
        try:
            await self.store.guaranteed_update(
                self.workspace, PODS, namespace, name,
                functools.partial(_unschedulable, decision.message, now_rfc3339()), subresource="status",
            )
        except errors.StatusError as exc:
            if exc.code != 404:  # deleted meanwhile: nothing to report on
                raise
        return True

    async def _bind(self, key: PodKey, pod: dict[str, Any], node: str) -> None:
        namespace, name = key
        try:
            bound = await bind(self.store, self.workspace, namespace,
                               Binding(name, node, uid=pod["metadata"].get("uid", "")))
        except Exception as exc:
            self._forget_assumed(key, node)
            code = exc.code if isinstance(exc, errors.StatusError) else 0
            if code == 409:
                self.queue.add(key)  # the pod changed meanwhile (bound, deleted or replaced): look at it again
            elif code != 404:  # 404: it is gone
                log.warning("binding %s/%s to %s failed (%s); trying again", namespace, name, node, exc)
                self.queue.add_after(key, BIND_RETRY_SECONDS)
            return
        finally:
            self._binding_slots.release()
        await self.recorder.record(bound, SOURCE, NORMAL, "Scheduled",
                                   f"Successfully assigned {namespace}/{name} to {node}")

    def _forget_assumed(self, key: PodKey, node: str) -> None:
        """A binding failed: the pod no longer counts on `node`, unless the cache shows it bound there after all."""
        cached = self.store.peek(self.workspace, PODS, *key)
        bound_there = cached is not None and as_dict(cached.obj.get("spec")).get("nodeName") == node
        if self._counted.get(key) == node and not bound_there:
            self._uncount(key)
