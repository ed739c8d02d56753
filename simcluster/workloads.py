"""kube-controller-manager's replicaset and deployment controllers for the simulated cluster, over the Store.

Each reads the watch cache, asks `simcluster.rollout` what to do, and writes it; events go out as the real
controllers record them (`replicaset-controller`: SuccessfulCreate, SuccessfulDelete; `deployment-controller`:
ScalingReplicaSet). Both are level-based: on start, and after the cache relisted, every ReplicaSet or Deployment is
synced again.

Reading its own writes. client-go controllers keep "expectations" (pods they created but have not seen in their
informer yet) so that a sync running before the informer caught up does not create the same pods twice. Here each
controller remembers the etcd revision of its last write and, before a sync, waits until the watch cache has
applied it: the cache then shows everything the controller did, which is what expectations approximate.

Writes that the real controllers make with the resourceVersion they read (`Update`, `UpdateStatus`) fail here too
when the object changed meanwhile; the item is then synced again from the fresh object, after a back-off.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from typing import Any

from api.registry import BUILTIN, ResourceType
from controlplane import errors
from controlplane.controllers.workqueue import WorkQueue
from controlplane.registry.meta import selector_matches
from controlplane.storage.keys import ROOT_WORKSPACE, resource_prefix
from controlplane.storage.watchcache import ADDED, DELETED, WatchEvent
from controlplane.store import DeleteOptions, Store
from simcluster import rollout
from simcluster.clock import Clock
from simcluster.events import NORMAL, WARNING, EventRecorder, Source

log = logging.getLogger(__name__)

DEPLOYMENTS = BUILTIN.lookup("apps", "v1", "deployments")
REPLICASETS = BUILTIN.lookup("apps", "v1", "replicasets")
PODS = BUILTIN.lookup("", "v1", "pods")
assert DEPLOYMENTS is not None and REPLICASETS is not None and PODS is not None

Object = dict[str, Any]
Key = tuple[str, str]  # (namespace, name)

_CATCH_UP_SECONDS = 5.0


def _namespace_terminating(exc: errors.StatusError) -> bool:
    """The create was refused because the namespace is going: nothing to report, nothing to retry."""
    return exc.code == 403 and "being terminated" in exc.message


class _Controller:
    """What both controllers share: the cache, the writes they remember, the clock."""

    def __init__(self, store: Store, recorder: EventRecorder, clock: Clock) -> None:
        self.store = store
        self.recorder = recorder
        self.clock = clock
        self._written = 0  # the etcd revision of this controller's latest write

    def _remember(self, obj: Object) -> Object:
        revision = int(obj.get("metadata", {}).get("resourceVersion") or 0)
        self._written = max(self._written, revision)
        return obj

    async def _caught_up(self) -> bool:
        return await self.store.cache.wait_for_revision(self._written, _CATCH_UP_SECONDS)

    def _now(self) -> rollout.Moment:
        return rollout.Moment(self.clock.now(), self.clock.scale)

    def _list(self, rt: ResourceType, namespace: str) -> list[Object]:
        prefix = resource_prefix(ROOT_WORKSPACE, rt.group, rt.plural, namespace)
        return [c.obj for c in self.store.cache.list((ROOT_WORKSPACE, rt.group, rt.plural), prefix)]

    def _peek(self, rt: ResourceType, namespace: str, name: str) -> Object | None:
        cached = self.store.peek(ROOT_WORKSPACE, rt, namespace, name)
        return cached.obj if cached is not None else None

    async def _update_read(self, rt: ResourceType, obj: Object, change: Callable[[Object], Object], *,
                           subresource: str = "") -> Object:
        """Write `change` over `obj` only if it is still the stored version (an Update with its resourceVersion)."""
        namespace, name = rollout.meta(obj).get("namespace", ""), rollout.name_of(obj)
        version = rollout.meta(obj).get("resourceVersion", "")

        def write(current: Object) -> Object:
            if current["metadata"].get("resourceVersion") != version:
                raise errors.stale_conflict(rt.plural, name, rt.group)
            return change(current)

        return self._remember(await self.store.guaranteed_update(
            ROOT_WORKSPACE, rt, namespace, name, write, subresource=subresource, precondition=version))

    async def _claim(self, rt: ResourceType, owner: Object, candidates: list[Object]) -> list[Object] | None:
        """The candidates `owner` controls after adopting the orphans it selects and releasing what it no longer
        selects (ClaimPods / ClaimReplicaSets); None when a write failed and the sync must be retried."""
        claimed: list[Object] = []
        for obj in candidates:
            decision = rollout.claim(owner, obj)
            if decision is rollout.Claim.OWNED:
                claimed.append(obj)
            elif decision is rollout.Claim.ADOPT:
                def adopt(current: Object) -> Object:
                    changed = rollout.adopted(current, owner)
                    if changed is None:
                        raise errors.conflict(rt.plural, rollout.name_of(current), rt.group, "it has a controller")
                    return changed

                try:
                    claimed.append(await self._update_read(rt, obj, adopt))
                except errors.StatusError as exc:
                    if exc.code != 404:
                        log.info("could not adopt %s %s: %s", rt.kind, rollout.name_of(obj), exc)
                        return None
            elif decision is rollout.Claim.RELEASE:
                try:
                    await self._update_read(rt, obj, lambda current: rollout.released(current, owner))
                except errors.StatusError as exc:
                    if exc.code != 404:
                        log.info("could not release %s %s: %s", rt.kind, rollout.name_of(obj), exc)
                        return None
        return claimed


class ReplicaSetController(_Controller):
    """Keeps spec.replicas pods of each ReplicaSet, and reports them in its status."""

    source = Source("replicaset-controller")

    def __init__(self, store: Store, recorder: EventRecorder, clock: Clock) -> None:
        super().__init__(store, recorder, clock)
        self.queue: WorkQueue[Key] = WorkQueue("replicaset", self._sync)

    def start(self) -> None:
        self.resync()
        self.queue.start()

    def resync(self) -> None:
        for obj in self._list(REPLICASETS, ""):
            self.queue.add((rollout.meta(obj).get("namespace", ""), rollout.name_of(obj)))

    def on_event(self, event: WatchEvent) -> None:
        key = event.key
        if key.workspace != ROOT_WORKSPACE:
            return
        if (key.group, key.resource) == ("apps", "replicasets"):
            self.queue.add((key.namespace, key.name))
        elif (key.group, key.resource) == ("", "pods"):
            self._pod_changed(event)

    def _pod_changed(self, event: WatchEvent) -> None:
        """Wake the ReplicaSets a pod was or is controlled by, or, for an orphan that changed, those selecting it."""
        pod, old = event.obj, event.prev
        namespace = event.key.namespace
        owners = [ref for ref in (rollout.controller_of(pod), rollout.controller_of(old) if old else None)
                  if ref is not None and ref.get("kind") == "ReplicaSet"]
        for ref in owners:
            self.queue.add((namespace, ref.get("name", "")))
        current = rollout.controller_of(pod)
        if current is None and event.type != DELETED and (
            event.type == ADDED or old is None or rollout.labels_of(old) != rollout.labels_of(pod)
            or rollout.controller_of(old) is not None
        ):
            for rs in self._list(REPLICASETS, namespace):
                if selector_matches(rollout.spec(rs).get("selector"), rollout.labels_of(pod)):
                    self.queue.add((namespace, rollout.name_of(rs)))
        if current is not None and current.get("kind") == "ReplicaSet" and old is not None and (
            rollout.is_pod_ready(pod) and not rollout.is_pod_ready(old)
        ):
            # Ready now, available minReadySeconds later: look again then (plus a second, as the real one does).
            rs = self._peek(REPLICASETS, namespace, current.get("name", ""))
            min_ready = rollout.spec(rs).get("minReadySeconds") if rs else None
            if isinstance(min_ready, int) and min_ready > 0:
                self.queue.add_after((namespace, current.get("name", "")), self.clock.real(min_ready + 1))

    async def _sync(self, key: Key) -> bool:
        namespace, name = key
        if not await self._caught_up():
            return False
        rs = self._peek(REPLICASETS, namespace, name)
        if rs is None:
            return True
        now = self._now()
        active = [pod for pod in self._list(PODS, namespace) if rollout.is_pod_active(pod)]
        pods = await self._claim(PODS, rs, active)
        if pods is None:
            return False
        error: str | None = None
        if not rollout.deleting(rs):
            change = rollout.manage_replicas(rs, pods, self._related_pods(rs, namespace), now)
            if change.create:
                error = await self._create_pods(rs, change.create)
            elif change.delete:
                error = await self._delete_pods(rs, change.delete)
        new_status = rollout.replica_set_status(rs, pods, now, error)
        if new_status != rollout.status(rs):
            await self._write_status(rs, new_status)
        if error is not None:
            return False
        recheck = rollout.availability_recheck_after(rs, new_status)
        if recheck is not None:
            self.queue.add_after(key, self.clock.real(recheck))
        return True

    def _related_pods(self, rs: Object, namespace: str) -> list[Object]:
        """Pods selected by any ReplicaSet with the same controller (getIndirectlyRelatedPods)."""
        owner = rollout.controller_of(rs)
        if owner is None:
            return []
        related: dict[str, Object] = {}
        pods = self._list(PODS, namespace)
        for sibling in self._list(REPLICASETS, namespace):
            sibling_owner = rollout.controller_of(sibling)
            if sibling_owner is None or sibling_owner.get("uid") != owner.get("uid"):
                continue
            for pod in pods:
                if selector_matches(rollout.spec(sibling).get("selector"), rollout.labels_of(pod)):
                    related.setdefault(rollout.uid_of(pod), pod)
        return list(related.values())

    async def _create_pods(self, rs: Object, count: int) -> str | None:
        """Create `count` pods in slow-start batches; the first failure's message, or None."""
        body = rollout.pod_from_template(rs)
        for batch in rollout.slow_start_batches(count):
            failures = [f for f in await asyncio.gather(*(self._create_pod(rs, body) for _ in range(batch))) if f]
            if failures:
                return failures[0]
        return None

    async def _create_pod(self, rs: Object, body: Object) -> str | None:
        namespace = rollout.meta(rs).get("namespace", "")
        try:
            created = self._remember(await self.store.create(ROOT_WORKSPACE, PODS, namespace, copy.deepcopy(body)))
        except errors.StatusError as exc:
            if _namespace_terminating(exc):
                return None
            await self.recorder.record(rs, self.source, WARNING, "FailedCreate", f"Error creating: {exc.message}")
            return exc.message
        await self.recorder.record(rs, self.source, NORMAL, "SuccessfulCreate",
                                   f"Created pod: {rollout.name_of(created)}")
        return None

    async def _delete_pods(self, rs: Object, pods: tuple[Object, ...]) -> str | None:
        failures = [f for f in await asyncio.gather(*(self._delete_pod(rs, pod) for pod in pods)) if f]
        return failures[0] if failures else None

    async def _delete_pod(self, rs: Object, pod: Object) -> str | None:
        name = rollout.name_of(pod)
        try:
            deleted, _ = await self.store.delete(ROOT_WORKSPACE, PODS, rollout.meta(rs).get("namespace", ""), name,
                                                 DeleteOptions())
        except errors.StatusError as exc:
            if exc.code == 404:
                return None  # already gone: what was wanted
            await self.recorder.record(rs, self.source, WARNING, "FailedDelete", f"Error deleting: {exc.message}")
            return f"unable to delete pods: {exc.message}"
        self._remember(deleted)
        await self.recorder.record(rs, self.source, NORMAL, "SuccessfulDelete", f"Deleted pod: {name}")
        return None

    async def _write_status(self, rs: Object, new_status: Object) -> None:
        def write(current: Object) -> Object:
            current["status"] = new_status
            return current

        try:
            self._remember(await self.store.guaranteed_update(
                ROOT_WORKSPACE, REPLICASETS, rollout.meta(rs).get("namespace", ""), rollout.name_of(rs), write,
                subresource="status"))
        except errors.StatusError as exc:
            if exc.code != 404:
                raise


