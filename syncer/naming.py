"""How the syncer names what it makes, and the labels and annotations that tie each object to where it came from.
Pure: the same inputs always give the same names, so a restarted syncer finds everything it made before.

Down: every tenant namespace, `(workspace, namespace)`, becomes one namespace on a physical cluster, named
`canopy-` and ten characters of the SHA-256 of `<workspace>/<namespace>` in lowercase base32 (`[a-z2-7]`). The
name is a DNS-1123 label (17 characters) whatever the inputs, and neither the workspace path nor the namespace can
contain `/`, so different pairs hash different strings. Ten characters are 50 bits: with 10,000 tenant namespaces
on one cluster the chance that any two share a name is about 4 in 100 million. Even so, the namespace carries the
pair it stands for in annotations, so a syncer can tell a collision from its own namespace and refuse it.

Everything the syncer writes on a cluster carries `workload.canopy.dev/managed-by: canopy-syncer`, the mark by which
it recognises its own objects; objects without it are never touched. Canopy's own label rather than
`app.kubernetes.io/managed-by`: tenants set that one themselves (Helm does), and their value must go down unchanged
and must never make an object look like the syncer's.

Labels and annotations under `workload.canopy.dev/` belong to the syncer on both sides: a tenant's are not copied
down, and on what comes up the syncer's own win.

Up: a pod `web-5d8f7c9b4-x2x9z` on cluster `edge-1` is mirrored in the tenant's namespace as
`web-5d8f7c9b4-x2x9z.edge-1`: the tenant tells pods apart per cluster by name alone, `kubectl get pods` shows it,
and two clusters' pods cannot collide even if their generated suffixes do. A Deployment's pod names are at most 63
characters, so with a cluster name of at most 63 the result is a valid DNS subdomain far below 253.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

PREFIX = "workload.canopy.dev/"

# On everything the syncer makes on a cluster: namespaces and the objects in them.
MANAGED_BY_LABEL = PREFIX + "managed-by"
MANAGED_BY = "canopy-syncer"
MANAGED_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY}"
# The Cluster (as registered in root) whose syncer wrote the object: on downstream objects, and on mirror pods and
# Events upstream, so `kubectl get pods -l workload.canopy.dev/cluster=edge-1` selects one cluster's pods.
CLUSTER_LABEL = PREFIX + "cluster"

# Downstream: the upstream object an object (or a namespace) stands for.
UPSTREAM_WORKSPACE_ANNOTATION = PREFIX + "workspace"
UPSTREAM_NAMESPACE_ANNOTATION = PREFIX + "namespace"
UPSTREAM_NAME_ANNOTATION = PREFIX + "name"
UPSTREAM_UID_ANNOTATION = PREFIX + "uid"
# On a downstream Deployment: the upstream metadata.generation it was made from (see syncer/status.py).
UPSTREAM_GENERATION_ANNOTATION = PREFIX + "generation"
# On every downstream object: a digest of everything else the syncer set, so that a field or key removed upstream
# is noticed although the comparison with the cluster's copy only looks at what the syncer sets (syncer/down.py).
DESIRED_HASH_ANNOTATION = PREFIX + "desired-hash"

# Upstream, on a mirror pod: that it is one, and the downstream pod it reflects.
MIRROR_ANNOTATION = PREFIX + "mirror"
DOWNSTREAM_NAMESPACE_ANNOTATION = PREFIX + "downstream-namespace"
DOWNSTREAM_NAME_ANNOTATION = PREFIX + "downstream-name"
DOWNSTREAM_UID_ANNOTATION = PREFIX + "downstream-uid"
# Upstream, on a Deployment: where its replicas are, per cluster, as JSON (syncer/status.py).
CLUSTERS_ANNOTATION = PREFIX + "clusters"

NAMESPACE_PREFIX = "canopy-"
_HASH_CHARACTERS = 10
_MAX_SUBDOMAIN = 253


def syncer_finalizer(cluster: str) -> str:
    """The finalizer a cluster's syncer puts on each Deployment it syncs, until it has removed the copy."""
    return f"{PREFIX}syncer-{cluster}"


def finalizer_cluster(finalizer: str) -> str | None:
    """The cluster whose syncer's finalizer `finalizer` is, or None for any other finalizer."""
    prefix = f"{PREFIX}syncer-"
    return finalizer[len(prefix):] or None if finalizer.startswith(prefix) else None


def downstream_namespace(workspace: str, namespace: str) -> str:
    """The namespace on a physical cluster for `namespace` of `workspace`: `canopy-` + 10 base32 characters."""
    digest = hashlib.sha256(f"{workspace}/{namespace}".encode()).digest()
    return NAMESPACE_PREFIX + base64.b32encode(digest).decode("ascii").lower()[:_HASH_CHARACTERS]


def mirror_pod_name(downstream_pod_name: str, cluster: str) -> str:
    """The mirror's name in the tenant's namespace: `<pod>.<cluster>`."""
    name = f"{downstream_pod_name}.{cluster}"
    if len(name) > _MAX_SUBDOMAIN:
        raise ValueError(f"mirror pod name {name!r} is longer than {_MAX_SUBDOMAIN} characters")
    return name


def downstream_pod_name(mirror_name: str, cluster: str) -> str | None:
    """The inverse of `mirror_pod_name`: the downstream pod's name, or None when `mirror_name` is not a mirror name
    for `cluster`."""
    suffix = "." + cluster
    if not mirror_name.endswith(suffix) or len(mirror_name) == len(suffix):
        return None
    return mirror_name[: -len(suffix)]


def is_reserved(key: str) -> bool:
    """Whether a label or annotation key is the syncer's own."""
    return key.startswith(PREFIX)


def without_reserved(values: Mapping[str, str] | None) -> dict[str, str]:
    """A copy of labels or annotations without the syncer's own keys."""
    return {k: v for k, v in (values or {}).items() if not is_reserved(k)}


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def is_managed(obj: Mapping[str, Any]) -> bool:
    """Whether a downstream object was made by a syncer (and so may be changed or deleted by one)."""
    labels = _metadata(obj).get("labels") or {}
    return isinstance(labels, Mapping) and labels.get(MANAGED_BY_LABEL) == MANAGED_BY


def upstream_locator(namespace_object: Mapping[str, Any]) -> tuple[str, str] | None:
    """(workspace, namespace) a managed downstream namespace stands for, or None for any other namespace."""
    annotations = _metadata(namespace_object).get("annotations") or {}
    workspace = annotations.get(UPSTREAM_WORKSPACE_ANNOTATION)
    namespace = annotations.get(UPSTREAM_NAMESPACE_ANNOTATION)
    if not is_managed(namespace_object) or not workspace or not namespace:
        return None
    return workspace, namespace


def upstream_of_object(obj: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(workspace, namespace, name) of the upstream object a managed downstream object was made from, or None."""
    located = upstream_locator(obj)
    name = (_metadata(obj).get("annotations") or {}).get(UPSTREAM_NAME_ANNOTATION)
    if located is None or not name:
        return None
    return (*located, name)
