"""Placement decisions, pure: which clusters a workspace may use, which of them a Placement chooses, which Placement
places a namespace, and how many replicas of a Deployment each chosen cluster runs.

The placement controller (controlplane/controllers/placement.py) writes these decisions into Placement and Cluster
statuses; the syncer reads them back and uses `share` for its own cluster's part of each Deployment. Both sides
call the same functions here, so they never disagree on a rule. The functions take objects as stored (dicts)
because that is what both hold.

Label selectors are matched here rather than with `controlplane.selectors`, which parses the query-parameter
grammar and raises the API server's errors: `api/` imports nothing of the control plane, and a Placement's
selectors are already validated by their model (`api.types.LabelSelector`), so only the matching is needed.

Health: a cluster is unhealthy while its HeartbeatHealthy (the control plane's) or Ready (its syncer's) condition is
False; before the control plane has judged its heartbeat at all, it is not chosen. Unhealthy for less than the grace
period, it is still chosen (a syncer restart must not move every replica); longer, it is not (reason `Unhealthy`) and
its share goes to the other chosen clusters; once healthy it is chosen again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from api.types import (
    HEARTBEAT_HEALTHY,
    READY,
    UNHEALTHY_GRACE_SECONDS,
    LabelSelector,
    PlacementCluster,
    PlacementSpec,
)

Object = Mapping[str, Any]

CHOSEN = "Chosen"
NOT_SELECTED = "NotSelected"
UNHEALTHY = "Unhealthy"


def selector_matches(selector: LabelSelector, labels: Mapping[str, str] | None) -> bool:
    """Whether `labels` satisfy a metav1.LabelSelector (empty: everything), as Kubernetes matches one."""
    present = labels or {}
    for key, value in (selector.match_labels or {}).items():
        if present.get(key) != value:
            return False
    for requirement in selector.match_expressions or ():
        has, value = requirement.key in present, present.get(requirement.key)
        values = requirement.values or []
        match requirement.operator:
            case "In":
                ok = has and value in values
            case "NotIn":
                ok = not has or value not in values
            case "Exists":
                ok = has
            case "DoesNotExist":
                ok = not has
        if not ok:
            return False
    return True


def workspace_allowed(patterns: Iterable[str], workspace: str) -> bool:
    """Whether a Cluster's `spec.allowedWorkspaces` lets `workspace` use it: an exact path, or a pattern ending in
    `:*` that matches every workspace below its prefix at any depth (`root:org:*`: root:org:a, root:org:a:b; not
    root:org itself)."""
    for pattern in patterns:
        if pattern == workspace:
            return True
        if pattern.endswith(":*") and workspace.startswith(pattern[:-1]) and len(workspace) > len(pattern) - 1:
            return True
    return False


def clusters_for(workspace: str, clusters: Iterable[Object]) -> list[Object]:
    """The Clusters `workspace` may use, by name: all a Placement there may choose from or mention."""
    allowed = [c for c in clusters if workspace_allowed(_spec(c).get("allowedWorkspaces") or (), workspace)]
    return sorted(allowed, key=_name)


def condition(obj: Object, kind: str) -> Mapping[str, Any] | None:
    """The condition of type `kind` in `obj.status.conditions`, or None."""
    for item in (obj.get("status") or {}).get("conditions") or ():
        if isinstance(item, Mapping) and item.get("type") == kind:
            return item
    return None


def set_condition(conditions: Sequence[Mapping[str, Any]] | None, kind: str, status: str, reason: str,
                  message: str, now: str, *, observed_generation: int | None = None) -> list[dict[str, Any]]:
    """`conditions` with the one of type `kind` set, as apimachinery's meta.SetStatusCondition: its
    lastTransitionTime is `now` when `status` changes and is kept otherwise; the other conditions stay as they are,
    in place. A writer that owns one condition sets it this way and leaves the other writers' conditions alone."""
    current = list(conditions or ())
    position = next((i for i, item in enumerate(current) if item.get("type") == kind), None)
    previous = current[position] if position is not None else None
    kept = previous.get("lastTransitionTime") if previous and previous.get("status") == status else None
    wanted: dict[str, Any] = {"type": kind, "status": status, "reason": reason, "message": message,
                              "lastTransitionTime": kept or now}
    if observed_generation is not None:
        wanted["observedGeneration"] = observed_generation
    updated = [dict(item) for item in current if item.get("type") != kind]
    updated.insert(len(updated) if position is None else position, wanted)
    return updated


def reported(cluster: Object) -> bool:
    """Whether the control plane has judged the cluster's heartbeat at all (HeartbeatHealthy True or False)."""
    heartbeat = condition(cluster, HEARTBEAT_HEALTHY)
    return heartbeat is not None and heartbeat.get("status") in ("True", "False")


