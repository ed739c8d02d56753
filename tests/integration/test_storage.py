"""EtcdStorage and WatchCache against a real etcd.

EtcdStorage: every write is one guarded etcd transaction; a lost guard reports the key as it now is; ranges can be
pinned to a revision so that pages form one snapshot. WatchCache: one etcd watch feeds an index that readers trust
after `wait_fresh()`, a bounded history that watchers resume from, and a relist that ends every watcher with 410
when etcd compacted revisions the cache had not seen.

Every test works in its own workspace (`root:s-<hex>`) of the session's shared etcd, so it sees only its own keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from etcd3aio.errors import EtcdConnectionError

from controlplane.etcd_embedded import free_port
from controlplane.storage.etcd import Compacted, EtcdStorage, KeyValue, PreconditionFailed
from controlplane.storage.keys import object_key, resource_prefix
from controlplane.storage.watchcache import ADDED, DELETED, MODIFIED, Expired, WatchCache, Watcher, WatchEvent
from tests.conftest import Etcd

DEADLINE_SECONDS = 10.0

ResourceId = tuple[str, str, str]


# ---- fixtures and helpers ---------------------------------------------------------------------------------------


def new_workspace() -> str:
    return f"root:s-{secrets.token_hex(4)}"


@pytest.fixture
def ws() -> str:
    return new_workspace()


@pytest.fixture
async def open_storage(etcd: Etcd) -> AsyncIterator[Callable[[], Awaitable[EtcdStorage]]]:
    """Connect EtcdStorage clients (one per "server process"); all are closed at the end of the test."""
    opened: list[EtcdStorage] = []

    async def open_() -> EtcdStorage:
        storage = EtcdStorage([etcd.url])
        await storage.connect()
        opened.append(storage)
        return storage

    yield open_
    for storage in opened:
        await storage.close()


@pytest.fixture
async def storage(open_storage: Callable[[], Awaitable[EtcdStorage]]) -> EtcdStorage:
    return await open_storage()


@pytest.fixture
async def open_cache() -> AsyncIterator[Callable[..., Awaitable[WatchCache]]]:
    """Start WatchCaches on given storages; all are stopped at the end of the test."""
    started: list[WatchCache] = []

    async def open_(storage: EtcdStorage, *, history_size: int = 10_000) -> WatchCache:
        cache = WatchCache(storage, history_size=history_size)
        await asyncio.wait_for(cache.start(), DEADLINE_SECONDS)
        started.append(cache)
        await until_streaming(cache, storage)
        return cache

    yield open_
    for cache in started:
        # A test may leave etcd unreachable for the cache; stopping must not fail on that.
        with contextlib.suppress(EtcdConnectionError):
            await cache.stop()


async def until_streaming(cache: WatchCache, storage: EtcdStorage) -> None:
    """Wait until the cache's etcd watch delivers events as they happen.

    A watch that starts at a past revision is "unsynced" in etcd until etcd's sync loop (every 100ms) catches it
    up, and during that window etcd 3.5.1 answers progress requests with a revision the watch has not delivered
    (see the reconnect test). Tests about steady-state behaviour start once a marker event arrived.
    """
    marker_ws = new_workspace()
    marker = object_key(marker_ws, "", "events", "default", "stream-ready")
    revision = await storage.create(marker, cm_value("stream-ready"))
    # No progress request is pending here, so only the event itself can move the cache to its revision.
    assert await cache.wait_for_revision(revision, DEADLINE_SECONDS), "the cache's etcd watch delivered nothing"
    assert cache.get((marker_ws, "", "events"), marker) is not None


@pytest.fixture
async def cache(storage: EtcdStorage, open_cache: Callable[..., Awaitable[WatchCache]]) -> WatchCache:
    return await open_cache(storage)


class CuttableProxy:
    """A TCP forwarder to etcd that a test can cut (every connection dropped, new ones refused) and restore:
    a network partition between one "server process" and etcd."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    @staticmethod
    async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(OSError):  # the proxy was cut: this direction simply ends
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
        finally:
            sink.transport.abort()


@pytest.fixture
async def proxy(etcd: Etcd) -> AsyncIterator[CuttableProxy]:
    proxy = CuttableProxy(etcd.endpoint)
    await proxy.start()
    yield proxy
    await proxy.cut()


