"""A tenant's Deployment status from its Deployments on every chosen cluster, and the per-cluster breakdown. Pure.

One syncer sees one cluster, but the tenant's Deployment must read as the sum of all of them. So the per-cluster
part lives on the upstream Deployment itself, in the annotation `workload.canopy.dev/clusters`: JSON mapping
each chosen cluster to a summary of its downstream Deployment (null while the syncer has not made it yet):

    {"edge-1": {"desiredReplicas": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 1,
                "availableReplicas": 1, "unavailableReplicas": 1, "observedGeneration": 3,
                "conditions": {"Available": {"status": "False", "reason": "MinimumReplicasUnavailable",
                                             "message": "Deployment does not have minimum availability."},
                               "Progressing": {...}}},
     "edge-2": null}

A syncer replaces its own cluster's entry and recomputes the status from all entries (`reflect_deployment_status`);
entries of clusters no longer chosen are dropped. An annotation rather than status fields: the Deployment's status
schema has no place for them (unknown fields are pruned), while an annotation written through `/status` survives,
does not move metadata.generation, and `kubectl describe deployment` shows it.

The status, as `kubectl get deploy` (READY, UP-TO-DATE, AVAILABLE) and `kubectl rollout status` read it:
- replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas: the clusters' sums; zeros are
  left out, as the API leaves them out.
- observedGeneration: the upstream metadata.generation once every chosen cluster has observed it — its downstream
  Deployment was made from that generation (annotation `workload.canopy.dev/generation`) and the cluster's
  controller has observed that downstream spec (its status.observedGeneration >= its metadata.generation).
  Until then the previous value stays, so `rollout status` waits for the new spec to be observed everywhere.
- conditions, merged as one Deployment's would read, each message naming the clusters it comes from
  (`edge-1: ReplicaSet "web-5d8f7c9b4" has timed out progressing.`; clusters with the same message share it):
  - Available: True (MinimumReplicasAvailable) only if it is True on every chosen cluster; else False if it is
    False anywhere (a cluster where the Deployment is not made yet counts as False, reason NotSynced), else Unknown.
  - Progressing: False if it is False anywhere (ProgressDeadlineExceeded, ReplicaSetCreateError), so `rollout
    status` fails with "exceeded its progress deadline"; else Unknown if it is anywhere (a paused Deployment, an
    unreachable cluster); else True, reason NewReplicaSetAvailable only if every cluster says so.
  - ReplicaFailure: present, True, when a cluster reports it.
  - `workload.canopy.dev/Stale`: present, True, while a cluster is unreachable (below).
  Times follow the Deployment's rules: lastTransitionTime moves when the status changes, lastUpdateTime when the
  status, reason or message does; otherwise the previous times are kept, so an unchanged status compares equal.

Stale: when a cluster is unreachable, its entry keeps the last summary seen, marked `"staleSince": <last seen>`.
Its replicas still count (they are probably running) but none of them as ready or available: they count as
unavailable, its Available and Progressing are Unknown (ClusterUnreachable), and the Stale condition names it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection, Mapping
from typing import Any

from syncer.naming import CLUSTERS_ANNOTATION, PREFIX, UPSTREAM_GENERATION_ANNOTATION

AVAILABLE = "Available"
PROGRESSING = "Progressing"
REPLICA_FAILURE = "ReplicaFailure"
STALE_CONDITION = PREFIX + "Stale"

CLUSTER_UNREACHABLE = "ClusterUnreachable"
NOT_SYNCED = "NotSynced"
MINIMUM_AVAILABLE = "MinimumReplicasAvailable"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
NO_CLUSTER = "NoClusterChosen"

COUNTS = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas")
_CONDITION_TYPES = (AVAILABLE, PROGRESSING, REPLICA_FAILURE)
_TRUE, _FALSE, _UNKNOWN = "True", "False", "Unknown"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def unreachable(last_seen: str) -> str:
    """How a stale mark words it, after the cluster's name."""
    return f"unreachable since {last_seen}, showing what was last seen"


# ---- one cluster ----------------------------------------------------------------------------------------------

