"""POST pods/<name>/binding, and the older POST bindings: assign a pod to a node.

What a Binding may change, and what is refused, is `controlplane.registry.binding`; the write is one guaranteed
update of the pod through the store's `binding` subresource. kube-apiserver answers a Binding with a `Status`
(Success, 201), never with the pod. `bind` is also how the simulated cluster's scheduler binds.
"""

from __future__ import annotations

import functools

from aiohttp import web

from api.registry import BUILTIN
from controlplane.apiserver.handlers.context import CREATED_NAME_KEY, Context
from controlplane.apiserver.negotiation import decode_body
from controlplane.registry.binding import Binding, assign, binding_from
from controlplane.store import Object, Store, now_rfc3339

BINDINGS = ("", "bindings")
PODS = BUILTIN.lookup("", "v1", "pods")
assert PODS is not None


async def bind(store: Store, ws: str, namespace: str, binding: Binding, *, dry_run: bool = False) -> Object:
    """Assign the pod the Binding names to its node; returns the pod as written."""
    return await store.guaranteed_update(
        ws, PODS, namespace, binding.name, functools.partial(assign, binding=binding, now=now_rfc3339()),
        subresource="binding", dry_run=dry_run,
    )


async def create_binding(ctx: Context) -> web.StreamResponse:
    raw = await ctx.request.read()
    body = decode_body(raw, ctx.request.headers.get("Content-Type", ""))
    binding = binding_from(body, namespace=ctx.info.namespace, url_name=ctx.name)
    if not ctx.name:
        ctx.request[CREATED_NAME_KEY] = binding.name
    await bind(ctx.store, ctx.ws, ctx.info.namespace, binding, dry_run=ctx.dry_run)
    return ctx.respond({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}, 201)
