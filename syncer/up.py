"""What comes up: read-only mirrors of a cluster's pods in the tenant's namespace, the Events about them and about
the Deployment with downstream names turned into upstream ones, and the stale mark on what an unreachable cluster
last reported. Pure. (The Deployment's status is in syncer/status.py.)

A mirror pod is the downstream pod as the tenant would see it on the cluster:
- named `<pod>.<cluster>` in the tenant's namespace; its labels are the pod's own (so `-l app=web` selects it) plus
  `workload.canopy.dev/cluster`; its annotations the pod's own plus `workload.canopy.dev/mirror: "true"` and the
  downstream namespace, name and uid;
- owned by the upstream Deployment (`controller: true`, so `kubectl describe pod` says `Controlled By:
  Deployment/web`, and the garbage collector deletes the mirrors with the Deployment); no blockOwnerDeletion, which
  would need the right to update the Deployment's finalizers;
- with the pod's spec, `nodeName` included (`-o wide` shows the node), except ephemeral containers, which a pod
  may not be created with;
- with the pod's status exactly as the kubelet wrote it: phase, conditions, container states with exit codes,
  reasons, restart counts and readiness, IPs, start time, QoS class. A crash-loop's waiting message names the
  downstream pod (`pod=web-5d8f7c9b4-x2x9z_canopy-...`), as on the cluster.
The mirror's status is written through `/status` after it is created (a create resets it), and again with
`mirror_status` whenever the downstream pod's changes.

Events: one about a downstream Pod becomes one about its mirror; one about a Deployment one about the upstream
Deployment; a Warning about a ReplicaSet (FailedCreate: the cluster refused the pods) one about the Deployment that
owns it, since the tenant has no ReplicaSets and `kubectl describe deployment` shows only the Deployment's Events;
Normal ReplicaSet events (SuccessfulCreate/Delete) are left out, the mirrors show the pods. Events about anything
else (Nodes: OOMKilling) stay on the cluster. Names in messages are translated:
`Successfully assigned canopy-x/web-abc to node` names `<namespace>/web-abc.edge-1`, `... in pod
web-abc_canopy-x(<uid>)` the mirror with its uid, and every other mention of the downstream namespace the
tenant's namespace (`couldn't find key k in ConfigMap default/app-config`). Type, reason, source, count, times and
the container's fieldPath are kept. The upstream Event is named `<downstream event name>.<cluster>`, so syncing
it again updates it instead of making another.

Stale: a mirror whose cluster is unreachable gets the condition `workload.canopy.dev/Stale` (True,
ClusterUnreachable, `cluster edge-1 unreachable since <last heartbeat>, showing what was last seen`) and, as Kubernetes'
node lifecycle controller does for pods on an unreachable node, its Ready condition set False. The rest stays as
last seen. The next status from the cluster replaces it all.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from syncer.naming import (
    CLUSTER_LABEL,
    DOWNSTREAM_NAME_ANNOTATION,
    DOWNSTREAM_NAMESPACE_ANNOTATION,
    DOWNSTREAM_UID_ANNOTATION,
    MIRROR_ANNOTATION,
    mirror_pod_name,
    without_reserved,
)
from syncer.status import CLUSTER_UNREACHABLE, STALE_CONDITION, unreachable

# (kind, upstream name) in the tenant's namespace -> the uid of that upstream object (the mirror Pod, the
# Deployment), or None when it does not exist (yet).
UpstreamUid = Callable[[str, str], str | None]

_EVENT_KEPT = ("reason", "message", "type", "source", "count", "firstTimestamp", "lastTimestamp", "eventTime",
               "series", "action", "reportingComponent", "reportingInstance")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _deployment_of_replicaset(name: str) -> str | None:
    """A Deployment's ReplicaSets are named `<deployment>-<pod-template-hash>`, the hash without dashes."""
    deployment, dash, _ = name.rpartition("-")
    return deployment if dash and deployment else None


