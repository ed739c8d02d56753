"""Leader election: with several `canopy server` processes on one etcd, exactly one runs the controllers.

The API is served by every replica; the garbage collector and the namespace controller must run once, or two
replicas would race on the same deletions. The leader holds one etcd key bound to a lease
(`/canopy/leader/controllers`); the key disappears with the lease, so a crashed leader is replaced within the
lease TTL. A leader that cannot confirm within the TTL that it still holds the key stops its controllers before
anyone else can take over, and competes again. Standbys retry every third of the TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Protocol

from controlplane.storage.etcd import EtcdStorage

log = logging.getLogger(__name__)

LEADER_KEY = "/canopy/leader/controllers"
DEFAULT_TTL_SECONDS = 15


class Running(Protocol):
    async def stop(self) -> None: ...


def identity() -> str:
    return f"{socket.gethostname()}_{os.getpid()}"


async def lead(
    storage: EtcdStorage,
    start: Callable[[], Awaitable[Running]],
    *,
    ttl: int = DEFAULT_TTL_SECONDS,
    me: str | None = None,
    key: str = LEADER_KEY,
) -> None:
    """Compete for leadership for ever; run `start()`'s controllers while leading. Cancel to stop."""
    me = me or identity()
    while True:
        try:
            await _term(storage, start, ttl, me, key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # etcd unreachable: compete again once it answers
            log.warning("leader election: %s; retrying", exc)
        await asyncio.sleep(max(1, ttl // 3))


async def _term(
    storage: EtcdStorage, start: Callable[[], Awaitable[Running]], ttl: int, me: str, key: str
) -> None:
    """One attempt: take the key if it is free and hold it for as long as the lease lives."""
    lease = await storage.grant_lease(ttl)
    try:
        if not await storage.create_with_lease(key, me.encode(), lease):
            return
        log.info("leader election: %s now runs the controllers", me)
        controllers = await start()
        try:
            async with storage.keep_alive(lease, ttl):
                await _hold(storage, me, ttl, key)
        finally:
            log.info("leader election: %s stops its controllers", me)
            await controllers.stop()
    finally:
        with contextlib.suppress(Exception):
            await storage.revoke_lease(lease)


async def _hold(storage: EtcdStorage, me: str, ttl: int, key: str) -> None:
    """Return when leadership is lost: the key is someone else's or gone, or unconfirmed for a whole TTL."""
    loop = asyncio.get_running_loop()
    confirmed = loop.time()
    while True:
        await asyncio.sleep(max(1, ttl // 3))
        try:
            current = await asyncio.wait_for(storage.get(key), timeout=max(1, ttl // 3))
        except Exception as exc:  # a timeout or an unreachable etcd: leadership is unconfirmed
            if loop.time() - confirmed > ttl * 2 / 3:
                log.warning("leader election: cannot confirm leadership (%s); stepping down", exc)
                return
            continue
        if current is None or current.value != me.encode():
            return
        confirmed = loop.time()
