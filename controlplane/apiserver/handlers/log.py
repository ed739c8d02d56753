"""GET pods/NAME/log: the query is validated and the container chosen here, the bytes come from a PodLogSource
(in a simulated cluster, its kubelets' log files), streamed while `follow` is set."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from controlplane import errors
from controlplane.apiserver.handlers.context import Context
from controlplane.podlogs import PodLogSource, choose_container, parse_options

LOGS_KEY: web.AppKey[PodLogSource] = web.AppKey("pod_logs")


async def pod_log(ctx: Context, pod: dict[str, Any]) -> web.StreamResponse:
    options = parse_options(ctx.name, ctx.query)
    options = dataclasses.replace(options, container=choose_container(pod, options.container))
    source = ctx.request.app.get(LOGS_KEY)
    if source is None:
        raise errors.StatusError(
            404, "NotFound",
            f'logs of pod "{ctx.name}" are not available: no syncer serves this workspace\'s clusters yet; '
            "the pod's events (kubectl describe pod) show what happened to it",
            {"name": ctx.name, "kind": "pods"},
        )
    chunks = source.read(pod, options)
    # The first chunk is read before answering, so that "no such log" is a Status, not a broken stream.
    first = await anext(chunks, b"")
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await response.prepare(ctx.request)
    if first:
        await response.write(first)
    async for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response
