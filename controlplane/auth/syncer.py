"""What a cluster's syncer may do: exactly what syncing that cluster needs, and nothing else. Pure.

A syncer authenticates as `system:syncer:<cluster>` in group `canopy:syncers` (the token `canopy cluster register`
mints). It is not authorized by RBAC: no binding can give it more, and its rights follow the placements.
- In `root`: read its own Cluster and write that Cluster's status (heartbeats, version, capacity, conditions).
- In a workspace its Cluster serves (the placement controller lists them in the Cluster's `status.workspaces`):
  read what goes down (Deployments, ConfigMaps, Secrets, ServiceAccounts, Services, Namespaces, Placements), write
  what comes up (Deployment status, finalizers on Deployments, the read-only mirror pods and their bindings,
  Events).
- Anywhere else: nothing, with the same refusal a stranger gets.
"""

from __future__ import annotations

from collections.abc import Collection

from controlplane.auth.rbac import Attributes, UserInfo

SYNCERS_GROUP = "canopy:syncers"
SYNCER_USER_PREFIX = "system:syncer:"
ROOT = "root"

_READ = frozenset({"get", "list", "watch"})
_WRITE = frozenset({"create", "update", "patch", "delete"})
_DISCOVERY_PREFIXES = ("/api", "/apis", "/openapi", "/version")

# (group, resource, subresource) -> verbs, in a served workspace.
_IN_WORKSPACE: dict[tuple[str, str, str], frozenset[str]] = {
    ("apps", "deployments", ""): _READ | {"update", "patch"},  # update/patch: the syncer's finalizer
    ("apps", "deployments", "status"): frozenset({"get", "update", "patch"}),
    ("", "configmaps", ""): _READ,
    ("", "secrets", ""): _READ,
    ("", "serviceaccounts", ""): _READ,
    ("", "services", ""): _READ,
    ("", "namespaces", ""): _READ,
    ("workload.canopy.dev", "placements", ""): _READ,
    ("", "pods", ""): _READ | _WRITE,  # the mirror pods
    ("", "pods", "status"): frozenset({"get", "update", "patch"}),
    ("", "pods", "binding"): frozenset({"create"}),  # a mirror goes to its pod's node once that is scheduled
    ("", "events", ""): _READ | {"create", "update", "patch"},
}


def syncer_cluster(user: UserInfo) -> str:
    """The cluster a syncer identity syncs, or "" for any other user."""
    if SYNCERS_GROUP in user.groups and user.name.startswith(SYNCER_USER_PREFIX):
        return user.name[len(SYNCER_USER_PREFIX):]
    return ""


def syncer_user(cluster: str) -> str:
    return SYNCER_USER_PREFIX + cluster


def decide(cluster: str, workspace: str, attrs: Attributes, served: Collection[str]) -> bool:
    """Whether the syncer of `cluster` may make this request in `workspace`; `served` are the workspaces its
    Cluster's status lists."""
    if workspace == ROOT:
        if not attrs.resource_request:
            return attrs.path.startswith(_DISCOVERY_PREFIXES)
        return (attrs.api_group == "workload.canopy.dev" and attrs.resource == "clusters" and attrs.name == cluster
                and ((attrs.subresource == "" and attrs.verb == "get")
                     or (attrs.subresource == "status" and attrs.verb in ("get", "update", "patch"))))
    if workspace not in served:
        return False
    if not attrs.resource_request:
        return attrs.path.startswith(_DISCOVERY_PREFIXES)
    verbs = _IN_WORKSPACE.get((attrs.api_group, attrs.resource, attrs.subresource))
    return verbs is not None and attrs.verb in verbs


def denial(cluster: str, workspace: str, attrs: Attributes) -> str:
    what = f"{attrs.verb} {attrs.resource}{'/' + attrs.subresource if attrs.subresource else ''}" if (
        attrs.resource_request) else f"{attrs.verb} {attrs.path}"
    return (f'User "{syncer_user(cluster)}" cannot {what} in workspace "{workspace}": a syncer may only read its '
            "own Cluster in root and sync the workspaces its Cluster serves (status.workspaces, set by the "
            "placements)")
