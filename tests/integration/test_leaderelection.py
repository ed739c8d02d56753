"""Leader election on real etcd: one replica runs the controllers, another takes over when it goes."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

import pytest

from controlplane.leaderelection import lead
from controlplane.storage.etcd import EtcdStorage
from tests.conftest import Etcd


class Controllers:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    async def stop(self) -> None:
        self.log.append(f"{self.name} stopped")


@pytest.fixture
def key() -> str:
    """A key of this test's own: the session's API server competes for the real one on the same etcd."""
    return f"/canopy-test/leader/{secrets.token_hex(4)}"


@pytest.fixture
async def storage(etcd: Etcd) -> AsyncIterator[EtcdStorage]:
    s = EtcdStorage([etcd.endpoint])
    await s.connect()
    yield s
    await s.close()


async def until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_only_one_replica_runs_the_controllers_and_another_takes_over(storage: EtcdStorage, key: str) -> None:
    log: list[str] = []

    def starter(name: str):  # type: ignore[no-untyped-def]
        async def start() -> Controllers:
            log.append(f"{name} started")
            return Controllers(log, name)

        return start

    first = asyncio.create_task(lead(storage, starter("a"), ttl=2, me="a", key=key))
    await until(lambda: "a started" in log)
    second = asyncio.create_task(lead(storage, starter("b"), ttl=2, me="b", key=key))
    await asyncio.sleep(2.5)  # b has tried more than once meanwhile
    assert log == ["a started"]
    assert (await storage.get(key)).value == b"a"  # type: ignore[union-attr]

    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    assert log[-1] == "a stopped"
    await until(lambda: "b started" in log)
    assert (await storage.get(key)).value == b"b"  # type: ignore[union-attr]

    second.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await second
    assert log == ["a started", "a stopped", "b started", "b stopped"]
    await until_key_gone(storage, key)


async def until_key_gone(storage: EtcdStorage, key: str) -> None:
    for _ in range(100):
        if await storage.get(key) is None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the leader key outlived its revoked lease")


async def test_a_leader_whose_key_is_taken_away_stops_its_controllers(storage: EtcdStorage, key: str) -> None:
    log: list[str] = []

    async def start() -> Controllers:
        log.append("started")
        return Controllers(log, "x")

    task = asyncio.create_task(lead(storage, start, ttl=2, me="x", key=key))
    await until(lambda: log == ["started"])
    current = await storage.get(key)
    assert current is not None
    await storage.delete(key, current.mod_revision)  # an operator removes the key by hand
    await until(lambda: "x stopped" in log)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
