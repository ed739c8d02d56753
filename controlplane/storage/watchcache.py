"""The watch cache: one etcd watch feeding an in-memory index, from which GET, LIST and WATCH are served.

kube-apiserver's cacher, in small. At start it lists every key under /registry/ at one revision, then watches
from the next revision with one etcd watch stream. Every event updates the index, is appended to a bounded
history, and is fanned out to the API watchers of its (workspace, group, resource) — so a watcher in one workspace
is never even offered another workspace's events.

Consistency. A read must see every write that finished before it started, including writes made through another
server process on the same etcd. `wait_fresh()` is that barrier: it asks etcd for its current revision (one
quorum read, shared by all readers that arrive while it is in flight) and waits until the cache has applied
events up to it. Writes under other prefixes bump etcd's revision without producing an event for us, so if the
cache has not caught up quickly the barrier checks, in one linearizable read, that no key under /registry/ changed
since the cache's revision (same number of keys, none modified later); then the cache is current at etcd's
revision. (etcd's own progress notifications cannot be trusted for this before 3.5.8: they may report a revision
whose events are still on their way, etcd-io/etcd#15220.)

History and 410. Watchers may resume from a resourceVersion still inside the history window; anything older is
answered with 410 Expired, as kube-apiserver does, and the client relists. If etcd itself compacted away
revisions the cache had not seen (a long disconnection), the cache relists and ends every open watch with 410:
silently skipping events would let clients believe a deleted object still exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
import orjson
from etcd3aio._protobuf import rpc_pb2

from controlplane.encryption import EncryptionError
from controlplane.storage.etcd import EtcdStorage
from controlplane.storage.keys import ROOT, ObjectKey, parse_key

log = logging.getLogger(__name__)

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"
_LIST_PAGE = 500
# How long a reader waits for events to arrive before checking etcd for changes under /registry/ directly.
_PROGRESS_AFTER_SECONDS = 0.05
_FRESH_TIMEOUT_SECONDS = 10.0
_WATCHER_QUEUE_LIMIT = 10_000

ResourceId = tuple[str, str, str]  # (workspace, group, resource)


class Expired(Exception):
    """The requested resourceVersion is older than the history this cache keeps."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class NotFresh(Exception):
    """The cache could not catch up with etcd in time (etcd unreachable, or far behind)."""