class DeploymentController(_Controller):
    """Rolls each Deployment out through its ReplicaSets, and reports its progress in its status."""

    source = Source("deployment-controller")

    def __init__(self, store: Store, recorder: EventRecorder, clock: Clock) -> None:
        super().__init__(store, recorder, clock)
        self.queue: WorkQueue[Key] = WorkQueue("deployment", self._sync)

    def start(self) -> None:
        self.resync()
        self.queue.start()

    def resync(self) -> None:
        for obj in self._list(DEPLOYMENTS, ""):
            self.queue.add((rollout.meta(obj).get("namespace", ""), rollout.name_of(obj)))

    def on_event(self, event: WatchEvent) -> None:
        key = event.key
        if key.workspace != ROOT_WORKSPACE:
            return
        if (key.group, key.resource) == ("apps", "deployments"):
            if event.type != DELETED:
                self.queue.add((key.namespace, key.name))
        elif (key.group, key.resource) == ("apps", "replicasets"):
            self._replica_set_changed(event)
        elif (key.group, key.resource) == ("", "pods") and event.type == DELETED:
            self._pod_deleted(event)

    def _replica_set_changed(self, event: WatchEvent) -> None:
        """Wake the Deployments a ReplicaSet was or is controlled by, or, for an orphan, those selecting it."""
        rs, old = event.obj, event.prev
        namespace = event.key.namespace
        for ref in (rollout.controller_of(rs), rollout.controller_of(old) if old else None):
            if ref is not None and ref.get("kind") == "Deployment":
                self.queue.add((namespace, ref.get("name", "")))
        if rollout.controller_of(rs) is None and event.type != DELETED:
            for d in self._list(DEPLOYMENTS, namespace):
                if selector_matches(rollout.spec(d).get("selector"), rollout.labels_of(rs)):
                    self.queue.add((namespace, rollout.name_of(d)))

    def _pod_deleted(self, event: WatchEvent) -> None:
        """A Recreate rollout waits for the old pods to be gone: a deleted pod may let it go on."""
        namespace = event.key.namespace
        rs_ref = rollout.controller_of(event.obj)
        if rs_ref is None or rs_ref.get("kind") != "ReplicaSet":
            return
        rs = self._peek(REPLICASETS, namespace, rs_ref.get("name", ""))
        d_ref = rollout.controller_of(rs) if rs is not None and rollout.uid_of(rs) == rs_ref.get("uid") else None
        if d_ref is None or d_ref.get("kind") != "Deployment":
            return
        d = self._peek(DEPLOYMENTS, namespace, d_ref.get("name", ""))
        if d is not None and rollout.uid_of(d) == d_ref.get("uid") and not rollout.is_rolling_update(d):
            self.queue.add((namespace, rollout.name_of(d)))

    async def _sync(self, key: Key) -> bool:
        namespace, name = key
        if not await self._caught_up():
            return False
        d = self._peek(DEPLOYMENTS, namespace, name)
        if d is None:
            return True
        replica_sets = await self._claim(REPLICASETS, d, self._list(REPLICASETS, namespace))
        if replica_sets is None:
            return False
        sync = rollout.DeploymentSync(d, replica_sets, self._pods_by_replica_set(d, namespace, replica_sets),
                                      self._now())
        sync.run()
        if not await self._perform(d, replica_sets, sync.actions):
            return False
        if sync.requeue_after is not None:
            self.queue.add_after(key, self.clock.real(sync.requeue_after))
        return True

    def _pods_by_replica_set(self, d: Object, namespace: str, replica_sets: list[Object]) -> dict[str, list[Object]]:
        """The Deployment's pods (finished ones too) by the uid of the ReplicaSet controlling them."""
        by_uid: dict[str, list[Object]] = {rollout.uid_of(rs): [] for rs in replica_sets}
        for pod in self._list(PODS, namespace):
            ref = rollout.controller_of(pod)
            if ref is not None and ref.get("uid") in by_uid and selector_matches(
                rollout.spec(d).get("selector"), rollout.labels_of(pod)
            ):
                by_uid[ref["uid"]].append(pod)
        return by_uid

    async def _perform(self, d: Object, replica_sets: list[Object], actions: list[rollout.Action]) -> bool:
        """Make the writes in order; False (sync again) at the first that fails."""
        stored = {rollout.name_of(rs): rs for rs in replica_sets}
        namespace = rollout.meta(d).get("namespace", "")
        for action in actions:
            try:
                if isinstance(action, rollout.CreateReplicaSet):
                    created = await self.store.create(ROOT_WORKSPACE, REPLICASETS, namespace,
                                                      copy.deepcopy(action.body))
                    stored[rollout.name_of(created)] = self._remember(created)
                    if action.event:
                        await self.recorder.record(d, self.source, NORMAL, "ScalingReplicaSet", action.event)
                elif isinstance(action, rollout.UpdateReplicaSet):
                    planned = action.replica_set
                    name = rollout.name_of(planned)
                    stored[name] = await self._update_read(REPLICASETS, stored[name],
                                                           lambda current, p=planned: _scaled(current, p))
                    if action.event:
                        await self.recorder.record(d, self.source, NORMAL, "ScalingReplicaSet", action.event)
                elif isinstance(action, rollout.DeleteReplicaSet):
                    await self._delete_replica_set(namespace, action.name)
                else:
                    d = await self._update_read(DEPLOYMENTS, d, lambda current, a=action: _with_status(current, a),
                                                subresource="status")
            except errors.StatusError as exc:
                if isinstance(action, rollout.CreateReplicaSet):
                    return await self._create_failed(d, action, exc)
                log.info("deployment %s/%s: %s; will sync again", namespace, rollout.name_of(d), exc)
                return False
        return True

    async def _delete_replica_set(self, namespace: str, name: str) -> None:
        try:
            deleted, _ = await self.store.delete(ROOT_WORKSPACE, REPLICASETS, namespace, name, DeleteOptions())
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
            return
        self._remember(deleted)

    async def _create_failed(self, d: Object, action: rollout.CreateReplicaSet, exc: errors.StatusError) -> bool:
        """The new ReplicaSet could not be created. Its name taken by another (a hash collision): count the
        collision, which changes the next hash. The namespace going: nothing to do. Anything else: report it."""
        name = rollout.name_of(action.body)
        namespace = rollout.meta(d).get("namespace", "")
        if exc.code == 409:
            existing = self._peek(REPLICASETS, namespace, name)
            if existing is not None and rollout.is_hash_collision(d, existing):
                await self._write_status(d, rollout.with_collision(d))
            return False
        if _namespace_terminating(exc):
            return True
        failed, message = rollout.replica_set_create_failed(d, name, exc.message, self._now())
        await self._write_status(d, failed)
        await self.recorder.record(d, self.source, WARNING, rollout.RS_CREATE_ERROR, message)
        return False

    async def _write_status(self, d: Object, new_status: Object) -> None:
        """A status write on the way to a retry: if the Deployment changed meanwhile, the retry sees it anyway."""
        def write(current: Object) -> Object:
            current["status"] = new_status
            return current

        try:
            await self._update_read(DEPLOYMENTS, d, write, subresource="status")
        except errors.StatusError as exc:
            log.info("deployment %s: status not written (%s); will sync again", rollout.name_of(d), exc)


def _scaled(current: Object, planned: Object) -> Object:
    """The stored ReplicaSet with the size, minReadySeconds and annotations the deployment controller decided."""
    current_spec = current.setdefault("spec", {})
    planned_spec = rollout.spec(planned)
    current_spec["replicas"] = planned_spec.get("replicas", 0)
    if "minReadySeconds" in planned_spec:
        current_spec["minReadySeconds"] = planned_spec["minReadySeconds"]
    else:
        current_spec.pop("minReadySeconds", None)
    current["metadata"]["annotations"] = copy.deepcopy(rollout.annotations_of(planned))
    return current


def _with_status(current: Object, action: rollout.UpdateDeploymentStatus) -> Object:
    current["status"] = copy.deepcopy(action.status)
    if action.revision is not None:
        current["metadata"].setdefault("annotations", {})[rollout.REVISION] = action.revision
    return current
