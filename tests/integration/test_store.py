"""The generic Store against a real etcd: the rules every write obeys, whoever makes it.

Each test gets its own workspace (`root:s-<hex>`, with its system namespaces) of an etcd this module starts for
itself. No controllers run on it, so what a delete leaves behind (finalizers, deletionTimestamp) stays for the
test to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from api.registry import BUILTIN, ResourceType
from controlplane import errors
from controlplane.etcd_embedded import EmbeddedEtcd
from controlplane.storage.etcd import EtcdStorage
from controlplane.storage.keys import object_key
from controlplane.storage.watchcache import MODIFIED, WatchCache
from controlplane.store import SYSTEM_NAMESPACES, DeleteOptions, Store
from tests.conftest import Etcd

DEADLINE_SECONDS = 10.0
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def resource(group: str, kind: str) -> ResourceType:
    rt = BUILTIN.by_kind(group, kind)
    assert rt is not None
    return rt


NAMESPACES = resource("", "Namespace")
CONFIGMAPS = resource("", "ConfigMap")
DEPLOYMENTS = resource("apps", "Deployment")

Object = dict[str, Any]


# ---- fixtures and helpers ---------------------------------------------------------------------------------------


async def until_streaming(cache: WatchCache, storage: EtcdStorage) -> None:
    """Wait until the cache's etcd watch delivers events as they happen (see test_storage.until_streaming: right
    after start, etcd 3.5.1 answers the freshness barrier's progress request too early)."""
    marker_ws = f"root:s-{secrets.token_hex(4)}"
    marker = object_key(marker_ws, "", "events", "default", "stream-ready")
    revision = await storage.create(marker, b'{"metadata":{"name":"stream-ready","namespace":"default"}}')
    assert await cache.wait_for_revision(revision, DEADLINE_SECONDS), "the cache's etcd watch delivered nothing"


@pytest.fixture(scope="module")
def own_etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Etcd]:
    """A real etcd for this module alone, started as conftest starts the session's.

    The session's etcd also serves the `canopy server` of the kubectl tests, whose garbage collector and namespace
    controller act on every workspace in it: they would remove the finalizers these tests look at.
    """
    server = EmbeddedEtcd(tmp_path_factory.mktemp("etcd-store"))
    asyncio.run(server.start())
    try:
        yield Etcd(server.endpoint)
    finally:
        asyncio.run(server.stop())


@pytest.fixture
async def open_store(own_etcd: Etcd) -> AsyncIterator[Callable[[], Awaitable[Store]]]:
    """Start Stores (one per "server process", each with its own etcd client and watch cache)."""
    opened: list[Store] = []

    async def open_() -> Store:
        storage = EtcdStorage([own_etcd.url])
        await storage.connect()
        cache = WatchCache(storage)
        opened.append(Store(storage, cache))
        await asyncio.wait_for(cache.start(), DEADLINE_SECONDS)
        await until_streaming(cache, storage)
        return opened[-1]

    yield open_
    for store in opened:
        await store.cache.stop()
        await store.storage.close()


@pytest.fixture
async def store(open_store: Callable[[], Awaitable[Store]]) -> Store:
    return await open_store()


@pytest.fixture
async def ws(store: Store) -> str:
    workspace = f"root:s-{secrets.token_hex(4)}"
    await store.ensure_workspace(workspace)
    return workspace


def configmap(name: str = "", *, generate_name: str = "", finalizers: list[str] | None = None, **data: str) -> Object:
    meta: Object = {"name": name} if name else {"generateName": generate_name}
    if finalizers:
        meta["finalizers"] = finalizers
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def deployment(name: str, *, replicas: int = 1, image: str = "nginx") -> Object:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": image}]}},
        },
    }


def namespace(name: str) -> Object:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


async def stored(store: Store, ws: str, rt: ResourceType, ns: str, name: str) -> Object | None:
    """The object as etcd holds it now (resourceVersion = its mod revision), bypassing the cache."""
    kv = await store.storage.get(object_key(ws, rt.group, rt.plural, ns, name))
    if kv is None:
        return None
    obj: Object = json.loads(kv.value)
    obj["metadata"]["resourceVersion"] = str(kv.mod_revision)
    return obj


