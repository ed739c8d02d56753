"""The audit log: one JSON line per request — who, where, what, and the answer.

Written to `DATA_DIR/audit.log`, in the spirit of kube-apiserver's audit backend at the Metadata level (never a
request or response body, so no Secret ever lands in it). Lines are buffered and flushed at least once a second and
on shutdown, so auditing costs a `write` into memory on the request path, not a system call.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import IO, Any

import orjson


class AuditLog:
    def __init__(self, path: Path, *, flush_interval: float = 1.0) -> None:
        self.path = path
        self._flush_interval = flush_interval
        self._file: IO[bytes] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._second = -1
        self._second_text = ""

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("ab", buffering=1 << 16)
        with contextlib.suppress(OSError):
            self.path.chmod(0o600)
        self._flusher = asyncio.create_task(self._flush_periodically(), name="audit-flush")

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        if self._file is not None:
            self._file.close()
            self._file = None

    def record(self, entry: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write(orjson.dumps({"time": self._timestamp(), **entry}) + b"\n")

    def _timestamp(self) -> str:
        """RFC 3339 in UTC with microseconds; the formatted second is reused, as most lines share it."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second, self._second_text = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{int((now - second) * 1_000_000):06d}Z"

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval)
            self.flush()
