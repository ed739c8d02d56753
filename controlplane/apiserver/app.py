"""The aiohttp application: routing, middlewares, and the dispatch of every request to one generic handler.

A request goes route -> handler -> strategy -> storage -> etcd. Routing is Kubernetes' path grammar
(`requestinfo.py`) rather than aiohttp's router, because the same grammar serves every resource in every workspace.
Cross-cutting concerns live in middlewares: errors become `kind: Status` responses here and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc.aio
from aiohttp import web
from etcd3aio.errors import EtcdError

from api.registry import Registry, ResourceType
from controlplane import errors
from controlplane.apiserver import discovery, openapi_routes
from controlplane.apiserver.handlers.binding import BINDINGS, create_binding
from controlplane.apiserver.handlers.context import CREATED_NAME_KEY, Context, dumps
from controlplane.apiserver.handlers.create import create
from controlplane.apiserver.handlers.delete import delete, delete_collection
from controlplane.apiserver.handlers.get import get
from controlplane.apiserver.handlers.list import list_
from controlplane.apiserver.handlers.log import LOGS_KEY
from controlplane.apiserver.handlers.patch import patch
from controlplane.apiserver.handlers.review import REVIEWS, review
from controlplane.apiserver.handlers.update import update
from controlplane.apiserver.handlers.watch import watch
from controlplane.apiserver.negotiation import negotiate
from controlplane.apiserver.requestinfo import BadWorkspace, RequestInfo, request_info
from controlplane.apiserver.security import (
    AUTHORIZER_KEY,
    TOKENS_KEY,
    USER_KEY,
    admit,
    authenticate,
    impersonate,
    is_public,
)
from controlplane.audit import AuditLog
from controlplane.auth.authn import TokenAuthenticator
from controlplane.auth.authz import Authorizer
from controlplane.auth.rbac import UserInfo
from controlplane.podlogs import PodLogSource
from controlplane.storage.watchcache import NotFresh
from controlplane.store import Store
from controlplane.tunnel import TUNNEL_PATH, Tunnels, tunnel_route

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 3 * 1024 * 1024  # kube-apiserver's limit for a request body

Handler = Callable[[Context], Awaitable[web.StreamResponse]]
HANDLERS: dict[str, Handler] = {
    "get": get,
    "list": list_,
    "watch": watch,
    "create": create,
    "update": update,
    "patch": patch,
    "delete": delete,
    "deletecollection": delete_collection,
}
# Verbs each subresource answers; anything else on a subresource is 405.
_SUBRESOURCE_VERBS = {
    "status": ("get", "update", "patch"), "scale": ("get", "update", "patch"), "log": ("get",), "binding": ("create",),
}

STORE_KEY: web.AppKey[Store] = web.AppKey("store", Store)
REGISTRY_KEY: web.AppKey[Registry] = web.AppKey("registry", Registry)
DIAGNOSIS_KEY: web.AppKey[bool] = web.AppKey("diagnosis", bool)
VERSION_KEY: web.AppKey[dict[str, str]] = web.AppKey("version", dict)
AUDIT_KEY: web.AppKey[AuditLog] = web.AppKey("audit", AuditLog)
# What dispatch learned about a request, for the audit middleware.
_INFO: web.RequestKey[RequestInfo] = web.RequestKey("request_info", RequestInfo)
_IMPERSONATOR: web.RequestKey[UserInfo] = web.RequestKey("impersonator", UserInfo)


def status_response(exc: errors.StatusError) -> web.Response:
    return web.Response(
        body=dumps(exc.to_status()), status=exc.code, content_type="application/json", headers=exc.headers or None
    )


@web.middleware
async def status_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                        ) -> web.StreamResponse:
    """Every failure leaves as a `kind: Status` with kube-apiserver's code and reason; the server keeps serving."""
    try:
        return await handler(request)
    except errors.StatusError as exc:
        return status_response(exc)
    except web.HTTPRequestEntityTooLarge:
        return status_response(errors.too_large(
            f"Request entity too large: limit is {MAX_BODY_BYTES} bytes; split the object (a ConfigMap or Secret "
            "holds at most 1 MiB) or mount the data another way"
        ))
    except web.HTTPException:
        raise
    except NotFresh as exc:
        return status_response(errors.timeout(
            f"the server could not catch up with etcd in time ({exc}); retry, and check etcd's health if it persists"
        ))
    except (EtcdError, grpc.aio.AioRpcError, TimeoutError) as exc:
        log.warning("etcd error serving %s %s: %s", request.method, request.path, exc)
        return status_response(errors.StatusError(
            503, "ServiceUnavailable", f"etcd did not answer ({exc}); retry shortly, and check etcd's health if it "
            "persists",
        ))
    except Exception:
        log.exception("internal error serving %s %s", request.method, request.path)
        return status_response(errors.internal(
            f"an internal error occurred serving {request.method} {request.path}; the server log has the details"
        ))