def decode(kv_value: bytes, revision: int) -> dict[str, Any]:
    obj: dict[str, Any] = orjson.loads(kv_value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return obj


@dataclass(slots=True)
class CachedObject:
    """An object as stored, with its resourceVersion set. Shared by every reader: never mutate `obj`."""

    key: ObjectKey
    obj: dict[str, Any]
    revision: int
    _json: bytes | None = None

    def json_bytes(self) -> bytes:
        if self._json is None:
            # A copy: orjson's own result keeps its 4 KiB working buffer allocated, too much to keep per object.
            self._json = bytes(memoryview(orjson.dumps(self.obj)))
        return self._json


@dataclass(slots=True)
class WatchEvent:
    type: str
    key: ObjectKey
    obj: dict[str, Any]
    prev: dict[str, Any] | None
    revision: int


@dataclass(eq=False)
class Watcher:
    resource: ResourceId
    namespace: str
    queue: asyncio.Queue[WatchEvent | Expired | None] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def offer(self, event: WatchEvent | Expired | None) -> bool:
        """Queue an event; False when the watcher is too slow and must be closed."""
        if self.closed:
            return True
        if self.queue.qsize() >= _WATCHER_QUEUE_LIMIT:
            return False
        self.queue.put_nowait(event)
        return True

    def wants(self, key: ObjectKey) -> bool:
        return not self.namespace or key.namespace == self.namespace


class WatchCache:
    def __init__(self, storage: EtcdStorage, *, history_size: int = 10_000) -> None:
        self._storage = storage
        self._objects: dict[ResourceId, dict[str, CachedObject]] = {}
        self._history: deque[WatchEvent] = deque(maxlen=history_size)
        self._history_start = 0  # every event with revision > this is in the history
        self._watchers: dict[ResourceId, set[Watcher]] = {}
        self._listeners: list[Callable[[WatchEvent], None]] = []
        self.revision = 0
        self._advanced = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._revision_probe: asyncio.Future[int] | None = None
        self._key_count = 0  # keys under /registry/ as of self.revision, including ones outside the layout
        self._relist_listeners: list[Callable[[], None]] = []

    # ---- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._relist()
        self._task = asyncio.create_task(self._run(), name="watch-cache")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for watchers in self._watchers.values():
            for w in watchers:
                w.offer(None)

    def add_listener(self, listener: Callable[[WatchEvent], None], on_relist: Callable[[], None] | None = None) -> None:
        """Call `listener` synchronously for every event (controllers enqueue work from here), and `on_relist`
        after a relist, when events may have been missed and the listener must resync from the cache."""
        self._listeners.append(listener)
        if on_relist is not None:
            self._relist_listeners.append(on_relist)

    # ---- reads -----------------------------------------------------------------------------------------------

    def get(self, resource: ResourceId, key: str) -> CachedObject | None:
        return self._objects.get(resource, {}).get(key)

    def list(self, resource: ResourceId, prefix: str) -> list[CachedObject]:
        """Objects of a resource whose key starts with `prefix` (a resource or namespace prefix), key order."""
        bucket = self._objects.get(resource)
        if not bucket:
            return []
        return [bucket[k] for k in sorted(k for k in bucket if k.startswith(prefix))]

    def remove_listener(
        self, listener: Callable[[WatchEvent], None], on_relist: Callable[[], None] | None = None
    ) -> None:
        self._listeners.remove(listener)
        if on_relist is not None:
            self._relist_listeners.remove(on_relist)

    def list_everywhere(self, group: str, resource: str) -> list[CachedObject]:
        """Every cached object of a resource across all workspaces: for controllers, never for API requests."""
        return [obj for rid, bucket in self._objects.items() if rid[1:] == (group, resource) for obj in bucket.values()]

    async def wait_fresh(self) -> None:
        """Return once the cache holds every write etcd acknowledged before this call."""
        target = await self._probe_revision()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _FRESH_TIMEOUT_SECONDS
        while self.revision < target:
            if await self.wait_for_revision(target, _PROGRESS_AFTER_SECONDS):
                return
            revision, keys = self.revision, self._key_count
            count, newest, read_at = await self._storage.prefix_summary(ROOT)
            if count == keys and newest <= revision:
                # Nothing under /registry/ changed after the cache's revision: it is current at `read_at`.
                await self._advance(read_at)
            elif loop.time() > deadline:
                raise NotFresh(f"watch cache at revision {self.revision}, etcd at {target}")

    async def wait_for_revision(self, revision: int, timeout: float) -> bool:
        """Wait until the cache has applied `revision` (a client may know a newer one from another replica)."""
        if self.revision >= revision:
            return True
        async with self._advanced:
            try:
                await asyncio.wait_for(self._advanced.wait_for(lambda: self.revision >= revision), timeout)
            except TimeoutError:
                return False
        return True

    async def _probe_revision(self) -> int:
        """etcd's current revision; concurrent callers share one request issued after they all arrived."""
        if self._revision_probe is not None and not self._revision_probe.done():
            # The in-flight probe may have been sent before this caller's write finished: wait for it, then
            # take the next one, which is guaranteed to start after this call. (Its outcome, failure included,
            # belongs to the callers that started it.)
            await asyncio.wait({self._revision_probe})
        if self._revision_probe is None or self._revision_probe.done():
            self._revision_probe = asyncio.ensure_future(self._storage.current_revision())
        return await asyncio.shield(self._revision_probe)

    def watch(self, resource: ResourceId, namespace: str, since: int) -> Watcher:
        """A watcher that first receives every event after revision `since` (0: from now on)."""
        if since and since < self._history_start:
            raise Expired(since, self._history_start + 1)
        watcher = Watcher(resource, namespace)
        if since:
            for event in self._history:
                key = event.key
                if event.revision > since and (key.workspace, key.group, key.resource) == resource and (
                    watcher.wants(key)
                ):
                    watcher.offer(event)
        self._watchers.setdefault(resource, set()).add(watcher)
        return watcher

    def stop_watch(self, watcher: Watcher) -> None:
        watcher.closed = True
        watchers = self._watchers.get(watcher.resource)
        if watchers is not None:
            watchers.discard(watcher)

    async def events(self, watcher: Watcher) -> AsyncIterator[WatchEvent]:
        """The watcher's events until it is closed; raises Expired if history was lost under it."""
        while (event := await self.next_event(watcher)) is not None:
            yield event

    @staticmethod
    async def next_event(watcher: Watcher) -> WatchEvent | None:
        """The watcher's next event, None once it is closed; raises Expired if history was lost under it. Safe to
        cancel (a timeout around it loses nothing), unlike a step of `events`, which cancelling ends."""
        item = await watcher.queue.get()
        if isinstance(item, Expired):
            raise item
        return item

    # ---- the etcd watch --------------------------------------------------------------------------------------

    async def _relist(self) -> None:
        objects: dict[ResourceId, dict[str, CachedObject]] = {}
        start, revision, keys = "", 0, 0
        while True:
            kvs, read_at, more = await self._storage.range(ROOT, start=start, limit=_LIST_PAGE, revision=revision,
                                                           sealed=True)
            revision = revision or read_at
            keys += len(kvs)
            for kv in kvs:
                obj = self._decode(kv.key, kv.value, kv.mod_revision)
                if obj is not None:
                    self._index_into(objects, kv.key, obj, kv.mod_revision)
            if not more or not kvs:
                break
            start = kvs[-1].key + "\x00"
        had_history = self._history_start != 0 or self.revision != 0
        self._objects = objects
        self._key_count = keys
        self._history.clear()
        self._history_start = revision
        await self._advance(revision)
        if had_history:
            # Watchers were following revisions that no longer exist anywhere: end them with 410.
            for watchers in self._watchers.values():
                for w in list(watchers):
                    w.offer(Expired(0, revision))
                watchers.clear()
            for on_relist in self._relist_listeners:
                on_relist()

    def _decode(self, key: str, stored: bytes, revision: int) -> dict[str, Any] | None:
        """The object stored at `key`; None (and an error in the log) when it cannot be decrypted or is not JSON,
        so that one bad value leaves its object out of the cache instead of stopping the cache."""
        try:
            return decode(self._storage.unseal(key, stored), revision)
        except (EncryptionError, ValueError) as exc:
            log.error("leaving %s out of the cache: %s", key, exc)
            return None

    def _previous(self, cached: CachedObject | None, ev: Any, key: str) -> dict[str, Any] | None:
        """The object as it was before `ev`: the cached one when it is that version (shared, not decoded again,
        so the history holds one copy of each version), else decoded from the event's prev_kv."""
        if not ev.HasField("prev_kv"):
            return None
        if cached is not None and cached.revision == ev.prev_kv.mod_revision:
            return cached.obj
        return self._decode(key, ev.prev_kv.value, ev.prev_kv.mod_revision)

    @staticmethod
    def _index_into(objects: dict[ResourceId, dict[str, CachedObject]], key_str: str, obj: dict[str, Any],
                    revision: int) -> None:
        key = parse_key(key_str)
        if key is None:
            return
        rid = (key.workspace, key.group, key.resource)
        objects.setdefault(rid, {})[key_str] = CachedObject(key, obj, revision)

    async def _advance(self, revision: int) -> None:
        if revision > self.revision:
            self.revision = revision
            async with self._advanced:
                self._advanced.notify_all()

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                compacted = await self._stream()
                backoff = 0.1
                if compacted:
                    log.warning("etcd compacted revisions the watch cache had not seen; relisting")
                    await self._relist()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # etcd unreachable, a broken stream, a failed relist: all are retried
                log.warning("etcd watch failed (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                try:
                    await self._relist_if_needed()
                except Exception as relist_exc:
                    log.warning("relisting from etcd failed (%s); will retry", relist_exc)

    async def _relist_if_needed(self) -> None:
        """After a broken stream, resume if etcd still has our revisions; otherwise relist."""
        current = await self._storage.current_revision()
        if current < self.revision:
            await self._relist()

    async def _stream(self) -> bool:
        """Follow etcd from the cache's revision; True when etcd reports the revisions as compacted."""
        create = rpc_pb2.WatchCreateRequest(
            key=ROOT.encode(),
            range_end=_prefix_end(ROOT),
            start_revision=self.revision + 1,
            prev_kv=True,
        )

        async def request_stream() -> AsyncIterator[rpc_pb2.WatchRequest]:
            yield rpc_pb2.WatchRequest(create_request=create)
            await asyncio.Event().wait()  # keep the request side open for the life of the stream

        call = self._storage.watch_stub().Watch(request_stream())
        try:
            async for response in call:
                if response.compact_revision:
                    return True
                if response.canceled:
                    raise grpc.aio.AioRpcError(
                        grpc.StatusCode.CANCELLED, grpc.aio.Metadata(), grpc.aio.Metadata(),
                        details=f"etcd cancelled the watch: {response.cancel_reason}",
                    )
                if response.events:
                    for ev in response.events:
                        self._apply(ev)
                    await self._advance(max(ev.kv.mod_revision for ev in response.events))
        finally:
            call.cancel()
        return False

    def _apply(self, ev: Any) -> None:
        key_str = ev.kv.key.decode()
        key = parse_key(key_str)
        if ev.type != ev.DELETE and ev.kv.version == 1:
            self._key_count += 1  # a key created (version 1), not an update of an existing one
        if key is None:
            if ev.type == ev.DELETE:
                self._key_count -= 1
            return
        rid = (key.workspace, key.group, key.resource)
        bucket = self._objects.setdefault(rid, {})
        revision = int(ev.kv.mod_revision)
        prev = self._previous(bucket.get(key_str), ev, key_str)
        if ev.type == ev.DELETE:
            self._key_count -= 1
            bucket.pop(key_str, None)
            if prev is None:
                return
            # The deleted object carries the revision of its deletion, as kube-apiserver reports it.
            obj = {**prev, "metadata": {**prev["metadata"], "resourceVersion": str(revision)}}
            event = WatchEvent(DELETED, key, obj, prev, revision)
        else:
            decoded = self._decode(key_str, ev.kv.value, revision)
            if decoded is None:
                bucket.pop(key_str, None)
                return
            obj = decoded
            bucket[key_str] = CachedObject(key, obj, revision)
            event = WatchEvent(MODIFIED if prev is not None else ADDED, key, obj, prev, revision)
        if len(self._history) == self._history.maxlen:
            self._history_start = self._history[0].revision
        self._history.append(event)
        for listener in self._listeners:
            listener(event)
        watchers = self._watchers.get(rid)
        if watchers:
            for w in list(watchers):
                if w.wants(key) and not w.offer(event):
                    log.warning("closing a watcher of %s that fell %d events behind", rid, _WATCHER_QUEUE_LIMIT)
                    watchers.discard(w)
                    w.queue.put_nowait(None)


def _prefix_end(prefix: str) -> bytes:
    b = bytearray(prefix.encode())
    b[-1] += 1
    return bytes(b)
