"""Canopy's own API types: pydantic models served like built-in Kubernetes kinds.

A type is declared once, here: its resource (group, version, kind, plural, scope, short names), the models of its
`spec` and `status`, and the columns `kubectl get` shows. From that declaration the API server derives everything
else through its generic paths — discovery, the OpenAPI schema (and so `kubectl explain` and strict field
validation), defaults and validation (422 with field paths), and Table rows. The Workspace is the first; Cluster
and Placement follow with the syncer.

Models use camelCase JSON names, as Kubernetes does, and forbid unknown fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
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
        """The value at a dotted path (`status.phase`), or None."""
        value: Any = obj
        for part in path.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value


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

OWN_TYPES: tuple[OwnType, ...] = (WORKSPACE, ACCESS_TOKEN)

# Everything the API server serves: the Kubernetes kinds, then Canopy's own.
SERVED = Registry([*BUILTIN, *(t.resource for t in OWN_TYPES)])


def own_type(group: str, kind: str, types: tuple[OwnType, ...] | None = None) -> OwnType | None:
    for candidate in OWN_TYPES if types is None else types:
        if (candidate.resource.group, candidate.resource.kind) == (group, kind):
            return candidate
    return None