async def status_error(awaitable: Any) -> errors.StatusError:
    with pytest.raises(errors.StatusError) as raised:
        await awaitable
    return raised.value


# ---- create -----------------------------------------------------------------------------------------------------


async def test_create_sets_uid_timestamp_and_the_etcd_revision_as_resource_version(store: Store, ws: str) -> None:
    created = await store.create(ws, CONFIGMAPS, "default", configmap("a", k="v"))

    meta = created["metadata"]
    assert uuid.UUID(meta["uid"]).version == 4
    assert RFC3339.match(meta["creationTimestamp"])
    assert meta["namespace"] == "default"
    assert "generation" not in meta  # ConfigMaps have no generation
    in_etcd = await stored(store, ws, CONFIGMAPS, "default", "a")
    assert in_etcd == created
    assert (await store.get(ws, CONFIGMAPS, "default", "a")).obj == created


async def test_create_of_a_kind_with_a_generation_starts_it_at_one(store: Store, ws: str) -> None:
    created = await store.create(ws, DEPLOYMENTS, "default", {**deployment("web"), "status": {"replicas": 9}})

    assert created["metadata"]["generation"] == 1
    assert created["status"] == {}  # clients cannot create status


async def test_create_with_a_resource_version_is_rejected(store: Store, ws: str) -> None:
    body = configmap("a")
    body["metadata"]["resourceVersion"] = "5"

    error = await status_error(store.create(ws, CONFIGMAPS, "default", body))

    assert error.code == 400
    assert await stored(store, ws, CONFIGMAPS, "default", "a") is None


async def test_create_in_a_missing_namespace_is_not_found(store: Store, ws: str) -> None:
    error = await status_error(store.create(ws, CONFIGMAPS, "x", configmap("a")))

    assert (error.code, error.reason, error.message) == (404, "NotFound", 'namespaces "x" not found')
    assert await stored(store, ws, CONFIGMAPS, "x", "a") is None


async def test_namespace_of_one_workspace_does_not_exist_in_another(store: Store, ws: str) -> None:
    other = f"root:s-{secrets.token_hex(4)}"
    await store.ensure_workspace(other)
    await store.create(ws, NAMESPACES, "", namespace("only-here"))

    error = await status_error(store.create(other, CONFIGMAPS, "only-here", configmap("a")))

    assert error.code == 404


async def test_create_in_a_terminating_namespace_is_forbidden(store: Store, ws: str) -> None:
    await store.create(ws, NAMESPACES, "", namespace("doomed"))
    _, deleted_now = await store.delete(ws, NAMESPACES, "", "doomed", DeleteOptions())
    assert not deleted_now  # held by the `kubernetes` finalizer until emptied (no controller runs here)
    await store.cache.wait_fresh()  # the race with a cache that has not seen the deletion yet: see the next test

    error = await status_error(store.create(ws, CONFIGMAPS, "doomed", configmap("a")))

    assert (error.code, error.reason) == (403, "Forbidden")
    assert error.message == (
        'configmaps "a" is forbidden: unable to create new content in namespace doomed because it is being terminated'
    )


async def test_create_through_a_replica_that_has_not_seen_the_namespace_deletion_is_forbidden(
    store: Store, open_store: Callable[[], Awaitable[Store]], ws: str
) -> None:
    await store.create(ws, NAMESPACES, "", namespace("doomed"))
    replica = await open_store()
    await replica.cache.wait_fresh()
    assert replica.peek(ws, NAMESPACES, "", "doomed") is not None
    # The replica's watch lags (held here, so that the outcome does not depend on timing).
    task = replica.cache._task
    assert task is not None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await store.delete(ws, NAMESPACES, "", "doomed", DeleteOptions())

    error = await status_error(replica.create(ws, CONFIGMAPS, "doomed", configmap("sneaked")))

    assert (error.code, error.reason) == (403, "Forbidden")
    assert await stored(store, ws, CONFIGMAPS, "doomed", "sneaked") is None


