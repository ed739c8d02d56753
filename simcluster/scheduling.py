"""Where kube-scheduler's default profile (Kubernetes 1.32) puts a pod, and why it cannot when nothing fits. Pure.

A pod is checked against every node by the default profile's filters, in its order, each node stopping at the
first that rejects it: NodeUnschedulable (`spec.unschedulable`), TaintToleration (NoSchedule and NoExecute
taints), NodeAffinity (`nodeSelector` and required node affinity) and NodeResourcesFit (cpu, memory,
ephemeral-storage and extended resources requested, and the node's `pods` capacity). Of the nodes that pass, the one
with the best weighted score wins: TaintToleration (PreferNoSchedule taints, weight 3), NodeAffinity (preferred
terms, weight 2) and NodeResourcesFit's LeastAllocated (weight 1, which spreads pods). kube-scheduler breaks ties
at random; here the first node in the order given wins, so a run can be repeated.

A node whose Ready condition is not True counts as carrying the taint the node lifecycle controller would give it
(`node.kubernetes.io/not-ready`, or `unreachable` when Ready is Unknown or missing), with pressure conditions
likewise, so a pod is kept off it in the words a real cluster uses.

When no node fits, the FailedScheduling message is `FitError.Error()` followed by what DefaultPreemption found:
`0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient memory. preemption: 0/3 nodes are available:
1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.` Each reason is counted
once per node it rejected, and the "<count> <reason>" strings are sorted as strings, as Go's `sort.Strings` sorts
them (so "10 ..." comes before "2 ..."). Only a failure of NodeResourcesFit is one preemption might resolve; this
module reports what preemption would find but never preempts.

Left out, as in a cluster without them: NodePorts, volumes, pod topology spread, inter-pod affinity, image
locality, balanced allocation. Node accounting (`NodeInfo`) is kept incrementally by the caller: pods are added
and removed as they are bound and finish, so choosing a node costs one pass over the nodes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from controlplane.registry.quantity import parse_quantity
from controlplane.registry.values import as_dict, as_int, as_list, as_str, dicts

MAX_NODE_SCORE = 100
# What LeastAllocated counts for a container that requests no cpu or no memory (schedutil's defaults).
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

NO_NODES_AVAILABLE = "no nodes available to schedule pods"
REASON_UNSCHEDULABLE = "node(s) were unschedulable"
REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_AFFINITY_CONFLICT = "pod affinity terms conflict"
REASON_NOT_IN_PREFILTER = "node(s) didn't satisfy plugin(s) [NodeAffinity]"
REASON_TOO_MANY_PODS = "Too many pods"
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
PREEMPTION_NO_VICTIMS = "No preemption victims found for incoming pod"
PREEMPTION_NEVER = "not eligible due to preemptionPolicy=Never."

TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
# The NoSchedule taints the node lifecycle controller derives from conditions (TaintNodesByCondition).
_CONDITION_TAINTS = {
    ("Ready", "False"): "node.kubernetes.io/not-ready",
    ("Ready", "Unknown"): "node.kubernetes.io/unreachable",
    ("MemoryPressure", "True"): "node.kubernetes.io/memory-pressure",
    ("DiskPressure", "True"): "node.kubernetes.io/disk-pressure",
    ("PIDPressure", "True"): "node.kubernetes.io/pid-pressure",
    ("NetworkUnavailable", "True"): "node.kubernetes.io/network-unavailable",
}
_NAMED_RESOURCES = ("cpu", "memory", "ephemeral-storage", "pods")
_WEIGHT_TAINT_TOLERATION = 3
_WEIGHT_NODE_AFFINITY = 2
_WEIGHT_LEAST_ALLOCATED = 1


# ---- resources ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resources:
    """Amounts as the scheduler counts them: cpu in millicores, the rest in whole units (bytes, devices)."""

    milli_cpu: int = 0
    memory: int = 0
    ephemeral_storage: int = 0
    scalars: Mapping[str, int] = field(default_factory=dict)  # extended resources and hugepages

    def plus(self, other: Resources) -> Resources:
        return Resources(self.milli_cpu + other.milli_cpu, self.memory + other.memory,
                         self.ephemeral_storage + other.ephemeral_storage, _combine(self.scalars, other.scalars, 1))

    def minus(self, other: Resources) -> Resources:
        return Resources(self.milli_cpu - other.milli_cpu, self.memory - other.memory,
                         self.ephemeral_storage - other.ephemeral_storage, _combine(self.scalars, other.scalars, -1))

    def at_least(self, other: Resources) -> Resources:
        """The larger of each amount."""
        names = set(self.scalars) | set(other.scalars)
        return Resources(max(self.milli_cpu, other.milli_cpu), max(self.memory, other.memory),
                         max(self.ephemeral_storage, other.ephemeral_storage),
                         {n: max(self.scalars.get(n, 0), other.scalars.get(n, 0)) for n in names})


def _combine(a: Mapping[str, int], b: Mapping[str, int], sign: int) -> Mapping[str, int]:
    if not b:
        return a
    out = dict(a)
    for name, amount in b.items():
        out[name] = out.get(name, 0) + sign * amount
    return out


def _is_scalar(name: str) -> bool:
    """Extended resources (`vendor/name`), `kubernetes.io/`-prefixed ones and hugepages."""
    return name not in _NAMED_RESOURCES and ("/" in name or name.startswith("hugepages-"))


def resource_list(amounts: Any, *, missing: Resources | None = None) -> Resources:
    """A ResourceList (`{"cpu": "500m", "memory": "1Gi"}`) as amounts; `missing` fills cpu and memory when absent
    (LeastAllocated's non-zero defaults)."""
    amounts = as_dict(amounts)
    milli_cpu = memory = ephemeral = 0
    scalars: dict[str, int] = {}
    for name, value in amounts.items():
        if name == "cpu":
            milli_cpu = parse_quantity(value).milli_value()
        elif name == "memory":
            memory = parse_quantity(value).int_value()
        elif name == "ephemeral-storage":
            ephemeral = parse_quantity(value).int_value()
        elif _is_scalar(name):
            scalars[name] = parse_quantity(value).int_value()
    if missing is not None:
        milli_cpu = milli_cpu if "cpu" in amounts else missing.milli_cpu
        memory = memory if "memory" in amounts else missing.memory
    return Resources(milli_cpu, memory, ephemeral, scalars)


def pod_requests(spec: Any, *, missing: Resources | None = None) -> Resources:
    """What the pod asks of a node, as `resourcehelper.PodRequests` computes it: the sum over its containers,
    raised to what any init container needs while it runs (sidecars, `restartPolicy: Always`, keep running and add
    up), plus the pod's overhead."""
    spec = as_dict(spec)

    def requests(container: dict[str, Any]) -> Resources:
        return resource_list(as_dict(container.get("resources")).get("requests"), missing=missing)

    total = Resources()
    for container in dicts(spec.get("containers")):
        total = total.plus(requests(container))
    sidecars = Resources()
    init_peak = Resources()
    for container in dicts(spec.get("initContainers")):
        own = requests(container)
        if container.get("restartPolicy") == "Always":
            total = total.plus(own)
            sidecars = sidecars.plus(own)
            running = sidecars
        else:
            running = own.plus(sidecars)
        init_peak = init_peak.at_least(running)
    return total.at_least(init_peak).plus(resource_list(spec.get("overhead")))


_NON_ZERO = Resources(DEFAULT_MILLI_CPU_REQUEST, DEFAULT_MEMORY_REQUEST)


@dataclass(frozen=True)
class PodUsage:
    """What a pod takes on its node: its requests, the same with the non-zero defaults (for scoring), and its
    priority (who preemption could evict)."""

    requests: Resources
    non_zero: Resources
    priority: int


def usage(pod: Mapping[str, Any]) -> PodUsage:
    spec = as_dict(pod.get("spec"))
    return PodUsage(pod_requests(spec), pod_requests(spec, missing=_NON_ZERO), as_int(spec.get("priority")) or 0)


# ---- nodes --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str


def _conditions(node: Mapping[str, Any]) -> dict[str, str]:
    conditions = dicts(as_dict(node.get("status")).get("conditions"))
    return {as_str(c.get("type")): as_str(c.get("status")) for c in conditions}


def effective_taints(node: Mapping[str, Any]) -> tuple[Taint, ...]:
    """The node's taints, then the NoSchedule taints its conditions imply and it does not carry yet."""
    taints = [Taint(as_str(t.get("key")), as_str(t.get("value")), as_str(t.get("effect")))
              for t in dicts(as_dict(node.get("spec")).get("taints"))]
    conditions = _conditions(node)
    implied = [_CONDITION_TAINTS.get((kind, status)) for kind, status in conditions.items()]
    if "Ready" not in conditions:
        implied.append(_CONDITION_TAINTS["Ready", "Unknown"])
    carried = {(t.key, t.effect) for t in taints}
    taints += [Taint(key, "", "NoSchedule") for key in implied if key and (key, "NoSchedule") not in carried]
    return tuple(taints)


class NodeInfo:
    """A node and the pods counted on it (bound or about to be, not finished), their totals kept as pods come and
    go. The node itself may be unknown yet (pods name it before it registers, or after it is gone)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.node: Mapping[str, Any] | None = None
        self.labels: Mapping[str, str] = {}
        self.taints: tuple[Taint, ...] = ()
        self.unschedulable = False
        self.allocatable = Resources()
        self.allowed_pods = 0
        self.pods: dict[Hashable, PodUsage] = {}
        self.requested = Resources()
        self.non_zero_requested = Resources()

    def set_node(self, node: Mapping[str, Any] | None) -> None:
        self.node = node
        if node is None:
            return
        self.labels = {k: v for k, v in as_dict(as_dict(node.get("metadata")).get("labels")).items()
                       if isinstance(v, str)}
        self.taints = effective_taints(node)
        self.unschedulable = as_dict(node.get("spec")).get("unschedulable") is True
        allocatable = as_dict(as_dict(node.get("status")).get("allocatable"))
        self.allocatable = resource_list(allocatable)
        self.allowed_pods = parse_quantity(allocatable["pods"]).int_value() if "pods" in allocatable else 0

    def add(self, key: Hashable, pod: PodUsage) -> None:
        self.remove(key)
        self.pods[key] = pod
        self.requested = self.requested.plus(pod.requests)
        self.non_zero_requested = self.non_zero_requested.plus(pod.non_zero)

    def remove(self, key: Hashable) -> None:
        pod = self.pods.pop(key, None)
        if pod is not None:
            self.requested = self.requested.minus(pod.requests)
            self.non_zero_requested = self.non_zero_requested.minus(pod.non_zero)


def scheduling_view(node: Mapping[str, Any]) -> tuple[Any, ...]:
    """What of a node can change where pods fit (not its heartbeats): a pod that did not fit is tried again only
    when this changes."""
    status = as_dict(node.get("status"))
    return (as_dict(node.get("metadata")).get("labels"), effective_taints(node),
            as_dict(node.get("spec")).get("unschedulable"), status.get("allocatable"))


# ---- node affinity ------------------------------------------------------------------------------------------------


def _requirement_matches(requirement: Mapping[str, Any], values_of: Mapping[str, str]) -> bool:
    """One NodeSelectorRequirement against labels (or fields). One that cannot be parsed (In without values, Gt
    with a bound that is not an integer) matches nothing, which makes its term match nothing, as kube-scheduler
    ignores such terms."""
    key, operator = as_str(requirement.get("key")), as_str(requirement.get("operator"))
    values = [v for v in as_list(requirement.get("values")) if isinstance(v, str)]
    present = key in values_of
    if operator in ("In", "NotIn"):
        return bool(values) and (present and values_of[key] in values) == (operator == "In")
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator not in ("Gt", "Lt") or len(values) != 1 or not present:
        return False
    try:
        bound, actual = int(values[0]), int(values_of[key])
    except ValueError:
        return False
    return actual > bound if operator == "Gt" else actual < bound


def _term_matches(term: Mapping[str, Any], node: NodeInfo) -> bool:
    """A NodeSelectorTerm: every expression on the labels and every field (metadata.name) must match; an empty or
    unparsable term matches nothing."""
    expressions, fields = dicts(term.get("matchExpressions")), dicts(term.get("matchFields"))
    if not expressions and not fields:
        return False
    for requirement in expressions:
        if not _requirement_matches(requirement, node.labels):
            return False
    for requirement in fields:
        # Fields: only metadata.name, with In or NotIn and a single value.
        if (as_str(requirement.get("key")) != "metadata.name" or requirement.get("operator") not in ("In", "NotIn")
                or len(as_list(requirement.get("values"))) != 1):
            return False
        if not _requirement_matches(requirement, {"metadata.name": node.name}):
            return False
    return True


def _node_names_required(terms: list[dict[str, Any]]) -> set[str] | None:
    """NodeAffinity's PreFilter: the nodes named by `metadata.name In` fields of every term, when every term names
    some; None when any term leaves all nodes possible."""
    names: set[str] = set()
    for term in terms:
        named: set[str] | None = None
        for requirement in dicts(term.get("matchFields")):
            if as_str(requirement.get("key")) == "metadata.name" and requirement.get("operator") == "In":
                values = {v for v in as_list(requirement.get("values")) if isinstance(v, str)}
                named = values if named is None else named & values
        if named is None:
            return None
        names |= named
    return names


# ---- the pod being scheduled --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Toleration:
    key: str
    operator: str
    value: str
    effect: str

    def tolerates(self, taint: Taint) -> bool:
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator == "Exists":
            return True
        return self.operator in ("", "Equal") and self.value == taint.value


@dataclass(frozen=True)
class _Pod:
    usage: PodUsage
    tolerations: tuple[Toleration, ...]
    node_selector: Mapping[str, Any]
    required_terms: list[dict[str, Any]] | None  # None: no required node affinity
    preferred_terms: list[tuple[int, dict[str, Any]]]
    preempts: bool

    @classmethod
    def of(cls, pod: Mapping[str, Any]) -> _Pod:
        spec = as_dict(pod.get("spec"))
        node_affinity = as_dict(as_dict(spec.get("affinity")).get("nodeAffinity"))
        required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
        preferred = []
        for term in dicts(node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution")):
            weight, preference = as_int(term.get("weight")) or 0, as_dict(term.get("preference"))
            if weight and (preference.get("matchExpressions") or preference.get("matchFields")):
                preferred.append((weight, preference))
        tolerations = tuple(
            Toleration(as_str(t.get("key")), as_str(t.get("operator")), as_str(t.get("value")), as_str(t.get("effect")))
            for t in dicts(spec.get("tolerations"))
        )
        return cls(usage(pod), tolerations, as_dict(spec.get("nodeSelector")),
                   dicts(as_dict(required).get("nodeSelectorTerms")) if isinstance(required, dict) else None,
                   preferred, spec.get("preemptionPolicy") != "Never")

    def tolerates(self, taint: Taint) -> bool:
        return any(t.tolerates(taint) for t in self.tolerations)

    def matches_required(self, node: NodeInfo) -> bool:
        for key, value in self.node_selector.items():
            if node.labels.get(key) != value:
                return False
        return self.required_terms is None or any(_term_matches(t, node) for t in self.required_terms)


# ---- filtering ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """Why one node cannot take the pod; `resolvable` when evicting lower-priority pods could change that (only
    NodeResourcesFit's reasons are)."""

    reasons: tuple[str, ...]
    resolvable: bool = False


def _insufficient(pod: Resources, free: Resources) -> list[str]:
    """NodeResourcesFit's reasons for requests beyond what is free, in its order (a resource the pod does not
    request never is, even on a node already over-committed)."""
    wanted = [("cpu", pod.milli_cpu, free.milli_cpu), ("memory", pod.memory, free.memory),
              ("ephemeral-storage", pod.ephemeral_storage, free.ephemeral_storage)]
    wanted += [(name, pod.scalars[name], free.scalars.get(name, 0)) for name in sorted(pod.scalars)]
    return [f"Insufficient {name}" for name, amount, available in wanted if amount > max(available, 0)]


def _fit(pod: _Pod, node: NodeInfo, pods: Iterable[PodUsage] | None = None) -> Rejection | None:
    """NodeResourcesFit, against what is on the node (or, for preemption, against `pods` only)."""
    if pods is None:
        count, requested = len(node.pods), node.requested
    else:
        remaining = list(pods)
        count, requested = len(remaining), Resources()
        for other in remaining:
            requested = requested.plus(other.requests)
    reasons = [REASON_TOO_MANY_PODS] if count + 1 > node.allowed_pods else []
    reasons += _insufficient(pod.usage.requests, node.allocatable.minus(requested))
    return Rejection(tuple(reasons), resolvable=True) if reasons else None


def _filter(pod: _Pod, node: NodeInfo) -> Rejection | None:
    """The default profile's filters in order; the first that rejects the node says why."""
    if node.unschedulable and not pod.tolerates(Taint(TAINT_UNSCHEDULABLE, "", "NoSchedule")):
        return Rejection((REASON_UNSCHEDULABLE,))
    for taint in node.taints:
        if taint.effect in ("NoSchedule", "NoExecute") and not pod.tolerates(taint):
            return Rejection((f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}",))
    if not pod.matches_required(node):
        return Rejection((REASON_NODE_AFFINITY,))
    return _fit(pod, node)


# ---- scoring ------------------------------------------------------------------------------------------------------


def _least_allocated(pod: _Pod, node: NodeInfo) -> int:
    scores = []
    for requested, allocatable in (
        (node.non_zero_requested.milli_cpu + pod.usage.non_zero.milli_cpu, node.allocatable.milli_cpu),
        (node.non_zero_requested.memory + pod.usage.non_zero.memory, node.allocatable.memory),
    ):
        if allocatable == 0:
            continue
        scores.append(0 if requested > allocatable else (allocatable - requested) * MAX_NODE_SCORE // allocatable)
    return sum(scores) // len(scores) if scores else 0


def _normalized(raw: list[int], *, reverse: bool) -> list[int]:
    """DefaultNormalizeScore: scaled to 0..100 of the highest, reversed for counts of what is unwanted."""
    highest = max(raw)
    if highest == 0:
        return [MAX_NODE_SCORE if reverse else 0 for _ in raw]
    scaled = [MAX_NODE_SCORE * score // highest for score in raw]
    return [MAX_NODE_SCORE - s for s in scaled] if reverse else scaled


def _best(pod: _Pod, feasible: list[NodeInfo]) -> NodeInfo:
    untolerated = [
        sum(1 for t in node.taints if t.effect == "PreferNoSchedule"
            and not any(tol.tolerates(t) for tol in pod.tolerations if tol.effect in ("", "PreferNoSchedule")))
        for node in feasible
    ]
    preferred = [sum(weight for weight, term in pod.preferred_terms if _term_matches(term, node)) for node in feasible]
    totals = [
        _WEIGHT_TAINT_TOLERATION * taint + _WEIGHT_NODE_AFFINITY * affinity
        + _WEIGHT_LEAST_ALLOCATED * _least_allocated(pod, node)
        for node, taint, affinity in zip(feasible, _normalized(untolerated, reverse=True),
                                         _normalized(preferred, reverse=False), strict=True)
    ]
    return feasible[totals.index(max(totals))]


# ---- the decision -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """The node chosen, or ("", the FailedScheduling message) when no node fits."""

    node: str = ""
    message: str = ""


def _histogram(rejections: Iterable[Rejection], absent: int, absent_reason: str) -> str:
    """`3 Insufficient memory, 1 node(s) were unschedulable`: each reason with the number of nodes it rejected,
    sorted as Go sorts the strings."""
    counts: dict[str, int] = {}
    for rejection in rejections:
        for reason in rejection.reasons:
            counts[reason] = counts.get(reason, 0) + 1
    if absent:
        counts[absent_reason] = counts.get(absent_reason, 0) + absent
    return ", ".join(sorted(f"{n} {reason}" for reason, n in counts.items()))


def _preemption(pod: _Pod, nodes: Sequence[NodeInfo], rejected: Mapping[str, Rejection]) -> str:
    """DefaultPreemption's PostFilter message, with the nodes evicting lower-priority pods might free; "" when it
    would find a node (kube-scheduler would then preempt, which this module does not)."""
    if not pod.preempts:
        return f"preemption: {PREEMPTION_NEVER}"
    outcomes: list[Rejection] = []
    for node in nodes:
        rejection = rejected.get(node.name)
        if rejection is None or not rejection.resolvable:
            continue
        keep = [other for other in node.pods.values() if other.priority >= pod.usage.priority]
        if len(keep) == len(node.pods):
            outcomes.append(Rejection((PREEMPTION_NO_VICTIMS,)))
            continue
        without_victims = _fit(pod, node, keep)
        if without_victims is None:
            return ""
        outcomes.append(without_victims)
    histogram = _histogram(outcomes, len(nodes) - len(outcomes), PREEMPTION_NOT_HELPFUL)
    return f"preemption: 0/{len(nodes)} nodes are available: {histogram}."


def schedule(pod: Mapping[str, Any], nodes: Sequence[NodeInfo]) -> Decision:
    """Where `pod` goes among `nodes` (each with the pods already counted on it), or why it cannot go anywhere."""
    if not nodes:
        return Decision(message=NO_NODES_AVAILABLE)
    candidate = _Pod.of(pod)
    total = len(nodes)
    named = _node_names_required(candidate.required_terms) if candidate.required_terms else None
    if named is not None and not named:
        preemption = _preemption(candidate, nodes, {})
        return Decision(message=f"0/{total} nodes are available: {REASON_AFFINITY_CONFLICT}. {preemption}")
    considered = [n for n in nodes if named is None or n.name in named]
    rejected: dict[str, Rejection] = {}
    feasible = []
    for node in considered:
        rejection = _filter(candidate, node)
        if rejection is None:
            feasible.append(node)
        else:
            rejected[node.name] = rejection
    if feasible:
        return Decision(node=_best(candidate, feasible).name)
    histogram = _histogram(rejected.values(), total - len(considered), REASON_NOT_IN_PREFILTER)
    message = f"0/{total} nodes are available: {histogram}."
    preemption = _preemption(candidate, nodes, rejected)
    return Decision(message=f"{message} {preemption}" if preemption else message)
