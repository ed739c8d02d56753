"""List and map semantics of the Kubernetes types Canopy serves, as the Go API types declare them.

The official Python client models carry field names, types and descriptions, but not the struct tags and
`+listType` markers of `k8s.io/api`: which lists strategic merge patch merges by key (and by which key), which
lists server-side apply treats as associative maps, sets or atomic values, and which maps and structs are
replaced as a whole. Both patch engines depend on these, so the values below mirror the upstream declarations
(`patchStrategy`/`patchMergeKey` tags, `+listType`, `+listMapKey`, `+mapType`, `+structType`) for the core/v1,
apps/v1 and meta/v1 types reachable from Canopy's resources.

A list that is not listed here is atomic, which is what the upstream types declare for every other list of these
types (and what server-side apply assumes for a list without a declaration).
"""

from __future__ import annotations

from dataclasses import dataclass

CORE = "io.k8s.api.core.v1."
APPS = "io.k8s.api.apps.v1."
META = "io.k8s.apimachinery.pkg.apis.meta.v1."


@dataclass(frozen=True)
class FieldMeta:
    patch_strategy: str = ""
    patch_merge_key: str = ""
    list_type: str = ""
    list_map_keys: tuple[str, ...] = ()
    map_type: str = ""
    # Defaults of key fields a client may leave out: server-side apply identifies `{containerPort: 80}` and the
    # stored `{containerPort: 80, protocol: TCP}` as one element, as the OpenAPI `default` makes kube-apiserver do.
    list_map_key_defaults: tuple[tuple[str, str], ...] = ()


def _keyed(
    key: str, *more_keys: str, strategy: str = "merge", list_type: str = "map",
    defaults: tuple[tuple[str, str], ...] = (),
) -> FieldMeta:
    """A list merged by `key` under strategic merge patch and tracked per element by server-side apply."""
    return FieldMeta(strategy, key, list_type, (key, *more_keys) if list_type == "map" else (), "", defaults)


_PROTOCOL_TCP = (("protocol", "TCP"),)


_BY_NAME = _keyed("name")
_BY_TYPE = _keyed("type")
_CONTAINER_LISTS = {
    "ports": _keyed("containerPort", "protocol", defaults=_PROTOCOL_TCP),
    "env": _BY_NAME,
    "volumeMounts": _keyed("mountPath"),
    "volumeDevices": _keyed("devicePath"),
}

# (OpenAPI definition name, JSON field name) -> metadata.
FIELDS: dict[tuple[str, str], FieldMeta] = {
    (META + "ObjectMeta", "ownerReferences"): _keyed("uid"),
    (META + "ObjectMeta", "finalizers"): FieldMeta("merge", "", "set"),
    (CORE + "PodSpec", "volumes"): _keyed("name", strategy="merge,retainKeys"),
    (CORE + "PodSpec", "initContainers"): _BY_NAME,
    (CORE + "PodSpec", "containers"): _BY_NAME,
    (CORE + "PodSpec", "ephemeralContainers"): _BY_NAME,
    (CORE + "PodSpec", "imagePullSecrets"): _BY_NAME,
    (CORE + "PodSpec", "hostAliases"): _keyed("ip"),
    (CORE + "PodSpec", "topologySpreadConstraints"): _keyed("topologyKey", "whenUnsatisfiable"),
    (CORE + "PodSpec", "schedulingGates"): _BY_NAME,
    (CORE + "PodSpec", "resourceClaims"): _keyed("name", strategy="merge,retainKeys"),
    (CORE + "PodSpec", "nodeSelector"): FieldMeta(map_type="atomic"),
    **{(CORE + "Container", field): meta for field, meta in _CONTAINER_LISTS.items()},
    **{(CORE + "EphemeralContainer", field): meta for field, meta in _CONTAINER_LISTS.items()},
    (CORE + "ResourceRequirements", "claims"): FieldMeta(list_type="map", list_map_keys=("name",)),
    (CORE + "PodStatus", "conditions"): _BY_TYPE,
    (CORE + "PodStatus", "podIPs"): _keyed("ip"),
    (CORE + "PodStatus", "hostIPs"): _keyed("ip", list_type="atomic"),
    (CORE + "PodStatus", "resourceClaimStatuses"): _keyed("name", strategy="merge,retainKeys"),
    (CORE + "ServiceSpec", "ports"): _keyed("port", "protocol", defaults=_PROTOCOL_TCP),
    (CORE + "ServiceSpec", "selector"): FieldMeta(map_type="atomic"),
    (CORE + "ServiceStatus", "conditions"): _BY_TYPE,
    (CORE + "ServiceAccount", "secrets"): _BY_NAME,
    (CORE + "NamespaceStatus", "conditions"): _BY_TYPE,
    (CORE + "ReplicationControllerSpec", "selector"): FieldMeta(map_type="atomic"),
    (CORE + "ReplicationControllerStatus", "conditions"): _BY_TYPE,
    (APPS + "DeploymentSpec", "strategy"): FieldMeta(patch_strategy="retainKeys"),
    (APPS + "DeploymentStatus", "conditions"): _BY_TYPE,
    (APPS + "ReplicaSetStatus", "conditions"): _BY_TYPE,
    (APPS + "StatefulSetStatus", "conditions"): _BY_TYPE,
    (APPS + "DaemonSetStatus", "conditions"): _BY_TYPE,
}

# Structs declared `+structType=atomic`: server-side apply owns them as a single value.
ATOMIC_STRUCTS: frozenset[str] = frozenset(
    {
        META + "LabelSelector",
        CORE + "LocalObjectReference",
        CORE + "ObjectReference",
        CORE + "TypedLocalObjectReference",
        CORE + "SecretReference",
        CORE + "ObjectFieldSelector",
        CORE + "ResourceFieldSelector",
        CORE + "ConfigMapKeySelector",
        CORE + "SecretKeySelector",
        CORE + "NodeSelector",
        CORE + "NodeSelectorTerm",
        CORE + "TopologySelectorTerm",
    }
)


def field_meta(definition: str, field: str) -> FieldMeta | None:
    return FIELDS.get((definition, field))
