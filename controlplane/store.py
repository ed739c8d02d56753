"""The generic store: create, get, list, update, delete for every resource, in one code path.

kube-apiserver's `registry/generic/registry.Store`. It never mentions a kind: what differs per resource comes from
the resource's strategy (`controlplane.registry`), and what it stores goes through `EtcdStorage` (writes) and
`WatchCache` (reads). Handlers call it; controllers (garbage collector, namespace lifecycle) call it too, so
that every write, whoever makes it, obeys the same rules.
"""

from __future__ import annotations

import copy
import random
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from api.registry import BUILTIN, ResourceType
from api.types import WORKSPACE
from controlplane import allocators, errors
from controlplane.registry import status_strategy_for, strategy_for
from controlplane.storage.etcd import EtcdStorage, GuardChanged, KeyValue, PreconditionFailed
from controlplane.storage.keys import ROOT_WORKSPACE, ObjectKey, object_key, resource_prefix
from controlplane.storage.watchcache import CachedObject, WatchCache, decode

Object = dict[str, Any]
Mutation = Callable[[Object], Object | Awaitable[Object]]
# Records who changed what (managedFields), given the stored object (None on create) and the defaulted new one.
Tracker = Callable[[Object | None, Object], Object]

# Namespaces every workspace has, as every Kubernetes cluster does; they cannot be deleted.
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_GENERATE_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # kube's: no vowels, no confusable digits
_MAX_CONFLICT_RETRIES = 16


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def now_rfc3339() -> str:
    return rfc3339(datetime.now(UTC))


def encode(obj: Object) -> bytes:
    """The stored form: resourceVersion is not stored, it is the etcd revision the object is read at."""
    meta = obj.get("metadata", {})
    if "resourceVersion" in meta:
        obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "resourceVersion"}}
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError as exc:
        raise errors.bad_request(
            f"the object cannot be stored ({exc}): integers must fit in 64 bits; send large numbers as strings"
        ) from None


def with_revision(obj: Object, revision: int) -> Object:
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return obj


@dataclass(frozen=True)
class DeleteOptions:
    propagation_policy: str = ""  # "", Background, Foreground, Orphan
    precondition_uid: str = ""
    precondition_resource_version: str = ""
    dry_run: bool = False
    grace_period_seconds: int | None = None  # None: the object's own (a pod's terminationGracePeriodSeconds)


SharedObjects = Mapping[tuple[str, str], Mapping[str, Object]]


