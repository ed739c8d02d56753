"""Simulated time: every duration of the simulation is in simulated seconds, and `--time-scale` says how many real
seconds one of them takes (0.01 turns a 10 s back-off into 100 ms). Timestamps written to objects are wall-clock
times; durations reported in messages ("back-off 10s") are simulated ones, so the sequence a user reads is the same
at every scale."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Clock:
    scale: float = 1.0

    def real(self, simulated_seconds: float) -> float:
        """Real seconds that `simulated_seconds` take."""
        return simulated_seconds * self.scale

    def simulated(self, real_seconds: float) -> float:
        return real_seconds / self.scale if self.scale > 0 else float("inf")

    async def sleep(self, simulated_seconds: float) -> None:
        await asyncio.sleep(max(self.real(simulated_seconds), 0.0))

    def monotonic(self) -> float:
        """Simulated seconds since an arbitrary origin: for measuring durations within one process."""
        return self.simulated(time.monotonic())

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    def elapsed_since(self, moment: datetime) -> float:
        """Simulated seconds from a wall-clock `moment` (as stored in an object) until now."""
        return self.simulated((self.now() - moment).total_seconds())