class FlakyStorage(EtcdStorage):
    """EtcdStorage whose next `failures` range reads fail the way etcd3aio fails a read when etcd is unreachable."""

    failures = 0

    async def range(
        self, prefix: str, *, start: str = "", limit: int = 0, revision: int = 0, sealed: bool = False
    ) -> tuple[list[KeyValue], int, bool]:
        if self.failures:
            self.failures -= 1
            raise EtcdConnectionError("KV.Range failed after 3 attempts: UNAVAILABLE (injected)")
        return await super().range(prefix, start=start, limit=limit, revision=revision, sealed=sealed)


async def eventually(probe: Callable[[], bool], what: str, timeout: float = DEADLINE_SECONDS) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not probe():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def cm_key(ws: str, name: str, namespace: str = "default") -> str:
    return object_key(ws, "", "configmaps", namespace, name)


def cm_rid(ws: str) -> ResourceId:
    return (ws, "", "configmaps")


def cm_value(name: str, namespace: str = "default", **data: str) -> bytes:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}
    return json.dumps(obj).encode()


async def take(cache: WatchCache, watcher: Watcher, count: int) -> list[WatchEvent]:
    """The watcher's next `count` events (fails if they do not come within the deadline)."""
    got: list[WatchEvent] = []

    async def collect() -> None:
        async for event in cache.events(watcher):
            got.append(event)
            if len(got) == count:
                return

    try:
        await asyncio.wait_for(collect(), DEADLINE_SECONDS)
    except TimeoutError:
        raise AssertionError(f"expected {count} events, got {[(e.type, e.key.name) for e in got]}") from None
    return got


async def pause_stream(cache: WatchCache) -> None:
    """Stop the cache's etcd watch as a dead connection would, leaving watchers and index as they are.

    WatchCache has no public pause; `stop()` would also end the watchers, which is what the tests look at.
    """
    task = cache._task
    assert task is not None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def resume_stream(cache: WatchCache) -> None:
    """Reconnect the etcd watch the way the cache's own retry loop does: `_run` follows from `cache.revision`."""
    cache._task = asyncio.create_task(cache._run(), name="watch-cache")


def cached_configmaps(cache: WatchCache, ws: str) -> dict[str, dict[str, Any]]:
    return {c.key.encode(): c.obj for c in cache.list(cm_rid(ws), resource_prefix(ws, "", "configmaps"))}


async def stored_configmaps(storage: EtcdStorage, ws: str) -> dict[str, dict[str, Any]]:
    kvs, _, more = await storage.range(resource_prefix(ws, "", "configmaps"))
    assert not more
    result: dict[str, dict[str, Any]] = {}
    for kv in kvs:
        obj = json.loads(kv.value)
        obj["metadata"]["resourceVersion"] = str(kv.mod_revision)
        result[kv.key] = obj
    return result


# ---- EtcdStorage ------------------------------------------------------------------------------------------------


async def test_create_of_an_existing_key_fails_carrying_the_current_value(storage: EtcdStorage, ws: str) -> None:
    key = cm_key(ws, "a")
    revision = await storage.create(key, cm_value("a", v="1"))

    with pytest.raises(PreconditionFailed) as failed:
        await storage.create(key, cm_value("a", v="2"))

    assert failed.value.current == KeyValue(key, cm_value("a", v="1"), revision, revision)
    assert await storage.get(key) == KeyValue(key, cm_value("a", v="1"), revision, revision)


async def test_update_with_a_stale_revision_fails_carrying_the_current_value(storage: EtcdStorage, ws: str) -> None:
    key = cm_key(ws, "a")
    created = await storage.create(key, cm_value("a", v="1"))
    updated = await storage.update(key, cm_value("a", v="2"), created)
    assert updated > created

    with pytest.raises(PreconditionFailed) as failed:
        await storage.update(key, cm_value("a", v="3"), created)

    assert failed.value.current == KeyValue(key, cm_value("a", v="2"), updated, created)
    current = await storage.get(key)
    assert current is not None and current.value == cm_value("a", v="2")


async def test_update_of_a_deleted_key_fails_and_does_not_recreate_it(storage: EtcdStorage, ws: str) -> None:
    key = cm_key(ws, "a")
    created = await storage.create(key, cm_value("a"))
    await storage.delete(key, created)

    with pytest.raises(PreconditionFailed) as failed:
        await storage.update(key, cm_value("a", v="again"), created)

    assert failed.value.current is None
    assert await storage.get(key) is None


