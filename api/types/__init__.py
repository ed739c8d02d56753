"""Canopy's own API types: pydantic models served like built-in Kubernetes kinds.

A type is declared once, here: its resource (group, version, kind, plural, scope, short names), the models of its
`spec` and `status`, and the columns `kubectl get` shows. From that declaration the API server derives everything
else through its generic paths — discovery, the OpenAPI schema (and so `kubectl explain` and strict field
validation), defaults and validation (422 with field paths), and Table rows. Workspaces and AccessTokens make the
tenancy (docs/tenancy.md); Clusters and Placements say where tenants' workloads run (docs/placement.md).

Models use camelCase JSON names, as Kubernetes does, and forbid unknown fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from api.registry import BUILTIN, Registry, ResourceType


class Model(BaseModel):
    """Base of every spec and status model: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


@dataclass(frozen=True)
class Column:
    """A `kubectl get` column: its header, OpenAPI type, and where its value is (a dotted path)."""

    name: str
    type: str
    path: str
    description: str = ""
    priority: int = 0  # 1: shown with -o wide only


@dataclass(frozen=True)
class OwnType:
    resource: ResourceType
    spec: type[Model] | None = None
    status: type[Model] | None = None
    columns: tuple[Column, ...] = ()
    # Names are DNS-1123 labels rather than subdomains (no dots): for types whose name becomes part of a path.
    name_is_label: bool = False

    def field_value(self, obj: dict[str, Any], path: str) -> Any:
        """The value at a dotted path (`status.phase`), or None.

        A step may pick an item of a list by one of its fields, as the JSONPath `[?(@.type=="Ready")]` of a CRD's
        printer column does: `status.conditions[type=Ready].status`. A list of plain values is shown comma-joined
        (`a,b`), as kubectl shows a Deployment's images; an empty one as absent."""
        value: Any = obj
        for part in path.split("."):
            step = _PICK.fullmatch(part)
            value = value.get(step.group(1) if step else part) if isinstance(value, dict) else None
            if step is not None:
                field, wanted = step.group(2), step.group(3)
                items = value if isinstance(value, list) else []
                value = next((i for i in items if isinstance(i, dict) and i.get(field) == wanted), None)
        if isinstance(value, list) and not any(isinstance(item, dict | list) for item in value):
            return ",".join(str(item) for item in value) or None
        return value


_PICK = re.compile(r"(\w+)\[(\w+)=([^\]]*)\]")


class WorkspaceSpec(Model):
    """A Workspace is a logical cluster inside its parent: `team-a` in `root` is the cluster at /clusters/root:team-a,
    with its own namespaces and objects. Deleting it deletes everything in it and in the workspaces below it."""


class WorkspaceStatus(Model):
    """What the control plane reports about a workspace."""

    phase: Literal["", "Initializing", "Ready", "Terminating"] = Field(
        "", description="Where the workspace is in its life: Initializing, Ready, Terminating."
    )
    url: str = Field("", alias="URL", description="The URL that serves the workspace as a Kubernetes cluster.")


# Holds a deleted Workspace until everything in it is gone (controlplane/controllers/workspace.py).
WORKSPACE_FINALIZER = "tenancy.canopy.dev/workspace"
# Who owns a workspace: set by the server to the creating user (an admin in system:masters may name anyone).
WORKSPACE_OWNER_ANNOTATION = "tenancy.canopy.dev/owner"

WORKSPACE = OwnType(
    ResourceType("tenancy.canopy.dev", "v1alpha1", "Workspace", "workspaces", False, ("ws",),
                 subresources=("status",)),
    spec=WorkspaceSpec,
    status=WorkspaceStatus,
    columns=(
        Column("Phase", "string", "status.phase", "Where the workspace is in its life."),
        Column("URL", "string", "status.URL", "The URL that serves the workspace."),
    ),
    name_is_label=True,  # `root:<name>` is a workspace path
)

class AccessTokenSpec(Model):
    """A bearer token that authenticates one user, with the groups it carries. Only the SHA-256 of the token is
    stored: `canopy kubeconfig` makes the token on the client and sends its hash, so the token itself never reaches
    the server until it is used. Honoured only in the root workspace, where only the platform admin may write."""

    user: str = Field(min_length=1, max_length=253, description="The user name the token authenticates as.")
    groups: list[Annotated[str, StringConstraints(min_length=1, max_length=253)]] = Field(
        default_factory=list, description="The groups the user is in when using this token."
    )
    token_hash: str = Field(
        pattern=r"^sha256:[0-9a-f]{64}$",
        description='"sha256:" and the lowercase hex SHA-256 of the token.',
    )
    expiration_timestamp: str = Field(
        "",
        pattern=r"^$|^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$",
        description="When the token stops working (RFC 3339, UTC); empty for never.",
    )