def unhealthy_since(cluster: Object) -> datetime | None:
    """Since when the cluster has been unhealthy: the earliest transition of HeartbeatHealthy or Ready to False, or
    None while neither is False."""
    found = (condition(cluster, HEARTBEAT_HEALTHY), condition(cluster, READY))
    since = [_time(c.get("lastTransitionTime")) for c in found if c is not None and c.get("status") == "False"]
    return min(since) if since else None


def choose(spec: PlacementSpec, clusters: Sequence[Object], now: datetime, *,
           grace: float = UNHEALTHY_GRACE_SECONDS) -> tuple[list[str], list[PlacementCluster]]:
    """(the chosen clusters' names, sorted; why each of `clusters` was or was not chosen), at `now` (aware, UTC).

    `clusters` are the ones the Placement's workspace may use (`clusters_for`), never others: the explanations
    mention every cluster they are given."""
    chosen: list[str] = []
    explanations: list[PlacementCluster] = []
    for cluster in sorted(clusters, key=_name):
        name = _name(cluster)
        labels = (cluster.get("metadata") or {}).get("labels") or {}
        since = unhealthy_since(cluster)
        if not selector_matches(spec.cluster_selector, labels):
            reason, message = NOT_SELECTED, f"its labels ({_labels(labels)}) do not match spec.clusterSelector"
        elif not reported(cluster):
            reason, message = UNHEALTHY, "selected, but its syncer has not reported yet; chosen once it heartbeats"
        elif since is None:
            reason, message = CHOSEN, "selected, and healthy"
        elif since + timedelta(seconds=grace) <= now:
            reason, message = UNHEALTHY, (
                f"selected, but unhealthy since {_rfc3339(since)} ({_why_unhealthy(cluster)}); its share of the "
                "replicas runs on the other chosen clusters until it is healthy again"
            )
        else:
            reason, message = CHOSEN, (
                f"selected; unhealthy since {_rfc3339(since)} ({_why_unhealthy(cluster)}): unless it recovers, its "
                f"share moves to the other chosen clusters at {_rfc3339(since + timedelta(seconds=grace))}"
            )
        if reason == CHOSEN:
            chosen.append(name)
        explanations.append(PlacementCluster(name=name, chosen=reason == CHOSEN, reason=reason, message=message))
    return chosen, explanations


def next_change(clusters: Iterable[Object], now: datetime, *, grace: float = UNHEALTHY_GRACE_SECONDS) -> float | None:
    """Seconds from `now` until the first grace period of an unhealthy cluster ends (when `choose` decides
    otherwise without any cluster changing), or None."""
    ends = [since + timedelta(seconds=grace) for since in map(unhealthy_since, clusters) if since is not None]
    later = [end for end in ends if end > now]
    return (min(later) - now).total_seconds() if later else None


def placed_namespaces(placements: Mapping[str, PlacementSpec],
                      namespaces: Mapping[str, Mapping[str, str]]) -> dict[str, list[str]]:
    """{placement name: the namespaces it places, sorted}, given a workspace's Placements' specs and its namespaces'
    labels. A namespace is placed by the first Placement in name order whose namespaceSelector selects it, so that
    each Deployment has exactly one placement however the selectors overlap."""
    placed: dict[str, list[str]] = {name: [] for name in placements}
    order = sorted(placements)
    for namespace in sorted(namespaces):
        for name in order:
            if selector_matches(placements[name].namespace_selector, namespaces[namespace]):
                placed[name].append(namespace)
                break
    return placed


def share(replicas: int, chosen: Sequence[str], cluster: str, mode: Literal["Divided", "Duplicated"]) -> int:
    """How many of a Deployment's `replicas` run on `cluster` when a Placement chose `chosen`.

    Duplicated: all of them on each chosen cluster. Divided: an equal share each, rounded down, and one more on each
    of the first clusters in name order until the remainder is used up (7 over a, b, c: 3, 2, 2)."""
    ordered = sorted(set(chosen))
    if cluster not in ordered:
        return 0
    if mode == "Duplicated":
        return replicas
    base, remainder = divmod(replicas, len(ordered))
    return base + (1 if ordered.index(cluster) < remainder else 0)


def _name(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _spec(obj: Object) -> Mapping[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def _labels(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels)) or "no labels"


def _why_unhealthy(cluster: Object) -> str:
    parts = []
    for kind in (HEARTBEAT_HEALTHY, READY):
        found = condition(cluster, kind)
        if found is not None and found.get("status") == "False":
            parts.append(f"{kind}=False: {found.get('reason') or 'no reason given'}")
    return "; ".join(parts)


def _time(value: object) -> datetime:
    """A stored RFC 3339 timestamp as an aware UTC time; one that is absent or unreadable counts as long ago."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return _LONG_AGO
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return _LONG_AGO


_LONG_AGO = datetime.min.replace(tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