async def test_delete_with_a_stale_revision_fails_and_keeps_the_key(storage: EtcdStorage, ws: str) -> None:
    key = cm_key(ws, "a")
    created = await storage.create(key, cm_value("a", v="1"))
    updated = await storage.update(key, cm_value("a", v="2"), created)

    with pytest.raises(PreconditionFailed) as failed:
        await storage.delete(key, created)

    assert failed.value.current is not None and failed.value.current.mod_revision == updated
    assert await storage.get(key) == KeyValue(key, cm_value("a", v="2"), updated, created)
    deleted = await storage.delete(key, updated)
    assert deleted > updated
    assert await storage.get(key) is None


async def test_range_pages_at_a_pinned_revision_form_one_snapshot_despite_writes_between_pages(
    storage: EtcdStorage, ws: str
) -> None:
    prefix = resource_prefix(ws, "", "configmaps", "default")
    revisions: dict[str, int] = {}
    for name in ("a", "b", "c", "d", "e", "f"):
        revisions[name] = await storage.create(cm_key(ws, name), cm_value(name, v="1"))

    first, read_at, more = await storage.range(prefix, limit=2)
    assert [kv.key for kv in first] == [cm_key(ws, "a"), cm_key(ws, "b")]
    assert more
    # Between pages: a key that sorts into a later page appears, one goes, one changes.
    await storage.create(cm_key(ws, "c2"), cm_value("c2"))
    await storage.delete(cm_key(ws, "e"), revisions["e"])
    await storage.update(cm_key(ws, "d"), cm_value("d", v="2"), revisions["d"])

    pages = [first]
    while more:
        page, _, more = await storage.range(prefix, start=pages[-1][-1].key + "\x00", limit=2, revision=read_at)
        pages.append(page)

    snapshot = [kv for page in pages for kv in page]
    assert [kv.key for kv in snapshot] == [cm_key(ws, n) for n in ("a", "b", "c", "d", "e", "f")]
    assert [kv.value for kv in snapshot] == [cm_value(n, v="1") for n in ("a", "b", "c", "d", "e", "f")]
    assert [kv.mod_revision for kv in snapshot] == [revisions[n] for n in ("a", "b", "c", "d", "e", "f")]
    # An unpinned read sees the writes.
    now, _, _ = await storage.range(prefix)
    assert [kv.key for kv in now] == [cm_key(ws, n) for n in ("a", "b", "c", "c2", "d", "f")]


async def test_range_at_a_compacted_revision_raises_compacted(storage: EtcdStorage, ws: str) -> None:
    prefix = resource_prefix(ws, "", "configmaps")
    created = await storage.create(cm_key(ws, "a"), cm_value("a", v="1"))
    updated = await storage.update(cm_key(ws, "a"), cm_value("a", v="2"), created)
    await storage.compact(updated)

    with pytest.raises(Compacted):
        await storage.range(prefix, revision=created)
    # The compaction revision itself is still readable.
    kvs, _, _ = await storage.range(prefix, revision=updated)
    assert [kv.value for kv in kvs] == [cm_value("a", v="2")]


async def test_range_at_a_future_revision_is_not_reported_as_compacted(storage: EtcdStorage, ws: str) -> None:
    current = await storage.current_revision()
    try:
        await storage.range(resource_prefix(ws, "", "configmaps"), revision=current + 1_000_000)
    except Compacted as exc:
        pytest.fail(f"a future revision was reported as compacted: {exc}")
    except Exception:
        return  # any other error is an honest answer
    pytest.fail("a range at a future revision returned data")


# ---- WatchCache: freshness --------------------------------------------------------------------------------------


async def test_write_through_storage_is_in_the_cache_after_wait_fresh(
    storage: EtcdStorage, cache: WatchCache, ws: str
) -> None:
    for i in range(10):
        key = cm_key(ws, f"cm-{i}")
        revision = await storage.create(key, cm_value(f"cm-{i}", i=str(i)))
        await cache.wait_fresh()
        cached = cache.get(cm_rid(ws), key)
        assert cached is not None, f"write {i} at revision {revision} missing after wait_fresh"
        assert cached.revision == revision
        assert cached.obj["data"] == {"i": str(i)}
        assert cached.obj["metadata"]["resourceVersion"] == str(revision)


