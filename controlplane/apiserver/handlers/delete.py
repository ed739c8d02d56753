"""DELETE of one object, and DELETE of a collection.

Deletion honours DeleteOptions (body or query): `propagationPolicy` Background (default), Foreground or Orphan,
preconditions on uid and resourceVersion, and `dryRun`. An object with finalizers is only marked
(`deletionTimestamp`) and answered with 202 Accepted; whoever owns a finalizer removes it, and the last removal
deletes the object. Dependents are removed by the garbage collector, not here.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from controlplane import errors
from controlplane.apiserver.handlers.context import Context
from controlplane.apiserver.handlers.list import Filter
from controlplane.apiserver.negotiation import decode_body
from controlplane.store import DeleteOptions

_POLICIES = ("Background", "Foreground", "Orphan")


async def _options(ctx: Context) -> DeleteOptions:
    raw = await ctx.request.read()
    body: dict[str, Any] = {}
    if raw.strip():
        decoded = decode_body(raw, ctx.request.headers.get("Content-Type", ""))
        if not isinstance(decoded, dict):
            raise errors.bad_request("the body of a DELETE must be a DeleteOptions object")
        body = decoded
    policy = ctx.query.get("propagationPolicy") or body.get("propagationPolicy") or ""
    orphan = ctx.query.get("orphanDependents") or body.get("orphanDependents")
    if not policy and orphan in (True, "true"):
        policy = "Orphan"
    if policy and policy not in _POLICIES:
        raise errors.invalid(
            "DeleteOptions", "", "meta.k8s.io",
            [errors.Cause("propagationPolicy", f'Unsupported value: "{policy}": supported values: '
                          '"Foreground", "Background", "Orphan"', "FieldValueNotSupported")],
        )
    preconditions = body.get("preconditions") or {}
    dry_run = ctx.dry_run or body.get("dryRun") == ["All"]
    grace = ctx.query.get("gracePeriodSeconds", body.get("gracePeriodSeconds"))
    try:
        grace_seconds = None if grace is None else int(grace)
    except (TypeError, ValueError):
        raise errors.bad_request(
            f'invalid gracePeriodSeconds "{grace}": it must be a whole number of seconds'
        ) from None
    return DeleteOptions(
        propagation_policy=policy,
        precondition_uid=str(preconditions.get("uid") or ""),
        precondition_resource_version=str(preconditions.get("resourceVersion") or ""),
        dry_run=dry_run,
        grace_period_seconds=grace_seconds,
    )


def _success(ctx: Context, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata", {})
    details = {"name": meta.get("name", ctx.name), "group": ctx.rt.group, "kind": ctx.rt.plural,
               "uid": meta.get("uid", "")}
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {k: v for k, v in details.items() if v},
    }


async def delete(ctx: Context) -> web.StreamResponse:
    options = await _options(ctx)
    obj, deleted = await ctx.store.delete(ctx.ws, ctx.rt, ctx.namespace, ctx.name, options)
    if not deleted:
        # Still there (finalizers, a grace period, a namespace emptying itself): 200 with the object, as
        # kube-apiserver answers; 202 only to a client that asked for cascading with orphanDependents=false.
        orphan = ctx.query.get("orphanDependents")
        return ctx.respond(obj, 202 if orphan == "false" else 200)
    if ctx.rt.returns_deleted_object:
        return ctx.respond(obj, 200)
    return ctx.respond(_success(ctx, obj), 200)


async def delete_collection(ctx: Context) -> web.StreamResponse:
    options = await _options(ctx)
    flt = Filter(ctx)
    deleted = []
    for cached in await ctx.store.list_cached(ctx.ws, ctx.rt, ctx.namespace):
        if not flt.matches(cached.obj):
            continue
        meta = cached.obj["metadata"]
        try:
            obj, _ = await ctx.store.delete(ctx.ws, ctx.rt, meta.get("namespace", ""), meta["name"], options)
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
            continue
        deleted.append(obj)
    return ctx.respond({"kind": ctx.rt.list_kind, "apiVersion": ctx.rt.api_version, "metadata": {}, "items": deleted})
