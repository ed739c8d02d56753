"""What goes down: the objects the syncer applies on a physical cluster for a tenant's Deployment, and whether the
cluster's copy has drifted from them. Pure.

`to_downstream` keeps what the tenant asked for and nothing the control plane made up: the name, the labels and
annotations, the spec (or data). Left out:
- identity and bookkeeping of the upstream object (uid, resourceVersion, generation, creationTimestamp,
  managedFields, ownerReferences, finalizers, status): the cluster keeps its own;
- `kubectl.kubernetes.io/last-applied-configuration`: the tenant's kubectl state for the upstream object (with its
  upstream namespace, and for a Secret its data once more); nobody applies the downstream copy;
- labels and annotations under `workload.canopy.dev/`: the syncer's own (the tenant's Deployment carries the
  per-cluster breakdown there, which must not go down);
- a Service's allocations: clusterIP/clusterIPs (unless headless: `None` is what makes it headless), ipFamilies,
  healthCheckNodePort and the ports' nodePorts. The cluster allocates its own; the control plane's values could
  collide with another tenant's on a shared cluster;
- a ServiceAccount's `secrets`: references to upstream token Secrets that do not exist downstream.
Not every Service goes down: `default/kubernetes` is the control plane's own (every workspace has it, as every
cluster has its own), see `goes_down`.

What is added: `workload.canopy.dev/managed-by`, the cluster label, the upstream locator (workspace, namespace, name,
uid), for a Deployment the upstream generation, and a digest of all of it (`workload.canopy.dev/desired-hash`).

`needs_update` compares only what the syncer sets: every field of the desired object must be in the cluster's
copy with the same value, lists item by item and of the same length, while whatever the cluster adds (defaults:
a Deployment's strategy, a container's terminationMessagePath, a port's protocol; allocations; status) is not
drift. A field the desired object has as a zero value (null, false, 0, "", {}, []) matches an absent one, as Go's
`omitempty` drops them. Removals upstream (a label, a resource limit) cannot be seen that way: the digest
annotation changes with them. So a restarted syncer writes nothing when nothing changed, and an edit made
directly on the cluster to a field the syncer sets is reverted.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from syncer.naming import (
    CLUSTER_LABEL,
    DESIRED_HASH_ANNOTATION,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    UPSTREAM_GENERATION_ANNOTATION,
    UPSTREAM_NAME_ANNOTATION,
    UPSTREAM_NAMESPACE_ANNOTATION,
    UPSTREAM_UID_ANNOTATION,
    UPSTREAM_WORKSPACE_ANNOTATION,
    downstream_namespace,
    without_reserved,
)

LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"

API_VERSIONS = {"Deployment": "apps/v1", "ConfigMap": "v1", "Secret": "v1", "ServiceAccount": "v1", "Service": "v1"}
# Besides the Deployment itself, what its pod template can reference; `references` returns these kinds.
CONFIG_MAP = "ConfigMap"
SECRET = "Secret"
SERVICE_ACCOUNT = "ServiceAccount"
# Every namespace of a cluster gets its own `default` ServiceAccount from the cluster; the syncer never owns it.
DEFAULT_SERVICE_ACCOUNT = "default"

_CONTENT = {
    "ConfigMap": ("data", "binaryData", "immutable"),
    "Secret": ("type", "data", "immutable"),
    "ServiceAccount": ("imagePullSecrets", "automountServiceAccountToken"),
}
_SERVICE_ALLOCATIONS = ("clusterIP", "clusterIPs", "ipFamilies", "healthCheckNodePort")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _labels(values: Any, cluster: str) -> dict[str, str]:
    return {**without_reserved(values), MANAGED_BY_LABEL: MANAGED_BY, CLUSTER_LABEL: cluster}


def downstream_namespace_object(workspace: str, namespace: str, cluster: str) -> dict[str, Any]:
    """The Namespace on the cluster for `namespace` of `workspace`, carrying that pair in its annotations."""
    return {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {
            "name": downstream_namespace(workspace, namespace),
            "labels": _labels({}, cluster),
            "annotations": {UPSTREAM_WORKSPACE_ANNOTATION: workspace, UPSTREAM_NAMESPACE_ANNOTATION: namespace},
        },
    }


def _service_spec(spec: dict[str, Any]) -> dict[str, Any]:
    headless = spec.get("clusterIP") == "None"
    out = {k: copy.deepcopy(v) for k, v in spec.items() if k not in _SERVICE_ALLOCATIONS}
    if headless:
        out["clusterIP"] = "None"
        out["clusterIPs"] = ["None"]
    if "ports" in out:
        out["ports"] = [{k: v for k, v in port.items() if k != "nodePort"} for port in _dicts(out["ports"])]
    return out


def _digest(obj: Mapping[str, Any]) -> str:
    """16 hex digits of the SHA-256 of `obj` as canonical JSON."""
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def to_downstream(obj: Mapping[str, Any], workspace: str, cluster: str, *,
                  replicas: int | None = None) -> dict[str, Any]:
    """The object to apply on `cluster` for the upstream `obj` (a Deployment, ConfigMap, Secret, ServiceAccount or
    Service of `workspace`, as the control plane stores it). `replicas` replaces a Deployment's spec.replicas:
    this cluster's share."""
    kind = obj.get("kind", "")
    if kind not in API_VERSIONS:
        raise ValueError(f"the syncer does not take {kind or 'objects without a kind'} down")
    meta = _dict(obj.get("metadata"))
    namespace = str(meta.get("namespace", ""))
    annotations = {k: v for k, v in without_reserved(meta.get("annotations")).items() if k != LAST_APPLIED_ANNOTATION}
    annotations.update({
        UPSTREAM_WORKSPACE_ANNOTATION: workspace, UPSTREAM_NAMESPACE_ANNOTATION: namespace,
        UPSTREAM_NAME_ANNOTATION: str(meta.get("name", "")), UPSTREAM_UID_ANNOTATION: str(meta.get("uid", "")),
    })
    body: dict[str, Any] = {"apiVersion": API_VERSIONS[kind], "kind": kind}
    if kind == "Deployment":
        annotations[UPSTREAM_GENERATION_ANNOTATION] = str(meta.get("generation", 0))
        body["spec"] = copy.deepcopy(_dict(obj.get("spec")))
        if replicas is not None:
            body["spec"]["replicas"] = replicas
    elif kind == "Service":
        body["spec"] = _service_spec(_dict(obj.get("spec")))
    else:
        body.update({k: copy.deepcopy(obj[k]) for k in _CONTENT[kind] if k in obj})
    body["metadata"] = {
        "name": meta.get("name", ""),
        "namespace": downstream_namespace(workspace, namespace),
        "labels": _labels(meta.get("labels"), cluster),
        "annotations": annotations,
    }
    annotations[DESIRED_HASH_ANNOTATION] = _digest(body)  # of everything above, the digest itself excepted
    return body


