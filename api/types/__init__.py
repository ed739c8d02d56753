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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
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


WORKSPACE = OwnType(
    ResourceType("tenancy.canopy.dev", "v1alpha1", "Workspace", "workspaces", False, ("ws",),
                 subresources=("status",)),
    spec=WorkspaceSpec,
    status=WorkspaceStatus,
    columns=(
        Column("Phase", "string", "status.phase", "Where the workspace is in its life."),
        Column("URL", "string", "status.URL", "The URL that serves the workspace."),
    ),
)

OWN_TYPES: tuple[OwnType, ...] = (WORKSPACE,)

# Everything the API server serves: the Kubernetes kinds, then Canopy's own.
SERVED = Registry([*BUILTIN, *(t.resource for t in OWN_TYPES)])


def own_type(group: str, kind: str, types: tuple[OwnType, ...] | None = None) -> OwnType | None:
    for candidate in OWN_TYPES if types is None else types:
        if (candidate.resource.group, candidate.resource.kind) == (group, kind):
            return candidate
    return None
