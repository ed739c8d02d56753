"""WATCH: a stream of ADDED / MODIFIED / DELETED events, one JSON document per line.

Served from the watch cache. resourceVersion semantics as kube-apiserver's:
- unset or "0": first an ADDED event for every object that exists now, then changes;
- N: every change after N; if N is older than the cache's history, an ERROR event with 410 Expired ("too old
  resource version"), after which the client relists — never a silent gap.
Objects entering or leaving a label or field selector arrive as ADDED or DELETED, so the client's view stays
exactly the selected set. With `allowWatchBookmarks`, BOOKMARK events carry the current resourceVersion so that a
client that saw no change for a while can still resume cheaply.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from controlplane import errors
from controlplane.apiserver.handlers.context import Context, dumps
from controlplane.apiserver.handlers.get import partial_metadata
from controlplane.apiserver.handlers.list import Filter
from controlplane.printers import table
from controlplane.storage.keys import resource_prefix
from controlplane.storage.watchcache import ADDED, DELETED, MODIFIED, Expired, WatchEvent

BOOKMARK_INTERVAL_SECONDS = 60.0
# kube-apiserver ends watches after a random 30-60 minutes (--min-request-timeout=1800) to spread reconnects.
_MIN_REQUEST_TIMEOUT_SECONDS = 1800


def _expired_status(exc: Expired) -> dict[str, Any]:
    return errors.gone(str(exc)).to_status()


async def watch(ctx: Context) -> web.StreamResponse:
    flt = Filter(ctx)
    cache = ctx.store.cache
    rv = ctx.query.get("resourceVersion", "")
    timeout = _timeout(ctx)
    bookmarks = ctx.query.get("allowWatchBookmarks") in ("true", "1")
    initial_events_end = ctx.query.get("sendInitialEvents") in ("true", "1")
    since = 0
    if rv not in ("", "0"):
        try:
            since = int(rv)
        except ValueError:
            raise errors.bad_request(f'invalid resourceVersion "{rv}": use one the server returned') from None
        if not await cache.wait_for_revision(since, timeout=3.0):
            raise errors.timeout(f"Too large resource version: {since}, current: {cache.revision}")
    elif rv == "":
        await cache.wait_fresh()

    response = web.StreamResponse(headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    await response.prepare(ctx.request)
    encoder = _Encoder(ctx)
    rid = (ctx.ws, ctx.rt.group, ctx.rt.plural)
    try:
        if since:
            watcher = cache.watch(rid, ctx.namespace, since)
            initial: list[dict[str, Any]] = []
        else:
            # Snapshot and subscription happen with no await between them: no event can fall in the gap.
            snapshot = cache.list(rid, resource_prefix(ctx.ws, ctx.rt.group, ctx.rt.plural, ctx.namespace))
            initial = [c.obj for c in snapshot if flt.matches(c.obj)]
            watcher = cache.watch(rid, ctx.namespace, 0)
    except Expired as exc:
        await response.write(dumps({"type": "ERROR", "object": _expired_status(exc)}) + b"\n")
        return response
    try:
        for obj in initial:
            await response.write(encoder.event(ADDED, obj))
        if initial_events_end:
            await response.write(encoder.bookmark(cache.revision, initial_events_end=True))
        await _stream(ctx, response, encoder, watcher, flt, timeout, bookmarks)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        cache.stop_watch(watcher)
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


async def _stream(
    ctx: Context, response: web.StreamResponse, encoder: _Encoder, watcher: Any, flt: Filter, timeout: float,
    bookmarks: bool,
) -> None:
    cache = ctx.store.cache
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        wait = min(remaining, BOOKMARK_INTERVAL_SECONDS) if bookmarks else remaining
        try:
            event = await asyncio.wait_for(cache.next_event(watcher), wait)
        except TimeoutError:
            if bookmarks:
                await response.write(encoder.bookmark(cache.revision))
            continue
        except Expired as exc:
            await response.write(dumps({"type": "ERROR", "object": _expired_status(exc)}) + b"\n")
            return
        if event is None:
            return
        kind = _filtered_type(event, flt)
        if kind == DELETED and event.type == MODIFIED and event.prev is not None:
            # Leaving the selection: the client is told about the object as it last matched, at this revision.
            gone = {**event.prev, "metadata": {**event.prev.get("metadata", {}),
                                              "resourceVersion": str(event.revision)}}
            await response.write(encoder.event(kind, gone))
        elif kind:
            await response.write(encoder.event(kind, event.obj))


def _filtered_type(event: WatchEvent, flt: Filter) -> str:
    """The event type this watcher sees, given its selectors ("" when it sees nothing)."""
    if flt.empty:
        return event.type
    if event.type == ADDED:
        return ADDED if flt.matches(event.obj) else ""
    if event.type == DELETED:
        return DELETED if flt.matches(event.prev or event.obj) else ""
    was = event.prev is not None and flt.matches(event.prev)
    now = flt.matches(event.obj)
    if was and now:
        return MODIFIED
    if now:
        return ADDED
    return DELETED if was else ""


class _Encoder:
    """Renders events in the representation the client negotiated (objects, Table rows, or metadata)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.as_kind = ctx.representation.as_kind
        self.include = ctx.query.get("includeObject", "Metadata")
        self.first = True

    def _render(self, obj: dict[str, Any]) -> dict[str, Any]:
        if self.as_kind == "Table":
            rendered = table(self.ctx.rt, [obj], now=datetime.now(UTC), include_object=self.include,
                             diagnosis=self.ctx.diagnosis)
            if not self.first:
                rendered["columnDefinitions"] = []
            self.first = False
            return rendered
        if self.as_kind.startswith("PartialObjectMetadata"):
            return partial_metadata(obj)
        return obj

    def event(self, kind: str, obj: dict[str, Any]) -> bytes:
        return dumps({"type": kind, "object": self._render(obj)}) + b"\n"

    def bookmark(self, revision: int, *, initial_events_end: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(revision)}
        if initial_events_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        rt = self.ctx.rt
        obj = {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}
        return dumps({"type": "BOOKMARK", "object": obj}) + b"\n"


def _timeout(ctx: Context) -> float:
    raw = ctx.query.get("timeoutSeconds", "")
    if raw:
        try:
            seconds = int(raw)
        except ValueError:
            raise errors.bad_request(f'invalid timeoutSeconds "{raw}": it must be a whole number of seconds') from None
        if seconds > 0:  # 0 (or less) means "not set", as in kube-apiserver
            return float(seconds)
    return _MIN_REQUEST_TIMEOUT_SECONDS * (1 + random.random())
