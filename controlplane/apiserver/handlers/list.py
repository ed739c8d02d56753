"""LIST: every object of a resource in a namespace, or in the whole workspace.

Without `limit` the list is served from the watch cache. With `limit` (kubectl and informers page by 500) each page
is read from etcd at one pinned revision, so that the pages together are one consistent snapshot; the continue
token carries that revision and the key to resume after, as kube-apiserver's does. Selectors filter on the
server; a filtered page may hold fewer than `limit` items, which clients handle.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from controlplane import errors
from controlplane.apiserver.handlers.context import JSON_CONTENT_TYPE, Context, dumps
from controlplane.apiserver.handlers.get import partial_metadata
from controlplane.apiserver.negotiation import wants_yaml
from controlplane.printers import table
from controlplane.selectors import parse_field_selector, parse_label_selector
from controlplane.storage.etcd import Compacted
from controlplane.storage.keys import resource_prefix

_MAX_PAGE_READS = 32


class Filter:
    def __init__(self, ctx: Context) -> None:
        self.labels = parse_label_selector(ctx.query.get("labelSelector", ""))
        self.fields = parse_field_selector(ctx.query.get("fieldSelector", ""), ctx.rt.kind)
        self.empty = not ctx.query.get("labelSelector") and not ctx.query.get("fieldSelector")

    def matches(self, obj: dict[str, Any]) -> bool:
        if self.empty:
            return True
        return self.labels.matches(obj.get("metadata", {}).get("labels") or {}) and self.fields.matches(obj)


def encode_continue(revision: int, start: str, prefix: str) -> str:
    token = {"v": "meta.k8s.io/v1", "rv": revision, "start": start[len(prefix):]}
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode()


def decode_continue(token: str, prefix: str) -> tuple[int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        revision, start = int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise errors.bad_request(
            "continue key is not valid: pass back the metadata.continue value of the previous page unchanged"
        ) from None
    return revision, prefix + start


def _list_options(ctx: Context) -> tuple[str, str]:
    """resourceVersion and resourceVersionMatch, validated as kube-apiserver validates ListOptions."""
    rv, match = ctx.query.get("resourceVersion", ""), ctx.query.get("resourceVersionMatch", "")
    cause: errors.Cause | None = None
    if match not in ("", "Exact", "NotOlderThan"):
        cause = errors.Cause("resourceVersionMatch", f'Unsupported value: "{match}": supported values: "Exact", '
                             '"NotOlderThan", ""', "FieldValueNotSupported")
    elif match and not rv:
        cause = errors.Cause("resourceVersionMatch", "Forbidden: resourceVersionMatch is forbidden unless "
                             "resourceVersion is provided", "FieldValueForbidden")
    elif match == "Exact" and rv == "0":
        cause = errors.Cause("resourceVersionMatch", 'Forbidden: resourceVersionMatch "exact" is forbidden for '
                             'resourceVersion "0"', "FieldValueForbidden")
    if cause is not None:
        raise errors.invalid("ListOptions", "", "meta.k8s.io", [cause])
    return rv, match


async def list_(ctx: Context) -> web.StreamResponse:
    flt = Filter(ctx)
    limit = _int_param(ctx, "limit")
    token = ctx.query.get("continue", "")
    rv, match = _list_options(ctx)
    if match == "Exact":
        # A list as it was at that revision: only etcd has the past.
        await _wait_for(ctx, rv)
        items, meta = await _list_from_etcd(ctx, flt, limit, token, at=_revision(rv))
    elif limit or token:
        items, meta = await _list_from_etcd(ctx, flt, limit, token)
    else:
        if rv not in ("", "0"):
            await _wait_for(ctx, rv)
        cached = await ctx.store.list_cached(ctx.ws, ctx.rt, ctx.namespace, fresh=rv == "")
        revision = ctx.store.cache.revision
        if not ctx.representation.as_kind and not wants_yaml(ctx.request.headers.get("Accept", "")):
            return _fast_json_list(ctx, [c.json_bytes() for c in cached if flt.matches(c.obj)], revision)
        items, meta = [c.obj for c in cached if flt.matches(c.obj)], {"resourceVersion": str(revision)}
    return ctx.respond(render_list(ctx, items, meta))


def render_list(ctx: Context, items: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    as_kind = ctx.representation.as_kind
    if as_kind == "Table":
        include = ctx.query.get("includeObject", "Metadata")
        return table(ctx.rt, items, now=datetime.now(UTC), include_object=include, list_meta=meta,
                     diagnosis=ctx.diagnosis)
    if as_kind.startswith("PartialObjectMetadata"):
        return {
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": meta,
            "items": [partial_metadata(o) for o in items],
        }
    return {"kind": ctx.rt.list_kind, "apiVersion": ctx.rt.api_version, "metadata": meta, "items": items}


def _fast_json_list(ctx: Context, items: list[bytes], revision: int) -> web.Response:
    """Assemble the list from each object's cached JSON: no re-encoding of unchanged objects."""
    head = dumps({"kind": ctx.rt.list_kind, "apiVersion": ctx.rt.api_version,
                  "metadata": {"resourceVersion": str(revision)}})
    body = head[:-1] + b',"items":[' + b",".join(items) + b"]}"
    return web.Response(body=body, content_type=JSON_CONTENT_TYPE)


async def _list_from_etcd(
    ctx: Context, flt: Filter, limit: int, token: str, *, at: int = 0
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    prefix = resource_prefix(ctx.ws, ctx.rt.group, ctx.rt.plural, ctx.namespace)
    revision, start = decode_continue(token, prefix) if token else (at, "")
    items: list[dict[str, Any]] = []
    next_start = ""
    for _ in range(_MAX_PAGE_READS):
        want = (limit - len(items)) if limit else 0
        try:
            page, revision, next_start = await ctx.store.list_page(
                ctx.ws, ctx.rt, ctx.namespace, start=start, limit=want, revision=revision
            )
        except Compacted:
            if token:
                raise errors.gone(
                    "The provided continue parameter is too old to display a consistent list result. You can start "
                    "a new list without the continue parameter."
                ) from None
            raise errors.gone(
                f"The resourceVersion for the provided list is too old ({revision}); list without resourceVersion "
                "to get the current state"
            ) from None
        items.extend(o for o in page if flt.matches(o))
        if not next_start or (limit and len(items) >= limit):
            break
        start = next_start
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    if next_start:
        meta["continue"] = encode_continue(revision, next_start, prefix)
    return items, meta


def _revision(rv: str) -> int:
    try:
        return int(rv)
    except ValueError:
        raise errors.bad_request(
            f'invalid resourceVersion "{rv}": it must be a resourceVersion the server returned'
        ) from None


async def _wait_for(ctx: Context, rv: str) -> None:
    revision = _revision(rv)
    if not await ctx.store.cache.wait_for_revision(revision, timeout=3.0):
        raise errors.StatusError(
            504, "Timeout", f"Too large resource version: {revision}, current: {ctx.store.cache.revision}",
            {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
             "retryAfterSeconds": 1},
        )


def _int_param(ctx: Context, name: str) -> int:
    raw = ctx.query.get(name, "")
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(f'invalid {name} "{raw}": it must be a whole number') from None
    if value < 0:
        raise errors.bad_request(f'invalid {name} "{raw}": it must not be negative')
    return value
