"""Server-side apply: PATCH with `application/apply-patch+yaml`.

The body is the manager's complete intent. It is merged into the live object by field ownership
(`controlplane.apply`): conflicts with other managers are 409 unless `force=true`, fields the manager stopped
sending are removed. Applying to an object that does not exist creates it, as `kubectl apply --server-side` expects.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.schema import resolve_schema
from controlplane import errors
from controlplane.apiserver.handlers.admission import admitted
from controlplane.apiserver.handlers.context import Context, check_type
from controlplane.apiserver.handlers.fields import validate_fields, warning_headers
from controlplane.apiserver.handlers.managed import field_manager, reset_fields
from controlplane.apply import server_side_apply
from controlplane.store import now_rfc3339


async def apply(ctx: Context, raw: bytes, body: Any) -> web.StreamResponse:
    if ctx.info.subresource == "scale":
        raise errors.unsupported_media_type("server-side apply to /scale is not supported; use kubectl scale")
    applied = check_type(ctx, body)
    manager = field_manager(ctx, required=True)
    force = ctx.query.get("force") in ("true", "1")
    warnings = validate_fields(ctx, applied, raw)
    meta = applied.get("metadata")
    if not isinstance(meta, dict) or meta.get("name") != ctx.name:
        raise errors.bad_request(
            f"the name of the applied object ({(meta or {}).get('name')}) must match the name on the URL ({ctx.name})"
        )
    rt = ctx.rt
    schema = resolve_schema(rt.group, rt.version, rt.kind)
    sub = ctx.info.subresource

    def merge(live: dict[str, Any] | None) -> dict[str, Any]:
        return server_side_apply(
            live, applied, manager, force, schema, now_rfc3339(), reset_fields=reset_fields(sub), subresource=sub
        )

    try:
        updated = await ctx.store.guaranteed_update(
            ctx.ws, rt, ctx.namespace, ctx.name, merge, subresource=sub, dry_run=ctx.dry_run, track=admitted(ctx, None)
        )
        return ctx.respond(updated, 200, warning_headers(warnings))
    except errors.StatusError as exc:
        if exc.code != 404 or sub:
            raise
    created = await ctx.store.create(ctx.ws, rt, ctx.namespace, merge(None), dry_run=ctx.dry_run,
                                     track=admitted(ctx, None))
    return ctx.respond(created, 201, warning_headers(warnings))
