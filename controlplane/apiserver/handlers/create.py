"""POST: create an object."""

from __future__ import annotations

from aiohttp import web

from controlplane import errors
from controlplane.apiserver.handlers.context import CREATED_NAME_KEY, Context, check_type
from controlplane.apiserver.handlers.fields import validate_fields, warning_headers
from controlplane.apiserver.handlers.managed import tracker
from controlplane.apiserver.negotiation import decode_body


async def create(ctx: Context) -> web.StreamResponse:
    raw = await ctx.request.read()
    body = check_type(ctx, decode_body(raw, ctx.request.headers.get("Content-Type", "")))
    warnings = validate_fields(ctx, body, raw)
    namespace = ctx.info.namespace if ctx.rt.namespaced else ""
    body_namespace = body.get("metadata", {}).get("namespace") if isinstance(body.get("metadata"), dict) else None
    if ctx.rt.namespaced and body_namespace and body_namespace != namespace:
        raise errors.bad_request(
            f"the namespace of the provided object ({body_namespace}) does not match the namespace sent on the "
            f"request ({namespace})"
        )
    created = await ctx.store.create(ctx.ws, ctx.rt, namespace, body, dry_run=ctx.dry_run, track=tracker(ctx))
    ctx.request[CREATED_NAME_KEY] = created["metadata"]["name"]
    return ctx.respond(created, 201, warning_headers(warnings))
