"""Where the simulated kube-scheduler puts a pod, and the FailedScheduling message when nothing fits."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest

from api.registry import ResourceType
from controlplane import errors
from controlplane.storage.keys import ROOT_WORKSPACE, ObjectKey, object_key
from controlplane.storage.watchcache import CachedObject
from controlplane.store import Store
from simcluster.clock import Clock
from simcluster.events import EventRecorder
from simcluster.scheduler import Scheduler
from simcluster.scheduling import (
    NodeInfo,
    Resources,
    effective_taints,
    pod_requests,
    schedule,
    scheduling_view,
    usage,
)
from tests.unit.fakes import FakeCache

NOTHING_TO_PREEMPT = "preemption: 0/{n} nodes are available: {n} No preemption victims found for incoming pod."
NOT_HELPFUL = "preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling."


def node_object(name: str, *, cpu: str = "4", memory: str = "8Gi", pods: str = "110",
                labels: dict[str, str] | None = None, taints: list[dict[str, str]] | None = None,
                unschedulable: bool = False, ready: str | None = "True", **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready, "lastHeartbeatTime": "2026-01-01T00:00:00Z"})
    allocatable = {"cpu": cpu, "memory": memory, "pods": pods, "ephemeral-storage": "10Gi", **extra}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": spec,
        "status": {"capacity": allocatable, "allocatable": allocatable, "conditions": conditions},
    }


def node(name: str, **kwargs: Any) -> NodeInfo:
    info = NodeInfo(name)
    info.set_node(node_object(name, **kwargs))
    return info


def pod(*, cpu: str | None = None, memory: str | None = None, init: list[dict[str, Any]] | None = None,
        **spec: Any) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: dict[str, Any] = {"name": "app", "image": "nginx"}
    if requests:
        container["resources"] = {"requests": requests}
    body: dict[str, Any] = {"containers": [container], **spec}
    if init:
        body["initContainers"] = init
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": body}


def place(info: NodeInfo, name: str, **pod_spec: Any) -> None:
    info.add(("default", name), usage(pod(**pod_spec)))


def failure(p: dict[str, Any], nodes: list[NodeInfo]) -> str:
    decision = schedule(p, nodes)
    assert decision.node == "", decision
    return decision.message


# ---- what a pod asks for ---------------------------------------------------------------------------------------


def test_requests_add_up_over_containers_in_the_units_the_scheduler_counts() -> None:
    spec = pod(cpu="250m", memory="1.5Gi")["spec"]
    spec["containers"].append({"name": "b", "resources": {"requests": {"cpu": "0.5", "memory": "512Mi",
                                                                       "ephemeral-storage": "1G"}}})
    assert pod_requests(spec) == Resources(750, 2 * 1024**3, 10**9, {})


def test_an_init_container_bigger_than_the_containers_sets_the_request() -> None:
    init = [{"name": "migrate", "resources": {"requests": {"memory": "3Gi", "cpu": "100m"}}}]
    assert pod_requests(pod(cpu="1", memory="1Gi", init=init)["spec"]) == Resources(1000, 3 * 1024**3)


def test_sidecars_keep_running_so_they_add_to_the_containers_and_to_later_init_containers() -> None:
    init = [
        {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"memory": "1Gi"}}},
        {"name": "migrate", "resources": {"requests": {"memory": "4Gi"}}},
    ]
    # While migrate runs: proxy 1Gi + migrate 4Gi = 5Gi; afterwards: app 2Gi + proxy 1Gi = 3Gi.
    assert pod_requests(pod(memory="2Gi", init=init)["spec"]).memory == 5 * 1024**3


def test_the_pod_overhead_is_added() -> None:
    spec = pod(cpu="1", memory="1Gi", overhead={"cpu": "250m", "memory": "120Mi"})["spec"]
    assert pod_requests(spec) == Resources(1250, 1024**3 + 120 * 1024**2)


def test_scoring_counts_containers_without_requests_as_100m_and_200mi() -> None:
    spec = pod(memory="1Gi")["spec"]
    assert usage(pod(memory="1Gi")).requests == Resources(0, 1024**3)
    assert pod_requests(spec, missing=Resources(100, 200 * 1024**2)) == Resources(100, 1024**3)


def test_extended_resources_and_hugepages_are_counted_but_unknown_names_are_not() -> None:
    spec = {"containers": [{"name": "a", "resources": {"requests": {
        "nvidia.com/gpu": "2", "hugepages-2Mi": "4Mi", "storage": "1Gi"}}}]}
    assert pod_requests(spec).scalars == {"nvidia.com/gpu": 2, "hugepages-2Mi": 4 * 1024**2}


# ---- choosing a node -------------------------------------------------------------------------------------------


def test_a_pod_goes_to_the_least_allocated_node() -> None:
    busy, idle = node("a"), node("b")
    place(busy, "x", cpu="2", memory="4Gi")
    assert schedule(pod(cpu="100m", memory="128Mi"), [busy, idle]).node == "b"


def test_ties_go_to_the_first_node_given() -> None:
    assert schedule(pod(cpu="100m"), [node("b"), node("a")]).node == "b"


def test_pods_without_requests_still_spread_over_the_nodes() -> None:
    nodes = [node("a"), node("b"), node("c")]
    chosen = []
    for i in range(6):
        decision = schedule(pod(), nodes)
        chosen.append(decision.node)
        next(n for n in nodes if n.name == decision.node).add(("default", f"p{i}"), usage(pod()))
    assert chosen == ["a", "b", "c", "a", "b", "c"]


def test_two_thousand_pods_spread_evenly_over_fifty_nodes() -> None:
    nodes = {f"node-{i:02}": node(f"node-{i:02}") for i in range(50)}
    ordered = list(nodes.values())
    small = pod(cpu="10m", memory="10Mi")
    for i in range(2000):
        nodes[schedule(small, ordered).node].add(("default", f"p{i}"), usage(small))
    assert {len(n.pods) for n in ordered} == {40}


def test_a_preferred_node_affinity_outweighs_free_room() -> None:
    busy = node("gpu", labels={"accelerator": "yes"})
    place(busy, "x", cpu="3", memory="6Gi")
    preferred = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 50, "preference": {"matchExpressions": [{"key": "accelerator", "operator": "Exists"}]}},
    ]}}
    assert schedule(pod(cpu="100m", affinity=preferred), [node("plain"), busy]).node == "gpu"


def test_a_prefer_no_schedule_taint_steers_pods_elsewhere_but_does_not_forbid() -> None:
    tainted = node("a", taints=[{"key": "spot", "value": "true", "effect": "PreferNoSchedule"}])
    assert schedule(pod(), [tainted, node("b")]).node == "b"
    assert schedule(pod(), [tainted]).node == "a"
    tolerating = pod(tolerations=[{"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"}])
    assert schedule(tolerating, [tainted, node("b")]).node == "a"


# ---- resources -------------------------------------------------------------------------------------------------


def test_more_memory_than_any_node_has() -> None:
    nodes = [node("a", memory="4Gi"), node("b", memory="4Gi"), node("c", memory="4Gi")]
    assert failure(pod(memory="8Gi"), nodes) == (
        "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption "
        "victims found for incoming pod."
    )


def test_a_node_short_of_cpu_and_memory_counts_for_both() -> None:
    nodes = [node("a", cpu="1", memory="1Gi"), node("b", cpu="8", memory="1Gi")]
    assert failure(pod(cpu="2", memory="2Gi"), nodes) == (
        "0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory. " + NOTHING_TO_PREEMPT.format(n=2)
    )


def test_what_is_already_on_a_node_counts() -> None:
    full = node("a", memory="4Gi")
    place(full, "x", memory="3Gi")
    assert failure(pod(memory="2Gi"), [full]).startswith("0/1 nodes are available: 1 Insufficient memory.")
    full.remove(("default", "x"))
    assert schedule(pod(memory="2Gi"), [full]).node == "a"


def test_a_pod_fits_exactly_into_what_is_free() -> None:
    n = node("a", cpu="1", memory="1Gi")
    place(n, "x", cpu="500m", memory="512Mi")
    assert schedule(pod(cpu="500m", memory="512Mi"), [n]).node == "a"


def test_the_pods_capacity_is_a_resource_too() -> None:
    n = node("a", pods="2")
    place(n, "x")
    place(n, "y")
    assert failure(pod(), [n]) == "0/1 nodes are available: 1 Too many pods. " + NOTHING_TO_PREEMPT.format(n=1)


def test_ephemeral_storage_and_extended_resources() -> None:
    n = node("a", **{"nvidia.com/gpu": "1"})
    spec = pod()
    spec["spec"]["containers"][0]["resources"] = {"requests": {"ephemeral-storage": "20Gi", "nvidia.com/gpu": "2"}}
    assert failure(spec, [n]).startswith(
        "0/1 nodes are available: 1 Insufficient ephemeral-storage, 1 Insufficient nvidia.com/gpu."
    )


def test_a_pod_asking_nothing_fits_an_overcommitted_node() -> None:
    n = node("a", cpu="1")
    place(n, "x", cpu="2")  # bound by nodeName, past the scheduler
    assert schedule(pod(memory="1Mi"), [n]).node == "a"


def test_an_init_container_can_make_a_pod_too_big() -> None:
    init = [{"name": "load", "resources": {"requests": {"memory": "6Gi"}}}]
    assert failure(pod(memory="1Gi", init=init), [node("a", memory="4Gi")]).startswith(
        "0/1 nodes are available: 1 Insufficient memory."
    )


# ---- node state, taints, selectors -----------------------------------------------------------------------------


def test_a_cordoned_node_is_unschedulable() -> None:
    assert failure(pod(), [node("a", unschedulable=True)]) == (
        "0/1 nodes are available: 1 node(s) were unschedulable. " + NOT_HELPFUL.format(n=1)
    )


def test_tolerating_the_unschedulable_taint_ignores_a_cordon() -> None:
    tolerating = pod(tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                                   "effect": "NoSchedule"}])
    assert schedule(tolerating, [node("a", unschedulable=True)]).node == "a"


@pytest.mark.parametrize("effect", ["NoSchedule", "NoExecute"])
def test_an_untolerated_taint_names_its_key_and_value(effect: str) -> None:
    tainted = node("a", taints=[{"key": "dedicated", "value": "gpu", "effect": effect}])
    assert failure(pod(), [tainted]) == (
        "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. " + NOT_HELPFUL.format(n=1)
    )


@pytest.mark.parametrize("toleration", [
    {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
    {"key": "dedicated", "value": "gpu"},
    {"key": "dedicated", "operator": "Exists"},
    {"operator": "Exists"},
])
def test_tolerations_that_match_a_taint(toleration: dict[str, str]) -> None:
    tainted = node("a", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    assert schedule(pod(tolerations=[toleration]), [tainted]).node == "a"


@pytest.mark.parametrize("toleration", [
    {"key": "dedicated", "operator": "Equal", "value": "cpu", "effect": "NoSchedule"},
    {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"},
    {"key": "other", "operator": "Exists"},
])
def test_tolerations_that_do_not(toleration: dict[str, str]) -> None:
    tainted = node("a", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    assert schedule(pod(tolerations=[toleration]), [tainted]).node == ""


def test_the_first_untolerated_taint_is_the_one_reported() -> None:
    tainted = node("a", taints=[{"key": "x", "value": "1", "effect": "NoSchedule"},
                                {"key": "y", "value": "2", "effect": "NoSchedule"}])
    tolerating_x = pod(tolerations=[{"key": "x", "operator": "Exists"}])
    assert "1 node(s) had untolerated taint {y: 2}" in failure(tolerating_x, [tainted])


@pytest.mark.parametrize(("ready", "taint"), [
    ("False", "node.kubernetes.io/not-ready"),
    ("Unknown", "node.kubernetes.io/unreachable"),
    (None, "node.kubernetes.io/unreachable"),
])
def test_a_node_that_is_not_ready_carries_the_taint_its_condition_implies(ready: str | None, taint: str) -> None:
    assert failure(pod(), [node("a", ready=ready)]).startswith(
        f"0/1 nodes are available: 1 node(s) had untolerated taint {{{taint}: }}."
    )
    tolerating = pod(tolerations=[{"key": taint, "operator": "Exists", "effect": "NoSchedule"}])
    assert schedule(tolerating, [node("a", ready=ready)]).node == "a"


def test_an_implied_taint_the_node_already_carries_is_not_doubled() -> None:
    obj = node_object("a", ready="False", taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}])
    assert [t.key for t in effective_taints(obj)] == ["node.kubernetes.io/not-ready"]


def test_memory_pressure_implies_its_taint() -> None:
    obj = node_object("a")
    obj["status"]["conditions"][0]["status"] = "True"
    assert [(t.key, t.effect) for t in effective_taints(obj)] == [("node.kubernetes.io/memory-pressure", "NoSchedule")]


def test_a_node_selector_must_match_every_label() -> None:
    nodes = [node("a", labels={"disk": "ssd"}), node("b", labels={"disk": "ssd", "zone": "z1"})]
    assert schedule(pod(nodeSelector={"disk": "ssd", "zone": "z1"}), nodes).node == "b"
    assert failure(pod(nodeSelector={"disk": "hdd"}), nodes) == (
        "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. " + NOT_HELPFUL.format(n=2)
    )


def required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


def expression(key: str, operator: str, *values: str) -> dict[str, Any]:
    requirement: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        requirement["values"] = list(values)
    return requirement


@pytest.mark.parametrize(("requirement", "matches"), [
    (expression("zone", "In", "z1", "z3"), {"z1"}),
    (expression("zone", "NotIn", "z1"), {"z2", "none"}),
    (expression("zone", "Exists"), {"z1", "z2"}),
    (expression("zone", "DoesNotExist"), {"none"}),
    (expression("cores", "Gt", "8"), {"z2"}),
    (expression("cores", "Lt", "8"), {"z1"}),
    (expression("zone", "In"), set()),  # In without values: the term is ignored
    (expression("cores", "Gt", "many"), set()),
])
def test_required_node_affinity_operators(requirement: dict[str, Any], matches: set[str]) -> None:
    nodes = [node("z1", labels={"zone": "z1", "cores": "4"}), node("z2", labels={"zone": "z2", "cores": "16"}),
             node("none")]
    fits = {n.name for n in nodes if schedule(pod(affinity=required({"matchExpressions": [requirement]})), [n]).node}
    assert fits == matches


def test_terms_are_ored_and_expressions_within_a_term_anded() -> None:
    nodes = [node("a", labels={"zone": "z1", "disk": "hdd"}), node("b", labels={"zone": "z2", "disk": "ssd"})]
    both = {"matchExpressions": [expression("zone", "In", "z1"), expression("disk", "In", "ssd")]}
    assert schedule(pod(affinity=required(both)), nodes).node == ""
    either = required({"matchExpressions": [expression("zone", "In", "z1")]},
                      {"matchExpressions": [expression("disk", "In", "ssd")]})
    assert {n.name for n in nodes if schedule(pod(affinity=either), [n]).node} == {"a", "b"}


def test_an_empty_term_matches_no_node() -> None:
    assert failure(pod(affinity=required({})), [node("a")]).startswith(
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
    )


def test_node_selector_and_affinity_must_both_match() -> None:
    nodes = [node("a", labels={"disk": "ssd"})]
    p = pod(nodeSelector={"disk": "ssd"}, affinity=required({"matchExpressions": [expression("zone", "Exists")]}))
    assert schedule(p, nodes).node == ""


def test_affinity_to_a_node_by_name_leaves_the_others_out_unexamined() -> None:
    nodes = [node("a"), node("b", memory="1Gi"), node("c")]
    by_name = required({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["b"]}]})
    assert failure(pod(memory="2Gi", affinity=by_name), nodes) == (
        "0/3 nodes are available: 1 Insufficient memory, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, "
        "2 Preemption is not helpful for scheduling."
    )
    assert schedule(pod(affinity=by_name), nodes).node == "b"


def test_affinity_to_no_node_by_name_is_a_conflict() -> None:
    impossible = required({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["a"]},
                                           {"key": "metadata.name", "operator": "In", "values": ["b"]}]})
    assert failure(pod(affinity=impossible), [node("a"), node("b")]) == (
        "0/2 nodes are available: pod affinity terms conflict. " + NOT_HELPFUL.format(n=2)
    )


def test_node_name_not_in_a_field_selector() -> None:
    not_a = required({"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["a"]}]})
    assert schedule(pod(affinity=not_a), [node("a"), node("b")]).node == "b"


# ---- the message ------------------------------------------------------------------------------------------------


def test_reasons_are_counted_per_node_and_sorted_as_strings() -> None:
    nodes = [node(f"cordoned-{i:02}", unschedulable=True) for i in range(10)]
    nodes += [node("small-a", memory="1Gi"), node("small-b", memory="1Gi")]
    # "10 ..." sorts before "2 ...", as Go's sort.Strings puts them.
    assert failure(pod(memory="2Gi"), nodes) == (
        "0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient memory. preemption: 0/12 nodes are "
        "available: 10 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
    )


def test_each_node_is_rejected_by_its_first_failing_filter_only() -> None:
    cordoned_and_small = node("a", unschedulable=True, memory="1Gi", labels={"disk": "hdd"})
    assert failure(pod(memory="2Gi", nodeSelector={"disk": "ssd"}), [cordoned_and_small]).startswith(
        "0/1 nodes are available: 1 node(s) were unschedulable."
    )


def test_no_nodes_at_all() -> None:
    assert schedule(pod(), []).message == "no nodes available to schedule pods"


def test_a_pod_that_may_not_preempt_says_so() -> None:
    assert failure(pod(memory="16Gi", preemptionPolicy="Never"), [node("a")]) == (
        "0/1 nodes are available: 1 Insufficient memory. preemption: not eligible due to preemptionPolicy=Never."
    )


def test_lower_priority_pods_that_would_not_free_enough_are_named_by_what_still_lacks() -> None:
    n = node("a", memory="4Gi")
    n.add(("default", "low"), usage(pod(memory="1Gi", priority=-10)))
    n.add(("default", "same"), usage(pod(memory="2Gi")))
    assert failure(pod(memory="3Gi"), [n]) == (
        "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 Insufficient memory."
    )


def test_when_evicting_lower_priority_pods_would_make_room_the_message_stops_at_the_filters() -> None:
    n = node("a", memory="4Gi")
    n.add(("default", "low"), usage(pod(memory="3Gi", priority=-10)))
    assert failure(pod(memory="2Gi"), [n]) == "0/1 nodes are available: 1 Insufficient memory."


# ---- keeping node accounts ---------------------------------------------------------------------------------------


def test_a_node_keeps_totals_as_pods_come_and_go() -> None:
    n = node("a")
    place(n, "x", cpu="1", memory="1Gi")
    place(n, "y", memory="2Gi")
    assert n.requested == Resources(1000, 3 * 1024**3)
    assert n.non_zero_requested == Resources(1100, 3 * 1024**3)
    place(n, "x", cpu="2")  # the same pod again replaces what it counted
    assert n.requested == Resources(2000, 2 * 1024**3)
    n.remove(("default", "x"))
    n.remove(("default", "gone"))
    assert (n.requested, len(n.pods)) == (Resources(0, 2 * 1024**3), 1)


def test_a_heartbeat_does_not_change_a_nodes_scheduling_view_but_a_new_label_or_readiness_does() -> None:
    before = node_object("a")
    heartbeat = node_object("a")
    heartbeat["status"]["conditions"][1]["lastHeartbeatTime"] = "2026-01-01T00:05:00Z"
    assert scheduling_view(heartbeat) == scheduling_view(before)
    assert scheduling_view(node_object("a", labels={"disk": "ssd"})) != scheduling_view(before)
    assert scheduling_view(node_object("a", ready="False")) != scheduling_view(before)
    assert scheduling_view(node_object("a", memory="16Gi")) != scheduling_view(before)


# ---- the scheduler, over the watch cache -------------------------------------------------------------------------


class FakeStore:
    """What the scheduler and its event recorder use of the Store: the cache, reads, and guaranteed updates."""

    def __init__(self) -> None:
        self.cache = FakeCache()

    def peek(self, ws: str, rt: ResourceType, namespace: str, name: str) -> CachedObject | None:
        return self.cache.objects.get(object_key(ws, rt.group, rt.plural, namespace, name))

    def put(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        resource = "nodes" if obj["kind"] == "Node" else "pods"
        self.cache.put(ObjectKey(ROOT_WORKSPACE, "", resource, meta.get("namespace", ""), meta["name"]),
                       copy.deepcopy(obj))

    async def create(self, ws: str, rt: ResourceType, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        body["metadata"]["namespace"] = namespace
        self.cache.put(ObjectKey(ws, rt.group, rt.plural, namespace, body["metadata"]["name"]), body)
        return body

    async def guaranteed_update(self, ws: str, rt: ResourceType, namespace: str, name: str,
                                mutate: Callable[[dict[str, Any]], dict[str, Any]], **_: object) -> dict[str, Any]:
        cached = self.peek(ws, rt, namespace, name)
        if cached is None:
            raise errors.not_found(rt.plural, name, rt.group)
        updated = mutate(copy.deepcopy(cached.obj))
        if updated != cached.obj:
            self.cache.put(cached.key, updated)
        return updated

    def pod(self, name: str) -> dict[str, Any]:
        return self.cache.objects[object_key(ROOT_WORKSPACE, "", "pods", "default", name)].obj

    def events(self, reason: str) -> list[dict[str, Any]]:
        return [c.obj for c in self.cache.objects.values() if c.key.resource == "events" and c.obj["reason"] == reason]


def pending(name: str, **kwargs: Any) -> dict[str, Any]:
    body = pod(**kwargs)
    body["metadata"] = {"name": name, "namespace": "default", "uid": f"uid-{name}"}
    body["spec"]["schedulerName"] = "default-scheduler"
    body["status"] = {"phase": "Pending"}
    return body


async def settled(store: FakeStore, scheduler: Scheduler, check: Callable[[], bool]) -> None:
    """Let the scheduler work until `check` holds (it fails the test if the scheduler goes idle first)."""
    for _ in range(1000):
        if check():
            return
        await asyncio.sleep(0)
    raise AssertionError("the scheduler went idle without getting there")


@pytest.fixture
async def cluster() -> AsyncIterator[tuple[FakeStore, Scheduler]]:
    store = FakeStore()
    store.put(node_object("a", memory="2Gi"))
    as_store = cast(Store, store)
    scheduler = Scheduler(as_store, EventRecorder(as_store), Clock(1.0))
    store.cache.add_listener(scheduler.on_event, on_relist=scheduler.resync)
    scheduler.start()
    yield store, scheduler
    await scheduler.queue.stop()


def node_of_pod(store: FakeStore, name: str) -> str:
    return store.pod(name)["spec"].get("nodeName", "")


def scheduled_condition_of(store: FakeStore, name: str) -> dict[str, Any]:
    return next(c for c in store.pod(name)["status"].get("conditions", []) if c["type"] == "PodScheduled")


async def test_a_new_pod_is_bound_and_the_scheduler_says_so(cluster: tuple[FakeStore, Scheduler]) -> None:
    store, scheduler = cluster
    store.put(pending("web", memory="1Gi"))
    await settled(store, scheduler, lambda: bool(store.events("Scheduled")))
    assert node_of_pod(store, "web") == "a"
    assert scheduled_condition_of(store, "web")["status"] == "True"
    [event] = store.events("Scheduled")
    assert (event["type"], event["source"], event["message"]) == (
        "Normal", {"component": "default-scheduler"}, "Successfully assigned default/web to a"
    )


async def test_a_pod_that_does_not_fit_says_why_and_waits_for_room(cluster: tuple[FakeStore, Scheduler]) -> None:
    store, scheduler = cluster
    store.put(pending("first", memory="1500Mi"))
    await settled(store, scheduler, lambda: node_of_pod(store, "first") == "a")
    store.put(pending("second", memory="1500Mi"))
    await settled(store, scheduler, lambda: bool(store.events("FailedScheduling")))
    message = ("0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption "
               "victims found for incoming pod.")
    [event] = store.events("FailedScheduling")
    assert (event["type"], event["message"]) == ("Warning", message)
    condition = scheduled_condition_of(store, "second")
    assert (condition["status"], condition["reason"], condition["message"]) == ("False", "Unschedulable", message)

    running = store.pod("first")
    running["status"]["phase"] = "Running"
    store.put(running)  # still takes its share
    for _ in range(50):
        await asyncio.sleep(0)
    assert node_of_pod(store, "second") == ""

    finished = copy.deepcopy(running)
    finished["status"]["phase"] = "Succeeded"
    store.put(finished)  # a finished pod takes nothing: the one that waited fits now
    await settled(store, scheduler, lambda: node_of_pod(store, "second") == "a")
    assert scheduled_condition_of(store, "second")["status"] == "True"


async def test_a_deleted_pod_frees_its_room(cluster: tuple[FakeStore, Scheduler]) -> None:
    store, scheduler = cluster
    store.put(pending("first", memory="1500Mi"))
    await settled(store, scheduler, lambda: node_of_pod(store, "first") == "a")
    store.put(pending("second", memory="1500Mi"))
    await settled(store, scheduler, lambda: bool(store.events("FailedScheduling")))
    store.cache.delete(ObjectKey(ROOT_WORKSPACE, "", "pods", "default", "first"))
    await settled(store, scheduler, lambda: node_of_pod(store, "second") == "a")


async def test_heartbeats_do_not_retry_a_pod_but_a_new_node_does(cluster: tuple[FakeStore, Scheduler]) -> None:
    store, scheduler = cluster
    store.put(pending("big", memory="4Gi"))
    await settled(store, scheduler, lambda: bool(store.events("FailedScheduling")))
    beat = node_object("a", memory="2Gi")
    beat["status"]["conditions"][1]["lastHeartbeatTime"] = "2026-01-01T00:05:00Z"
    store.put(beat)
    for _ in range(50):
        await asyncio.sleep(0)
    assert store.events("FailedScheduling")[0]["count"] == 1
    store.put(node_object("b", memory="8Gi"))
    await settled(store, scheduler, lambda: node_of_pod(store, "big") == "b")


async def test_pods_for_another_scheduler_or_still_gated_are_left_alone(cluster: tuple[FakeStore, Scheduler]) -> None:
    store, scheduler = cluster
    other = pending("other")
    other["spec"]["schedulerName"] = "my-scheduler"
    gated = pending("gated", schedulingGates=[{"name": "wait"}])
    store.put(other)
    store.put(gated)
    store.put(pending("marker"))
    await settled(store, scheduler, lambda: node_of_pod(store, "marker") == "a")
    assert (node_of_pod(store, "other"), node_of_pod(store, "gated")) == ("", "")
    assert "conditions" not in store.pod("other")["status"]
    del gated["spec"]["schedulingGates"]
    store.put(gated)
    await settled(store, scheduler, lambda: node_of_pod(store, "gated") == "a")


async def test_a_relist_counts_what_is_bound_again(cluster: tuple[FakeStore, Scheduler]) -> None:
    store, scheduler = cluster
    bound = pending("bound", memory="1500Mi")
    bound["spec"]["nodeName"] = "a"
    store.cache.put(ObjectKey(ROOT_WORKSPACE, "", "pods", "default", "bound"), bound, quietly=True)
    store.cache.relist()
    store.put(pending("late", memory="1Gi"))
    await settled(store, scheduler, lambda: bool(store.events("FailedScheduling")))
    assert node_of_pod(store, "late") == ""
