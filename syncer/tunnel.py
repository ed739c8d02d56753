"""The syncer's end of its reverse tunnel (controlplane/tunnel.py): it dials the control plane, keeps the
WebSocket open (reconnecting with back-off), and answers each log request by reading the pod's log from the
cluster with the official client, streaming it back as it comes (`follow` included) until the request ends or is
cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from syncer.upstream import Upstream

log = logging.getLogger(__name__)

_CHUNK = 16 * 1024
_END = b""


def _log_arguments(options: dict[str, Any]) -> dict[str, Any]:
    """PodLogOptions (as the control plane parsed them) as the client's keyword arguments."""
    names = {"container": "container", "previous": "previous", "follow": "follow", "timestamps": "timestamps",
             "tail_lines": "tail_lines", "since_seconds": "since_seconds", "limit_bytes": "limit_bytes"}
    arguments = {names[k]: v for k, v in options.items() if k in names and v not in (None, "", False)}
    if options.get("since_time") and "since_seconds" not in arguments:
        since = datetime.fromisoformat(options["since_time"])
        arguments["since_seconds"] = max(1, int((datetime.now(UTC) - since).total_seconds()))
    return arguments


class TunnelClient:
    def __init__(self, cluster: str, upstream: Upstream, core: client.CoreV1Api) -> None:
        self.cluster = cluster
        self.upstream = upstream
        self.core = core
        self._streams: dict[int, asyncio.Task[None]] = {}

    async def run(self) -> None:
        delay = 0.2
        url = f"{self.upstream.base_url}/services/syncer-tunnel/{self.cluster}"
        while True:
            try:
                async with self.upstream.session.ws_connect(url, heartbeat=20) as ws:
                    delay = 0.2
                    async for message in ws:
                        if message.type != aiohttp.WSMsgType.TEXT:
                            continue
                        self._handle(ws, json.loads(message.data))
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, OSError) as exc:
                log.warning("tunnel to the control plane: %s; reconnecting in %.1fs", exc, delay)
            finally:
                for task in self._streams.values():
                    task.cancel()
                self._streams.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    def _handle(self, ws: aiohttp.ClientWebSocketResponse, frame: dict[str, Any]) -> None:
        request_id = int(frame.get("id", 0))
        if frame.get("type") == "cancel":
            task = self._streams.pop(request_id, None)
            if task is not None:
                task.cancel()
        elif frame.get("type") == "logs":
            self._streams[request_id] = asyncio.create_task(self._logs(ws, request_id, frame))

    async def _logs(self, ws: aiohttp.ClientWebSocketResponse, request_id: int, frame: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[bytes | Exception] = asyncio.Queue()
        cancelled = False

        def read() -> None:
            try:
                response = self.core.read_namespaced_pod_log(
                    frame["pod"], frame["namespace"], _preload_content=False, **_log_arguments(frame["options"]))
                for chunk in response.stream(_CHUNK):
                    if cancelled:
                        break
                    loop.call_soon_threadsafe(chunks.put_nowait, chunk)
                response.release_conn()
                loop.call_soon_threadsafe(chunks.put_nowait, _END)
            except (ApiException, HTTPError, OSError) as exc:
                loop.call_soon_threadsafe(chunks.put_nowait, exc)

        reader = loop.run_in_executor(None, read)
        header = request_id.to_bytes(4, "big")
        try:
            while True:
                item = await chunks.get()
                if isinstance(item, Exception):
                    await ws.send_str(json.dumps({"type": "error", "id": request_id, **_error(item)}))
                    return
                if item == _END:
                    await ws.send_str(json.dumps({"type": "end", "id": request_id}))
                    return
                await ws.send_bytes(header + item)
        finally:
            cancelled = True
            self._streams.pop(request_id, None)
            with contextlib.suppress(Exception):
                reader.cancel()


def _error(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ApiException):
        try:
            body = json.loads(exc.body or "{}")
        except ValueError:
            body = {}
        return {"code": exc.status, "message": body.get("message") or exc.reason}
    return {"code": 503, "message": f"the cluster cannot be reached: {exc}"}