def cluster_summary(downstream: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The breakdown entry for one cluster from its downstream Deployment (None while there is none)."""
    if downstream is None:
        return None
    meta, spec, status = (_dict(downstream.get(k)) for k in ("metadata", "spec", "status"))
    summary: dict[str, Any] = {"desiredReplicas": _int(spec.get("replicas", 1))}
    summary.update({count: _int(status.get(count)) for count in COUNTS})
    made_from = str(_dict(meta.get("annotations")).get(UPSTREAM_GENERATION_ANNOTATION, ""))
    if made_from.isdigit() and _int(status.get("observedGeneration")) >= _int(meta.get("generation")):
        summary["observedGeneration"] = int(made_from)
    conditions = {}
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") in _CONDITION_TYPES:
            conditions[condition["type"]] = {k: str(condition.get(k) or "") for k in ("status", "reason", "message")}
    if conditions:
        summary["conditions"] = conditions
    return summary


def cluster_summaries(upstream: Mapping[str, Any]) -> dict[str, dict[str, Any] | None]:
    """The breakdown as the upstream Deployment carries it; an unreadable annotation reads as empty (each syncer
    writes its entry back on its next pass)."""
    text = _dict(_dict(upstream.get("metadata")).get("annotations")).get(CLUSTERS_ANNOTATION)
    try:
        parsed = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {str(cluster): entry if isinstance(entry, dict) else None for cluster, entry in parsed.items()}


# ---- all clusters ---------------------------------------------------------------------------------------------

def _view(summary: Mapping[str, Any] | None, type_: str) -> tuple[str, str, str] | None:
    """(status, reason, message) of one condition type on one cluster; None when the cluster has nothing to say."""
    condition = _dict(_dict((summary or {}).get("conditions")).get(type_))
    reported = (str(condition.get("status")), str(condition.get("reason")), str(condition.get("message")))
    if type_ == REPLICA_FAILURE:
        return reported if condition else None  # only ever shown while true; a stale cluster's as last seen
    unknown_yet = _FALSE if type_ == AVAILABLE else _TRUE
    if summary is None:
        return unknown_yet, NOT_SYNCED, "not made on the cluster yet"
    if summary.get("staleSince"):
        return _UNKNOWN, CLUSTER_UNREACHABLE, unreachable(str(summary["staleSince"]))
    if not condition:  # made, but the cluster's deployment controller has not reported yet
        return unknown_yet, NOT_SYNCED, "no status from the cluster yet"
    return reported


def _views(per_cluster: Mapping[str, Mapping[str, Any] | None], type_: str) -> list[tuple[str, str, str, str]]:
    """(cluster, status, reason, message) of one condition type on each cluster that says something, in cluster
    order."""
    views = ((cluster, _view(per_cluster[cluster], type_)) for cluster in sorted(per_cluster))
    return [(cluster, *view) for cluster, view in views if view is not None]


def _message(views: list[tuple[str, str, str, str]]) -> str:
    """`edge-1, edge-2: <message>; edge-3: <other message>`, grouped by message in cluster order."""
    groups: dict[str, list[str]] = {}
    for cluster, _, _, message in views:
        groups.setdefault(message, []).append(cluster)
    return "; ".join(f"{', '.join(clusters)}: {message}" for message, clusters in groups.items())


def _merged(type_: str, views: list[tuple[str, str, str, str]]) -> tuple[str, str, str] | None:
    """(status, reason, message) of one condition over all clusters, or None when it is not to be shown."""
    if type_ == REPLICA_FAILURE:
        failing = [v for v in views if v[1] == _TRUE]
        return (_TRUE, failing[0][2], _message(failing)) if failing else None
    for worst in (_FALSE, _UNKNOWN):
        picked = [v for v in views if v[1] == worst]
        if picked:
            return worst, picked[0][2], _message(picked)
    if type_ == AVAILABLE:
        return _TRUE, MINIMUM_AVAILABLE, _message(views)
    lagging = [v for v in views if v[2] != NEW_RS_AVAILABLE]
    return _TRUE, (lagging or views)[0][2], _message(views)


def _condition(previous: list[Any], type_: str, status: str, reason: str, message: str,
               now: str) -> dict[str, Any]:
    """A Deployment condition; its times are the previous ones where nothing they stand for changed."""
    before = next((c for c in previous if isinstance(c, dict) and c.get("type") == type_), {})
    same_status = before.get("status") == status
    unchanged = same_status and before.get("reason") == reason and before.get("message") == message
    return {
        "type": type_, "status": status,
        "lastUpdateTime": before.get("lastUpdateTime") if unchanged else now,
        "lastTransitionTime": before.get("lastTransitionTime") if same_status else now,
        "reason": reason, "message": message,
    }


def aggregate_deployment_status(upstream: Mapping[str, Any], per_cluster: Mapping[str, Mapping[str, Any] | None],
                                now: str) -> dict[str, Any]:
    """The upstream Deployment's status from `per_cluster`: every chosen cluster's summary (`cluster_summary`,
    possibly marked stale), None for a cluster where the Deployment is not made yet."""
    previous = _dict(upstream.get("status"))
    before = previous.get("conditions") if isinstance(previous.get("conditions"), list) else []
    generation = _int(_dict(upstream.get("metadata")).get("generation"))
    totals = dict.fromkeys(COUNTS, 0)
    for summary in per_cluster.values():
        if summary is None:
            continue
        counts = {count: _int(summary.get(count)) for count in COUNTS}
        if summary.get("staleSince"):
            counts["unavailableReplicas"] += counts["availableReplicas"]
            counts["readyReplicas"] = counts["availableReplicas"] = 0
        for count, value in counts.items():
            totals[count] += value
    status: dict[str, Any] = {}
    observed = bool(per_cluster) and all(
        summary is not None and _int(summary.get("observedGeneration")) >= generation
        for summary in per_cluster.values()
    )
    if observed:
        status["observedGeneration"] = generation
    elif "observedGeneration" in previous:
        status["observedGeneration"] = previous["observedGeneration"]
    status.update({count: value for count, value in totals.items() if value})
    conditions = []
    if not per_cluster:
        conditions.append(_condition(before, AVAILABLE, _FALSE, NO_CLUSTER,
                                     "No cluster is chosen to run this Deployment.", now))
    for type_ in _CONDITION_TYPES if per_cluster else ():
        merged = _merged(type_, _views(per_cluster, type_))
        if merged is not None:
            conditions.append(_condition(before, type_, *merged, now))
    stale = [(c, _TRUE, CLUSTER_UNREACHABLE, unreachable(str(s["staleSince"])))
             for c, s in sorted(per_cluster.items()) if s is not None and s.get("staleSince")]
    if stale:
        conditions.append(_condition(before, STALE_CONDITION, _TRUE, CLUSTER_UNREACHABLE, _message(stale), now))
    # Conditions the clusters do not report (the control plane's diagnosis: Healthy) are someone else's: kept.
    owned = {*_CONDITION_TYPES, STALE_CONDITION}
    conditions.extend(c for c in before if isinstance(c, dict) and c.get("type") not in owned)
    status["conditions"] = conditions
    if "collisionCount" in previous:
        status["collisionCount"] = previous["collisionCount"]
    return status


def _with_breakdown(upstream: Mapping[str, Any], per_cluster: Mapping[str, Mapping[str, Any] | None],
                    now: str) -> dict[str, Any]:
    body = copy.deepcopy(dict(upstream))
    meta = body.setdefault("metadata", {})
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    annotations[CLUSTERS_ANNOTATION] = json.dumps(dict(sorted(per_cluster.items())), sort_keys=True,
                                                  separators=(",", ":"))
    meta["annotations"] = annotations
    body["status"] = aggregate_deployment_status(upstream, per_cluster, now)
    return body


def reflect_deployment_status(upstream: Mapping[str, Any], cluster: str, downstream: Mapping[str, Any] | None,
                              chosen: Collection[str], now: str) -> dict[str, Any]:
    """The upstream Deployment to write through `/status` after `cluster`'s downstream Deployment (None: not made
    yet) was seen: its breakdown entry replaced, entries of clusters not in `chosen` dropped, the status recomputed.
    Equal to `upstream` when nothing changed: then there is nothing to write."""
    summaries = cluster_summaries(upstream)
    per_cluster = {c: summaries.get(c) for c in chosen}
    if cluster in per_cluster:
        per_cluster[cluster] = cluster_summary(downstream)
    return _with_breakdown(upstream, per_cluster, now)


def stale_deployment(upstream: Mapping[str, Any], cluster: str, last_seen: str, now: str) -> dict[str, Any]:
    """The upstream Deployment to write through `/status` while `cluster` is unreachable (`last_seen`: its last
    heartbeat): its entry marked stale and the status recomputed. Nothing changes when nothing came from it."""
    summaries = cluster_summaries(upstream)
    entry = summaries.get(cluster)
    if entry is None:
        return copy.deepcopy(dict(upstream))
    summaries[cluster] = {**entry, "staleSince": last_seen}
    return _with_breakdown(upstream, summaries, now)



def mirror_marked_stale(mirror: Mapping[str, Any]) -> bool:
    """Whether the control plane has marked a mirror pod stale (its cluster stopped reporting) and its syncer has
    not written it again since."""
    return any(isinstance(c, dict) and c.get("type") == STALE_CONDITION and c.get("status") == _TRUE
               for c in _dict(mirror.get("status")).get("conditions") or [])


def deployment_marked_stale(upstream: Mapping[str, Any], cluster: str) -> bool:
    """Whether the control plane has marked `cluster`'s share of a Deployment stale, as `mirror_marked_stale`."""
    summary = cluster_summaries(upstream).get(cluster)
    return bool(summary and summary.get("staleSince"))
