"""What a request is asking for, from its method, path and query: kube-apiserver's RequestInfo.

Paths have an optional workspace prefix, `/clusters/<workspace>`; without it a request goes to `root`. The rest is
Kubernetes' own layout:

    /api/v1/namespaces/<ns>/<resource>[/<name>[/<subresource>]]
    /apis/<group>/<version>/<resource>[/<name>[/<subresource>]]          (cluster-scoped or all namespaces)
    /api/v1/namespaces[/<name>[/status|/finalize]]                      (namespaces themselves)

Anything else (`/version`, `/healthz`, `/openapi/v3`, discovery) is a non-resource request. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from controlplane.storage.keys import ROOT_WORKSPACE

# Workspace paths: `root`, `root:team-a`, `root:org:team`, each segment a DNS-1123 label.
_WORKSPACE_RE = re.compile(r"^root(:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")


def valid_workspace(name: str) -> bool:
    return bool(_WORKSPACE_RE.match(name))


@dataclass(frozen=True)
class RequestInfo:
    workspace: str
    path: str  # the path inside the workspace, e.g. /api/v1/pods
    is_resource: bool
    verb: str  # get list watch create update patch delete deletecollection, or the lowercased HTTP method
    api_prefix: str = ""  # "api" or "apis"
    group: str = ""
    version: str = ""
    namespace: str = ""
    resource: str = ""
    name: str = ""
    subresource: str = ""
    parts: tuple[str, ...] = ()


# (HTTP method, names an object) -> Kubernetes verb
_VERBS = {
    ("get", True): "get",
    ("get", False): "list",
    ("head", True): "get",
    ("head", False): "list",
    ("post", False): "create",
    ("post", True): "create",  # a named subresource that creates, such as pods/<name>/binding
    ("put", True): "update",
    ("patch", True): "patch",
    ("delete", True): "delete",
    ("delete", False): "deletecollection",
}


class BadWorkspace(ValueError):
    pass


def split_workspace(path: str) -> tuple[str, str]:
    """`/clusters/root:team-a/api/v1` -> (`root:team-a`, `/api/v1`); unprefixed paths belong to `root`."""
    if path.startswith("/clusters/"):
        rest = path[len("/clusters/"):]
        workspace, _, inner = rest.partition("/")
        if not valid_workspace(workspace):
            raise BadWorkspace(
                f'invalid workspace "{workspace}": a workspace path is "root" followed by ":"-separated'
                " lowercase DNS labels, e.g. root:team-a"
            )
        return workspace, "/" + inner
    return ROOT_WORKSPACE, path


def request_info(method: str, path: str, query: dict[str, str]) -> RequestInfo:
    workspace, inner = split_workspace(path)
    parts = tuple(p for p in inner.split("/") if p)
    verb = method.lower()
    if not parts or parts[0] not in ("api", "apis"):
        return RequestInfo(workspace, inner, False, verb, parts=parts)
    prefix = parts[0]
    if prefix == "api":
        if len(parts) < 3:
            version = parts[1] if len(parts) > 1 else ""
            return RequestInfo(workspace, inner, False, verb, api_prefix=prefix, version=version, parts=parts)
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) < 4:
            return RequestInfo(workspace, inner, False, verb, api_prefix=prefix,
                               group=parts[1] if len(parts) > 1 else "",
                               version=parts[2] if len(parts) > 2 else "", parts=parts)
        group, version, rest = parts[1], parts[2], parts[3:]

    watch_path = False
    if rest[0] == "watch":  # deprecated /watch/ paths, still served by kube-apiserver
        watch_path, rest = True, rest[1:]
        if not rest:
            return RequestInfo(workspace, inner, False, verb, parts=parts)

    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
        namespace, rest = rest[1], rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if len(rest) > 3:
        subresource = "/".join(rest[2:])

    watching = watch_path or query.get("watch") in ("true", "1")
    verb = _VERBS.get((verb, bool(name)), verb)
    if verb in ("get", "list") and watching:
        verb = "watch"
    return RequestInfo(workspace, inner, True, verb, prefix, group, version, namespace, resource, name, subresource,
                       parts)