def _not_found_path() -> errors.StatusError:
    return errors.StatusError(404, "NotFound", "the server could not find the requested resource", {})


@web.middleware
async def audited(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                  ) -> web.StreamResponse:
    """One audit line per request, written when the answer is complete (a watch: when it ends)."""
    code = 500
    try:
        response = await handler(request)
        code = response.status
        return response
    except web.HTTPException as exc:
        code = exc.status
        raise
    finally:
        request.app[AUDIT_KEY].record(_audit_entry(request, code))


def _audit_entry(request: web.Request, code: int) -> dict[str, Any]:
    info: RequestInfo | None = request.get(_INFO)
    user: UserInfo | None = request.get(USER_KEY)
    entry: dict[str, Any] = {
        "user": user.name if user else "system:anonymous",
        "groups": list(user.groups) if user else [],
        "sourceIP": request.remote,
        "method": request.method,
        "path": request.path,
        "code": code,
    }
    impersonator: UserInfo | None = request.get(_IMPERSONATOR)
    if impersonator is not None:
        entry["impersonatedBy"] = impersonator.name
    if info is not None:
        entry.update(workspace=info.workspace, verb=info.verb)
        if info.is_resource:
            resource = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
            name = info.name or request.get(CREATED_NAME_KEY, "")
            entry.update(apiGroup=info.group, resource=resource, namespace=info.namespace, name=name)
    return entry


async def dispatch(request: web.Request) -> web.StreamResponse:
    try:
        info = request_info(request.method, request.path, dict(request.query))
    except BadWorkspace as exc:
        raise errors.bad_request(str(exc)) from None
    request[_INFO] = info
    if is_public(info):
        return await non_resource(request, info)
    store = request.app[STORE_KEY]
    authorizer = request.app[AUTHORIZER_KEY]
    user = authenticate(request, request.app[TOKENS_KEY])
    request[USER_KEY] = acting = impersonate(request, user, info.workspace, authorizer)
    if acting is not user:
        request[_IMPERSONATOR] = user
    admit(acting, info, store, authorizer)
    if not info.is_resource:
        return await non_resource(request, info)
    registry = request.app[REGISTRY_KEY]
    rt = registry.lookup(info.group, info.version, info.resource)
    if rt is None or (info.namespace and not rt.namespaced) or (info.subresource and info.subresource not in
                                                                rt.subresources):
        raise _not_found_path()
    _check_verb(info, rt)
    await store.ensure_workspace(info.workspace)
    ctx = Context(request, info, rt, store, negotiate(request.headers.get("Accept", "")),
                  request.app[DIAGNOSIS_KEY])
    if (rt.group, rt.plural) in REVIEWS:
        return await review(ctx)
    if info.subresource == "binding" or (rt.group, rt.plural) == BINDINGS:
        return await create_binding(ctx)
    return await HANDLERS[info.verb](ctx)