async def test_create_of_an_existing_name_is_already_exists(store: Store, ws: str) -> None:
    first = await store.create(ws, CONFIGMAPS, "default", configmap("a", v="1"))

    error = await status_error(store.create(ws, CONFIGMAPS, "default", configmap("a", v="2")))

    assert (error.code, error.reason, error.message) == (409, "AlreadyExists", 'configmaps "a" already exists')
    assert await stored(store, ws, CONFIGMAPS, "default", "a") == first


async def test_same_name_in_two_workspaces_are_two_objects(store: Store, ws: str) -> None:
    other = f"root:s-{secrets.token_hex(4)}"
    await store.ensure_workspace(other)

    mine = await store.create(ws, CONFIGMAPS, "default", configmap("a", owner="me"))
    theirs = await store.create(other, CONFIGMAPS, "default", configmap("a", owner="them"))

    assert mine["metadata"]["uid"] != theirs["metadata"]["uid"]
    assert (await store.get(ws, CONFIGMAPS, "default", "a")).obj["data"] == {"owner": "me"}
    assert (await store.get(other, CONFIGMAPS, "default", "a")).obj["data"] == {"owner": "them"}


async def test_generate_name_produces_distinct_names_with_the_prefix(store: Store, ws: str) -> None:
    created = [await store.create(ws, CONFIGMAPS, "default", configmap(generate_name="gen-")) for _ in range(20)]

    names = [c["metadata"]["name"] for c in created]
    assert len(set(names)) == 20
    assert all(re.fullmatch(r"gen-[a-z0-9]{5}", n) for n in names), names
    listed = await store.list_cached(ws, CONFIGMAPS, "default")
    assert sorted(c.obj["metadata"]["name"] for c in listed) == sorted(names)


async def test_dry_run_create_stores_nothing(store: Store, ws: str) -> None:
    result = await store.create(ws, CONFIGMAPS, "default", configmap("a"), dry_run=True)

    assert result["metadata"]["name"] == "a"
    assert await stored(store, ws, CONFIGMAPS, "default", "a") is None


async def test_system_namespaces_exist_in_every_workspace(store: Store, ws: str) -> None:
    listed = await store.list_cached(ws, NAMESPACES, "")

    assert sorted(c.obj["metadata"]["name"] for c in listed) == sorted(SYSTEM_NAMESPACES)
    assert {c.obj["status"]["phase"] for c in listed} == {"Active"}


async def test_fresh_server_sees_the_system_namespaces_it_just_created(own_etcd: Etcd) -> None:
    # About a third of fresh starts lose the race; twenty starts make the outcome certain.
    for attempt in range(20):
        storage = EtcdStorage([own_etcd.url])
        await storage.connect()
        cache = WatchCache(storage)
        try:
            await cache.start()
            store = Store(storage, cache)
            ws = f"root:s-{secrets.token_hex(4)}"
            await store.ensure_workspace(ws)
            try:
                await store.create(ws, CONFIGMAPS, "default", configmap("first"))
            except errors.StatusError as exc:
                pytest.fail(f"start {attempt}: {exc.code} {exc.message}")
        finally:
            await cache.stop()
            await storage.close()


# ---- update -----------------------------------------------------------------------------------------------------


async def test_update_with_a_stale_resource_version_is_a_conflict(store: Store, ws: str) -> None:
    created = await store.create(ws, CONFIGMAPS, "default", configmap("a", v="1"))
    first = copy.deepcopy(created)
    first["data"] = {"v": "2"}
    updated = await store.update(ws, CONFIGMAPS, "default", "a", first)
    stale = copy.deepcopy(created)
    stale["data"] = {"v": "3"}

    error = await status_error(store.update(ws, CONFIGMAPS, "default", "a", stale))

    assert (error.code, error.reason) == (409, "Conflict")
    assert error.message == (
        'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes '
        "to the latest version and try again"
    )
    assert await stored(store, ws, CONFIGMAPS, "default", "a") == updated