def deployment_of(downstream_pod: Mapping[str, Any]) -> str | None:
    """The name of the Deployment whose ReplicaSet controls the pod, or None for a pod no ReplicaSet controls."""
    for owner in _dict(downstream_pod.get("metadata")).get("ownerReferences") or []:
        if isinstance(owner, dict) and owner.get("controller") and owner.get("kind") == "ReplicaSet":
            return _deployment_of_replicaset(str(owner.get("name", "")))
    return None


def mirror_pod(downstream_pod: Mapping[str, Any], workspace_ns: str, upstream_deployment: Mapping[str, Any] | None,
               cluster: str) -> dict[str, Any]:
    """The mirror of `downstream_pod` in the tenant's namespace `workspace_ns`, owned by `upstream_deployment`
    (None: not known, then the mirror has no owner)."""
    meta = _dict(downstream_pod.get("metadata"))
    labels = {**without_reserved(meta.get("labels")), CLUSTER_LABEL: cluster}
    annotations = {
        **without_reserved(meta.get("annotations")),
        MIRROR_ANNOTATION: "true",
        DOWNSTREAM_NAMESPACE_ANNOTATION: str(meta.get("namespace", "")),
        DOWNSTREAM_NAME_ANNOTATION: str(meta.get("name", "")),
        DOWNSTREAM_UID_ANNOTATION: str(meta.get("uid", "")),
    }
    metadata: dict[str, Any] = {
        "name": mirror_pod_name(str(meta.get("name", "")), cluster), "namespace": workspace_ns,
        "labels": labels, "annotations": annotations,
    }
    if upstream_deployment is not None:
        owner = _dict(upstream_deployment.get("metadata"))
        metadata["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": owner.get("name", ""),
                                        "uid": owner.get("uid", ""), "controller": True}]
    spec = {k: copy.deepcopy(v) for k, v in _dict(downstream_pod.get("spec")).items() if k != "ephemeralContainers"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec,
            "status": mirror_status(downstream_pod)}


def mirror_status(downstream_pod: Mapping[str, Any]) -> dict[str, Any]:
    """The mirror's status: the downstream pod's, unchanged."""
    return copy.deepcopy(_dict(downstream_pod.get("status")))


def stale_mirror_status(status: Mapping[str, Any], cluster: str, last_seen: str, now: str) -> dict[str, Any]:
    """A mirror's status marked stale: `cluster` unreachable since `last_seen` (its last heartbeat). Marking an
    already stale status again with the same `last_seen` changes nothing."""
    marked = copy.deepcopy(dict(status))
    message = f"cluster {cluster} {unreachable(last_seen)}"
    conditions = [c for c in marked.get("conditions") or [] if isinstance(c, dict)]

    def mark(type_: str, status_: str) -> dict[str, Any]:
        before = next((c for c in conditions if c.get("type") == type_), {})
        since = before.get("lastTransitionTime") if before.get("status") == status_ else now
        return {"type": type_, "status": status_, "lastProbeTime": None, "lastTransitionTime": since,
                "reason": CLUSTER_UNREACHABLE, "message": message}

    ready = mark("Ready", "False")
    stale = mark(STALE_CONDITION, "True")
    kept = [ready if c.get("type") == "Ready" else c for c in conditions if c.get("type") != STALE_CONDITION]
    if not any(c.get("type") == "Ready" for c in conditions):
        kept.append(ready)
    marked["conditions"] = [*kept, stale]
    return marked


def _translate(message: str, downstream_ns: str, workspace_ns: str, pod: tuple[str, str, str] | None) -> str:
    """`message` with the downstream namespace, and the pod `(downstream name, mirror name, mirror uid)`, named
    as the tenant knows them."""
    if pod is not None:
        name, mirror, uid = pod
        pod_ref = re.escape(f"{name}_{downstream_ns}(") + r"[^)]*\)"
        message = re.sub(pod_ref, lambda _: f"{mirror}_{workspace_ns}({uid})", message)
        message = message.replace(f"{downstream_ns}/{name}", f"{workspace_ns}/{mirror}")
    return re.sub(rf"(?<![-a-z0-9]){re.escape(downstream_ns)}(?![-a-z0-9])", workspace_ns, message)


