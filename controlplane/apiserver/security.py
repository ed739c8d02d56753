"""Authentication, impersonation and authorization of one request, in kube-apiserver's order.

1. Who: a bearer token, else a client certificate verified by TLS, else 401 (the health and version endpoints are
   the only ones open to anonymous callers, and they say nothing about any workspace).
2. As whom: `Impersonate-User` / `Impersonate-Group` / `Impersonate-Uid`, each checked against the `impersonate`
   verb in the addressed workspace; the impersonated user is in `system:authenticated`, as in Kubernetes.
3. Whether: `system:masters` may do anything, and is told 404 for a workspace that does not exist; everyone else
   goes through the workspace's RBAC and gets the same 403 for a workspace that does not exist as for one where
   they have no role, so a stranger cannot tell them apart.
"""

from __future__ import annotations

import asyncio
import weakref

from aiohttp import web

from controlplane import errors
from controlplane.apiserver.requestinfo import RequestInfo
from controlplane.auth.authn import AUTHENTICATED, TokenAuthenticator, Unauthorized, bearer_token, with_authenticated
from controlplane.auth.authz import Authorizer, is_master
from controlplane.auth.rbac import Attributes, UserInfo
from controlplane.pki import identity_from_peercert
from controlplane.store import Store

TOKENS_KEY: web.AppKey[TokenAuthenticator] = web.AppKey("tokens", TokenAuthenticator)
AUTHORIZER_KEY: web.AppKey[Authorizer] = web.AppKey("authorizer", Authorizer)
# The request's (possibly impersonated) user, once authenticated.
USER_KEY: web.RequestKey[UserInfo] = web.RequestKey("user", UserInfo)

_HEALTH_PATHS = ("/healthz", "/livez", "/readyz")
_SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
_SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
ANONYMOUS = "system:anonymous"
UNAUTHENTICATED = "system:unauthenticated"


def is_public(info: RequestInfo) -> bool:
    if info.is_resource or info.verb not in ("get", "head"):
        return False
    path = info.path.rstrip("/")
    return path == "/version" or any(path == p or path.startswith(p + "/") for p in _HEALTH_PATHS)


def unauthorized(message: str) -> errors.StatusError:
    return errors.StatusError(401, "Unauthorized", message)


# The user of each TLS connection's client certificate, worked out once per connection rather than per request.
_CERTIFICATE_USERS: weakref.WeakKeyDictionary[asyncio.BaseTransport, UserInfo | None] = weakref.WeakKeyDictionary()


def _certificate_user(transport: asyncio.BaseTransport | None) -> UserInfo | None:
    if transport is None:
        return None
    try:
        return _CERTIFICATE_USERS[transport]
    except KeyError:
        identity = identity_from_peercert(transport.get_extra_info("peercert"))
        user = with_authenticated(*identity) if identity is not None else None
        _CERTIFICATE_USERS[transport] = user
        return user


def authenticate(request: web.Request, tokens: TokenAuthenticator) -> UserInfo:
    authorization = request.headers.get("Authorization")
    try:
        if authorization:
            return tokens.authenticate(bearer_token(authorization))
    except Unauthorized as exc:
        raise unauthorized(str(exc)) from None
    user = _certificate_user(request.transport)
    if user is not None:
        return user
    raise unauthorized(
        "Unauthorized: this server needs a bearer token or a client certificate signed by its CA; use the kubeconfig "
        "your platform admin gave you (canopy kubeconfig), or DATA_DIR/admin.kubeconfig on the server"
    )


def attributes(user: UserInfo, info: RequestInfo) -> Attributes:
    if not info.is_resource:
        return Attributes(user, info.verb, False, path=info.path)
    namespace = info.namespace
    if info.resource == "namespaces" and not info.group and info.name:
        namespace = info.name  # a RoleBinding in a namespace grants access to the namespace object itself
    return Attributes(
        user, info.verb, True, api_group=info.group, resource=info.resource, subresource=info.subresource,
        namespace=namespace, name=info.name,
    )


def impersonate(request: web.Request, user: UserInfo, workspace: str, authorizer: Authorizer) -> UserInfo:
    """The user to act as, after checking the caller may impersonate it (kube-apiserver's WithImpersonation)."""
    headers = request.headers
    target = headers.get("Impersonate-User") or None  # an empty header is no impersonation, as in Kubernetes
    groups = tuple(headers.getall("Impersonate-Group", ()))
    uid = headers.get("Impersonate-Uid")
    extra = [h for h in headers if h.lower().startswith("impersonate-extra-")]
    if target is None:
        if groups or uid or extra:
            raise errors.bad_request(
                "Impersonate-Group, Impersonate-Uid and Impersonate-Extra-* need Impersonate-User too: name the "
                "user to act as"
            )
        return user
    if extra:
        raise errors.bad_request("Impersonate-Extra-* headers are not supported by this server; leave them out")
    service_account = _service_account(target)
    checks = [
        Attributes(user, "impersonate", True, resource="serviceaccounts", namespace=service_account[0],
                   name=service_account[1])
        if service_account else Attributes(user, "impersonate", True, resource="users", name=target)
    ]
    checks += [Attributes(user, "impersonate", True, resource="groups", name=g) for g in groups]
    if uid:
        checks.append(Attributes(user, "impersonate", True, api_group="authentication.k8s.io", resource="uids",
                                 name=uid))
    for check in checks:
        allowed, reason = authorizer.authorize(workspace, check)
        if not allowed:
            raise errors.forbidden(reason)
    if service_account and not groups:
        groups = (_SERVICE_ACCOUNTS_GROUP, f"{_SERVICE_ACCOUNTS_GROUP}:{service_account[0]}")
    if target == ANONYMOUS:
        all_groups = groups if UNAUTHENTICATED in groups else (*groups, UNAUTHENTICATED)
    else:
        all_groups = groups if {AUTHENTICATED, UNAUTHENTICATED} & set(groups) else (*groups, AUTHENTICATED)
    return UserInfo(target, tuple(dict.fromkeys(all_groups)), uid or "")


def _service_account(user: str) -> tuple[str, str] | None:
    """(namespace, name) of `system:serviceaccount:<namespace>:<name>`, or None for any other user name."""
    if not user.startswith(_SERVICE_ACCOUNT_PREFIX):
        return None
    parts = user[len(_SERVICE_ACCOUNT_PREFIX):].split(":")
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


def admit(user: UserInfo, info: RequestInfo, store: Store, authorizer: Authorizer) -> None:
    """Raise 404 or 403 unless `user` may make this request in its workspace."""
    if is_master(user):
        if not store.workspace_exists(info.workspace):
            parent, _, name = info.workspace.rpartition(":")
            raise errors.StatusError(
                404, "NotFound",
                f'workspace "{info.workspace}" does not exist; create it with "canopy workspace create {name} '
                f'--parent {parent}", or list the workspaces of {parent} with "kubectl get workspaces"',
            )
        return
    allowed, reason = authorizer.authorize(info.workspace, attributes(user, info))
    if not allowed:
        raise errors.forbidden(reason)
