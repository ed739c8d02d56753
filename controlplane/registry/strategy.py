"""Which strategy handles which kind: the lookup the generic store calls.

`strategy_for(group, kind)` returns the strategy for writes to the resource itself, `status_strategy_for` the one
for writes to its `/status` subresource. Kinds not listed here (custom resources) get the generic strategy,
which validates metadata only and bumps the generation on any change outside `metadata`; pass `namespaced` and
`has_status` when the caller knows them (from the CRD), otherwise the namespace rule is skipped and a status
subresource is assumed. See `controlplane.registry.base` for the interface and the order of calls.
"""

from __future__ import annotations

from api.types import WORKSPACE, own_type
from controlplane.registry.base import GenericStatusStrategy, GenericStrategy, StatusStrategy, Strategy
from controlplane.registry.configmap import ConfigMapStrategy
from controlplane.registry.deployment import DeploymentStatusStrategy, DeploymentStrategy
from controlplane.registry.event import EventStrategy
from controlplane.registry.lease import LeaseStrategy
from controlplane.registry.namespace import NamespaceStatusStrategy, NamespaceStrategy
from controlplane.registry.node import NodeStrategy
from controlplane.registry.owntype import OwnTypeStatusStrategy, OwnTypeStrategy
from controlplane.registry.pod import PodStatusStrategy, PodStrategy
from controlplane.registry.rbac import (
    ClusterRoleBindingStrategy,
    ClusterRoleStrategy,
    RoleBindingStrategy,
    RoleStrategy,
)
from controlplane.registry.replicaset import ReplicaSetStatusStrategy, ReplicaSetStrategy
from controlplane.registry.secret import SecretStrategy
from controlplane.registry.service import ServiceStatusStrategy, ServiceStrategy
from controlplane.registry.serviceaccount import ServiceAccountStrategy
from controlplane.registry.workspace import WorkspaceStrategy

__all__ = ["StatusStrategy", "Strategy", "status_strategy_for", "strategy_for"]

_DEPLOYMENT = DeploymentStrategy()
_REPLICASET = ReplicaSetStrategy()
_POD = PodStrategy()
_SERVICE = ServiceStrategy()
_NAMESPACE = NamespaceStrategy()

_STRATEGIES: dict[tuple[str, str], Strategy] = {
    ("apps", "Deployment"): _DEPLOYMENT,
    ("apps", "ReplicaSet"): _REPLICASET,
    ("", "Pod"): _POD,
    ("", "Service"): _SERVICE,
    ("", "Namespace"): _NAMESPACE,
    ("", "ConfigMap"): ConfigMapStrategy(),
    ("", "Secret"): SecretStrategy(),
    ("", "ServiceAccount"): ServiceAccountStrategy(),
    ("", "Event"): EventStrategy(),
    ("", "Node"): NodeStrategy(),
    ("coordination.k8s.io", "Lease"): LeaseStrategy(),
    ("rbac.authorization.k8s.io", "Role"): RoleStrategy(),
    ("rbac.authorization.k8s.io", "ClusterRole"): ClusterRoleStrategy(),
    ("rbac.authorization.k8s.io", "RoleBinding"): RoleBindingStrategy(),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): ClusterRoleBindingStrategy(),
    ("tenancy.canopy.dev", "Workspace"): WorkspaceStrategy(),
}

_STATUS_STRATEGIES: dict[tuple[str, str], StatusStrategy] = {
    ("apps", "Deployment"): DeploymentStatusStrategy(_DEPLOYMENT, kept_metadata=("labels",)),
    ("apps", "ReplicaSet"): ReplicaSetStatusStrategy(_REPLICASET),
    ("", "Pod"): PodStatusStrategy(_POD, kept_metadata=("ownerReferences",)),
    ("", "Service"): ServiceStatusStrategy(_SERVICE),
    ("", "Namespace"): NamespaceStatusStrategy(_NAMESPACE),
    ("tenancy.canopy.dev", "Workspace"): OwnTypeStatusStrategy(WORKSPACE),
}


def strategy_for(group: str, kind: str, *, namespaced: bool | None = None, has_status: bool = True) -> Strategy:
    """The strategy for writes to the resource itself. The keyword arguments only matter for unknown kinds."""
    known = _STRATEGIES.get((group, kind))
    if known is not None:
        return known
    own = own_type(group, kind)
    if own is not None:
        return OwnTypeStrategy(own)
    return GenericStrategy(group, kind, namespaced=namespaced, has_status=has_status)


def status_strategy_for(group: str, kind: str, *, namespaced: bool | None = None) -> StatusStrategy:
    """The strategy for writes to `/status`: only `status` may change."""
    known = _STATUS_STRATEGIES.get((group, kind))
    if known is not None:
        return known
    if (group, kind) in _STRATEGIES:
        return StatusStrategy(_STRATEGIES[(group, kind)])
    own = own_type(group, kind)
    if own is not None:
        return OwnTypeStatusStrategy(own)
    return GenericStatusStrategy(GenericStrategy(group, kind, namespaced=namespaced))
