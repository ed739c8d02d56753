"""What every resource handler shares: the request, what it addresses, and how to answer.

A handler is one function per verb (get.py, list.py, watch.py, create.py, update.py, patch.py, delete.py); each
receives a `Context` and returns an aiohttp response. Nothing here knows a kind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import yaml
from aiohttp import web
from multidict import MultiDictProxy

from api.registry import ResourceType
from controlplane import errors
from controlplane.apiserver.negotiation import Representation, wants_yaml
from controlplane.apiserver.requestinfo import RequestInfo
from controlplane.store import Store

JSON_CONTENT_TYPE = "application/json"
# The name of an object a POST created (the URL does not carry it), for the audit log.
CREATED_NAME_KEY: web.RequestKey[str] = web.RequestKey("created_name", str)


@dataclass
class Context:
    request: web.Request
    info: RequestInfo
    rt: ResourceType
    store: Store
    representation: Representation
    diagnosis: bool = False  # served by the control plane, whose diagnosis Tables show

    @property
    def ws(self) -> str:
        return self.info.workspace

    @property
    def namespace(self) -> str:
        return self.info.namespace if self.rt.namespaced else ""

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def query(self) -> MultiDictProxy[str]:
        return self.request.query

    @property
    def dry_run(self) -> bool:
        values = self.query.getall("dryRun", [])
        for value in values:
            if value != "All":
                raise errors.bad_request(f'unsupported dryRun value "{value}": the only supported value is "All"')
        return bool(values)

    def respond(self, obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
        if wants_yaml(self.request.headers.get("Accept", "")):
            return web.Response(
                body=yaml.safe_dump(obj, sort_keys=False).encode(), status=status, content_type="application/yaml",
                headers=headers,
            )
        return web.Response(body=dumps(obj), status=status, content_type=JSON_CONTENT_TYPE, headers=headers)


def dumps(obj: Any) -> bytes:
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, which only a YAML body can have brought
        return json.dumps(obj, separators=(",", ":")).encode()


def check_type(ctx: Context, body: Any) -> dict[str, Any]:
    """The body must be an object of the URL's kind and apiVersion (both may be left out)."""
    if not isinstance(body, dict):
        raise errors.bad_request(f"the request body must be a {ctx.rt.kind} object, not {type(body).__name__}")
    rt = ctx.rt
    api_version = body.get("apiVersion")
    kind = body.get("kind")
    if api_version and api_version != rt.api_version:
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API version ({rt.api_version})"
        )
    if kind and kind != rt.kind:
        raise errors.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({rt.kind}); "
            f"send it to the URL of {kind} objects instead"
        )
    body["apiVersion"], body["kind"] = rt.api_version, rt.kind
    return body