class Store:
    """`shared`: cluster-scoped objects every workspace has without storing them ((group, plural) -> name ->
    object), e.g. the default ClusterRoles. Reads see them unless the workspace stores its own of the same name;
    they are never written, and a workspace may shadow one by creating its own."""

    def __init__(self, storage: EtcdStorage, cache: WatchCache, *, shared: SharedObjects | None = None) -> None:
        self.storage = storage
        self.cache = cache
        self._known_workspaces: set[str] = set()
        self._random = random.Random()
        self._shared = shared or {}

    def _shared_objects(self, ws: str, rt: ResourceType, shadowed: Callable[[str], bool]) -> list[CachedObject]:
        objects = self._shared.get((rt.group, rt.plural))
        if not objects:
            return []
        return [
            CachedObject(ObjectKey(ws, rt.group, rt.plural, "", name), obj, 0)
            for name, obj in objects.items() if not shadowed(name)
        ]

    # ---- reads -----------------------------------------------------------------------------------------------

    async def get(self, ws: str, rt: ResourceType, namespace: str, name: str, *, fresh: bool = True) -> CachedObject:
        if fresh:
            await self.cache.wait_fresh()
        found = self.cache.get((ws, rt.group, rt.plural), object_key(ws, rt.group, rt.plural, namespace, name))
        if found is None:
            shared = self._shared_objects(ws, rt, lambda other: other != name)
            if shared:
                return shared[0]
            raise errors.not_found(rt.plural, name, rt.group)
        return found

    def peek(self, ws: str, rt: ResourceType, namespace: str, name: str) -> CachedObject | None:
        """The cached object without a freshness barrier (controllers, admission-style checks)."""
        return self.cache.get((ws, rt.group, rt.plural), object_key(ws, rt.group, rt.plural, namespace, name))

    async def list_cached(self, ws: str, rt: ResourceType, namespace: str, *, fresh: bool = True) -> list[CachedObject]:
        if fresh:
            await self.cache.wait_fresh()
        listed = self.cache.list((ws, rt.group, rt.plural), resource_prefix(ws, rt.group, rt.plural, namespace))
        if (rt.group, rt.plural) in self._shared:
            own = {c.key.name for c in listed}
            listed = sorted([*listed, *self._shared_objects(ws, rt, own.__contains__)], key=lambda c: c.key.name)
        return listed

    async def list_page(
        self, ws: str, rt: ResourceType, namespace: str, *, start: str, limit: int, revision: int
    ) -> tuple[list[Object], int, str]:
        """One page straight from etcd at a pinned revision: (objects, revision, key to continue from or "")."""
        prefix = resource_prefix(ws, rt.group, rt.plural, namespace)
        kvs, read_at, more = await self.storage.range(prefix, start=start, limit=limit, revision=revision)
        objects = [decode(kv.value, kv.mod_revision) for kv in kvs]
        if not start and (rt.group, rt.plural) in self._shared:
            # The few shared objects join the first page (which may then hold more than `limit` objects).
            stored = {kv.key.rsplit("/", 1)[1] for kv in kvs}
            shared = [c.obj for c in self._shared_objects(
                ws, rt, lambda name: name in stored or self.peek(ws, rt, "", name) is not None
            )]
            objects = sorted([*objects, *shared], key=lambda o: o["metadata"]["name"])
        return objects, revision or read_at, (kvs[-1].key + "\x00") if more and kvs else ""

    async def _read_current(self, ws: str, rt: ResourceType, namespace: str, name: str) -> KeyValue:
        """The stored object about to be written or deleted; a shared one (never stored) cannot be."""
        kv = await self.storage.get(object_key(ws, rt.group, rt.plural, namespace, name))
        if kv is None:
            if name in self._shared.get((rt.group, rt.plural), {}):
                raise errors.StatusError(
                    405, "MethodNotAllowed",
                    f'{rt.group_resource} "{name}" is shared by every workspace and cannot be changed or deleted; '
                    f"create your own {rt.kind} under another name (or one with the same name, which then takes "
                    "its place in this workspace)",
                )
            raise errors.not_found(rt.plural, name, rt.group)
        return kv

    # ---- workspaces and namespaces ---------------------------------------------------------------------------

    def workspace_exists(self, ws: str) -> bool:
        """`root` always exists; `root:a:b` while the Workspace `b` exists in `root:a`, and `root:a` exists."""
        parent, _, name = ws.rpartition(":")
        if not parent:
            return ws == ROOT_WORKSPACE
        return self.peek(parent, WORKSPACE.resource, "", name) is not None and self.workspace_exists(parent)

    def forget_workspace(self, ws: str) -> None:
        """The workspace was deleted: if it is made again, it starts afresh."""
        self._known_workspaces.discard(ws)

    async def ensure_workspace(self, ws: str) -> None:
        """Give an existing workspace, on the first request into it, the namespaces every cluster has."""
        if ws in self._known_workspaces and self.peek(ws, _namespace_type(), "", "default") is not None:
            return
        ns_type = _namespace_type()
        for name in SYSTEM_NAMESPACES:
            if self.peek(ws, ns_type, "", name) is None:
                try:
                    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                    await self.create(ws, ns_type, "", body)
                except errors.StatusError as exc:
                    if exc.code != 409:
                        raise
        services = BUILTIN.lookup("", "v1", "services")
        assert services is not None
        if self.peek(ws, services, "default", "kubernetes") is None:
            try:
                await self.create(ws, services, "default", _kubernetes_service())
            except errors.StatusError as exc:
                if exc.code != 409:
                    raise
        self._known_workspaces.add(ws)

    async def _check_namespace(
        self, ws: str, namespace: str, rt: ResourceType, name: str, *, live: bool = False
    ) -> tuple[str, int]:
        """The namespace a new object goes into must exist and not be terminating; returns its key and revision,
        which guard the create. `live` reads it from etcd (when the cached view turned out stale)."""
        ns_type = _namespace_type()
        key = object_key(ws, "", "namespaces", "", namespace)
        found: tuple[Object, int] | None = None
        if live:
            kv = await self.storage.get(key)
            found = (decode(kv.value, kv.mod_revision), kv.mod_revision) if kv else None
        else:
            cached = self.peek(ws, ns_type, "", namespace)
            if cached is None:
                # The cache may not have seen a namespace created through another server yet: look again, freshly.
                await self.cache.wait_fresh()
                cached = self.peek(ws, ns_type, "", namespace)
            found = (cached.obj, cached.revision) if cached else None
        if found is None:
            raise errors.not_found("namespaces", namespace)
        if found[0]["metadata"].get("deletionTimestamp"):
            raise errors.StatusError(
                403,
                "Forbidden",
                f'{rt.group_resource} "{name}" is forbidden: unable to create new content in namespace {namespace} '
                "because it is being terminated",
                {"name": name, "kind": rt.plural, **({"group": rt.group} if rt.group else {})},
            )
        return key, found[1]

    # ---- create ----------------------------------------------------------------------------------------------

    async def create(
        self, ws: str, rt: ResourceType, namespace: str, body: Object, *, dry_run: bool = False,
        track: Tracker | None = None,
    ) -> Object:
        """Create `body` (which the store takes over and may change: pass a copy if you keep it)."""
        obj = body
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if meta.get("resourceVersion"):
            raise errors.bad_request(
                "resourceVersion should not be set on objects to be created; remove metadata.resourceVersion"
            )
        guard: tuple[str, int] | None = None
        if rt.namespaced:
            meta["namespace"] = namespace
            guard = await self._check_namespace(ws, namespace, rt, meta.get("name") or meta.get("generateName", ""))
        else:
            meta.pop("namespace", None)
        strategy = strategy_for(rt.group, rt.kind)
        _check_decodable(strategy, rt, obj)
        generated = not meta.get("name") and bool(meta.get("generateName"))
        for attempt in range(8):
            if generated:
                meta["name"] = meta["generateName"] + "".join(secrets.choice(_GENERATE_NAME_ALPHABET) for _ in range(5))
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            for transient in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
                meta.pop(transient, None)
            strategy.prepare_for_create(obj)  # defaults first, then resets what clients may not set
            causes = self._allocate(ws, rt, obj)
            if causes:
                raise errors.invalid(rt.kind, meta.get("name", ""), rt.group, causes)
            if track is not None:
                obj = track(None, obj)
                meta = obj["metadata"]
            causes = strategy.validate(obj)
            if causes:
                raise errors.invalid(rt.kind, meta.get("name") or meta.get("generateName", ""), rt.group, causes)
            if dry_run:
                return obj
            key = object_key(ws, rt.group, rt.plural, namespace if rt.namespaced else "", meta["name"])
            try:
                revision = await self.storage.create(key, encode(obj), guard=guard)
            except GuardChanged:
                # The namespace changed since it was checked (perhaps it is being deleted): check it in etcd.
                guard = await self._check_namespace(ws, namespace, rt, meta["name"], live=True)
                continue
            except PreconditionFailed:
                if generated and attempt < 7:
                    continue
                raise errors.already_exists(rt.plural, meta["name"], rt.group) from None
            return with_revision(obj, revision)
        raise errors.conflict(rt.plural, meta.get("name", ""), rt.group, "its namespace kept changing; try again")

    def _allocate(self, ws: str, rt: ResourceType, obj: Object) -> list[errors.Cause]:
        """Resources that hold a share of the workspace's network get it at creation (Services: IP, ports)."""
        if (rt.group, rt.kind) != ("", "Service"):
            return []
        services = self.cache.list((ws, rt.group, rt.plural), resource_prefix(ws, rt.group, rt.plural))
        ips, ports = allocators.in_use([s.obj for s in services])
        return allocators.allocate(obj.setdefault("spec", {}), ips, ports, self._random)

    # ---- update ----------------------------------------------------------------------------------------------

    async def update(
        self,
        ws: str,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: Object,
        *,
        subresource: str = "",
        dry_run: bool = False,
        track: Tracker | None = None,
    ) -> Object:
        """PUT: replace the object with `body`, guarded by body's resourceVersion when it carries one."""
        wanted = str(body.get("metadata", {}).get("resourceVersion") or "")

        def replace(current: Object) -> Object:
            if wanted and wanted != current["metadata"].get("resourceVersion"):
                raise errors.stale_conflict(rt.plural, name, rt.group)
            return copy.deepcopy(body)

        return await self.guaranteed_update(
            ws, rt, namespace, name, replace, subresource=subresource, dry_run=dry_run, precondition=wanted,
            track=track,
        )

    async def guaranteed_update(
        self,
        ws: str,
        rt: ResourceType,
        namespace: str,
        name: str,
        mutate: Mutation,
        *,
        subresource: str = "",
        dry_run: bool = False,
        precondition: str = "",
        track: Tracker | None = None,
    ) -> Object:
        """Read, mutate, write; retried on a lost race unless the caller pinned a resourceVersion."""
        key = object_key(ws, rt.group, rt.plural, namespace, name)
        for _ in range(_MAX_CONFLICT_RETRIES):
            kv = await self._read_current(ws, rt, namespace, name)
            current = decode(kv.value, kv.mod_revision)
            result = mutate(copy.deepcopy(current))
            proposed = await result if isinstance(result, Awaitable) else result
            obj = self._prepare_update(rt, namespace, name, proposed, current, subresource, track)
            if _same(obj, current) and not kv.stale:
                # kube-apiserver skips no-op writes: no new resourceVersion, no watch event. Except when the stored
                # value was encrypted with an older key: rewriting it is how keys are rotated.
                return current
            if dry_run:
                return obj
            try:
                if _finalized(obj):
                    revision = await self.storage.delete(key, kv.mod_revision)
                else:
                    revision = await self.storage.update(key, encode(obj), kv.mod_revision)
            except PreconditionFailed as exc:
                if exc.current is None:
                    raise errors.not_found(rt.plural, name, rt.group) from None
                if precondition:
                    raise errors.stale_conflict(rt.plural, name, rt.group) from None
                continue
            return with_revision(obj, revision)
        raise errors.conflict(rt.plural, name, rt.group, "too many concurrent writers; try again")

    def _prepare_update(
        self, rt: ResourceType, namespace: str, name: str, obj: Object, current: Object, subresource: str,
        track: Tracker | None,
    ) -> Object:
        if not isinstance(obj.get("metadata"), dict):
            raise errors.bad_request("metadata must be an object")
        meta = obj["metadata"]
        if meta.get("name", name) != name:
            raise errors.bad_request(
                f'the name of the object ({meta.get("name")}) does not match the name on the URL ({name}); '
                "fix metadata.name or the URL"
            )
        if rt.namespaced and meta.get("namespace", namespace) != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        old_meta = current["metadata"]
        meta["name"] = name
        if rt.namespaced:
            meta["namespace"] = namespace
        # Fields the server owns: clients cannot change identity, age or an ongoing deletion.
        for owned in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if owned in old_meta:
                meta[owned] = old_meta[owned]
            else:
                meta.pop(owned, None)
        meta["resourceVersion"] = old_meta.get("resourceVersion", "")
        if subresource == "finalize":
            # /finalize changes a namespace's spec.finalizers and nothing else.
            finalizers = (obj.get("spec") or {}).get("finalizers")
            obj = copy.deepcopy(current)
            obj.setdefault("spec", {})["finalizers"] = finalizers
            if not finalizers:
                obj["spec"].pop("finalizers")
            return obj
        if subresource == "binding":
            # A Binding sets spec.nodeName, which no pod update may change: kube-apiserver writes it straight to
            # storage, past the pod's strategy (`controlplane.registry.binding` decides what it may change).
            return obj
        if subresource == "status":
            strategy = status_strategy_for(rt.group, rt.kind)
        else:
            strategy = strategy_for(rt.group, rt.kind)
        _check_decodable(strategy, rt, obj)
        strategy.prepare_for_update(obj, current)  # defaults first, then keeps what this write may not change
        if track is not None:
            obj = track(current, obj)
        causes = strategy.validate(obj) + strategy.validate_update(obj, current)
        if causes:
            raise errors.invalid(rt.kind, name, rt.group, causes)
        return obj

    # ---- delete ----------------------------------------------------------------------------------------------

    async def delete(
        self, ws: str, rt: ResourceType, namespace: str, name: str, options: DeleteOptions
    ) -> tuple[Object, bool]:
        """Delete, or mark for deletion while finalizers remain. Returns (object, deleted now)."""
        if rt.kind == "Namespace" and name in SYSTEM_NAMESPACES:
            raise errors.StatusError(
                403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                {"name": name, "kind": "namespaces"},
            )
        key = object_key(ws, rt.group, rt.plural, namespace, name)
        for _ in range(_MAX_CONFLICT_RETRIES):
            kv = await self._read_current(ws, rt, namespace, name)
            current = decode(kv.value, kv.mod_revision)
            meta = current["metadata"]
            if options.precondition_uid and options.precondition_uid != meta.get("uid"):
                raise errors.conflict(
                    rt.plural, name, rt.group,
                    f"Precondition failed: UID in precondition: {options.precondition_uid}, UID in object meta: "
                    f"{meta.get('uid')}",
                )
            if options.precondition_resource_version and options.precondition_resource_version != meta.get(
                "resourceVersion"
            ):
                raise errors.conflict(
                    rt.plural, name, rt.group,
                    "Precondition failed: ResourceVersion in precondition: "
                    f"{options.precondition_resource_version}, ResourceVersion in object meta: "
                    f"{meta.get('resourceVersion')}",
                )
            finalizers = list(meta.get("finalizers") or [])
            policy = options.propagation_policy or "Background"
            # The policy of the latest delete wins: its finalizer replaces the other one, as in kube-apiserver.
            if policy == "Orphan":
                finalizers = [f for f in finalizers if f != "foregroundDeletion"]
                if "orphan" not in finalizers:
                    finalizers.append("orphan")
            elif policy == "Foreground":
                finalizers = [f for f in finalizers if f != "orphan"]
                if "foregroundDeletion" not in finalizers:
                    finalizers.append("foregroundDeletion")
            if rt.kind == "Namespace":
                # Namespaces empty themselves first: their own finalizer lives in spec.finalizers.
                finalizers = finalizers or []
                if current.get("spec", {}).get("finalizers"):
                    return await self._mark_deleting(key, kv, current, finalizers, options, terminating=True), False
            grace = strategy_for(rt.group, rt.kind).graceful_delete_seconds(current, options.grace_period_seconds)
            if not finalizers and not grace:
                if options.dry_run:
                    return current, True
                try:
                    revision = await self.storage.delete(key, kv.mod_revision)
                except PreconditionFailed as exc:
                    if exc.current is None:
                        raise errors.not_found(rt.plural, name, rt.group) from None
                    continue
                return with_revision(current, revision), True
            if options.dry_run:
                return current, False
            try:
                marked = await self._mark_deleting(
                    key, kv, current, finalizers, options, terminating=False, grace=grace
                )
                return marked, False
            except PreconditionFailed as exc:
                if exc.current is None:
                    raise errors.not_found(rt.plural, name, rt.group) from None
                continue
        raise errors.conflict(rt.plural, name, rt.group, "too many concurrent writers; try again")

    async def _mark_deleting(
        self, key: str, kv: KeyValue, current: Object, finalizers: list[str], options: DeleteOptions,
        *, terminating: bool, grace: int = 0,
    ) -> Object:
        """Mark an object as being deleted: it goes when its finalizers are gone and its grace period is over
        (a later delete may shorten the grace period, never lengthen it)."""
        meta = current["metadata"]
        existing = meta.get("deletionGracePeriodSeconds")
        shorter = existing is None or grace < existing
        if meta.get("deletionTimestamp") and meta.get("finalizers", []) == finalizers and not shorter:
            return current  # already being deleted: deleting again changes nothing
        obj = copy.deepcopy(current)
        obj["metadata"]["finalizers"] = finalizers
        if shorter:
            obj["metadata"]["deletionTimestamp"] = rfc3339(datetime.now(UTC) + timedelta(seconds=grace))
            obj["metadata"]["deletionGracePeriodSeconds"] = grace
        if not finalizers:
            obj["metadata"].pop("finalizers")
        if terminating:
            obj.setdefault("status", {})["phase"] = "Terminating"
        if options.dry_run:
            return obj
        revision = await self.storage.update(key, encode(obj), kv.mod_revision)
        return with_revision(obj, revision)


def _same(a: Object, b: Object) -> bool:
    return encode(a) == encode(b)


def _kubernetes_service() -> Object:
    """The Service every cluster has in `default`, pointing at its own API server."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {
            "clusterIP": allocators.KUBERNETES_SERVICE_IP,
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
            "type": "ClusterIP",
        },
    }


def _check_decodable(strategy: Any, rt: ResourceType, obj: Object) -> None:
    """What kube-apiserver refuses while decoding the body (a malformed quantity, bad base64): 400, not 422."""
    problem = strategy.decode_error(obj)
    if problem:
        raise errors.bad_request(problem)


def _finalized(obj: Object) -> bool:
    """Marked for deletion and nothing left to wait for (no finalizers, no grace period still running): the object
    can leave etcd."""
    meta = obj["metadata"]
    if not meta.get("deletionTimestamp") or meta.get("finalizers") or meta.get("deletionGracePeriodSeconds"):
        return False
    return not (obj.get("kind") == "Namespace" and obj.get("spec", {}).get("finalizers"))


def _namespace_type() -> ResourceType:
    rt = BUILTIN.lookup("", "v1", "namespaces")
    assert rt is not None
    return rt
