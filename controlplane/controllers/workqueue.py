"""A de-duplicating work queue with retry back-off, as client-go's workqueue: an item queued while it waits is
queued once; an item that fails is retried later, with its delay doubling up to a cap."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Hashable)


class WorkQueue(Generic[T]):
    def __init__(self, name: str, process: Callable[[T], Awaitable[bool]]) -> None:
        """`process` returns True when done, False to be called again after a back-off."""
        self.name = name
        self._process = process
        self._queue: asyncio.Queue[T] = asyncio.Queue()
        self._pending: set[T] = set()
        self._failures: dict[T, int] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, item: T) -> None:
        if item not in self._pending:
            self._pending.add(item)
            self._queue.put_nowait(item)

    def add_after(self, item: T, delay: float) -> None:
        asyncio.get_running_loop().call_later(delay, self.add, item)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"workqueue-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            self._pending.discard(item)
            try:
                done = await self._process(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: processing %s failed; will retry", self.name, item)
                done = False
            if done:
                self._failures.pop(item, None)
            else:
                failures = self._failures.get(item, 0) + 1
                self._failures[item] = failures
                self.add_after(item, min(0.05 * 2 ** failures, 30.0))