async def test_write_through_one_replica_is_in_the_other_replicas_cache_after_wait_fresh(
    open_storage: Callable[[], Awaitable[EtcdStorage]], open_cache: Callable[..., Awaitable[WatchCache]], ws: str
) -> None:
    storage_a, storage_b = await open_storage(), await open_storage()
    await open_cache(storage_a)
    cache_b = await open_cache(storage_b)
    key = cm_key(ws, "shared")

    revision = await storage_a.create(key, cm_value("shared", v="0"))
    for i in range(1, 11):
        await cache_b.wait_fresh()
        cached = cache_b.get(cm_rid(ws), key)
        assert cached is not None and cached.revision == revision, f"replica B missed write {i - 1}"
        revision = await storage_a.update(key, cm_value("shared", v=str(i)), revision)

    deleted = await storage_a.delete(key, revision)
    await cache_b.wait_fresh()
    assert cache_b.get(cm_rid(ws), key) is None
    assert cache_b.revision >= deleted


async def test_wait_fresh_returns_when_etcd_revision_moved_only_outside_registry(
    storage: EtcdStorage, cache: WatchCache, ws: str
) -> None:
    # Writes outside /registry/ bump etcd's revision but produce no event for the cache: only a progress
    # notification from the watch stream can tell the cache it is up to date.
    await cache.wait_fresh()
    written = await storage.create(f"/canopy-test/{ws}/outside", b"x")

    await asyncio.wait_for(cache.wait_fresh(), DEADLINE_SECONDS)

    assert cache.revision >= written


async def test_wait_fresh_after_a_watch_reconnect_includes_the_writes_made_while_disconnected(
    storage: EtcdStorage, cache: WatchCache, ws: str
) -> None:
    # etcd syncs a watcher that starts in the past every 100ms; the barrier asks for progress after 50ms. Several
    # rounds make it certain that at least one reconnect is still catching up when the progress answer comes.
    for round_ in range(10):
        await pause_stream(cache)
        keys = [cm_key(ws, f"r{round_}-{i}") for i in range(3)]
        for key in keys:
            await storage.create(key, cm_value(key.rsplit("/", 1)[1]))
        resume_stream(cache)

        await cache.wait_fresh()

        missing = [key for key in keys if cache.get(cm_rid(ws), key) is None]
        assert not missing, f"round {round_}: wait_fresh returned at revision {cache.revision} without {missing}"


# ---- WatchCache: watch ------------------------------------------------------------------------------------------


async def test_watch_from_revision_gets_exactly_the_later_events_in_order(
    storage: EtcdStorage, cache: WatchCache, ws: str
) -> None:
    a, b = cm_key(ws, "a"), cm_key(ws, "b")
    r1 = await storage.create(a, cm_value("a", v="1"))
    r2 = await storage.update(a, cm_value("a", v="2"), r1)
    r3 = await storage.create(b, cm_value("b", v="1"))
    r4 = await storage.delete(a, r2)
    await cache.wait_fresh()

    watcher = cache.watch(cm_rid(ws), "", r1)
    replayed = await take(cache, watcher, 3)
    r5 = await storage.update(b, cm_value("b", v="2"), r3)
    live = await take(cache, watcher, 1)
    await cache.wait_fresh()

    events = replayed + live
    assert [(e.type, e.key.name, e.revision) for e in events] == [
        (MODIFIED, "a", r2), (ADDED, "b", r3), (DELETED, "a", r4), (MODIFIED, "b", r5),
    ]
    assert [e.obj["metadata"]["resourceVersion"] for e in events] == [str(r) for r in (r2, r3, r4, r5)]
    deleted = events[2]
    # DELETED carries the object's last state, at the revision of its deletion.
    assert deleted.obj["data"] == {"v": "2"}
    assert deleted.prev is not None and deleted.prev["metadata"]["resourceVersion"] == str(r2)
    assert events[0].prev is not None and events[0].prev["data"] == {"v": "1"}
    assert events[1].prev is None
    assert watcher.queue.empty(), "events after the ones written"
    cache.stop_watch(watcher)


