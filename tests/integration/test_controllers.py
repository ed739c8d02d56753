"""The garbage collector and the namespace controller, running against a real etcd through the Store.

Each test gets its own workspace (`root:s-<hex>`) and its own controllers, started with `start_controllers` as
`canopy server` starts them, on an etcd this module starts for itself (so no other server's controllers act on
it). Results are awaited by polling etcd with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from api.registry import BUILTIN, ResourceType
from controlplane.controllers import start_controllers
from controlplane.etcd_embedded import EmbeddedEtcd
from controlplane.storage.etcd import EtcdStorage
from controlplane.storage.keys import object_key
from controlplane.storage.watchcache import WatchCache
from controlplane.store import DeleteOptions, Store
from tests.conftest import Etcd

DEADLINE_SECONDS = 10.0
# The namespace controller retries a non-empty namespace with back-off (0.1s, 0.2s, 0.4s...): a few seconds is
# ample for the namespaces these tests empty, and keeps the known-failing namespace tests short.
NAMESPACE_DEADLINE_SECONDS = 4.0
T = TypeVar("T")
Object = dict[str, Any]


def resource(group: str, kind: str) -> ResourceType:
    rt = BUILTIN.by_kind(group, kind)
    assert rt is not None
    return rt


NAMESPACES = resource("", "Namespace")
CONFIGMAPS = resource("", "ConfigMap")
SECRETS = resource("", "Secret")
PODS = resource("", "Pod")
DEPLOYMENTS = resource("apps", "Deployment")
REPLICASETS = resource("apps", "ReplicaSet")


# ---- fixtures and helpers ---------------------------------------------------------------------------------------


async def until_streaming(cache: WatchCache, storage: EtcdStorage) -> None:
    """Wait until the cache's etcd watch delivers events as they happen (see test_storage.until_streaming: right
    after start, etcd 3.5.1 answers the freshness barrier's progress request too early)."""
    marker = object_key(f"root:s-{secrets.token_hex(4)}", "", "events", "default", "stream-ready")
    revision = await storage.create(marker, b'{"metadata":{"name":"stream-ready","namespace":"default"}}')
    assert await cache.wait_for_revision(revision, DEADLINE_SECONDS), "the cache's etcd watch delivered nothing"


@pytest.fixture(scope="module")
def own_etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Etcd]:
    """A real etcd for this module alone, started as conftest starts the session's.

    The session's etcd also serves the `canopy server` of the kubectl tests, whose own garbage collector and
    namespace controller act on every workspace in it: a test would not know whose controller did the work.
    """
    server = EmbeddedEtcd(tmp_path_factory.mktemp("etcd-controllers"))
    asyncio.run(server.start())
    try:
        yield Etcd(server.endpoint)
    finally:
        asyncio.run(server.stop())


@pytest.fixture
async def store(own_etcd: Etcd) -> AsyncIterator[Store]:
    """A store with the garbage collector and the namespace controller running on it."""
    storage = EtcdStorage([own_etcd.url])
    await storage.connect()
    cache = WatchCache(storage)
    await asyncio.wait_for(cache.start(), DEADLINE_SECONDS)
    controllers = None
    try:
        await until_streaming(cache, storage)
        store = Store(storage, cache)
        controllers = await start_controllers(store, "http://127.0.0.1:6443")
        yield store
    finally:
        if controllers is not None:
            await controllers.stop()
        await cache.stop()
        await storage.close()


def new_workspace() -> str:
    return f"root:s-{secrets.token_hex(4)}"


