"""PUT: replace an object (or its status, or its scale)."""

from __future__ import annotations

from aiohttp import web

from controlplane import errors
from controlplane.apiserver.handlers.context import Context, check_type
from controlplane.apiserver.handlers.fields import validate_fields, warning_headers
from controlplane.apiserver.handlers.managed import tracker
from controlplane.apiserver.handlers.scale import from_scale, to_scale
from controlplane.apiserver.negotiation import decode_body


async def update(ctx: Context) -> web.StreamResponse:
    raw = await ctx.request.read()
    decoded = decode_body(raw, ctx.request.headers.get("Content-Type", ""))
    sub = ctx.info.subresource
    if sub == "scale":
        return await _update_scale(ctx, decoded)
    body = check_type(ctx, decoded)
    warnings = validate_fields(ctx, body, raw)
    updated = await ctx.store.update(
        ctx.ws, ctx.rt, ctx.namespace, ctx.name, body, subresource=sub, dry_run=ctx.dry_run, track=tracker(ctx, sub)
    )
    return ctx.respond(updated, 200, warning_headers(warnings))


async def _update_scale(ctx: Context, decoded: object) -> web.StreamResponse:
    if not isinstance(decoded, dict) or decoded.get("kind", "Scale") != "Scale":
        raise errors.bad_request("the body must be an autoscaling/v1 Scale object")
    wanted = str(decoded.get("metadata", {}).get("resourceVersion") or "")

    def apply(current: dict) -> dict:
        if wanted and wanted != current["metadata"].get("resourceVersion"):
            raise errors.stale_conflict(ctx.rt.plural, ctx.name, ctx.rt.group)
        return from_scale(current, decoded)

    updated = await ctx.store.guaranteed_update(
        ctx.ws, ctx.rt, ctx.namespace, ctx.name, apply, dry_run=ctx.dry_run, precondition=wanted,
        track=tracker(ctx, "scale"),
    )
    return ctx.respond(to_scale(updated))