async def test_a_wait_for_the_next_event_that_times_out_loses_nothing(
    storage: EtcdStorage, cache: WatchCache, ws: str
) -> None:
    # The watch handler waits for the next event with a timeout, to send a bookmark when none came: the watch
    # must go on after that, not end.
    watcher = cache.watch(cm_rid(ws), "", 0)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(cache.next_event(watcher), 0.05)
    revision = await storage.create(cm_key(ws, "late"), cm_value("late"))
    event = await asyncio.wait_for(cache.next_event(watcher), DEADLINE_SECONDS)
    assert event is not None and (event.type, event.key.name, event.revision) == (ADDED, "late", revision)
    cache.stop_watch(watcher)


async def test_watcher_of_one_workspace_never_gets_events_of_another(
    storage: EtcdStorage, cache: WatchCache
) -> None:
    ws_a, ws_b = new_workspace(), new_workspace()
    before = await storage.current_revision()
    live = cache.watch(cm_rid(ws_a), "", 0)

    # Same resource, namespace and name in both workspaces; B's writes come first each time.
    rb = await storage.create(cm_key(ws_b, "same"), cm_value("same", owner="b"))
    ra = await storage.create(cm_key(ws_a, "same"), cm_value("same", owner="a"))
    await storage.update(cm_key(ws_b, "same"), cm_value("same", owner="b2"), rb)
    await storage.delete(cm_key(ws_b, "same"), await _mod_revision(storage, cm_key(ws_b, "same")))
    ra2 = await storage.update(cm_key(ws_a, "same"), cm_value("same", owner="a2"), ra)
    await cache.wait_fresh()
    replay = cache.watch(cm_rid(ws_a), "", before)

    for watcher in (live, replay):
        events = await take(cache, watcher, 2)
        assert [(e.type, e.key.workspace, e.revision) for e in events] == [(ADDED, ws_a, ra), (MODIFIED, ws_a, ra2)]
        assert [e.obj["data"]["owner"] for e in events] == ["a", "a2"]
        assert watcher.queue.empty(), "received events beyond workspace A's two"
        cache.stop_watch(watcher)


async def _mod_revision(storage: EtcdStorage, key: str) -> int:
    kv = await storage.get(key)
    assert kv is not None
    return kv.mod_revision


async def test_watcher_of_a_namespace_gets_only_that_namespace(
    storage: EtcdStorage, cache: WatchCache, ws: str
) -> None:
    before = await storage.current_revision()
    live = cache.watch(cm_rid(ws), "team", 0)
    everywhere = cache.watch(cm_rid(ws), "", 0)

    await storage.create(cm_key(ws, "x", "other"), cm_value("x", "other"))
    mine = await storage.create(cm_key(ws, "x", "team"), cm_value("x", "team"))
    # A namespace whose name starts with the watched one is another namespace.
    await storage.create(cm_key(ws, "x", "team-2"), cm_value("x", "team-2"))
    await cache.wait_fresh()
    replay = cache.watch(cm_rid(ws), "team", before)

    for watcher in (live, replay):
        events = await take(cache, watcher, 1)
        assert [(e.type, e.key.namespace, e.revision) for e in events] == [(ADDED, "team", mine)]
        assert watcher.queue.empty(), "received events of other namespaces"
    assert [e.key.namespace for e in await take(cache, everywhere, 3)] == ["other", "team", "team-2"]


async def test_watch_from_a_revision_older_than_the_history_raises_expired(
    storage: EtcdStorage, open_cache: Callable[..., Awaitable[WatchCache]], ws: str
) -> None:
    cache = await open_cache(storage, history_size=5)
    key = cm_key(ws, "churn")
    revisions = [await storage.create(key, cm_value("churn", v="0"))]
    for i in range(1, 8):
        revisions.append(await storage.update(key, cm_value("churn", v=str(i)), revisions[-1]))
    await cache.wait_fresh()

    with pytest.raises(Expired) as expired:
        cache.watch(cm_rid(ws), "", revisions[0])
    assert expired.value.requested == revisions[0]
    assert expired.value.oldest > revisions[1]

    # The newest revisions are still inside the window: resuming from them replays what followed.
    watcher = cache.watch(cm_rid(ws), "", revisions[-3])
    events = await take(cache, watcher, 2)
    assert [(e.type, e.revision) for e in events] == [(MODIFIED, revisions[-2]), (MODIFIED, revisions[-1])]


