"""How kube-controller-manager 1.32's deployment and replicaset controllers decide. Pure: no I/O, no clock reads.

`simcluster.workloads` reads the watch cache, calls these functions and writes what they decided. Names follow
`pkg/controller/deployment`, `pkg/controller/replicaset` and `pkg/controller/controller_utils.go`, so that each
piece can be held against the original:

* ReplicaSets: which pods a ReplicaSet claims (adopts, releases), how many it creates (in slow-start batches),
  which it deletes first (`ActivePodsWithRanks`: unscheduled < pending < not ready < ready, then fewer restarts,
  then newer), and the status it reports (terminating pods are not counted; zero counts are omitted).
* Deployments: the new ReplicaSet's name (`<deployment>-<pod-template-hash>`), its annotations and revision
  (bumped, with `revision-history`, when an old ReplicaSet becomes the new one again on undo), how far a rolling
  update may surge and how much it may leave unavailable, proportional scaling during a rollout, cleanup beyond
  `revisionHistoryLimit`, and the status with its Available and Progressing conditions.

`DeploymentSync` is one pass of `syncDeployment` over one Deployment. The real controller writes as it goes and
carries on with what the writes returned; this one records each write as an action and changes its own copies as
if the write had succeeded, so that later steps see earlier ones. The caller performs the actions in order and
stops at the first that fails; the Deployment is then synced again, as a returned error requeues it.

Every duration of the simulation is in simulated seconds (`progressDeadlineSeconds`, `minReadySeconds`, the ages
that rank pods): `Moment` measures them from the wall-clock timestamps stored in objects, divided by the time scale.
Stored timestamps have whole seconds, as metav1.Time has, so at small time scales a deadline may come up to one
real second early; the order of what a user sees does not change.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
import struct
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from controlplane.registry.meta import selector_matches
from controlplane.registry.values import semantic_equal

Object = dict[str, Any]

# ---- names Kubernetes gives things ---------------------------------------------------------------------------

POD_TEMPLATE_HASH = "pod-template-hash"  # apps.DefaultDeploymentUniqueLabelKey
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"

# What a Deployment's annotations do not pass on to its new ReplicaSet (deployment_util.go's annotationsToSkip).
ANNOTATIONS_NOT_COPIED = frozenset({LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
                                    ROLLBACK_TO})
MAX_REVISION_HISTORY_CHARS = 2000  # sync.go's maxRevHistoryLengthInChars
BURST_REPLICAS = 500  # pods a ReplicaSet creates or deletes in one sync
MAX_INT32 = 2**31 - 1  # progressDeadlineSeconds / revisionHistoryLimit meaning "never" / "keep all"

AVAILABLE = "Available"
PROGRESSING = "Progressing"
REPLICA_FAILURE = "ReplicaFailure"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
RS_CREATE_ERROR = "ReplicaSetCreateError"
MINIMUM_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_UNAVAILABLE = "MinimumReplicasUnavailable"

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # rand.SafeEncodeString's: no vowels, no confusable digits
_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193
_ATOI = re.compile(r"[+-]?[0-9]+")
_ZERO_TIME = datetime.min


# ---- reading objects -----------------------------------------------------------------------------------------

def _dict(value: Any) -> Object:
    return value if isinstance(value, dict) else {}


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def meta(obj: Object) -> Object:
    return _dict(obj.get("metadata"))


def spec(obj: Object) -> Object:
    return _dict(obj.get("spec"))


def status(obj: Object) -> Object:
    return _dict(obj.get("status"))


def name_of(obj: Object) -> str:
    return str(meta(obj).get("name", ""))


def uid_of(obj: Object) -> str:
    return str(meta(obj).get("uid", ""))


def labels_of(obj: Object) -> dict[str, str]:
    return _dict(meta(obj).get("labels"))


def annotations_of(obj: Object) -> dict[str, str]:
    return _dict(meta(obj).get("annotations"))


def generation_of(obj: Object) -> int:
    return _int(meta(obj).get("generation"))


def deleting(obj: Object) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def spec_replicas(obj: Object) -> int:
    """`*spec.replicas` of a Deployment or ReplicaSet (the API defaults it to 1)."""
    return _int(spec(obj).get("replicas"), 1)


def status_count(obj: Object, name: str) -> int:
    return _int(status(obj).get(name))


def parse_time(value: Any) -> datetime | None:
    """A stored RFC 3339 timestamp; None when absent or unreadable (Go's zero time)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Moment:
    """When a sync runs: the wall-clock time (what timestamps are written with) and the time scale (how many real
    seconds one simulated second takes), so that durations measured from stored timestamps are simulated ones."""

    wall: datetime
    scale: float = 1.0

    @property
    def timestamp(self) -> str:
        """This moment as a metav1.Time is serialized (whole seconds)."""
        return self.wall.strftime("%Y-%m-%dT%H:%M:%SZ")

    def seconds_since(self, stamp: Any) -> float | None:
        """Simulated seconds from a stored timestamp until now; None when there is no timestamp."""
        moment = parse_time(stamp)
        if moment is None:
            return None
        return (self.wall - moment).total_seconds() / self.scale


# ---- owners ----------------------------------------------------------------------------------------------------

def controller_of(obj: Object) -> Object | None:
    """metav1.GetControllerOf: the ownerReference with `controller: true`."""
    for ref in meta(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") is True:
            return ref
    return None


def controller_ref(owner: Object) -> Object:
    """metav1.NewControllerRef: what a Deployment puts on its ReplicaSets and a ReplicaSet on its pods."""
    return {"apiVersion": owner.get("apiVersion", "apps/v1"), "kind": owner.get("kind", ""), "name": name_of(owner),
            "uid": uid_of(owner), "controller": True, "blockOwnerDeletion": True}


def controlled_by(obj: Object, owner: Object) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") == uid_of(owner)


class Claim(Enum):
    """What a controller does with an object its namespace holds (controller_ref_manager.go's ClaimObject)."""

    OWNED = "owned"  # controlled by it and selected: it manages the object
    ADOPT = "adopt"  # an orphan it selects: it becomes the object's controller
    RELEASE = "release"  # controlled by it but no longer selected: it lets go
    IGNORE = "ignore"


def claim(owner: Object, obj: Object) -> Claim:
    selected = selector_matches(spec(owner).get("selector"), labels_of(obj))
    ref = controller_of(obj)
    if ref is not None:
        if ref.get("uid") != uid_of(owner):
            return Claim.IGNORE  # someone else's
        if selected:
            return Claim.OWNED  # kept even while the owner is being deleted: keeping takes no action
        return Claim.IGNORE if deleting(owner) else Claim.RELEASE
    if deleting(owner) or not selected or deleting(obj):
        return Claim.IGNORE
    return Claim.ADOPT


def adopted(obj: Object, owner: Object) -> Object | None:
    """`obj` with `owner` as its controller; None when it has a controller already (someone else adopted it first),
    which the API server would refuse: an object has at most one controller."""
    if controller_of(obj) is not None:
        return None
    obj["metadata"]["ownerReferences"] = [*(meta(obj).get("ownerReferences") or []), controller_ref(owner)]
    return obj


def released(obj: Object, owner: Object) -> Object:
    """`obj` without its reference to `owner`."""
    refs = [r for r in meta(obj).get("ownerReferences") or [] if _dict(r).get("uid") != uid_of(owner)]
    if refs:
        obj["metadata"]["ownerReferences"] = refs
    else:
        obj["metadata"].pop("ownerReferences", None)
    return obj


# ---- pods --------------------------------------------------------------------------------------------------------

def is_pod_active(pod: Object) -> bool:
    """controller.IsPodActive: not finished and not being deleted."""
    return status(pod).get("phase") not in ("Succeeded", "Failed") and not deleting(pod)


def _ready_condition(pod: Object) -> Object | None:
    for condition in status(pod).get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return condition
    return None


def is_pod_ready(pod: Object) -> bool:
    condition = _ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def is_pod_available(pod: Object, min_ready_seconds: int, now: Moment) -> bool:
    """Ready, and for longer than minReadySeconds (simulated)."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds == 0:
        return True
    elapsed = now.seconds_since(_dict(_ready_condition(pod)).get("lastTransitionTime"))
    return elapsed is not None and elapsed > min_ready_seconds


def pod_from_template(rs: Object) -> Object:
    """controller.GetPodFromTemplate: the pod a ReplicaSet creates, named `<rs>-<random>` by the API server."""
    template = _dict(spec(rs).get("template"))
    template_meta = _dict(template.get("metadata"))
    pod_meta: Object = {"generateName": f"{name_of(rs)}-"}
    for key in ("labels", "annotations", "finalizers"):
        if template_meta.get(key):
            pod_meta[key] = copy.deepcopy(template_meta[key])
    pod_meta["ownerReferences"] = [controller_ref(rs)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": copy.deepcopy(template.get("spec") or {})}


_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def _deletion_cost(pod: Object) -> int:
    value = annotations_of(pod).get(POD_DELETION_COST)
    if not isinstance(value, str) or not _ATOI.fullmatch(value):
        return 0
    cost = int(value)
    return cost if -(2**31) <= cost <= MAX_INT32 else 0


def _max_restarts(pod: Object) -> tuple[int, int]:
    """The highest restart count of the regular containers, and of the sidecars (init containers that restart)."""
    regular = max((_int(_dict(c).get("restartCount")) for c in status(pod).get("containerStatuses") or []),
                  default=0)
    sidecars = {_dict(c).get("name") for c in spec(pod).get("initContainers") or []
                if _dict(c).get("restartPolicy") == "Always"}
    sidecar = max((_int(_dict(c).get("restartCount")) for c in status(pod).get("initContainerStatuses") or []
                   if _dict(c).get("name") in sidecars), default=0)
    return regular, sidecar


def _after_or_zero(t1: datetime | None, t2: datetime | None) -> bool:
    """The zero time counts as latest; otherwise whether t1 is after t2."""
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _log_rank(moment: datetime, now: Moment) -> int:
    """floor(log2 of the age in simulated nanoseconds), -1 for no age: pods of a similar age rank alike."""
    age = (now.wall - moment).total_seconds() / now.scale * 1e9
    return int(math.log2(age)) if age > 0 else -1


def _sooner_by_age(t1: datetime | None, t2: datetime | None, uid1: str, uid2: str, now: Moment) -> bool:
    """Newer first, on a logarithmic scale (LogarithmicScaleDown, on by default since 1.22): within the same power
    of two of age the order is by uid, so that scaling down does not always pick the very newest pod."""
    if t1 is None or t2 is None:
        return _after_or_zero(t1, t2)
    diff = _log_rank(t1, now) - _log_rank(t2, now)
    return uid1 < uid2 if diff == 0 else diff < 0


def _ready_since(pod: Object) -> datetime | None:
    condition = _ready_condition(pod)
    if condition is None or condition.get("status") != "True":
        return None
    return parse_time(condition.get("lastTransitionTime"))


def _deleted_sooner(a: tuple[Object, int], b: tuple[Object, int], now: Moment) -> bool:
    """ActivePodsWithRanks.Less: whether pod a goes before pod b when a ReplicaSet scales down. The rank is the
    number of active pods of the same owner on the pod's node: doubled-up pods go first."""
    (pa, rank_a), (pb, rank_b) = a, b
    node_a, node_b = spec(pa).get("nodeName") or "", spec(pb).get("nodeName") or ""
    if node_a != node_b and (not node_a or not node_b):
        return not node_a  # 1. unscheduled first
    phase_a = _PHASE_ORDINAL.get(status(pa).get("phase", ""), 0)
    phase_b = _PHASE_ORDINAL.get(status(pb).get("phase", ""), 0)
    if phase_a != phase_b:
        return phase_a < phase_b  # 2. Pending < Unknown < Running
    ready_a, ready_b = is_pod_ready(pa), is_pod_ready(pb)
    if ready_a != ready_b:
        return not ready_a  # 3. not ready first
    cost_a, cost_b = _deletion_cost(pa), _deletion_cost(pb)
    if cost_a != cost_b:
        return cost_a < cost_b  # 4. lower pod-deletion-cost first
    if rank_a != rank_b:
        return rank_a > rank_b  # 5. doubled up first
    if ready_a and ready_b:
        since_a, since_b = _ready_since(pa), _ready_since(pb)
        if since_a != since_b:
            return _sooner_by_age(since_a, since_b, uid_of(pa), uid_of(pb), now)  # 6. ready for less time first
    restarts_a, restarts_b = _max_restarts(pa), _max_restarts(pb)
    if restarts_a[0] != restarts_b[0]:
        return restarts_a[0] > restarts_b[0]  # 7. more restarts first (then sidecar restarts)
    if restarts_a[1] != restarts_b[1]:
        return restarts_a[1] > restarts_b[1]
    created_a = parse_time(meta(pa).get("creationTimestamp"))
    created_b = parse_time(meta(pb).get("creationTimestamp"))
    if created_a != created_b:
        return _sooner_by_age(created_a, created_b, uid_of(pa), uid_of(pb), now)  # 8. newer first
    return False


def rank_for_deletion(pods: Sequence[Object], related: Iterable[Object], now: Moment) -> list[Object]:
    """`pods` in the order a ReplicaSet deletes them; `related` are the pods of every ReplicaSet with the same
    owner (getIndirectlyRelatedPods), which tell how doubled up each node is."""
    on_node = Counter(spec(p).get("nodeName") or "" for p in related if is_pod_active(p))
    ranked = [(p, on_node[spec(p).get("nodeName") or ""]) for p in pods]

    def compare(a: tuple[Object, int], b: tuple[Object, int]) -> int:
        if _deleted_sooner(a, b, now):
            return -1
        return 1 if _deleted_sooner(b, a, now) else 0

    return [p for p, _ in sorted(ranked, key=functools.cmp_to_key(compare))]


def pods_to_delete(pods: Sequence[Object], related: Iterable[Object], count: int, now: Moment) -> list[Object]:
    """getPodsToDelete: the `count` pods to go first (no ranking needed when all of them go)."""
    if count < len(pods):
        pods = rank_for_deletion(pods, related, now)
    return list(pods[:count])


@dataclass(frozen=True)
class ReplicaChange:
    """What manageReplicas does: create this many pods from the template, or delete these pods."""

    create: int = 0
    delete: tuple[Object, ...] = ()


def manage_replicas(rs: Object, active: Sequence[Object], related: Iterable[Object], now: Moment) -> ReplicaChange:
    """How a ReplicaSet with these (claimed, active) pods gets to spec.replicas, at most BURST_REPLICAS at a time."""
    diff = len(active) - spec_replicas(rs)
    if diff < 0:
        return ReplicaChange(create=min(-diff, BURST_REPLICAS))
    if diff > 0:
        return ReplicaChange(delete=tuple(pods_to_delete(active, related, min(diff, BURST_REPLICAS), now)))
    return ReplicaChange()


def slow_start_batches(count: int, initial: int = 1) -> list[int]:
    """slowStartBatch's batch sizes (1, 2, 4, ...): a failing create (quota, admission) stops the batch after it, so
    a ReplicaSet that cannot create pods does not send hundreds of doomed requests."""
    batches: list[int] = []
    remaining = count
    size = min(remaining, initial)
    while size > 0:
        batches.append(size)
        remaining -= size
        size = min(2 * size, remaining)
    return batches


def replica_set_status(rs: Object, pods: Sequence[Object], now: Moment, manage_error: str | None) -> Object:
    """replica_set_utils.go's calculateStatus, with the observedGeneration the write records. `pods` are the
    ReplicaSet's active pods as they were before this sync created or deleted any; `manage_error` is why creating or
    deleting failed, reported as a ReplicaFailure condition."""
    template_labels = _dict(_dict(_dict(spec(rs).get("template")).get("metadata")).get("labels"))
    min_ready = _int(spec(rs).get("minReadySeconds"))
    fully_labeled = sum(1 for p in pods if all(labels_of(p).get(k) == v for k, v in template_labels.items()))
    ready = sum(1 for p in pods if is_pod_ready(p))
    available = sum(1 for p in pods if is_pod_available(p, min_ready, now))
    conditions = [copy.deepcopy(c) for c in status(rs).get("conditions") or [] if isinstance(c, dict)]
    failure = next((c for c in conditions if c.get("type") == REPLICA_FAILURE), None)
    if manage_error is not None and failure is None:
        diff = len(pods) - spec_replicas(rs)
        reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        conditions.append({"type": REPLICA_FAILURE, "status": "True", "lastTransitionTime": now.timestamp,
                           "reason": reason, "message": manage_error})
    elif manage_error is None and failure is not None:
        conditions.remove(failure)
    new: Object = {"replicas": len(pods)}  # the only count the API never omits
    for key, value in (("fullyLabeledReplicas", fully_labeled), ("readyReplicas", ready),
                       ("availableReplicas", available), ("observedGeneration", generation_of(rs))):
        if value:
            new[key] = value
    if conditions:
        new["conditions"] = conditions
    return new


def availability_recheck_after(rs: Object, new_status: Object) -> float | None:
    """Simulated seconds after which a ReplicaSet whose pods are all ready looks again at which are available (they
    become so minReadySeconds after turning ready, with nothing else changing); None when there is no need."""
    min_ready = _int(spec(rs).get("minReadySeconds"))
    replicas = spec_replicas(rs)
    if min_ready > 0 and _int(new_status.get("readyReplicas")) == replicas and (
        _int(new_status.get("availableReplicas")) != replicas
    ):
        return float(min_ready)
    return None


# ---- the pod-template-hash ----------------------------------------------------------------------------------------

def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: each character mapped into an alphabet that cannot spell words."""
    return "".join(SAFE_ALPHABET[ord(c) % len(SAFE_ALPHABET)] for c in text)


def fnv32a(data: bytes, start: int = _FNV32_OFFSET) -> int:
    value = start
    for byte in data:
        value = ((value ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return value


def pod_template_hash(template: Object, collision_count: int | None) -> str:
    """controller.ComputeHash: FNV-32a over the pod template (here its canonical JSON, where Go hashes its deep
    printout), then over the collision count as 8 little-endian bytes when there is one, printed in decimal and
    safe-encoded: ten characters or fewer from SAFE_ALPHABET."""
    value = fnv32a(json.dumps(template, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    if collision_count is not None:
        value = fnv32a(struct.pack("<I", collision_count & 0xFFFFFFFF) + bytes(4), value)
    return safe_encode(str(value))


def equal_ignore_hash(a: Object, b: Object) -> bool:
    """Whether two pod templates are the same but for the pod-template-hash label."""
    def without_hash(template: Object) -> Object:
        template = copy.deepcopy(template)
        template_labels = _dict(template.get("metadata")).get("labels")
        if isinstance(template_labels, dict):
            template_labels.pop(POD_TEMPLATE_HASH, None)
        return template

    return semantic_equal(without_hash(a), without_hash(b))


# ---- maxSurge and maxUnavailable ------------------------------------------------------------------------------------

def scaled_value(value: Any, total: int, *, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: an integer as it is, or "N%" of `total` rounded up or down."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        percent = value.endswith("%")
        digits = value[:-1] if percent else value
        if _ATOI.fullmatch(digits):
            number = int(digits)
            if not percent:
                return number
            exact = number * total / 100
            return math.ceil(exact) if round_up else math.floor(exact)
    raise ValueError(f"invalid value for IntOrString: {value!r}")


def resolve_fenceposts(max_surge: Any, max_unavailable: Any, desired: int) -> tuple[int, int]:
    """(surge, unavailable) for `desired` replicas: surge rounds up, unavailable down, and when both come to zero
    one pod may be unavailable (validation forbids two explicit zeros; rounding down can still get there)."""
    surge = scaled_value(0 if max_surge is None else max_surge, desired, round_up=True)
    unavailable = scaled_value(0 if max_unavailable is None else max_unavailable, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def is_rolling_update(d: Object) -> bool:
    return _dict(spec(d).get("strategy")).get("type") == "RollingUpdate"


def _fenceposts(d: Object) -> tuple[int, int]:
    rolling = _dict(_dict(spec(d).get("strategy")).get("rollingUpdate"))
    return resolve_fenceposts(rolling.get("maxSurge"), rolling.get("maxUnavailable"), spec_replicas(d))


def max_surge(d: Object) -> int:
    return _fenceposts(d)[0] if is_rolling_update(d) else 0


def max_unavailable(d: Object) -> int:
    """Never more than the replicas; none at all for Recreate or zero replicas."""
    replicas = spec_replicas(d)
    if not is_rolling_update(d) or replicas == 0:
        return 0
    return min(_fenceposts(d)[1], replicas)


# ---- revisions and annotations -----------------------------------------------------------------------------------

def revision_of(obj: Object) -> int | None:
    """The revision annotation's number: 0 without one, None when it is not a number."""
    value = annotations_of(obj).get(REVISION)
    if value is None:
        return 0
    return int(value) if isinstance(value, str) and _ATOI.fullmatch(value) else None


def max_revision(replica_sets: Iterable[Object]) -> int:
    return max((r for r in (revision_of(rs) for rs in replica_sets) if r is not None), default=0)


def _annotations(obj: Object) -> dict[str, str]:
    """The object's annotations as a dict it holds, for changing."""
    metadata = obj.setdefault("metadata", {})
    if not isinstance(metadata.get("annotations"), dict):
        metadata["annotations"] = {}
    return metadata["annotations"]


def set_replicas_annotations(rs: Object, desired: int, maximum: int) -> bool:
    annotations = _annotations(rs)
    changed = annotations.get(DESIRED_REPLICAS) != str(desired) or annotations.get(MAX_REPLICAS) != str(maximum)
    annotations[DESIRED_REPLICAS] = str(desired)
    annotations[MAX_REPLICAS] = str(maximum)
    return changed


def replicas_annotations_need_update(rs: Object, desired: int, maximum: int) -> bool:
    annotations = annotations_of(rs)
    return annotations.get(DESIRED_REPLICAS) != str(desired) or annotations.get(MAX_REPLICAS) != str(maximum)


def set_new_replica_set_annotations(d: Object, rs: Object, new_revision: str, *, exists: bool) -> bool:
    """SetNewReplicaSetAnnotations: copy the Deployment's annotations (change-cause among them), raise the revision
    to `new_revision` when it is lower (an old ReplicaSet becoming the new one again keeps the revisions it had in
    `revision-history`, within MAX_REVISION_HISTORY_CHARS), and on creation record desired and max replicas.
    Changes `rs`; returns whether its annotations changed."""
    annotations = _annotations(rs)
    changed = False
    for key, value in annotations_of(d).items():
        if key in ANNOTATIONS_NOT_COPIED or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True
    old_revision = annotations.get(REVISION)
    if old_revision is not None and not _ATOI.fullmatch(str(old_revision)):
        return False  # not a number: left alone, as the real controller logs and skips it
    old_number = int(old_revision) if old_revision is not None else 0
    if old_number < int(new_revision):
        annotations[REVISION] = new_revision
        changed = True
        if old_revision is not None:
            history = annotations.get(REVISION_HISTORY, "")
            if not history:
                annotations[REVISION_HISTORY] = old_revision
            else:
                kept = history.split(",")
                total = len(history) + len(old_revision) + 1
                while total > MAX_REVISION_HISTORY_CHARS and kept:
                    total -= len(kept.pop(0)) + 1
                if total <= MAX_REVISION_HISTORY_CHARS:
                    annotations[REVISION_HISTORY] = ",".join([*kept, old_revision])
    desired = spec_replicas(d)
    if not exists and set_replicas_annotations(rs, desired, desired + max_surge(d)):
        changed = True
    return changed


def set_deployment_revision(d: Object, revision: str) -> bool:
    annotations = _annotations(d)
    if annotations.get(REVISION) == revision:
        return False
    annotations[REVISION] = revision
    return True


# ---- ReplicaSets of a Deployment -------------------------------------------------------------------------------

def _created_key(obj: Object) -> tuple[datetime, str]:
    """ReplicaSetsByCreationTimestamp: oldest first, then by name."""
    created = parse_time(meta(obj).get("creationTimestamp"))
    return (created.astimezone(UTC).replace(tzinfo=None) if created else _ZERO_TIME), name_of(obj)


def by_creation(replica_sets: Iterable[Object]) -> list[Object]:
    return sorted(replica_sets, key=_created_key)


def by_size_older_first(replica_sets: Iterable[Object]) -> list[Object]:
    """Largest first; among equals the oldest first (the first to shrink)."""
    return sorted(by_creation(replica_sets), key=lambda rs: -spec_replicas(rs))


def by_size_newer_first(replica_sets: Iterable[Object]) -> list[Object]:
    """Largest first; among equals the newest first (the first to grow)."""
    return sorted(sorted(replica_sets, key=_created_key, reverse=True), key=lambda rs: -spec_replicas(rs))


def by_revision(replica_sets: Iterable[Object]) -> list[Object]:
    """ReplicaSetsByRevision: lowest revision first; by creation when revisions are equal or unreadable."""
    def compare(a: Object, b: Object) -> int:
        ra, rb = revision_of(a), revision_of(b)
        if ra is None or rb is None or ra == rb:
            ka, kb = _created_key(a), _created_key(b)
            return -1 if ka < kb else 1 if kb < ka else 0
        return -1 if ra < rb else 1

    return sorted(replica_sets, key=functools.cmp_to_key(compare))


def active_replica_sets(replica_sets: Iterable[Object]) -> list[Object]:
    return [rs for rs in replica_sets if spec_replicas(rs) > 0]


def replica_count(replica_sets: Iterable[Object]) -> int:
    return sum(spec_replicas(rs) for rs in replica_sets)


def _status_total(replica_sets: Iterable[Object], name: str) -> int:
    return sum(status_count(rs, name) for rs in replica_sets)


def find_new_replica_set(d: Object, replica_sets: Iterable[Object]) -> Object | None:
    """The ReplicaSet whose template is the Deployment's (the oldest, should there be several)."""
    template = _dict(spec(d).get("template"))
    return next((rs for rs in by_creation(replica_sets)
                 if equal_ignore_hash(_dict(spec(rs).get("template")), template)), None)


def find_old_replica_sets(d: Object, replica_sets: Sequence[Object]) -> tuple[list[Object], list[Object]]:
    """(old ones with replicas, all old ones)."""
    new = find_new_replica_set(d, replica_sets)
    old = [rs for rs in replica_sets if rs is not new]
    return [rs for rs in old if spec_replicas(rs) != 0], old


def is_hash_collision(d: Object, existing: Object) -> bool:
    """Whether the ReplicaSet already holding the new ReplicaSet's name is someone else's or another template: then
    the Deployment's collisionCount goes up, which changes the hash."""
    return not (controlled_by(existing, d) and equal_ignore_hash(_dict(spec(d).get("template")),
                                                                 _dict(spec(existing).get("template"))))


def new_rs_new_replicas(d: Object, all_rss: Sequence[Object], new_rs: Object) -> int:
    """NewRSNewReplicas: how big the new ReplicaSet may be now (within replicas + maxSurge in all, for a rolling
    update; everything at once for Recreate, whose old pods are gone by then)."""
    replicas = spec_replicas(d)
    if not is_rolling_update(d):
        return replicas
    surge = scaled_value(_dict(_dict(spec(d).get("strategy")).get("rollingUpdate")).get("maxSurge") or 0, replicas,
                         round_up=True)
    current = replica_count(all_rss)
    most = replicas + surge
    if current >= most:
        return spec_replicas(new_rs)
    return spec_replicas(new_rs) + min(most - current, replicas - spec_replicas(new_rs))


def is_saturated(d: Object, rs: Object | None) -> bool:
    """The new ReplicaSet has all the Deployment's replicas, knows it should, and all are available."""
    if rs is None:
        return False
    desired = annotations_of(rs).get(DESIRED_REPLICAS)
    if not isinstance(desired, str) or not _ATOI.fullmatch(desired):
        return False
    replicas = spec_replicas(d)
    return spec_replicas(rs) == replicas and int(desired) == replicas and status_count(rs, "availableReplicas") == (
        replicas
    )


def find_active_or_latest(new_rs: Object | None, old_rss: list[Object]) -> Object | None:
    """The only ReplicaSet with replicas, or the newest when none has any; None when several have. Sorts
    `old_rss` newest first, as the real function does to the slice it is given."""
    if new_rs is None and not old_rss:
        return None
    old_rss.sort(key=_created_key, reverse=True)
    active = active_replica_sets([*old_rss, *([new_rs] if new_rs else [])])
    if not active:
        return new_rs if new_rs is not None else old_rss[0]
    return active[0] if len(active) == 1 else None


def _round(value: float) -> int:
    """integer.RoundToInt32: halves away from zero."""
    return int(value + 0.5) if value >= 0 else int(value - 0.5)


def _max_replicas_before(rs: Object) -> int | None:
    value = annotations_of(rs).get(MAX_REPLICAS)
    return int(value) if isinstance(value, str) and _ATOI.fullmatch(value) else None


def replica_set_fraction(rs: Object, d: Object) -> int:
    """How many replicas `rs` gains (or loses) when the Deployment is resized: its share of the old maximum
    (replicas + surge, from its max-replicas annotation) applied to the new maximum."""
    replicas = spec_replicas(d)
    if replicas == 0:
        return -spec_replicas(rs)
    maximum = replicas + max_surge(d)
    before = _max_replicas_before(rs)
    if before is None:
        before = status_count(d, "replicas")  # edited by hand: the Deployment's size stands in
    if before == 0:
        before = maximum  # where the real controller would divide by zero
    return _round(spec_replicas(rs) * maximum / before) - spec_replicas(rs)


def proportion(rs: Object, d: Object, to_add: int, added: int) -> int:
    """GetProportion: the fraction, never beyond what is still to be added or removed."""
    if spec_replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = replica_set_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


# ---- Deployment status ------------------------------------------------------------------------------------------

def has_progress_deadline(d: Object) -> bool:
    deadline = spec(d).get("progressDeadlineSeconds")
    return isinstance(deadline, int) and deadline != MAX_INT32


def has_revision_history_limit(d: Object) -> bool:
    limit = spec(d).get("revisionHistoryLimit")
    return isinstance(limit, int) and limit != MAX_INT32


def new_condition(type_: str, condition_status: str, reason: str, message: str, now: Moment) -> Object:
    return {"type": type_, "status": condition_status, "lastUpdateTime": now.timestamp,
            "lastTransitionTime": now.timestamp, "reason": reason, "message": message}


def get_condition(deployment_status: Object, type_: str) -> Object | None:
    for condition in deployment_status.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == type_:
            return condition
    return None


def remove_condition(deployment_status: Object, type_: str) -> None:
    kept = [c for c in deployment_status.get("conditions") or [] if _dict(c).get("type") != type_]
    if kept:
        deployment_status["conditions"] = kept
    else:
        deployment_status.pop("conditions", None)


def set_condition(deployment_status: Object, condition: Object) -> None:
    """SetDeploymentCondition: nothing changes when status and reason are the same (the times stay); a new reason
    with the same status keeps lastTransitionTime. The condition goes last."""
    current = get_condition(deployment_status, condition["type"])
    if current is not None and current.get("status") == condition["status"] and (
        current.get("reason") == condition["reason"]
    ):
        return
    if current is not None and current.get("status") == condition["status"]:
        condition = {**condition, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_condition(deployment_status, condition["type"])
    deployment_status["conditions"] = [*(deployment_status.get("conditions") or []), condition]


def calculate_status(all_rss: Sequence[Object], new_rs: Object | None, d: Object, now: Moment) -> Object:
    """The Deployment's status from its ReplicaSets; every count is omitted when zero, as the API omits it."""
    available = _status_total(all_rss, "availableReplicas")
    counts = (
        ("observedGeneration", generation_of(d)),
        ("replicas", _status_total(all_rss, "replicas")),
        ("updatedReplicas", status_count(new_rs, "replicas") if new_rs is not None else 0),
        ("readyReplicas", _status_total(all_rss, "readyReplicas")),
        ("availableReplicas", available),
        ("unavailableReplicas", max(replica_count(all_rss) - available, 0)),
    )
    new: Object = {key: value for key, value in counts if value}
    conditions = [copy.deepcopy(c) for c in status(d).get("conditions") or [] if isinstance(c, dict)]
    if conditions:
        new["conditions"] = conditions
    if available >= spec_replicas(d) - max_unavailable(d):
        set_condition(new, new_condition(AVAILABLE, "True", MINIMUM_AVAILABLE, "Deployment has minimum availability.",
                                         now))
    else:
        set_condition(new, new_condition(AVAILABLE, "False", MINIMUM_UNAVAILABLE,
                                         "Deployment does not have minimum availability.", now))
    collisions = status(d).get("collisionCount")
    if isinstance(collisions, int):
        new["collisionCount"] = collisions
    return new


def deployment_complete(d: Object, deployment_status: Object) -> bool:
    """Every replica updated and available, no old ones left, and the latest spec observed."""
    replicas = spec_replicas(d)
    return (_int(deployment_status.get("updatedReplicas")) == replicas
            and _int(deployment_status.get("replicas")) == replicas
            and _int(deployment_status.get("availableReplicas")) == replicas
            and _int(deployment_status.get("observedGeneration")) >= generation_of(d))


def deployment_progressing(d: Object, new_status: Object) -> bool:
    """Progress since the last status: more pods updated, ready or available, or fewer old ones."""
    old = status(d)

    def count(s: Object, key: str) -> int:
        return _int(s.get(key))

    old_old = count(old, "replicas") - count(old, "updatedReplicas")
    new_old = count(new_status, "replicas") - count(new_status, "updatedReplicas")
    return (count(new_status, "updatedReplicas") > count(old, "updatedReplicas") or new_old < old_old
            or count(new_status, "readyReplicas") > count(old, "readyReplicas")
            or count(new_status, "availableReplicas") > count(old, "availableReplicas"))


def deployment_timed_out(d: Object, new_status: Object, now: Moment) -> bool:
    """No progress reported for progressDeadlineSeconds (simulated) since the Progressing condition last moved."""
    if not has_progress_deadline(d):
        return False
    condition = get_condition(new_status, PROGRESSING)
    if condition is None or condition.get("reason") == NEW_RS_AVAILABLE:
        return False
    if condition.get("reason") == TIMED_OUT:
        return True
    elapsed = now.seconds_since(condition.get("lastUpdateTime"))
    return elapsed is None or elapsed > _int(spec(d).get("progressDeadlineSeconds"))


def requeue_stuck_after(d: Object, new_status: Object, now: Moment) -> float | None:
    """requeueStuckDeployment: simulated seconds until the progress deadline, plus one (as the real controller adds
    one to be past it); None when there is nothing to wait for."""
    current = get_condition(status(d), PROGRESSING)
    if not has_progress_deadline(d) or current is None:
        return None
    if deployment_complete(d, new_status) or current.get("reason") == TIMED_OUT:
        return None
    elapsed = now.seconds_since(current.get("lastUpdateTime"))
    remaining = _int(spec(d).get("progressDeadlineSeconds")) - (elapsed or 0.0)
    return max(remaining, 0.0) + 1.0


def replica_failures(all_rss: Sequence[Object], new_rs: Object | None) -> list[Object]:
    """The ReplicaSets' ReplicaFailure conditions as Deployment conditions, the new ReplicaSet's first."""
    def of(replica_sets: Iterable[Object]) -> list[Object]:
        return [{"type": c.get("type"), "status": c.get("status"), "lastUpdateTime": c.get("lastTransitionTime"),
                 "lastTransitionTime": c.get("lastTransitionTime"), "reason": c.get("reason"),
                 "message": c.get("message")}
                for rs in replica_sets for c in status(rs).get("conditions") or []
                if isinstance(c, dict) and c.get("type") == REPLICA_FAILURE]

    return of([new_rs] if new_rs is not None else []) or of(all_rss)


def with_collision(d: Object) -> Object:
    """The Deployment's status with collisionCount one higher, after a hash collision."""
    bumped = copy.deepcopy(status(d))
    bumped["collisionCount"] = _int(bumped.get("collisionCount")) + 1
    return bumped


def replica_set_create_failed(d: Object, rs_name: str, error: str, now: Moment) -> tuple[Object, str]:
    """(status, message) after the new ReplicaSet could not be created: Progressing False ReplicaSetCreateError,
    for a Deployment with a progress deadline; the message is also the Warning event's."""
    message = f'Failed to create new replica set "{rs_name}": {error}'
    failed = copy.deepcopy(status(d))
    if has_progress_deadline(d):
        set_condition(failed, new_condition(PROGRESSING, "False", RS_CREATE_ERROR, message, now))
    return failed, message


# ---- one pass of the deployment controller ------------------------------------------------------------------------

@dataclass(frozen=True)
class CreateReplicaSet:
    body: Object
    event: str  # the ScalingReplicaSet event's message once created ("" for none)


@dataclass(frozen=True)
class UpdateReplicaSet:
    """Write spec.replicas, spec.minReadySeconds and the annotations of `replica_set` over the stored one."""

    replica_set: Object
    event: str


@dataclass(frozen=True)
class DeleteReplicaSet:
    name: str


@dataclass(frozen=True)
class UpdateDeploymentStatus:
    """Write the status, and the revision annotation (which also goes through /status)."""

    revision: str | None
    status: Object


Action = CreateReplicaSet | UpdateReplicaSet | DeleteReplicaSet | UpdateDeploymentStatus


@dataclass
class DeploymentSync:
    """syncDeployment for one Deployment, given the ReplicaSets it controls (after adoption and release) and their
    pods by ReplicaSet uid. `run()` fills `actions` and, when the progress deadline must be checked later,
    `requeue_after` (simulated seconds)."""

    deployment: Object
    replica_sets: list[Object]
    pods: dict[str, list[Object]]
    now: Moment
    actions: list[Action] = field(default_factory=list)
    requeue_after: float | None = None

    def __post_init__(self) -> None:
        # Copies, changed as the writes would change the stored objects.
        self.deployment = copy.deepcopy(self.deployment)
        self.replica_sets = [copy.deepcopy(rs) for rs in self.replica_sets]

    @property
    def d(self) -> Object:
        return self.deployment

    def _status(self) -> Object:
        if not isinstance(self.d.get("status"), dict):
            self.d["status"] = {}
        return self.d["status"]

    def _write_status(self) -> None:
        self.actions.append(UpdateDeploymentStatus(annotations_of(self.d).get(REVISION), copy.deepcopy(self._status())))

    def run(self) -> None:
        if deleting(self.d):
            new_rs, old_rss = self._all_replica_sets(create=False)
            self._sync_deployment_status(_with(old_rss, new_rs), new_rs)
            return
        # Paused and resumed are recorded first, so that the time spent paused never counts against the deadline.
        self._check_paused_conditions()
        if spec(self.d).get("paused") or self._is_scaling_event():
            self._sync()
        elif is_rolling_update(self.d):
            self._rollout_rolling()
        else:
            self._rollout_recreate()

    # ---- sync.go ------------------------------------------------------------------------------------------------

    def _check_paused_conditions(self) -> None:
        if not has_progress_deadline(self.d):
            return
        condition = get_condition(self._status(), PROGRESSING)
        if condition is not None and condition.get("reason") == TIMED_OUT:
            return  # a reported lack of progress is not overwritten by pausing
        paused_recorded = condition is not None and condition.get("reason") == PAUSED
        paused = bool(spec(self.d).get("paused"))
        if paused and not paused_recorded:
            set_condition(self._status(), new_condition(PROGRESSING, "Unknown", PAUSED, "Deployment is paused",
                                                        self.now))
        elif not paused and paused_recorded:
            set_condition(self._status(), new_condition(PROGRESSING, "Unknown", RESUMED, "Deployment is resumed",
                                                        self.now))
        else:
            return
        self._write_status()

    def _all_replica_sets(self, *, create: bool) -> tuple[Object | None, list[Object]]:
        _, old_rss = find_old_replica_sets(self.d, self.replica_sets)
        return self._new_replica_set(old_rss, create=create), old_rss

    def _new_replica_set(self, old_rss: list[Object], *, create: bool) -> Object | None:
        d = self.d
        existing = find_new_replica_set(d, self.replica_sets)
        new_revision = str(max_revision(old_rss) + 1)
        min_ready = _int(spec(d).get("minReadySeconds"))
        if existing is not None:
            annotations_changed = set_new_replica_set_annotations(d, existing, new_revision, exists=True)
            if annotations_changed or _int(spec(existing).get("minReadySeconds")) != min_ready:
                _set_min_ready_seconds(existing, min_ready)
                self.actions.append(UpdateReplicaSet(copy.deepcopy(existing), ""))
                return existing
            needs_update = set_deployment_revision(d, annotations_of(existing).get(REVISION, ""))
            if has_progress_deadline(d) and get_condition(self._status(), PROGRESSING) is None:
                set_condition(self._status(), new_condition(PROGRESSING, "True", FOUND_NEW_RS,
                                                            f'Found new replica set "{name_of(existing)}"', self.now))
                needs_update = True
            if needs_update:
                self._write_status()
            return existing
        if not create:
            return None
        template = copy.deepcopy(_dict(spec(d).get("template")))
        collisions = status(d).get("collisionCount")
        template_hash = pod_template_hash(template, collisions if isinstance(collisions, int) else None)
        template.setdefault("metadata", {})["labels"] = {**_dict(template["metadata"].get("labels")),
                                                         POD_TEMPLATE_HASH: template_hash}
        selector = copy.deepcopy(_dict(spec(d).get("selector")))
        selector["matchLabels"] = {**_dict(selector.get("matchLabels")), POD_TEMPLATE_HASH: template_hash}
        name = f"{name_of(d)}-{template_hash}"
        rs_spec: Object = {"replicas": 0}
        if min_ready:
            rs_spec["minReadySeconds"] = min_ready
        rs_spec["selector"] = selector
        rs_spec["template"] = template
        body: Object = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": meta(d).get("namespace", ""),
                         "labels": dict(template["metadata"]["labels"]), "ownerReferences": [controller_ref(d)]},
            "spec": rs_spec,
        }
        count = new_rs_new_replicas(d, [*old_rss, body], body)
        rs_spec["replicas"] = count
        set_new_replica_set_annotations(d, body, new_revision, exists=False)
        event = f"Scaled up replica set {name} from 0 to {count}" if count > 0 else ""
        self.actions.append(CreateReplicaSet(copy.deepcopy(body), event))
        new_rs = copy.deepcopy(body)
        new_rs["metadata"]["creationTimestamp"] = self.now.timestamp
        self.replica_sets.append(new_rs)
        set_deployment_revision(d, new_revision)
        if has_progress_deadline(d):
            set_condition(self._status(), new_condition(PROGRESSING, "True", NEW_RS_CREATED,
                                                        f'Created new replica set "{name}"', self.now))
        self._write_status()
        return new_rs

    def _sync(self) -> None:
        """On a scaling event, or while paused: scale proportionally, no rollout."""
        new_rs, old_rss = self._all_replica_sets(create=False)
        self._scale(new_rs, old_rss)
        if spec(self.d).get("paused"):
            self._cleanup(old_rss)
        self._sync_deployment_status(_with(old_rss, new_rs), new_rs)

    def _is_scaling_event(self) -> bool:
        """Whether an active ReplicaSet was sized for another replica count than the Deployment's now."""
        new_rs, old_rss = self._all_replica_sets(create=False)
        for rs in active_replica_sets(_with(old_rss, new_rs)):
            desired = annotations_of(rs).get(DESIRED_REPLICAS)
            if isinstance(desired, str) and _ATOI.fullmatch(desired) and int(desired) != spec_replicas(self.d):
                return True
        return False

    def _scale(self, new_rs: Object | None, old_rss: list[Object]) -> None:
        d = self.d
        replicas = spec_replicas(d)
        only = find_active_or_latest(new_rs, old_rss)
        if only is not None:
            if spec_replicas(only) != replicas:
                self._scale_and_record(only, replicas)
            return
        if is_saturated(d, new_rs):
            for old in active_replica_sets(old_rss):
                self._scale_and_record(old, 0)
            return
        if not is_rolling_update(d):
            return
        # Several ReplicaSets have pods and the new one is not saturated: spread the change over all of them in
        # proportion to their sizes, so that resizing neither speeds up nor slows down the rollout.
        active = active_replica_sets(_with(old_rss, new_rs))
        allowed = replicas + max_surge(d) if replicas > 0 else 0
        to_add = allowed - replica_count(active)
        operation = ""
        if to_add > 0:
            active = by_size_newer_first(active)
            operation = "up"
        elif to_add < 0:
            active = by_size_older_first(active)
            operation = "down"
        added = 0
        sizes: dict[str, int] = {}
        for rs in active:
            share = proportion(rs, d, to_add, added)
            sizes[name_of(rs)] = spec_replicas(rs) + share
            added += share
        for index, rs in enumerate(active):
            if index == 0 and to_add != 0:
                sizes[name_of(rs)] = max(sizes[name_of(rs)] + to_add - added, 0)  # leftovers to the largest
            self._scale_replica_set(rs, sizes[name_of(rs)], operation)

    def _scale_and_record(self, rs: Object, new_scale: int) -> bool:
        if spec_replicas(rs) == new_scale:
            return False
        return self._scale_replica_set(rs, new_scale, "up" if spec_replicas(rs) < new_scale else "down")

    def _scale_replica_set(self, rs: Object, new_scale: int, operation: str) -> bool:
        """Resize `rs` and record desired/max replicas on it; True when its size changed."""
        desired = spec_replicas(self.d)
        maximum = desired + max_surge(self.d)
        resize = spec_replicas(rs) != new_scale
        if not resize and not replicas_annotations_need_update(rs, desired, maximum):
            return False
        old_scale = spec_replicas(rs)
        rs.setdefault("spec", {})["replicas"] = new_scale
        set_replicas_annotations(rs, desired, maximum)
        event = f"Scaled {operation} replica set {name_of(rs)} from {old_scale} to {new_scale}" if resize else ""
        self.actions.append(UpdateReplicaSet(copy.deepcopy(rs), event))
        return resize

    def _cleanup(self, old_rss: list[Object]) -> None:
        """Delete the oldest old ReplicaSets beyond revisionHistoryLimit, once they are empty and observed."""
        if not has_revision_history_limit(self.d):
            return
        cleanable = [rs for rs in old_rss if not deleting(rs)]
        surplus = len(cleanable) - _int(spec(self.d).get("revisionHistoryLimit"))
        if surplus <= 0:
            return
        for rs in by_revision(cleanable)[:surplus]:
            if status_count(rs, "replicas") or spec_replicas(rs) or generation_of(rs) > status_count(
                rs, "observedGeneration"
            ):
                continue
            self.actions.append(DeleteReplicaSet(name_of(rs)))

    def _sync_deployment_status(self, all_rss: list[Object], new_rs: Object | None) -> None:
        new = calculate_status(all_rss, new_rs, self.d, self.now)
        if new != status(self.d):
            self.d["status"] = new
            self._write_status()

    # ---- rolling.go ---------------------------------------------------------------------------------------------

    def _rollout_rolling(self) -> None:
        new_rs, old_rss = self._all_replica_sets(create=True)
        assert new_rs is not None  # created when missing
        all_rss = [*old_rss, new_rs]
        if self._reconcile_new(all_rss, new_rs) or self._reconcile_old(all_rss, active_replica_sets(old_rss),
                                                                        new_rs):
            self._sync_rollout_status(all_rss, new_rs)
            return
        if deployment_complete(self.d, status(self.d)):
            self._cleanup(old_rss)
        self._sync_rollout_status(all_rss, new_rs)

    def _reconcile_new(self, all_rss: list[Object], new_rs: Object) -> bool:
        replicas = spec_replicas(self.d)
        if spec_replicas(new_rs) == replicas:
            return False
        if spec_replicas(new_rs) > replicas:
            return self._scale_and_record(new_rs, replicas)
        return self._scale_and_record(new_rs, new_rs_new_replicas(self.d, all_rss, new_rs))

    def _reconcile_old(self, all_rss: list[Object], old_rss: list[Object], new_rs: Object) -> bool:
        if replica_count(old_rss) == 0:
            return False
        min_available = spec_replicas(self.d) - max_unavailable(self.d)
        new_unavailable = spec_replicas(new_rs) - status_count(new_rs, "availableReplicas")
        # Only what keeps minAvailable, counting the new ReplicaSet's unavailable pods as unavailable already: a
        # crash-looping new ReplicaSet must not eat into the old pods that still serve.
        max_scaled_down = replica_count(all_rss) - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        cleaned = self._cleanup_unhealthy(old_rss, max_scaled_down)
        if cleaned is None:
            return False
        scaled = self._scale_down_old_for_rolling_update([*old_rss, new_rs], old_rss)
        return cleaned + scaled > 0

    def _cleanup_unhealthy(self, old_rss: list[Object], most: int) -> int | None:
        """Scale old ReplicaSets down by their unavailable pods first: removing those costs no availability, and
        they would otherwise block the rollout (kubernetes#16737). None when a ReplicaSet reports more available
        pods than it should have (a stale status): the real controller gives up on scaling down for this pass."""
        total = 0
        for rs in by_creation(old_rss):
            if total >= most:
                break
            unhealthy = spec_replicas(rs) - status_count(rs, "availableReplicas")
            if spec_replicas(rs) == 0 or unhealthy == 0:
                continue
            if unhealthy < 0:
                return None
            down = min(most - total, unhealthy)
            self._scale_and_record(rs, spec_replicas(rs) - down)
            total += down
        return total

    def _scale_down_old_for_rolling_update(self, all_rss: list[Object], old_rss: list[Object]) -> int:
        min_available = spec_replicas(self.d) - max_unavailable(self.d)
        available = _status_total(all_rss, "availableReplicas")
        if available <= min_available:
            return 0
        to_scale_down = available - min_available
        total = 0
        for rs in by_creation(old_rss):
            if total >= to_scale_down:
                break
            if spec_replicas(rs) == 0:
                continue
            down = min(spec_replicas(rs), to_scale_down - total)
            self._scale_and_record(rs, spec_replicas(rs) - down)
            total += down
        return total

    # ---- recreate.go --------------------------------------------------------------------------------------------

    def _rollout_recreate(self) -> None:
        new_rs, old_rss = self._all_replica_sets(create=False)
        scaled_down = False
        for rs in active_replica_sets(old_rss):
            scaled_down = self._scale_and_record(rs, 0) or scaled_down
        if scaled_down or self._old_pods_running(new_rs, old_rss):
            self._sync_rollout_status(_with(old_rss, new_rs), new_rs)
            return
        if new_rs is None:
            new_rs, old_rss = self._all_replica_sets(create=True)
            assert new_rs is not None
        self._scale_and_record(new_rs, spec_replicas(self.d))
        if deployment_complete(self.d, status(self.d)):
            self._cleanup(old_rss)
        self._sync_rollout_status([*old_rss, new_rs], new_rs)

    def _old_pods_running(self, new_rs: Object | None, old_rss: list[Object]) -> bool:
        """Whether an old ReplicaSet still reports pods, or any pod not of the new one has not finished."""
        if _status_total(old_rss, "replicas") > 0:
            return True
        new_uid = uid_of(new_rs) if new_rs is not None else None
        return any(status(pod).get("phase") not in ("Failed", "Succeeded")
                   for uid, pods in self.pods.items() if uid != new_uid for pod in pods)

    # ---- progress.go --------------------------------------------------------------------------------------------

    def _sync_rollout_status(self, all_rss: list[Object], new_rs: Object | None) -> None:
        d = self.d
        new = calculate_status(all_rss, new_rs, d, self.now)
        if not has_progress_deadline(d):
            remove_condition(new, PROGRESSING)
        current = get_condition(status(d), PROGRESSING)
        complete_before = (_int(new.get("replicas")) == _int(new.get("updatedReplicas")) and current is not None
                           and current.get("reason") == NEW_RS_AVAILABLE)
        if has_progress_deadline(d) and not complete_before:
            subject = f'ReplicaSet "{name_of(new_rs)}"' if new_rs is not None else f'Deployment "{name_of(d)}"'
            if deployment_complete(d, new):
                set_condition(new, new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE,
                                                 f"{subject} has successfully progressed.", self.now))
            elif deployment_progressing(d, new):
                # Progress moves lastUpdateTime even when the reason stays: that is what the deadline runs from.
                condition = new_condition(PROGRESSING, "True", RS_UPDATED, f"{subject} is progressing.", self.now)
                if current is not None:
                    if current.get("status") == "True":
                        condition["lastTransitionTime"] = current.get("lastTransitionTime")
                    remove_condition(new, PROGRESSING)
                set_condition(new, condition)
            elif deployment_timed_out(d, new, self.now):
                set_condition(new, new_condition(PROGRESSING, "False", TIMED_OUT,
                                                 f"{subject} has timed out progressing.", self.now))
        failures = replica_failures(all_rss, new_rs)
        if failures:
            set_condition(new, failures[0])
        else:
            remove_condition(new, REPLICA_FAILURE)
        if new == status(d):
            self.requeue_after = requeue_stuck_after(d, new, self.now)
            return
        d["status"] = new
        self._write_status()


def _with(old_rss: list[Object], new_rs: Object | None) -> list[Object]:
    return [*old_rss, new_rs] if new_rs is not None else list(old_rss)


def _set_min_ready_seconds(rs: Object, seconds: int) -> None:
    rs_spec = rs.setdefault("spec", {})
    if seconds:
        rs_spec["minReadySeconds"] = seconds
    else:
        rs_spec.pop("minReadySeconds", None)
