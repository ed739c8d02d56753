"""Compaction of etcd's history, as kube-apiserver does it (`--etcd-compaction-interval`, default 5 minutes).

etcd keeps every revision until told otherwise; without compaction its database grows with every write. Every
interval the compactor compacts to the revision it saw one interval earlier, so watchers always have at least
one interval of history to resume from, and an older resourceVersion is answered 410 Expired. Several servers
on one etcd may all run it: compacting to an already compacted revision is refused by etcd and ignored here.
"""

from __future__ import annotations

import asyncio
import logging

from controlplane.storage.etcd import EtcdStorage

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 300.0


async def run_compactor(storage: EtcdStorage, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
    previous = 0
    while True:
        await asyncio.sleep(interval)
        try:
            current = await storage.current_revision()
            if previous:
                await storage.compact(previous)
                log.info("compacted etcd history up to revision %d", previous)
            previous = current
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # already compacted by another server, or etcd briefly unreachable
            log.info("etcd compaction skipped: %s", exc)
