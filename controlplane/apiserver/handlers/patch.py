"""PATCH: JSON patch, JSON merge patch, strategic merge patch and server-side apply.

The patch is applied to the object as it is in etcd, inside the store's read-mutate-write loop, so a concurrent
writer makes the patch re-apply to the newer object instead of failing; a patch that names a resourceVersion
pins it and gets 409 Conflict when it is stale. Subresources: /status patches change only status (the status
strategy restores the rest), /scale patches an autoscaling/v1 Scale view.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.schema import schema_for
from controlplane import errors
from controlplane.apiserver.handlers.apply import apply
from controlplane.apiserver.handlers.context import Context
from controlplane.apiserver.handlers.fields import validate_fields, warning_headers
from controlplane.apiserver.handlers.managed import tracker
from controlplane.apiserver.handlers.scale import from_scale, to_scale
from controlplane.apiserver.negotiation import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    PATCH_TYPES,
    decode_body,
    media_type,
)
from controlplane.patch import apply_json_patch, apply_merge_patch, apply_strategic_merge_patch


def _apply(media: str, ctx: Context, target: dict[str, Any], patch: Any, kind: tuple[str, str, str]) -> dict[str, Any]:
    if media == JSON_PATCH:
        if not isinstance(patch, list):
            raise errors.bad_request("a JSON patch must be a list of operations, e.g. [{\"op\": \"replace\", ...}]")
        return apply_json_patch(target, patch)
    if not isinstance(patch, dict):
        raise errors.bad_request("a merge patch must be a JSON object")
    if media == MERGE_PATCH:
        return apply_merge_patch(target, patch)
    schema = schema_for(*kind)
    if schema is None:
        raise errors.unsupported_media_type(
            f"the body of the request was in an unknown format - strategic merge patch is not supported for "
            f"{ctx.rt.group_resource}; use application/merge-patch+json or application/json-patch+json"
        )
    return apply_strategic_merge_patch(target, patch, schema)


async def patch(ctx: Context) -> web.StreamResponse:
    content_type = ctx.request.headers.get("Content-Type", "")
    media = media_type(content_type)
    raw = await ctx.request.read()
    body = decode_body(raw, content_type, allowed=PATCH_TYPES)
    if media == APPLY_PATCH:
        return await apply(ctx, raw, body)
    sub = ctx.info.subresource
    warnings: list[str] = []

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        if sub == "scale":
            patched = _apply(media, ctx, to_scale(current), body, ("autoscaling", "v1", "Scale"))
            _check_pinned(ctx, patched, current)
            return from_scale(current, patched)
        patched = _apply(media, ctx, current, body, (ctx.rt.group, ctx.rt.version, ctx.rt.kind))
        _check_pinned(ctx, patched, current)
        warnings[:] = validate_fields(ctx, patched)
        return patched

    pinned = isinstance(body, dict) and bool((body.get("metadata") or {}).get("resourceVersion"))
    updated = await ctx.store.guaranteed_update(
        ctx.ws, ctx.rt, ctx.namespace, ctx.name, mutate, subresource=sub if sub != "scale" else "",
        dry_run=ctx.dry_run, precondition="pinned" if pinned else "", track=tracker(ctx, sub),
    )
    result = to_scale(updated) if sub == "scale" else updated
    return ctx.respond(result, 200, warning_headers(warnings))


def _check_pinned(ctx: Context, patched: dict[str, Any], current: dict[str, Any]) -> None:
    """A patch that sets metadata.resourceVersion is a precondition on it, as in kube-apiserver."""
    wanted = (patched.get("metadata") or {}).get("resourceVersion")
    if wanted and wanted != current["metadata"].get("resourceVersion"):
        raise errors.stale_conflict(ctx.rt.plural, ctx.name, ctx.rt.group)