def upstream_event(downstream_event: Mapping[str, Any], workspace_ns: str, cluster: str,
                   upstream_uid: UpstreamUid) -> dict[str, Any] | None:
    """The Event to write in the tenant's namespace `workspace_ns` for `downstream_event`, or None when it is not
    the tenant's business or the object it is about is not upstream (yet)."""
    involved = _dict(downstream_event.get("involvedObject"))
    kind, name = str(involved.get("kind", "")), str(involved.get("name", ""))
    downstream_ns = str(_dict(downstream_event.get("metadata")).get("namespace") or involved.get("namespace", ""))
    if kind == "Pod":
        target_kind, api_version, target = "Pod", "v1", mirror_pod_name(name, cluster)
    elif kind == "Deployment":
        target_kind, api_version, target = "Deployment", "apps/v1", name
    elif kind == "ReplicaSet" and downstream_event.get("type") == "Warning" and (
            owner := _deployment_of_replicaset(name)):
        target_kind, api_version, target = "Deployment", "apps/v1", owner
    else:
        return None
    uid = upstream_uid(target_kind, target)
    if not uid:
        return None
    ref = {"kind": target_kind, "namespace": workspace_ns, "name": target, "uid": uid, "apiVersion": api_version}
    if involved.get("fieldPath"):
        ref["fieldPath"] = involved["fieldPath"]
    pod = (name, target, uid) if kind == "Pod" else None
    event = {k: copy.deepcopy(downstream_event[k]) for k in _EVENT_KEPT if k in downstream_event}
    event["message"] = _translate(str(downstream_event.get("message", "")), downstream_ns, workspace_ns, pod)
    event_name = f"{_dict(downstream_event.get('metadata')).get('name', '')}.{cluster}"
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": event_name, "namespace": workspace_ns, "labels": {CLUSTER_LABEL: cluster}},
            "involvedObject": ref, **event}


REFUSED_REASON = "FailedSync"


def refusal_event(obj: Mapping[str, Any], cluster: str, refusal: str, now: str,
                  existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """The Warning Event on the tenant's `obj` (a Deployment or Service) for `cluster` refusing its copy with
    `refusal` (the cluster's own words). Named per object and cluster, so a refusal that goes on counts up on one
    Event (`existing`, when there is one) instead of making more."""
    meta = _dict(obj.get("metadata"))
    kind = str(obj.get("kind", ""))
    message = (f"cluster {cluster} refused the {kind}: {refusal}; fix the manifest (or what the cluster lacks) "
               "and it is synced again")
    count = int(_dict(existing).get("count") or 0) + 1 if existing else 1
    event: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{meta.get('name', '')}.{kind.lower()}.{REFUSED_REASON.lower()}.{cluster}",
                     "namespace": meta.get("namespace", ""), "labels": {CLUSTER_LABEL: cluster}},
        "involvedObject": {"kind": kind, "namespace": meta.get("namespace", ""), "name": meta.get("name", ""),
                           "uid": meta.get("uid", ""), "apiVersion": obj.get("apiVersion", "")},
        "reason": REFUSED_REASON, "message": message, "type": "Warning",
        "source": {"component": "canopy-syncer", "host": cluster},
        "reportingComponent": "canopy-syncer", "reportingInstance": cluster,
        "count": count, "firstTimestamp": _dict(existing).get("firstTimestamp") or now, "lastTimestamp": now,
    }
    if existing:
        event["metadata"]["resourceVersion"] = _dict(existing.get("metadata")).get("resourceVersion")
    return event