ACCESS_TOKEN = OwnType(
    ResourceType("tenancy.canopy.dev", "v1alpha1", "AccessToken", "accesstokens", False),
    spec=AccessTokenSpec,
    columns=(
        Column("User", "string", "spec.user", "The user the token authenticates as."),
        Column("Expires", "string", "spec.expirationTimestamp", "When the token stops working."),
    ),
)

# ---- where workloads run: Clusters (root, the platform admin's) and Placements (a tenant's) ----------------------

WORKLOAD_GROUP = "workload.canopy.dev"

# How often a syncer heartbeats (status.lastHeartbeatTime), how old its last heartbeat may be before the control
# plane sets HeartbeatHealthy=False, and how long a cluster may stay unhealthy before Placements stop choosing it
# (its share of the replicas then moves to the other chosen clusters; it comes back once healthy).
CLUSTER_HEARTBEAT_SECONDS = 10
HEARTBEAT_THRESHOLD_SECONDS = 40
UNHEALTHY_GRACE_SECONDS = 60

# Condition types of a Cluster: Ready is the syncer's word on the cluster, HeartbeatHealthy the control plane's on the
# syncer; the Ready condition of a Placement says whether it chose any cluster.
READY = "Ready"
HEARTBEAT_HEALTHY = "HeartbeatHealthy"

_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
# RFC 3339, as metav1.Time is written: 2026-01-01T00:00:00Z.
Timestamp = Annotated[str, StringConstraints(pattern=_TIMESTAMP)]
# A resource.Quantity as JSON carries it: "4", "8Gi", "500m".
Quantity = Annotated[str, StringConstraints(pattern=r"^[+-]?[0-9.]+([eEinumkKMGTP]*[-+]?[0-9]*)$")]
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
# A label key (`[prefix/]name`) and a label value, as Kubernetes validates them.
LabelKey = Annotated[str, StringConstraints(max_length=317, pattern=rf"^({_DNS_SUBDOMAIN}/)?{_LABEL_NAME}$")]
LabelValue = Annotated[str, StringConstraints(pattern=rf"^({_LABEL_NAME})?$")]
# `root:team-a`, or a trailing `*` for every workspace below a path: `root:*`, `root:org:*`.
WorkspacePattern = Annotated[
    str, StringConstraints(pattern=r"^root(:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*(:\*)?$")
]


class Condition(Model):
    """One aspect of an object's state, as metav1.Condition: `lastTransitionTime` changes only with `status`."""

    type: str = Field(min_length=1, max_length=316, pattern=rf"^({_DNS_SUBDOMAIN}/)?{_LABEL_NAME}$",
                      description="The aspect: Ready, HeartbeatHealthy.")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
                        description="Why, in one CamelCase word: HeartbeatMissed.")
    message: str = Field("", max_length=32768, description="Why, for people: what happened and what to check.")
    last_transition_time: Timestamp = Field(description="When `status` last changed.")
    observed_generation: int | None = Field(
        None, ge=0, description="The metadata.generation the condition was computed from."
    )


class LabelSelectorRequirement(Model):
    """`key operator values`, as in metav1.LabelSelectorRequirement."""

    key: LabelKey = Field(description="The label key the requirement applies to.")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"] = Field(
        description="In, NotIn, Exists or DoesNotExist."
    )
    values: list[LabelValue] | None = Field(
        None, description="Label values: one or more for In and NotIn, none for Exists and DoesNotExist."
    )

    @model_validator(mode="after")
    def _values_fit_the_operator(self) -> LabelSelectorRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"values: must be specified when `operator` is '{self.operator}'")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"values: may not be specified when `operator` is '{self.operator}'")
        return self


class LabelSelector(Model):
    """metav1.LabelSelector: every matchLabels pair and every matchExpressions requirement must hold; an empty
    selector selects everything."""

    match_labels: dict[LabelKey, LabelValue] | None = Field(
        None, description="Labels that must be set to these values."
    )
    match_expressions: list[LabelSelectorRequirement] | None = Field(
        None, description="Requirements on labels, all of which must hold."
    )


class ClusterSpec(Model):
    """A physical cluster (K3s) that a syncer links to the control plane. Clusters live in the root workspace and
    only the platform admin manages them; `canopy cluster register` creates one with its syncer's credential. Its
    labels are what tenants' Placements select on; `allowedWorkspaces` says which workspaces may place workloads on
    it (docs/placement.md)."""

    allowed_workspaces: list[WorkspacePattern] = Field(
        default_factory=list,
        description="The workspaces that may use this cluster: exact paths (root:team-a) or every workspace below a "
                    "path (root:*, root:org:*). Empty: none. Other workspaces never see the cluster.",
    )


