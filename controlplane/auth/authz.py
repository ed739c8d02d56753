"""May this user do this, here: RBAC evaluated inside each workspace, from the watch cache.

Each workspace has its own Roles, ClusterRoles, RoleBindings and ClusterRoleBindings; the default ClusterRoles
(`cluster-admin`, `admin`, `edit`, `view`) are shared by all of them (`rbac.DEFAULT_CLUSTER_ROLES`), so an empty
workspace pays nothing for them. `system:masters` may do anything anywhere, as in kube-apiserver.

Two rules come before RBAC, and both exist so that a stranger learns nothing:
* a user with no binding at all in a workspace is refused everything in it, discovery included, with one message
  that is the same whether the workspace exists or not;
* a member may always read discovery and the OpenAPI documents and ask about themselves (SelfSubjectAccessReview,
  SelfSubjectRulesReview, SelfSubjectReview), which is what `system:discovery` and `system:basic-user` grant to every
  authenticated user in Kubernetes.

An index of each workspace's RBAC objects is built on first use and dropped when one of them changes, and decisions
are memoised per workspace, so the cost on the request path is a dict lookup.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from controlplane.auth import syncer
from controlplane.auth.authn import SYSTEM_MASTERS
from controlplane.auth.rbac import DEFAULT_CLUSTER_ROLES, Attributes, PolicyIndex, UserInfo, describe_denial
from controlplane.auth.syncer import syncer_cluster
from controlplane.storage.keys import ROOT_WORKSPACE, object_key, resource_prefix
from controlplane.storage.watchcache import WatchCache, WatchEvent

RBAC_GROUP = "rbac.authorization.k8s.io"
_RBAC_RESOURCES = ("roles", "clusterroles", "rolebindings", "clusterrolebindings")
CLUSTERS = ("workload.canopy.dev", "clusters")
_MAX_DECISIONS = 50_000  # per workspace; cleared wholesale when reached

# What every member of a workspace may do whatever their roles (Kubernetes' system:discovery, system:basic-user).
_DISCOVERY_PREFIXES = ("/api", "/apis", "/openapi", "/version")
_SELF_REVIEWS = {
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
}


def shared_cluster_roles(created: str) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """The default ClusterRoles as every workspace reads them (`Store(shared=...)`), stamped as if made at
    `created`, with the same uid on every server."""
    roles: dict[str, dict[str, Any]] = {}
    for name, role in DEFAULT_CLUSTER_ROLES.items():
        meta = {
            **copy.deepcopy(role["metadata"]),
            "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"canopy/clusterroles/{name}")),
            "resourceVersion": "0",
            "creationTimestamp": created,
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        }
        roles[name] = {**copy.deepcopy(role), "metadata": meta}
    return {(RBAC_GROUP, "clusterroles"): roles}


def is_master(user: UserInfo) -> bool:
    return SYSTEM_MASTERS in user.groups


def no_access_message(user: UserInfo, workspace: str) -> str:
    """The one answer to a stranger, whether `workspace` exists or not."""
    return (
        f'User "{user.name}" cannot access workspace "{workspace}": it does not exist, or the user has no role in it; '
        "ask the workspace's owner for a RoleBinding"
    )


def _granted_to_members(attrs: Attributes) -> bool:
    if attrs.resource_request:
        return attrs.verb == "create" and (attrs.api_group, attrs.resource) in _SELF_REVIEWS
    path = attrs.path.rstrip("/") or "/"
    return attrs.verb == "get" and any(path == p or path.startswith(p + "/") for p in _DISCOVERY_PREFIXES)


class _Workspace:
    __slots__ = ("decisions", "index")

    def __init__(self, index: PolicyIndex) -> None:
        self.index = index
        self.decisions: dict[tuple[object, ...], tuple[bool, str]] = {}


class Authorizer:
    def __init__(self, cache: WatchCache) -> None:
        self._cache = cache
        self._workspaces: dict[str, _Workspace] = {}
        self._served: dict[str, tuple[int, set[str]]] = {}  # cluster -> (its revision, the workspaces it serves)

    def start(self) -> None:
        self._cache.add_listener(self._on_event, on_relist=self._workspaces.clear)

    def stop(self) -> None:
        self._cache.remove_listener(self._on_event, self._workspaces.clear)

    def _on_event(self, event: WatchEvent) -> None:
        if event.key.group == RBAC_GROUP:
            self._workspaces.pop(event.key.workspace, None)

    def policy(self, workspace: str) -> PolicyIndex:
        return self._entry(workspace).index

    def _entry(self, workspace: str) -> _Workspace:
        entry = self._workspaces.get(workspace)
        if entry is None:
            objects = [
                [c.obj for c in self._cache.list((workspace, RBAC_GROUP, r), resource_prefix(workspace, RBAC_GROUP, r))]
                for r in _RBAC_RESOURCES
            ]
            entry = _Workspace(PolicyIndex(*objects))
            if any(objects):  # a workspace without RBAC objects (or that does not exist) is not worth remembering
                self._workspaces[workspace] = entry
        return entry

    def is_member(self, user: UserInfo, workspace: str) -> bool:
        return is_master(user) or self._entry(workspace).index.has_any_binding(user)

    def served_by(self, cluster: str) -> set[str]:
        """The workspaces a Cluster serves, as the placement controller wrote them into its status."""
        cached = self._cache.get((ROOT_WORKSPACE, CLUSTERS[0], CLUSTERS[1]),
                                 object_key(ROOT_WORKSPACE, CLUSTERS[0], CLUSTERS[1], "", cluster))
        if cached is None:
            return set()
        known = self._served.get(cluster)
        if known is not None and known[0] == cached.revision:
            return known[1]  # every request of a syncer asks: built once per version of its Cluster
        entries = (cached.obj.get("status") or {}).get("workspaces") or []
        served = {e.get("workspace", "") if isinstance(e, dict) else str(e) for e in entries}
        self._served[cluster] = (cached.revision, served)
        return served

    def authorize(self, workspace: str, attrs: Attributes) -> tuple[bool, str]:
        """(allowed, reason); when refused, the reason is kube-apiserver's forbidden message."""
        user = attrs.user
        if is_master(user):
            return True, f'allowed: User "{user.name}" is in group "{SYSTEM_MASTERS}"'
        cluster = syncer_cluster(user)
        if cluster:
            if syncer.decide(cluster, workspace, attrs, self.served_by(cluster)):
                return True, f"allowed: the syncer of cluster {cluster} syncs workspace {workspace}"
            return False, syncer.denial(cluster, workspace, attrs)
        entry = self._entry(workspace)
        decisions = entry.decisions
        found = decisions.get(attrs)  # type: ignore[call-overload]
        if found is not None:
            return found
        if not entry.index.has_any_binding(user):
            decision = (False, no_access_message(user, workspace))
        elif _granted_to_members(attrs):
            decision = (True, "allowed: discovery and self-reviews are open to every member of the workspace")
        else:
            allowed, reason = entry.index.allowed(attrs)
            decision = (True, reason) if allowed else (False, describe_denial(attrs, reason))
        if len(decisions) >= _MAX_DECISIONS:
            decisions.clear()
        decisions[attrs] = decision  # type: ignore[index]
        return decision
