"""The resource registry: every API resource Canopy serves, described once.

Discovery, routing, the generic handlers, OpenAPI and the printers all read this table; nothing else in the code
base lists resources. What a resource does differently at runtime (defaults, validation, status rules) lives in
its strategy in `controlplane.registry`, keyed by the same `ResourceType`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

READ_VERBS = ("get", "list", "watch")
ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # "status", "scale", "log", "binding"
    verbs: tuple[str, ...] = ALL_VERBS
    # DELETE answers with the deleted object rather than a Status (kube-apiserver does so for pods, namespaces, services
    # and service accounts; the official clients expect that object back).
    returns_deleted_object: bool = False

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """`deployments.apps`, `pods`: the name kube-apiserver uses in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


class Registry:
    def __init__(self, resources: Iterable[ResourceType]) -> None:
        self._resources = list(resources)
        self._by_plural = {(r.group, r.version, r.plural): r for r in self._resources}
        self._by_kind = {(r.group, r.kind): r for r in self._resources}

    def __iter__(self) -> Iterator[ResourceType]:
        return iter(self._resources)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_plural.get((group, version, plural))

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((group, kind))

    def group_versions(self) -> dict[str, list[str]]:
        """Every group (core is "") and its versions, in registration order."""
        groups: dict[str, list[str]] = {}
        for r in self._resources:
            versions = groups.setdefault(r.group, [])
            if r.version not in versions:
                versions.append(r.version)
        return groups

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        """The resources of one group-version in kube-apiserver's discovery order (by name), which is also the
        order `kubectl get all` prints them in."""
        return sorted((r for r in self._resources if r.group == group and r.version == version), key=lambda r: r.plural)


BUILTIN = Registry(
    [
        ResourceType("", "v1", "Namespace", "namespaces", False, ("ns",), (), ("status",),
                     ("create", "delete", "get", "list", "patch", "update", "watch"), returns_deleted_object=True),
        ResourceType("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
        ResourceType("", "v1", "Secret", "secrets", True),
        ResourceType("", "v1", "Service", "services", True, ("svc",), ("all",), ("status",),
                     ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
                     returns_deleted_object=True),
        ResourceType("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",), returns_deleted_object=True),
        ResourceType("", "v1", "Event", "events", True, ("ev",)),
        ResourceType("", "v1", "Pod", "pods", True, ("po",), ("all",), ("status", "log", "binding"),
                     returns_deleted_object=True),
        # A pod's assignment to a node, the older way (pods/binding is the newer); never stored.
        ResourceType("", "v1", "Binding", "bindings", True, verbs=("create",)),
        ResourceType("", "v1", "Node", "nodes", False, ("no",), (), ("status",)),
        ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True),
        ResourceType("apps", "v1", "Deployment", "deployments", True, ("deploy",), ("all",), ("status", "scale")),
        ResourceType("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ("all",), ("status", "scale")),
        ResourceType("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
        ResourceType("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
        ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
        ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
        # Questions about oneself, answered and never stored (controlplane/apiserver/handlers/review.py).
        ResourceType("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", False,
                     verbs=("create",)),
        ResourceType("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False,
                     verbs=("create",)),
        ResourceType("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False,
                     verbs=("create",)),
    ]
)
