"""The syncers' reverse tunnels: how `kubectl logs` on a mirrored pod reaches a cluster the control plane cannot dial.

Each syncer keeps a WebSocket open to `/services/syncer-tunnel/<cluster>` (authenticated as that cluster's syncer,
nobody else may open it). A log request for a mirror pod becomes a JSON frame on its cluster's tunnel
(`{"type": "logs", "id", "namespace", "pod", "options"}` with the downstream names); the syncer answers with binary
frames (a 4-byte request id, then log bytes) and one closing text frame: `{"type": "end"}` or `{"type": "error",
"code", "message"}`. A client that goes away sends `{"type": "cancel"}` for its id. This is how kcp's syncer
serves logs too: the connection is the syncer's, so the cluster needs no route from the control plane.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType, web

from controlplane import errors
from controlplane.auth.syncer import syncer_cluster
from controlplane.podlogs import LogOptions
from syncer.naming import (
    CLUSTER_LABEL,
    DOWNSTREAM_NAME_ANNOTATION,
    DOWNSTREAM_NAMESPACE_ANNOTATION,
    MIRROR_ANNOTATION,
)

log = logging.getLogger(__name__)

TUNNEL_PATH = "/services/syncer-tunnel/{cluster}"
_ID_BYTES = 4
_END = object()


class Tunnel:
    def __init__(self, cluster: str, ws: web.WebSocketResponse) -> None:
        self.cluster = cluster
        self.ws = ws
        self._ids = itertools.count(1)
        self.pending: dict[int, asyncio.Queue[Any]] = {}

    async def request(self, body: dict[str, Any]) -> tuple[int, asyncio.Queue[Any]]:
        request_id = next(self._ids) % 2**32
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self.pending[request_id] = queue
        await self.ws.send_str(json.dumps({**body, "id": request_id}))
        return request_id, queue

    async def cancel(self, request_id: int) -> None:
        if self.pending.pop(request_id, None) is not None and not self.ws.closed:
            await self.ws.send_str(json.dumps({"type": "cancel", "id": request_id}))

    def deliver(self, message: Any) -> None:
        if message.type == WSMsgType.BINARY:
            request_id = int.from_bytes(message.data[:_ID_BYTES], "big")
            queue = self.pending.get(request_id)
            if queue is not None:
                queue.put_nowait(message.data[_ID_BYTES:])
        elif message.type == WSMsgType.TEXT:
            frame = json.loads(message.data)
            queue = self.pending.pop(int(frame.get("id", 0)), None)
            if queue is not None:
                queue.put_nowait(frame)

    def close(self) -> None:
        for queue in self.pending.values():
            queue.put_nowait({"type": "error", "code": 503, "message": "the syncer disconnected"})
        self.pending.clear()


class Tunnels:
    """The open tunnels by cluster, and the pod log source that uses them."""

    def __init__(self) -> None:
        self.open: dict[str, Tunnel] = {}

    async def handle(self, request: web.Request, user_cluster: str) -> web.WebSocketResponse:
        cluster = request.match_info["cluster"]
        if user_cluster != cluster:
            raise errors.forbidden(f'only the syncer of cluster "{cluster}" may open its tunnel')
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        tunnel = Tunnel(cluster, ws)
        previous = self.open.get(cluster)
        self.open[cluster] = tunnel
        if previous is not None:
            previous.close()
            await previous.ws.close()
        log.info("syncer of cluster %s connected its tunnel", cluster)
        try:
            async for message in ws:
                tunnel.deliver(message)
        finally:
            if self.open.get(cluster) is tunnel:
                del self.open[cluster]
            tunnel.close()
        return ws

    async def read(self, pod: dict[str, Any], options: LogOptions) -> AsyncIterator[bytes]:
        meta = pod["metadata"]
        annotations, labels = meta.get("annotations") or {}, meta.get("labels") or {}
        if annotations.get(MIRROR_ANNOTATION) != "true":
            raise errors.StatusError(
                404, "NotFound",
                f'logs of pod "{meta["name"]}" are not available: it is not running on any cluster (only pods the '
                "syncer mirrors from a cluster have logs); its events (kubectl describe pod) say what happened to it",
                {"name": meta["name"], "kind": "pods"},
            )
        cluster = labels.get(CLUSTER_LABEL, "")
        tunnel = self.open.get(cluster)
        if tunnel is None:
            raise errors.StatusError(
                503, "ServiceUnavailable",
                f'logs of pod "{meta["name"]}" are not available now: the syncer of cluster "{cluster}" is not '
                "connected; ask the platform admin to check it (kubectl get clusters)",
            )
        downstream = annotations.get(DOWNSTREAM_NAME_ANNOTATION, "")
        wire = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(options).items()}
        request_id, queue = await tunnel.request({
            "type": "logs", "namespace": annotations.get(DOWNSTREAM_NAMESPACE_ANNOTATION, ""), "pod": downstream,
            "options": wire,
        })
        finished = False
        try:
            while True:
                item = await queue.get()
                if isinstance(item, bytes):
                    yield item
                    continue
                finished = True
                if item.get("type") == "end":
                    return
                message = str(item.get("message", "")).replace(f'"{downstream}"', f'"{meta["name"]}"')
                code = int(item.get("code") or 500)
                raise errors.StatusError(code, _REASONS.get(code, "InternalError"), message)
        finally:
            if not finished:
                await tunnel.cancel(request_id)


_REASONS = {400: "BadRequest", 403: "Forbidden", 404: "NotFound", 503: "ServiceUnavailable"}


def tunnel_route(tunnels: Tunnels, authenticate: Any) -> Any:
    """The aiohttp handler for TUNNEL_PATH: `authenticate(request)` gives the user (401 otherwise)."""
    async def handler(request: web.Request) -> web.StreamResponse:
        user = authenticate(request)
        return await tunnels.handle(request, syncer_cluster(user))

    return handler