async def test_compaction_of_revisions_the_cache_missed_expires_watchers_and_relists(
    storage: EtcdStorage, cache: WatchCache, ws: str
) -> None:
    a, b, c = cm_key(ws, "a"), cm_key(ws, "b"), cm_key(ws, "c")
    ra = await storage.create(a, cm_value("a"))
    rb = await storage.create(b, cm_value("b", v="1"))
    await cache.wait_fresh()
    watcher = cache.watch(cm_rid(ws), "", 0)
    namespaced = cache.watch(cm_rid(ws), "default", ra)

    await pause_stream(cache)
    # While the cache is disconnected: a deletion, a creation and an update it never sees as events...
    await storage.delete(a, ra)
    await storage.create(c, cm_value("c"))
    await storage.update(b, cm_value("b", v="2"), rb)
    # ...and etcd forgets them.
    await storage.compact(await storage.current_revision())
    resume_stream(cache)

    with pytest.raises(Expired):
        await take(cache, watcher, 1)
    # A watcher resuming from history gets what it asked for, then the 410.
    assert [(e.type, e.revision) for e in await take(cache, namespaced, 1)] == [(ADDED, rb)]
    with pytest.raises(Expired):
        await take(cache, namespaced, 1)
    await cache.wait_fresh()
    assert cached_configmaps(cache, ws) == await stored_configmaps(storage, ws)
    assert set(cached_configmaps(cache, ws)) == {b, c}
    # Resuming from before the relist is impossible: the cache has no history from then.
    with pytest.raises(Expired):
        cache.watch(cm_rid(ws), "", rb)
    # And the cache follows etcd again.
    after = cache.watch(cm_rid(ws), "", 0)
    rd = await storage.create(cm_key(ws, "d"), cm_value("d"))
    assert [(e.type, e.revision) for e in await take(cache, after, 1)] == [(ADDED, rd)]


async def test_cache_that_lost_etcd_across_a_compaction_relists_and_expires_its_watchers(
    storage: EtcdStorage, proxy: CuttableProxy, open_cache: Callable[..., Awaitable[WatchCache]], ws: str
) -> None:
    # The cache's "server process" reaches etcd through a proxy that the test partitions; writes go direct.
    behind_proxy = EtcdStorage([proxy.endpoint])
    await behind_proxy.connect()
    try:
        cache = await open_cache(behind_proxy)
        a, b, c = cm_key(ws, "a"), cm_key(ws, "b"), cm_key(ws, "c")
        ra = await storage.create(a, cm_value("a"))
        rb = await storage.create(b, cm_value("b", v="1"))
        await cache.wait_fresh()
        watcher = cache.watch(cm_rid(ws), "", 0)

        await proxy.cut()
        await storage.delete(a, ra)
        await storage.create(c, cm_value("c"))
        await storage.update(b, cm_value("b", v="2"), rb)
        await storage.compact(await storage.current_revision())
        await proxy.start()

        with pytest.raises(Expired):
            await take(cache, watcher, 1)
        await cache.wait_fresh()
        assert cached_configmaps(cache, ws) == await stored_configmaps(storage, ws)
        assert set(cached_configmaps(cache, ws)) == {b, c}
    finally:
        await behind_proxy.close()


async def test_cache_recovers_when_its_relist_after_a_compaction_fails_once(
    storage: EtcdStorage, open_cache: Callable[..., Awaitable[WatchCache]], etcd: Etcd, ws: str
) -> None:
    flaky = FlakyStorage([etcd.url])
    await flaky.connect()
    try:
        cache = await open_cache(flaky)
        await pause_stream(cache)
        missed = await storage.create(cm_key(ws, "missed"), cm_value("missed"))
        await storage.create(cm_key(ws, "later"), cm_value("later"))
        await storage.compact(await storage.current_revision())
        assert missed < await storage.current_revision()
        flaky.failures = 1  # etcd is briefly unreachable just as the cache relists
        resume_stream(cache)

        # A working cache retries with its 0.1s back-off; a few seconds are plenty.
        await eventually(lambda: cache.get(cm_rid(ws), cm_key(ws, "missed")) is not None, "the relist", 3.0)
        after = await storage.create(cm_key(ws, "after"), cm_value("after"))
        await eventually(lambda: cache.revision >= after, "the cache to follow etcd again", 3.0)
    finally:
        await flaky.close()
