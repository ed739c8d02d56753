"""GET of one object (or its /status, /scale or /log), served from the watch cache."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from controlplane.apiserver.handlers.context import JSON_CONTENT_TYPE, Context
from controlplane.apiserver.handlers.log import pod_log
from controlplane.apiserver.handlers.scale import to_scale
from controlplane.apiserver.negotiation import wants_yaml
from controlplane.printers import table


async def get(ctx: Context) -> web.StreamResponse:
    # resourceVersion=0 accepts any cached state; anything else must reflect every acknowledged write.
    fresh = ctx.query.get("resourceVersion", "") != "0"
    cached = await ctx.store.get(ctx.ws, ctx.rt, ctx.namespace, ctx.name, fresh=fresh)
    if ctx.info.subresource == "scale":
        return ctx.respond(to_scale(cached.obj))
    if ctx.info.subresource == "log":
        return await pod_log(ctx, cached.obj)
    as_kind = ctx.representation.as_kind
    if as_kind == "Table":
        include = ctx.query.get("includeObject", "Metadata")
        return ctx.respond(table(ctx.rt, [cached.obj], now=datetime.now(UTC), include_object=include,
                                         diagnosis=ctx.diagnosis))
    if as_kind.startswith("PartialObjectMetadata"):
        return ctx.respond(partial_metadata(cached.obj))
    if wants_yaml(ctx.request.headers.get("Accept", "")):
        return ctx.respond(cached.obj)
    return web.Response(body=cached.json_bytes(), content_type=JSON_CONTENT_TYPE)


def partial_metadata(obj: dict) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}