async def test_update_without_a_resource_version_is_unconditional(store: Store, ws: str) -> None:
    created = await store.create(ws, CONFIGMAPS, "default", configmap("a", v="1"))
    await store.update(ws, CONFIGMAPS, "default", "a", configmap("a", v="2"))

    last = await store.update(ws, CONFIGMAPS, "default", "a", configmap("a", v="3"))

    assert last["data"] == {"v": "3"}
    assert last["metadata"]["uid"] == created["metadata"]["uid"]
    assert last["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]
    assert await stored(store, ws, CONFIGMAPS, "default", "a") == last


async def test_update_cannot_change_uid_or_creation_timestamp(store: Store, ws: str) -> None:
    created = await store.create(ws, CONFIGMAPS, "default", configmap("a", v="1"))
    body = copy.deepcopy(created)
    body["metadata"].update(uid=str(uuid.uuid4()), creationTimestamp="2000-01-01T00:00:00Z")
    body["data"] = {"v": "2"}

    updated = await store.update(ws, CONFIGMAPS, "default", "a", body)

    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    assert updated["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]


async def test_update_of_a_missing_object_is_not_found(store: Store, ws: str) -> None:
    error = await status_error(store.update(ws, CONFIGMAPS, "default", "nope", configmap("nope")))

    assert (error.code, error.message) == (404, 'configmaps "nope" not found')
    assert await stored(store, ws, CONFIGMAPS, "default", "nope") is None


async def test_noop_update_keeps_the_resource_version_and_emits_no_event(store: Store, ws: str) -> None:
    created = await store.create(ws, CONFIGMAPS, "default", configmap("a", v="1"))
    await store.cache.wait_fresh()
    watcher = store.cache.watch((ws, "", "configmaps"), "default", 0)

    same = await store.update(ws, CONFIGMAPS, "default", "a", copy.deepcopy(created))
    unconditional = await store.update(ws, CONFIGMAPS, "default", "a", configmap("a", v="1"))
    changed = await store.update(ws, CONFIGMAPS, "default", "a", configmap("a", v="2"))

    assert same == created
    assert unconditional["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert changed["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    event = await asyncio.wait_for(watcher.queue.get(), DEADLINE_SECONDS)
    assert not isinstance(event, Exception) and event is not None
    # The first event the watcher sees is the real change: the no-op writes never reached etcd.
    assert (event.type, event.revision) == (MODIFIED, int(changed["metadata"]["resourceVersion"]))


async def test_generation_moves_only_when_the_spec_changes(store: Store, ws: str) -> None:
    created = await store.create(ws, DEPLOYMENTS, "default", deployment("web"))
    assert created["metadata"]["generation"] == 1

    labelled = copy.deepcopy(created)
    labelled["metadata"]["labels"] = {"team": "a"}
    labelled = await store.update(ws, DEPLOYMENTS, "default", "web", labelled)
    assert labelled["metadata"]["generation"] == 1

    scaled = copy.deepcopy(labelled)
    scaled["spec"]["replicas"] = 3
    scaled = await store.update(ws, DEPLOYMENTS, "default", "web", scaled)
    assert scaled["metadata"]["generation"] == 2

    status = copy.deepcopy(scaled)
    status["status"] = {"replicas": 3, "observedGeneration": 2}
    status = await store.update(ws, DEPLOYMENTS, "default", "web", status, subresource="status")
    assert status["status"]["replicas"] == 3
    assert status["metadata"]["generation"] == 2

    # A client cannot set the generation itself.
    forged = copy.deepcopy(status)
    forged["metadata"]["generation"] = 40
    forged["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    forged = await store.update(ws, DEPLOYMENTS, "default", "web", forged)
    assert forged["metadata"]["generation"] == 3


async def test_concurrent_guaranteed_updates_all_apply(store: Store, ws: str) -> None:
    await store.create(ws, CONFIGMAPS, "default", configmap("counter", n="0"))

    def increment(obj: Object) -> Object:
        obj["data"]["n"] = str(int(obj["data"]["n"]) + 1)
        return obj

    await asyncio.gather(
        *(store.guaranteed_update(ws, CONFIGMAPS, "default", "counter", increment) for _ in range(10))
    )

    final = await stored(store, ws, CONFIGMAPS, "default", "counter")
    assert final is not None and final["data"] == {"n": "10"}


# ---- delete -----------------------------------------------------------------------------------------------------


async def test_delete_without_finalizers_removes_the_object(store: Store, ws: str) -> None:
    await store.create(ws, CONFIGMAPS, "default", configmap("a"))

    obj, deleted_now = await store.delete(ws, CONFIGMAPS, "default", "a", DeleteOptions())

    assert deleted_now
    assert obj["metadata"]["name"] == "a"
    assert await stored(store, ws, CONFIGMAPS, "default", "a") is None
    assert (await status_error(store.get(ws, CONFIGMAPS, "default", "a"))).code == 404
    assert (await status_error(store.delete(ws, CONFIGMAPS, "default", "a", DeleteOptions()))).code == 404


async def test_delete_of_an_object_with_finalizers_only_marks_it_until_the_last_finalizer_goes(
    store: Store, ws: str
) -> None:
    await store.create(ws, CONFIGMAPS, "default", configmap("held", finalizers=["example.com/a", "example.com/b"]))

    marked, deleted_now = await store.delete(ws, CONFIGMAPS, "default", "held", DeleteOptions())

    assert not deleted_now
    assert RFC3339.match(marked["metadata"]["deletionTimestamp"])
    assert marked["metadata"]["finalizers"] == ["example.com/a", "example.com/b"]
    assert await stored(store, ws, CONFIGMAPS, "default", "held") == marked
    # Deleting again changes nothing.
    again, deleted_now = await store.delete(ws, CONFIGMAPS, "default", "held", DeleteOptions())
    assert not deleted_now and again == marked

    def drop(finalizer: str) -> Any:
        def mutate(obj: Object) -> Object:
            obj["metadata"]["finalizers"].remove(finalizer)
            return obj
        return mutate

    one_left = await store.guaranteed_update(ws, CONFIGMAPS, "default", "held", drop("example.com/a"))
    assert one_left["metadata"]["finalizers"] == ["example.com/b"]
    assert one_left["metadata"]["deletionTimestamp"] == marked["metadata"]["deletionTimestamp"]
    await store.guaranteed_update(ws, CONFIGMAPS, "default", "held", drop("example.com/b"))
    assert await stored(store, ws, CONFIGMAPS, "default", "held") is None


async def test_finalizers_cannot_be_added_to_an_object_being_deleted(store: Store, ws: str) -> None:
    await store.create(ws, CONFIGMAPS, "default", configmap("held", finalizers=["example.com/a"]))
    marked, _ = await store.delete(ws, CONFIGMAPS, "default", "held", DeleteOptions())
    body = copy.deepcopy(marked)
    body["metadata"]["finalizers"].append("example.com/late")

    error = await status_error(store.update(ws, CONFIGMAPS, "default", "held", body))

    assert error.code == 422
    assert await stored(store, ws, CONFIGMAPS, "default", "held") == marked


@pytest.mark.parametrize(("policy", "finalizer"), [("Orphan", "orphan"), ("Foreground", "foregroundDeletion")])
async def test_delete_with_a_propagation_policy_adds_its_finalizer(
    store: Store, ws: str, policy: str, finalizer: str
) -> None:
    await store.create(ws, DEPLOYMENTS, "default", deployment("web"))

    marked, deleted_now = await store.delete(
        ws, DEPLOYMENTS, "default", "web", DeleteOptions(propagation_policy=policy)
    )

    assert not deleted_now
    assert marked["metadata"]["finalizers"] == [finalizer]
    assert marked["metadata"]["deletionTimestamp"]
    assert await stored(store, ws, DEPLOYMENTS, "default", "web") == marked


async def test_second_delete_with_another_policy_replaces_the_gc_finalizer(store: Store, ws: str) -> None:
    body = deployment("web")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    await store.create(ws, DEPLOYMENTS, "default", body)
    await store.delete(ws, DEPLOYMENTS, "default", "web", DeleteOptions(propagation_policy="Foreground"))

    marked, _ = await store.delete(ws, DEPLOYMENTS, "default", "web", DeleteOptions(propagation_policy="Orphan"))

    assert marked["metadata"]["finalizers"] == ["example.com/hold", "orphan"]


async def test_background_delete_removes_the_object_at_once(store: Store, ws: str) -> None:
    await store.create(ws, DEPLOYMENTS, "default", deployment("web"))

    _, deleted_now = await store.delete(
        ws, DEPLOYMENTS, "default", "web", DeleteOptions(propagation_policy="Background")
    )

    assert deleted_now
    assert await stored(store, ws, DEPLOYMENTS, "default", "web") is None


@pytest.mark.parametrize("name", SYSTEM_NAMESPACES)
async def test_system_namespaces_cannot_be_deleted(store: Store, ws: str, name: str) -> None:
    error = await status_error(store.delete(ws, NAMESPACES, "", name, DeleteOptions()))

    assert (error.code, error.reason) == (403, "Forbidden")
    assert error.message == f'namespaces "{name}" is forbidden: this namespace may not be deleted'
    ns = await stored(store, ws, NAMESPACES, "", name)
    assert ns is not None and "deletionTimestamp" not in ns["metadata"]


async def test_delete_of_a_namespace_marks_it_terminating(store: Store, ws: str) -> None:
    await store.create(ws, NAMESPACES, "", namespace("doomed"))

    marked, deleted_now = await store.delete(ws, NAMESPACES, "", "doomed", DeleteOptions())

    assert not deleted_now
    assert marked["status"]["phase"] == "Terminating"
    assert marked["spec"]["finalizers"] == ["kubernetes"]
    assert marked["metadata"]["deletionTimestamp"]
    assert await stored(store, ws, NAMESPACES, "", "doomed") == marked


async def test_delete_with_a_mismatched_uid_precondition_is_a_conflict(store: Store, ws: str) -> None:
    created = await store.create(ws, CONFIGMAPS, "default", configmap("a"))
    other_uid = str(uuid.uuid4())

    error = await status_error(
        store.delete(ws, CONFIGMAPS, "default", "a", DeleteOptions(precondition_uid=other_uid))
    )

    assert (error.code, error.reason) == (409, "Conflict")
    assert f"UID in precondition: {other_uid}, UID in object meta: {created['metadata']['uid']}" in error.message
    assert await stored(store, ws, CONFIGMAPS, "default", "a") == created
    _, deleted_now = await store.delete(
        ws, CONFIGMAPS, "default", "a", DeleteOptions(precondition_uid=created["metadata"]["uid"])
    )
    assert deleted_now


async def test_delete_with_a_mismatched_resource_version_precondition_is_a_conflict(store: Store, ws: str) -> None:
    created = await store.create(ws, CONFIGMAPS, "default", configmap("a", v="1"))
    updated = await store.update(ws, CONFIGMAPS, "default", "a", configmap("a", v="2"))
    stale_rv = created["metadata"]["resourceVersion"]

    error = await status_error(
        store.delete(ws, CONFIGMAPS, "default", "a", DeleteOptions(precondition_resource_version=stale_rv))
    )

    assert (error.code, error.reason) == (409, "Conflict")
    assert f"ResourceVersion in precondition: {stale_rv}" in error.message
    assert await stored(store, ws, CONFIGMAPS, "default", "a") == updated
    _, deleted_now = await store.delete(
        ws, CONFIGMAPS, "default", "a",
        DeleteOptions(precondition_resource_version=updated["metadata"]["resourceVersion"]),
    )
    assert deleted_now


async def test_dry_run_delete_keeps_the_object(store: Store, ws: str) -> None:
    created = await store.create(ws, CONFIGMAPS, "default", configmap("a"))

    _, deleted_now = await store.delete(ws, CONFIGMAPS, "default", "a", DeleteOptions(dry_run=True))

    assert deleted_now
    assert await stored(store, ws, CONFIGMAPS, "default", "a") == created
