"""The etcd key layout.

Every object lives at

    /registry/<workspace>/<group>/<resource>/<namespace>/<name>    (namespaced)
    /registry/<workspace>/<group>/<resource>/<name>                (cluster-scoped)

where <group> is `core` for the legacy group. The workspace comes first so that everything a workspace holds is
one contiguous key range: listing it, watching it and deleting it are single range operations, and a workspace
costs a prefix, not a process. Workspace names use `:` as the path separator (`root:org:team`); a `/` never
appears in a workspace, group, resource, namespace or name, so the number of segments tells a namespaced key
from a cluster-scoped one.
"""

from __future__ import annotations

from dataclasses import dataclass
from sys import intern

ROOT = "/registry/"
ROOT_WORKSPACE = "root"  # the workspace every other one descends from; it always exists
CORE_GROUP = "core"


@dataclass(frozen=True, slots=True)
class ObjectKey:
    workspace: str
    group: str  # "" for the core group
    resource: str
    namespace: str  # "" for cluster-scoped objects
    name: str

    def encode(self) -> str:
        return object_key(self.workspace, self.group, self.resource, self.namespace, self.name)


def workspace_prefix(workspace: str) -> str:
    return f"{ROOT}{workspace}/"


def resource_prefix(workspace: str, group: str, resource: str, namespace: str = "") -> str:
    """The prefix of every object of one resource in a workspace, or in one namespace of it."""
    base = f"{ROOT}{workspace}/{group or CORE_GROUP}/{resource}/"
    return f"{base}{namespace}/" if namespace else base


def object_key(workspace: str, group: str, resource: str, namespace: str, name: str) -> str:
    return resource_prefix(workspace, group, resource, namespace) + name


def parse_key(key: str) -> ObjectKey | None:
    """The parts of an object key, or None for a key outside the layout."""
    if not key.startswith(ROOT):
        return None
    parts = key[len(ROOT):].split("/")
    if len(parts) == 4:
        workspace, group, resource, name = parts
        namespace = ""
    elif len(parts) == 5:
        workspace, group, resource, namespace, name = parts
    else:
        return None
    if not all(parts):
        return None
    # Every cached object holds its key: the parts that repeat across objects share one str each.
    return ObjectKey(intern(workspace), "" if group == CORE_GROUP else intern(group), intern(resource),
                     intern(namespace), name)