def _check_verb(info: RequestInfo, rt: ResourceType) -> None:
    verb = info.verb
    allowed = _SUBRESOURCE_VERBS.get(info.subresource, rt.verbs) if info.subresource else rt.verbs
    needs_name = verb in ("get", "update", "patch", "delete")
    # POST to a named object is only for subresources that create (pods/<name>/binding).
    names_wrongly = (needs_name and not info.name) or (verb == "create" and bool(info.name) != bool(info.subresource))
    if verb not in HANDLERS or verb not in allowed or names_wrongly:
        raise errors.method_not_allowed(
            f"the server does not allow this method on the requested resource: {info.verb.upper()} "
            f"{rt.group_resource}{'/' + info.subresource if info.subresource else ''}"
        )
    if rt.namespaced and not info.namespace and verb not in ("list", "watch", "deletecollection"):
        raise _not_found_path()


async def non_resource(request: web.Request, info: RequestInfo) -> web.StreamResponse:
    registry = request.app[REGISTRY_KEY]
    path = info.path.rstrip("/") or "/"
    accept = request.headers.get("Accept", "")
    doc: Any = None
    if path in ("/healthz", "/livez", "/readyz") or path.startswith(("/healthz/", "/livez/", "/readyz/")):
        return web.Response(text="ok", content_type="text/plain")
    if path == "/version":
        doc = request.app[VERSION_KEY]
    elif path == "/api":
        if "as=APIGroupDiscoveryList" in accept:
            return _aggregated(discovery.aggregated_discovery(registry, legacy=True))
        doc = discovery.api_versions(request.host)
    elif path == "/apis":
        if "as=APIGroupDiscoveryList" in accept:
            return _aggregated(discovery.aggregated_discovery(registry, legacy=False))
        doc = discovery.api_group_list(registry)
    elif info.parts[:1] == ("api",) and len(info.parts) == 2:
        doc = discovery.api_resource_list(registry, "", info.parts[1])
    elif info.parts[:1] == ("apis",) and len(info.parts) == 2:
        doc = discovery.api_group(registry, info.parts[1])
    elif info.parts[:1] == ("apis",) and len(info.parts) == 3:
        doc = discovery.api_resource_list(registry, info.parts[1], info.parts[2])
    elif path.startswith("/openapi/"):
        return openapi_routes.serve(request, registry, path)
    if doc is None:
        raise _not_found_path()
    if request.method not in ("GET", "HEAD"):
        raise errors.method_not_allowed(f"the server does not allow this method on {path}: {request.method}")
    return web.Response(body=dumps(doc), content_type="application/json")


def _aggregated(doc: dict[str, Any]) -> web.Response:
    return web.Response(
        body=dumps(doc),
        headers={"Content-Type": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"},
    )


def create_app(store: Store, registry: Registry, version: dict[str, str], audit: AuditLog,
               pod_logs: PodLogSource | None = None, tunnels: Tunnels | None = None, *,
               diagnosis: bool = False) -> web.Application:
    """The API, authenticating against the AccessTokens and authorizing with the RBAC objects in `store`'s cache;
    `audit` must be open while the app serves. `pod_logs` answers pods/log (without it, 404 says why).
    `diagnosis`: the control plane, whose Tables show the diagnosis (a simulated cluster's print as K3s's do)."""
    app = web.Application(middlewares=[audited, status_errors], client_max_size=MAX_BODY_BYTES)
    app[STORE_KEY] = store
    app[REGISTRY_KEY] = registry
    app[DIAGNOSIS_KEY] = diagnosis
    app[VERSION_KEY] = version
    app[AUDIT_KEY] = audit
    if pod_logs is not None:
        app[LOGS_KEY] = pod_logs
    app[TOKENS_KEY] = tokens = TokenAuthenticator(store.cache)
    app[AUTHORIZER_KEY] = authorizer = Authorizer(store.cache)
    tokens.start()
    authorizer.start()

    async def stop(_: web.Application) -> None:
        tokens.stop()
        authorizer.stop()

    app.on_cleanup.append(stop)
    if tunnels is not None:
        def tunnel_user(request: web.Request) -> UserInfo:
            request[USER_KEY] = user = authenticate(request, tokens)  # the audit line names the syncer
            return user

        app.router.add_get(TUNNEL_PATH, tunnel_route(tunnels, tunnel_user))
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app
