"""Serving the OpenAPI documents built by `controlplane.openapi`, with the caching headers kubectl relies on.

kubectl fetches `/openapi/v3`, then each group-version document at the `?hash=` URL the root gives; a response to a
hashed URL never changes, so it is marked immutable. The documents depend only on the registry: they are built
once per process.
"""

from __future__ import annotations

import functools
import json

from aiohttp import web

from api.registry import Registry
from controlplane import errors, openapi


@functools.cache
def _v3_root(registry: Registry) -> bytes:
    return json.dumps(openapi.openapi_v3_root(registry), separators=(",", ":")).encode()


@functools.cache
def _v3_group_version(registry: Registry, group: str, version: str) -> bytes | None:
    doc = openapi.openapi_v3_group_version(registry, group, version)
    return None if doc is None else json.dumps(doc, separators=(",", ":")).encode()


@functools.cache
def _v2(registry: Registry) -> bytes:
    return json.dumps(openapi.openapi_v2(registry), separators=(",", ":")).encode()


def serve(request: web.Request, registry: Registry, path: str) -> web.Response:
    if path == "/openapi/v2":
        if "protobuf" in request.headers.get("Accept", "") and "json" not in request.headers.get("Accept", ""):
            raise errors.not_acceptable(
                "/openapi/v2 is served as application/json only; kubectl uses /openapi/v3, which is complete"
            )
        return web.Response(body=_v2(registry), content_type="application/json")
    if path == "/openapi/v3":
        return web.Response(body=_v3_root(registry), content_type="application/json")
    parts = path[len("/openapi/v3/"):].split("/")
    body: bytes | None = None
    if parts[0] == "api" and len(parts) == 2:
        body = _v3_group_version(registry, "", parts[1])
    elif parts[0] == "apis" and len(parts) == 3:
        body = _v3_group_version(registry, parts[1], parts[2])
    if body is None:
        raise errors.StatusError(404, "NotFound", "the server could not find the requested resource", {})
    headers = {"Cache-Control": "public, immutable"} if "hash" in request.query else {}
    return web.Response(body=body, content_type="application/json", headers=headers)