class ClusterWorkspace(Model):
    """A workspace whose workloads this cluster runs, and the namespaces they are in."""

    workspace: str = Field(min_length=1, description="The workspace path: root:team-a.")
    namespaces: list[str] = Field(
        default_factory=list, description="The workspace's namespaces whose Deployments are placed here, sorted."
    )


class ClusterStatus(Model):
    """What the cluster's syncer reports (heartbeat, version, nodes, resources, Ready) and what the control plane
    adds: HeartbeatHealthy, and the workspaces the cluster serves."""

    last_heartbeat_time: Timestamp | None = Field(None, description="When the syncer last reported.")
    kubernetes_version: str | None = Field(None, description="The cluster's Kubernetes version: v1.32.0+k3s1.")
    nodes: int | None = Field(None, ge=0, description="How many nodes the cluster has.")
    capacity: dict[str, Quantity] | None = Field(
        None, description="The nodes' total resources (cpu, memory, pods), as a Node's status.capacity."
    )
    allocatable: dict[str, Quantity] | None = Field(
        None, description="The nodes' resources available to pods, as a Node's status.allocatable."
    )
    workspaces: list[ClusterWorkspace] | None = Field(
        None, description="The workspaces placed on this cluster (by their Placements), sorted: what the syncer syncs."
    )
    conditions: list[Condition] | None = Field(
        None, description="Ready (set by the syncer) and HeartbeatHealthy (set by the control plane)."
    )


CLUSTER = OwnType(
    ResourceType(WORKLOAD_GROUP, "v1alpha1", "Cluster", "clusters", False, subresources=("status",)),
    spec=ClusterSpec,
    status=ClusterStatus,
    columns=(
        Column("Ready", "string", "status.conditions[type=Ready].status", "Whether the syncer reports it ready."),
        Column("Version", "string", "status.kubernetesVersion", "The cluster's Kubernetes version."),
        Column("Nodes", "integer", "status.nodes", "How many nodes the cluster has."),
        Column("Heartbeat", "string", "status.conditions[type=HeartbeatHealthy].status",
               "Whether the syncer's heartbeat is recent.", 1),
    ),
)


class PlacementSpec(Model):
    """Where a workspace's Deployments run: on the clusters its selector picks among those the platform admin lets
    the workspace use, healthy ones only. `Divided` splits each Deployment's replicas across the chosen clusters;
    `Duplicated` runs all of them on each. A namespace is placed by the first Placement (by name) that selects it."""

    cluster_selector: LabelSelector = Field(
        default_factory=LabelSelector,
        description="Labels of the clusters to run on; empty: every cluster the workspace may use.",
    )
    namespace_selector: LabelSelector = Field(
        default_factory=LabelSelector,
        description="Labels of the workspace's namespaces this placement applies to; empty: all.",
    )
    replicas: Literal["Divided", "Duplicated"] = Field(
        "Divided",
        description="Divided: each Deployment's replicas are split across the chosen clusters. Duplicated: each "
                    "chosen cluster runs all of them.",
    )


class PlacementCluster(Model):
    """Why one cluster the workspace may use was or was not chosen."""

    name: str = Field(min_length=1, description="The cluster.")
    chosen: bool = Field(description="Whether the placement runs workloads on it.")
    reason: str = Field(min_length=1, description="Chosen, NotSelected or Unhealthy.")
    message: str = Field("", description="Why, for people.")


class PlacementStatus(Model):
    """What the placement controller decided."""

    chosen_clusters: list[str] | None = Field(None, description="The clusters workloads run on, sorted.")
    clusters: list[PlacementCluster] | None = Field(
        None, description="Every cluster this workspace may use, and why it was or was not chosen."
    )
    namespaces: list[str] | None = Field(
        None, description="The namespaces this placement places: those it selects that no Placement before it (by "
                          "name) selects, sorted.",
    )
    conditions: list[Condition] | None = Field(None, description="Ready: whether any cluster was chosen.")


PLACEMENT = OwnType(
    ResourceType(WORKLOAD_GROUP, "v1alpha1", "Placement", "placements", False, subresources=("status",)),
    spec=PlacementSpec,
    status=PlacementStatus,
    columns=(
        Column("Clusters", "string", "status.chosenClusters", "The clusters workloads run on."),
        Column("Replicas", "string", "spec.replicas", "Divided across the clusters, or Duplicated on each.", 1),
    ),
)

OWN_TYPES: tuple[OwnType, ...] = (WORKSPACE, ACCESS_TOKEN, CLUSTER, PLACEMENT)

# Everything the API server serves: the Kubernetes kinds, then Canopy's own.
SERVED = Registry([*BUILTIN, *(t.resource for t in OWN_TYPES)])


def own_type(group: str, kind: str, types: tuple[OwnType, ...] | None = None) -> OwnType | None:
    for candidate in OWN_TYPES if types is None else types:
        if (candidate.resource.group, candidate.resource.kind) == (group, kind):
            return candidate
    return None