def goes_down(service: Mapping[str, Any]) -> bool:
    """Whether a tenant's Service is synced to the clusters its namespace is placed on: all but the control
    plane's own `default/kubernetes`, which points at the control plane (each cluster has its own)."""
    meta = _dict(service.get("metadata"))
    return (meta.get("namespace"), meta.get("name")) != ("default", "kubernetes")


def references(deployment: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(kind, name) of the ConfigMaps, Secrets and ServiceAccount the Deployment's pod template references: env
    `valueFrom` and `envFrom` of every container and init container; configMap, secret, projected and CSI volumes;
    imagePullSecrets; the service account unless it is `default`. Optional references are included: if the object
    exists upstream it must exist downstream too."""
    spec = _dict(_dict(_dict(deployment.get("spec")).get("template")).get("spec"))
    refs: set[tuple[str, str]] = set()

    def add(kind: str, name: Any) -> None:
        if isinstance(name, str) and name:
            refs.add((kind, name))

    account = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if account != DEFAULT_SERVICE_ACCOUNT:
        add(SERVICE_ACCOUNT, account)
    for secret in _dicts(spec.get("imagePullSecrets")):
        add(SECRET, secret.get("name"))
    for container in _dicts(spec.get("containers")) + _dicts(spec.get("initContainers")):
        for source in _dicts(container.get("envFrom")):
            add(CONFIG_MAP, _dict(source.get("configMapRef")).get("name"))
            add(SECRET, _dict(source.get("secretRef")).get("name"))
        for env in _dicts(container.get("env")):
            value_from = _dict(env.get("valueFrom"))
            add(CONFIG_MAP, _dict(value_from.get("configMapKeyRef")).get("name"))
            add(SECRET, _dict(value_from.get("secretKeyRef")).get("name"))
    for volume in _dicts(spec.get("volumes")):
        add(CONFIG_MAP, _dict(volume.get("configMap")).get("name"))
        add(SECRET, _dict(volume.get("secret")).get("secretName"))
        add(SECRET, _dict(_dict(volume.get("csi")).get("nodePublishSecretRef")).get("name"))
        for source in _dicts(_dict(volume.get("projected")).get("sources")):
            add(CONFIG_MAP, _dict(source.get("configMap")).get("name"))
            add(SECRET, _dict(source.get("secret")).get("name"))
    return refs


def service_account_references(service_account: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(kind, name) of the Secrets a ServiceAccount brings to its pods: its imagePullSecrets."""
    return {(SECRET, s["name"]) for s in _dicts(service_account.get("imagePullSecrets"))
            if isinstance(s.get("name"), str) and s["name"]}


def _covers(actual: Any, desired: Any) -> bool:
    """Whether `actual` holds everything `desired` says (see the module docstring)."""
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            return False
        return all(_covers(actual[k], v) if k in actual else not v for k, v in desired.items())
    if isinstance(desired, list):
        return isinstance(actual, list) and len(actual) == len(desired) and all(map(_covers, actual, desired))
    return actual == desired and isinstance(actual, bool) == isinstance(desired, bool)


def needs_update(desired: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    """Whether the cluster's copy `actual` has drifted from `desired` (from `to_downstream` or
    `downstream_namespace_object`). apiVersion and kind are not compared: list responses leave them out."""
    wanted = {k: v for k, v in desired.items() if k not in ("apiVersion", "kind")}
    return not _covers(dict(actual), wanted)
