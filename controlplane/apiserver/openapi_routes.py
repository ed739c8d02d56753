"""Serving the OpenAPI documents built by `controlplane.openapi`, with the caching headers kubectl relies on.

kubectl fetches `/openapi/v3`, then each group-version document at the `?hash=` URL the root gives; a response to a
hashed URL never changes, so it is marked immutable. The documents depend only on the registry: they are built
once per process.

`/openapi/v2` is JSON, or gnostic protobuf (`controlplane.openapi_proto`) for a client whose Accept header names
that media type, under either spelling, before any JSON range: kubectl asks for nothing else. Like kube-apiserver,
the answer's Content-Type is the current spelling, `...spec.v2.v1.0+protobuf`, even when asked for the older
`...spec.v2@v1.0+protobuf` that kubectl still sends.
"""

from __future__ import annotations

import functools
import json

from aiohttp import web

from api.registry import Registry
from controlplane import errors, openapi, openapi_proto

PROTOBUF_V2 = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_PROTOBUF_V2_TYPES = (PROTOBUF_V2, "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
_JSON_TYPES = ("application/json", "application/*", "*/*")


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


@functools.cache
def _v2_protobuf(registry: Registry) -> bytes:
    return openapi_proto.encode_openapi_v2(openapi.openapi_v2(registry))


def _wants_protobuf(accept: str) -> bool:
    """Whether the first media range of Accept that names a representation of /openapi/v2 is the protobuf one."""
    for media_range in accept.split(","):
        media = media_range.split(";")[0].strip().lower()
        if media in _PROTOBUF_V2_TYPES:
            return True
        if media in _JSON_TYPES:
            return False
    return False


def serve(request: web.Request, registry: Registry, path: str) -> web.Response:
    if path == "/openapi/v2":
        headers = {"Vary": "Accept"}
        if _wants_protobuf(request.headers.get("Accept", "")):
            return web.Response(body=_v2_protobuf(registry), content_type=PROTOBUF_V2, headers=headers)
        return web.Response(body=_v2(registry), content_type="application/json", headers=headers)
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