@pytest.fixture
async def ws(store: Store) -> str:
    workspace = new_workspace()
    await store.ensure_workspace(workspace)
    return workspace


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = DEADLINE_SECONDS) -> T:
    """Poll `probe` until it returns something truthy; fail with the last value after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.01
    while True:
        last = await probe()
        if last:
            return last
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


async def stored(store: Store, ws: str, rt: ResourceType, ns: str, name: str) -> Object | None:
    """The object as etcd holds it now, bypassing the cache."""
    kv = await store.storage.get(object_key(ws, rt.group, rt.plural, ns, name))
    return None if kv is None else json.loads(kv.value)


async def gone(store: Store, ws: str, rt: ResourceType, ns: str, name: str, timeout: float = DEADLINE_SECONDS) -> None:
    async def probe() -> bool:
        return await stored(store, ws, rt, ns, name) is None

    await eventually(probe, f"{rt.plural}/{name} in {ws} to be deleted", timeout)


def owner_ref(owner: Object) -> Object:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def with_owners(obj: Object, *owners: Object, controller: bool = True) -> Object:
    refs = [owner_ref(o) for o in owners]
    if not controller or len(refs) > 1:
        for ref in refs:
            ref.pop("controller")
    obj["metadata"]["ownerReferences"] = refs
    return obj


def pod_template(labels: dict[str, str]) -> Object:
    return {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def deployment(name: str) -> Object:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": pod_template(labels)},
    }


def replicaset(name: str, app: str) -> Object:
    labels = {"app": app}
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": pod_template(labels)},
    }


def pod(name: str, app: str, finalizers: list[str] | None = None) -> Object:
    body: Object = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": app}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    if finalizers:
        body["metadata"]["finalizers"] = finalizers
    return body


def configmap(name: str) -> Object:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


async def deployment_chain(store: Store, ws: str, *, pod_finalizers: list[str] | None = None) -> tuple[Object, ...]:
    """Deployment web → ReplicaSet web-1 → Pod web-1-a, each owned by the one before."""
    dep = await store.create(ws, DEPLOYMENTS, "default", deployment("web"))
    rs = await store.create(ws, REPLICASETS, "default", with_owners(replicaset("web-1", "web"), dep))
    po = await store.create(ws, PODS, "default", with_owners(pod("web-1-a", "web", pod_finalizers), rs))
    return dep, rs, po


async def remove_finalizer(store: Store, ws: str, rt: ResourceType, ns: str, name: str, finalizer: str) -> None:
    def drop(obj: Object) -> Object:
        obj["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers", []) if f != finalizer]
        return obj

    await store.guaranteed_update(ws, rt, ns, name, drop)


# ---- garbage collector ------------------------------------------------------------------------------------------


async def test_deleting_a_deployment_collects_its_replicaset_and_the_replicasets_pod(store: Store, ws: str) -> None:
    await deployment_chain(store, ws)

    _, deleted_now = await store.delete(ws, DEPLOYMENTS, "default", "web", DeleteOptions())
    assert deleted_now

    await gone(store, ws, REPLICASETS, "default", "web-1")
    await gone(store, ws, PODS, "default", "web-1-a")


async def test_orphan_deletion_removes_the_owner_and_only_its_reference_from_dependents(
    store: Store, ws: str
) -> None:
    _, rs, _ = await deployment_chain(store, ws)

    marked, _ = await store.delete(ws, DEPLOYMENTS, "default", "web", DeleteOptions(propagation_policy="Orphan"))
    assert marked["metadata"]["finalizers"] == ["orphan"]

    await gone(store, ws, DEPLOYMENTS, "default", "web")
    orphan = await stored(store, ws, REPLICASETS, "default", "web-1")
    assert orphan is not None and "ownerReferences" not in orphan["metadata"]
    assert orphan["metadata"]["uid"] == rs["metadata"]["uid"]
    # The ReplicaSet's own dependents keep their reference to it.
    po = await stored(store, ws, PODS, "default", "web-1-a")
    assert po is not None and po["metadata"]["ownerReferences"] == [owner_ref(rs)]


async def test_foreground_deletion_keeps_the_owner_until_its_dependents_are_gone(store: Store, ws: str) -> None:
    await deployment_chain(store, ws, pod_finalizers=["example.com/hold"])

    marked, deleted_now = await store.delete(
        ws, DEPLOYMENTS, "default", "web", DeleteOptions(propagation_policy="Foreground")
    )
    assert not deleted_now and marked["metadata"]["finalizers"] == ["foregroundDeletion"]

    # The deletion reaches the bottom of the chain, where the pod's own finalizer holds it...
    async def pod_marked() -> Object | None:
        po = await stored(store, ws, PODS, "default", "web-1-a")
        return po if po and po["metadata"].get("deletionTimestamp") else None

    await eventually(pod_marked, "the pod to be marked for deletion")
    # ...so everything above it is still there, marked.
    for rt, name in ((DEPLOYMENTS, "web"), (REPLICASETS, "web-1")):
        owner = await stored(store, ws, rt, "default", name)
        assert owner is not None, f"{name} went before its dependents"
        assert owner["metadata"].get("deletionTimestamp")
        assert "foregroundDeletion" in owner["metadata"]["finalizers"]

    await remove_finalizer(store, ws, PODS, "default", "web-1-a", "example.com/hold")

    await gone(store, ws, PODS, "default", "web-1-a")
    await gone(store, ws, REPLICASETS, "default", "web-1")
    await gone(store, ws, DEPLOYMENTS, "default", "web")


async def test_dependent_with_two_owners_survives_one_and_loses_only_its_reference(store: Store, ws: str) -> None:
    first = await store.create(ws, CONFIGMAPS, "default", configmap("owner-1"))
    second = await store.create(ws, CONFIGMAPS, "default", configmap("owner-2"))
    await store.create(ws, SECRETS, "default", with_owners(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "shared"}}, first, second,
    ))

    await store.delete(ws, CONFIGMAPS, "default", "owner-1", DeleteOptions())

    async def unlinked() -> Object | None:
        obj = await stored(store, ws, SECRETS, "default", "shared")
        assert obj is not None, "the dependent was deleted although one owner is alive"
        return obj if len(obj["metadata"].get("ownerReferences", [])) == 1 else None

    survivor = await eventually(unlinked, "the reference to owner-1 to be removed")
    remaining = owner_ref(second)
    remaining.pop("controller")
    assert survivor["metadata"]["ownerReferences"] == [remaining]
    # With its last owner gone, it goes too.
    await store.delete(ws, CONFIGMAPS, "default", "owner-2", DeleteOptions())
    await gone(store, ws, SECRETS, "default", "shared")


async def test_dependent_of_an_owner_that_never_existed_is_collected(store: Store, ws: str) -> None:
    ghost = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "ghost", "uid": "00000000-0000-4000-8000-000000000000"}}
    await store.create(ws, SECRETS, "default", with_owners(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dependent"}}, ghost,
    ))

    await gone(store, ws, SECRETS, "default", "dependent")


async def test_owner_uid_from_another_workspace_owns_nothing_here(store: Store, ws: str) -> None:
    other, elsewhere = new_workspace(), new_workspace()
    await store.ensure_workspace(other)
    await store.ensure_workspace(elsewhere)
    dep, _, _ = await deployment_chain(store, ws)
    # In another workspace, the same chain under the same uids, as a copied workspace would have it.
    for rt, name in ((DEPLOYMENTS, "web"), (REPLICASETS, "web-1"), (PODS, "web-1-a")):
        copy_of = await stored(store, ws, rt, "default", name)
        assert copy_of is not None
        await store.storage.create(
            object_key(other, rt.group, rt.plural, "default", name), json.dumps(copy_of).encode()
        )
    # In a third, an object naming the first workspace's deployment as its owner: an owner that is not here.
    await store.create(elsewhere, SECRETS, "default", with_owners(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "foreign-owner"}}, dep,
    ))

    await gone(store, elsewhere, SECRETS, "default", "foreign-owner")
    assert await stored(store, ws, DEPLOYMENTS, "default", "web") is not None

    await store.delete(ws, DEPLOYMENTS, "default", "web", DeleteOptions())
    await gone(store, ws, PODS, "default", "web-1-a")
    # The chain with the same uids in the other workspace is untouched.
    for rt, name in ((DEPLOYMENTS, "web"), (REPLICASETS, "web-1"), (PODS, "web-1-a")):
        obj = await stored(store, other, rt, "default", name)
        assert obj is not None, f"{rt.plural}/{name} in the other workspace was collected"
        assert "deletionTimestamp" not in obj["metadata"]


async def test_owner_deleted_while_the_cache_was_disconnected_still_has_its_dependents_collected(
    store: Store, ws: str
) -> None:
    await deployment_chain(store, ws)
    await store.cache.wait_fresh()
    task = store.cache._task
    assert task is not None
    task.cancel()  # the cache's etcd watch dies, as with a lost connection
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await store.delete(ws, DEPLOYMENTS, "default", "web", DeleteOptions())
    # etcd forgets the deletion event (the compaction revision must be past it: etcd still serves a watch that
    # starts exactly at the compaction revision).
    await store.create(ws, CONFIGMAPS, "default", configmap("later"))
    await store.storage.compact(await store.storage.current_revision())
    store.cache._task = asyncio.create_task(store.cache._run())  # reconnect: the cache relists

    # Not wait_fresh: right after a reconnect it can return early (see test_storage). The relist is what removes
    # the deployment from the cache.
    async def relisted() -> bool:
        return store.peek(ws, DEPLOYMENTS, "default", "web") is None

    await eventually(relisted, "the cache to relist without the deleted deployment")

    await gone(store, ws, REPLICASETS, "default", "web-1", timeout=3.0)


# ---- namespace lifecycle ----------------------------------------------------------------------------------------


async def test_deleting_a_namespace_deletes_its_contents_then_the_namespace(store: Store, ws: str) -> None:
    await store.create(ws, NAMESPACES, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}})
    for name in ("a", "b", "c"):
        await store.create(ws, CONFIGMAPS, "doomed", configmap(name))
    await store.create(ws, CONFIGMAPS, "default", configmap("a"))  # same name, another namespace

    marked, deleted_now = await store.delete(ws, NAMESPACES, "", "doomed", DeleteOptions())
    assert not deleted_now and marked["status"]["phase"] == "Terminating"

    for name in ("a", "b", "c"):
        await gone(store, ws, CONFIGMAPS, "doomed", name)
    await gone(store, ws, NAMESPACES, "", "doomed", timeout=NAMESPACE_DEADLINE_SECONDS)
    assert await stored(store, ws, CONFIGMAPS, "default", "a") is not None


async def test_namespace_waits_for_contents_held_by_finalizers(store: Store, ws: str) -> None:
    await store.create(ws, NAMESPACES, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}})
    held = configmap("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    await store.create(ws, CONFIGMAPS, "doomed", held)
    await store.create(ws, CONFIGMAPS, "doomed", configmap("free"))

    await store.delete(ws, NAMESPACES, "", "doomed", DeleteOptions())

    async def held_marked() -> Object | None:
        cm = await stored(store, ws, CONFIGMAPS, "doomed", "held")
        return cm if cm and cm["metadata"].get("deletionTimestamp") else None

    await eventually(held_marked, "the held configmap to be marked for deletion")
    await gone(store, ws, CONFIGMAPS, "doomed", "free")
    ns = await stored(store, ws, NAMESPACES, "", "doomed")
    assert ns is not None and ns["status"]["phase"] == "Terminating"

    await remove_finalizer(store, ws, CONFIGMAPS, "doomed", "held", "example.com/hold")
    await gone(store, ws, NAMESPACES, "", "doomed", timeout=NAMESPACE_DEADLINE_SECONDS)
