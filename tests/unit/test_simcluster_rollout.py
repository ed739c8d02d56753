"""The decisions of the simulated cluster's deployment and replicaset controllers, as kube-controller-manager 1.32
makes them: names, annotations, how far a rollout goes at each step, status and conditions, which pods go first."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simcluster import rollout
from simcluster.rollout import (
    Claim,
    CreateReplicaSet,
    DeleteReplicaSet,
    DeploymentSync,
    Moment,
    UpdateDeploymentStatus,
    UpdateReplicaSet,
)

Object = dict[str, Any]
T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
CHANGE_CAUSE = "kubernetes.io/change-cause"


def stamp(seconds: float = 0) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def at(seconds: float = 0, scale: float = 1.0) -> Moment:
    return Moment(T0 + timedelta(seconds=seconds), scale)


def template(image: str = "nginx:1.27", **annotations: str) -> Object:
    metadata: Object = {"labels": {"app": "web"}}
    if annotations:
        metadata["annotations"] = annotations
    return {"metadata": metadata, "spec": {"containers": [{"name": "app", "image": image}]}}


def rolling(surge: int | str = "25%", unavailable: int | str = "25%") -> Object:
    return {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}


def deployment(replicas: int = 4, image: str = "nginx:1.27", *, strategy: Object | None = None,
               generation: int = 1, status: Object | None = None, annotations: dict[str, str] | None = None,
               **spec: Any) -> Object:
    metadata: Object = {"name": "web", "namespace": "default", "uid": "uid-web", "generation": generation,
                        "creationTimestamp": stamp(-3600)}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": template(image),
                 "strategy": strategy or rolling(), "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                 **spec},
        "status": status or {},
    }


def replica_set(d: Object, image: str, replicas: int, *, revision: int, created: float = -600,
                available: int | None = None, ready: int | None = None, current: int | None = None,
                desired: int | None = None) -> Object:
    """A ReplicaSet of `d` for `image`, as the controller made it, with the status its pods give it."""
    tmpl = copy.deepcopy(d["spec"]["template"])
    tmpl["spec"]["containers"][0]["image"] = image
    pod_hash = rollout.pod_template_hash(tmpl, None)
    tmpl["metadata"]["labels"][rollout.POD_TEMPLATE_HASH] = pod_hash
    desired = rollout.spec_replicas(d) if desired is None else desired
    current = replicas if current is None else current
    ready = current if ready is None else ready
    available = ready if available is None else available
    rs_status: Object = {"replicas": current, "readyReplicas": ready, "availableReplicas": available,
                         "observedGeneration": 1}
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": f"web-{pod_hash}", "namespace": "default", "uid": f"uid-{pod_hash}", "generation": 1,
                     "creationTimestamp": stamp(created), "labels": dict(tmpl["metadata"]["labels"]),
                     "annotations": {rollout.REVISION: str(revision), rollout.DESIRED_REPLICAS: str(desired),
                                     rollout.MAX_REPLICAS: str(desired + rollout.max_surge(d))},
                     "ownerReferences": [rollout.controller_ref(d)]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(tmpl["metadata"]["labels"])},
                 "template": tmpl},
        "status": rs_status,
    }


def run(d: Object, replica_sets: list[Object], now: Moment | None = None,
        pods: dict[str, list[Object]] | None = None) -> DeploymentSync:
    sync = DeploymentSync(d, replica_sets, pods or {}, now or at())
    sync.run()
    return sync


def events(sync: DeploymentSync) -> list[str]:
    return [a.event for a in sync.actions if isinstance(a, CreateReplicaSet | UpdateReplicaSet) and a.event]


def sizes(sync: DeploymentSync) -> dict[str, int]:
    """The replicas each ReplicaSet was given by this pass."""
    out: dict[str, int] = {}
    for action in sync.actions:
        if isinstance(action, CreateReplicaSet):
            out[action.body["metadata"]["name"]] = action.body["spec"]["replicas"]
        elif isinstance(action, UpdateReplicaSet):
            out[action.replica_set["metadata"]["name"]] = action.replica_set["spec"]["replicas"]
    return out


def last_status(sync: DeploymentSync) -> Object:
    return [a for a in sync.actions if isinstance(a, UpdateDeploymentStatus)][-1].status


def condition(deployment_status: Object, type_: str) -> Object:
    found = rollout.get_condition(deployment_status, type_)
    assert found is not None, deployment_status
    return found


def pod(name: str, *, node: str = "", phase: str = "Running", ready_since: float | None = None,
        created: float = -100, restarts: int = 0, labels: dict[str, str] | None = None, uid: str = "",
        **metadata: Any) -> Object:
    conditions = []
    if ready_since is not None:
        conditions.append({"type": "Ready", "status": "True", "lastTransitionTime": stamp(ready_since)})
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": uid or f"uid-{name}",
                     "creationTimestamp": stamp(created), "labels": labels or {"app": "web"}, **metadata},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "nginx"}]},
        "status": {"phase": phase, "conditions": conditions,
                   "containerStatuses": [{"name": "app", "restartCount": restarts}]},
    }


# ---- the pod-template-hash and names -----------------------------------------------------------------------------

def test_safe_encoding_maps_decimal_digits_as_kubernetes_does() -> None:
    assert rollout.safe_encode("0123456789") == "456789bcdf"


def test_fnv32a_is_the_standard_function() -> None:
    assert rollout.fnv32a(b"") == 0x811C9DC5
    assert rollout.fnv32a(b"a") == 0xE40C292C
    assert rollout.fnv32a(b"foobar") == 0xBF9CF968


def test_the_hash_is_ten_characters_or_fewer_from_the_safe_alphabet_and_stable() -> None:
    first = rollout.pod_template_hash(template(), None)
    assert 1 <= len(first) <= 10
    assert set(first) <= set(rollout.SAFE_ALPHABET)
    assert rollout.pod_template_hash(copy.deepcopy(template()), None) == first


def test_the_hash_changes_with_the_template_and_with_the_collision_count() -> None:
    base = rollout.pod_template_hash(template(), None)
    assert rollout.pod_template_hash(template("nginx:1.28"), None) != base
    assert rollout.pod_template_hash(template(**{"kubectl.kubernetes.io/restartedAt": "now"}), None) != base
    assert len({base, rollout.pod_template_hash(template(), 0), rollout.pod_template_hash(template(), 1)}) == 3


def test_a_new_deployment_gets_a_replica_set_named_after_its_template_hash() -> None:
    sync = run(deployment(replicas=3), [])
    create = sync.actions[0]
    assert isinstance(create, CreateReplicaSet)
    body = create.body
    pod_hash = rollout.pod_template_hash(template(), None)
    assert body["metadata"]["name"] == f"web-{pod_hash}"
    assert body["metadata"]["labels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert body["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": pod_hash}}
    assert body["spec"]["template"]["metadata"]["labels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert body["spec"]["replicas"] == 3
    assert body["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                                    "uid": "uid-web", "controller": True,
                                                    "blockOwnerDeletion": True}]
    assert body["metadata"]["annotations"] == {rollout.REVISION: "1", rollout.DESIRED_REPLICAS: "3",
                                               rollout.MAX_REPLICAS: "4"}
    assert create.event == f"Scaled up replica set web-{pod_hash} from 0 to 3"


def test_creating_the_replica_set_records_revision_and_progressing_new_replica_set_created() -> None:
    sync = run(deployment(replicas=3), [])
    written = sync.actions[1]
    assert isinstance(written, UpdateDeploymentStatus)
    assert written.revision == "1"
    progressing = condition(written.status, "Progressing")
    name = sync.actions[0].body["metadata"]["name"]  # type: ignore[union-attr]
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "True", "NewReplicaSetCreated", f'Created new replica set "{name}"')
    assert progressing["lastUpdateTime"] == progressing["lastTransitionTime"] == stamp()


def test_a_deployment_scaled_to_zero_creates_its_replica_set_without_a_scaling_event() -> None:
    sync = run(deployment(replicas=0), [])
    create = sync.actions[0]
    assert isinstance(create, CreateReplicaSet)
    assert create.body["spec"]["replicas"] == 0
    assert create.event == ""


def test_change_cause_and_other_annotations_go_to_the_new_replica_set_but_not_kubectl_apply_s() -> None:
    d = deployment(annotations={CHANGE_CAUSE: "kubectl set image", rollout.LAST_APPLIED: "{}",
                                "team": "a", rollout.REVISION: "7"})
    body = run(d, []).actions[0].body  # type: ignore[union-attr]
    annotations = body["metadata"]["annotations"]
    assert annotations[CHANGE_CAUSE] == "kubectl set image"
    assert annotations["team"] == "a"
    assert rollout.LAST_APPLIED not in annotations
    assert annotations[rollout.REVISION] == "1"


def test_min_ready_seconds_goes_to_the_replica_set() -> None:
    body = run(deployment(minReadySeconds=5), []).actions[0].body  # type: ignore[union-attr]
    assert body["spec"]["minReadySeconds"] == 5


# ---- maxSurge and maxUnavailable ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("surge", "unavailable", "desired", "expected"), [
    ("25%", "25%", 4, (1, 1)),
    ("25%", "25%", 10, (3, 2)),  # surge rounds up, unavailable down
    ("25%", "25%", 1, (1, 0)),
    (2, 0, 5, (2, 0)),
    ("3", "1", 5, (3, 1)),
    (0, "10%", 5, (0, 1)),  # both come to zero: one may be unavailable
    ("0%", "0%", 0, (0, 1)),
    ("100%", "50%", 3, (3, 1)),
])
def test_fenceposts_resolve_as_kubernetes_does(surge: Any, unavailable: Any, desired: int,
                                                expected: tuple[int, int]) -> None:
    assert rollout.resolve_fenceposts(surge, unavailable, desired) == expected


def test_an_unreadable_int_or_percent_is_an_error() -> None:
    with pytest.raises(ValueError):
        rollout.scaled_value("lots", 4, round_up=True)


def test_max_unavailable_never_exceeds_replicas_and_is_zero_for_recreate() -> None:
    assert rollout.max_unavailable(deployment(replicas=2, strategy=rolling(0, 5))) == 2
    assert rollout.max_unavailable(deployment(replicas=0)) == 0
    assert rollout.max_unavailable(deployment(strategy={"type": "Recreate"})) == 0
    assert rollout.max_surge(deployment(strategy={"type": "Recreate"})) == 0


# ---- rolling updates ---------------------------------------------------------------------------------------------

def test_a_new_template_surges_a_new_replica_set_and_scales_the_old_one_down_within_max_unavailable() -> None:
    d = deployment(replicas=4, image="nginx:1.28", generation=2)
    old = replica_set(d, "nginx:1.27", 4, revision=1)
    sync = run(d, [old])
    new_name = next(a.body["metadata"]["name"] for a in sync.actions if isinstance(a, CreateReplicaSet))
    assert sizes(sync) == {new_name: 1, old["metadata"]["name"]: 3}
    assert events(sync) == [f"Scaled up replica set {new_name} from 0 to 1",
                            f"Scaled down replica set {old['metadata']['name']} from 4 to 3"]
    create = next(a for a in sync.actions if isinstance(a, CreateReplicaSet))
    assert create.body["metadata"]["annotations"][rollout.REVISION] == "2"


def test_the_rollout_goes_on_as_new_pods_become_available() -> None:
    d = deployment(replicas=4, image="nginx:1.28", generation=2)
    old = replica_set(d, "nginx:1.27", 3, revision=1)
    new = replica_set(d, "nginx:1.28", 1, revision=2, created=-10)
    sync = run(d, [old, new])
    assert events(sync) == [f"Scaled up replica set {new['metadata']['name']} from 1 to 2"]


def test_unavailable_new_pods_keep_the_old_ones_from_being_scaled_down() -> None:
    d = deployment(replicas=4, image="nginx:1.28", generation=2)
    old = replica_set(d, "nginx:1.27", 3, revision=1)
    new = replica_set(d, "nginx:1.28", 2, revision=2, created=-10, ready=0)
    sync = run(d, [old, new])
    assert sizes(sync) == {}


def test_unhealthy_old_pods_are_scaled_down_first() -> None:
    d = deployment(replicas=4, image="nginx:1.28", generation=2)
    old = replica_set(d, "nginx:1.27", 4, revision=1, available=2)
    new = replica_set(d, "nginx:1.28", 1, revision=2, created=-10, ready=0)
    sync = run(d, [old, new])
    # 5 pods, 3 must stay available, 1 new one is unavailable: 1 may go, and it is an unhealthy old one.
    assert events(sync) == [f"Scaled down replica set {old['metadata']['name']} from 4 to 3"]


def test_undo_makes_the_old_replica_set_new_again_with_a_higher_revision_and_its_history() -> None:
    d = deployment(replicas=2, image="nginx:1.27", generation=3, annotations={rollout.REVISION: "2"})
    first = replica_set(d, "nginx:1.27", 0, revision=1, created=-600)
    second = replica_set(d, "nginx:1.28", 2, revision=2, created=-300)
    sync = run(d, [first, second])
    relabel = sync.actions[0]
    assert isinstance(relabel, UpdateReplicaSet)
    assert relabel.replica_set["metadata"]["name"] == first["metadata"]["name"]
    annotations = relabel.replica_set["metadata"]["annotations"]
    assert (annotations[rollout.REVISION], annotations[rollout.REVISION_HISTORY]) == ("3", "1")
    revisions = [a.revision for a in sync.actions if isinstance(a, UpdateDeploymentStatus)]
    assert revisions[0] == "3"


def test_revision_history_grows_and_is_capped() -> None:
    d = deployment()
    rs = replica_set(d, "nginx:1.27", 1, revision=3)
    rs["metadata"]["annotations"][rollout.REVISION_HISTORY] = "1"
    assert rollout.set_new_replica_set_annotations(d, rs, "5", exists=True)
    assert rs["metadata"]["annotations"][rollout.REVISION_HISTORY] == "1,3"
    long = replica_set(d, "nginx:1.27", 1, revision=3)
    long["metadata"]["annotations"][rollout.REVISION_HISTORY] = ",".join(["12345"] * 333)  # 1997 characters
    rollout.set_new_replica_set_annotations(d, long, "5", exists=True)
    history = long["metadata"]["annotations"][rollout.REVISION_HISTORY]
    assert len(history) <= rollout.MAX_REVISION_HISTORY_CHARS and history.endswith(",3")


def test_a_revision_that_is_not_a_number_is_left_alone() -> None:
    d = deployment()
    rs = replica_set(d, "nginx:1.27", 1, revision=1)
    rs["metadata"]["annotations"][rollout.REVISION] = "one"
    assert not rollout.set_new_replica_set_annotations(d, rs, "2", exists=True)
    assert rs["metadata"]["annotations"][rollout.REVISION] == "one"


def test_the_current_replica_set_picks_up_new_deployment_annotations() -> None:
    d = deployment(annotations={CHANGE_CAUSE: "scale it"}, generation=2)
    rs = replica_set(d, "nginx:1.27", 4, revision=1)
    sync = run(d, [rs])
    update = sync.actions[0]
    assert isinstance(update, UpdateReplicaSet) and update.event == ""
    assert update.replica_set["metadata"]["annotations"][CHANGE_CAUSE] == "scale it"


def test_a_replica_set_found_without_a_progressing_condition_is_reported_found() -> None:
    d = deployment(replicas=4, annotations={rollout.REVISION: "1"})
    rs = replica_set(d, "nginx:1.27", 4, revision=1)
    sync = run(d, [rs])
    first = sync.actions[0]
    assert isinstance(first, UpdateDeploymentStatus)
    found = condition(first.status, "Progressing")
    assert (found["reason"], found["message"]) == (
        "FoundNewReplicaSet", f'Found new replica set "{rs["metadata"]["name"]}"')


# ---- scaling -----------------------------------------------------------------------------------------------------

def test_scaling_a_deployment_scales_its_only_active_replica_set() -> None:
    d = deployment(replicas=5, generation=2, annotations={rollout.REVISION: "1"})
    rs = replica_set(d, "nginx:1.27", 3, revision=1, desired=3)
    sync = run(d, [rs])
    assert events(sync) == [f"Scaled up replica set {rs['metadata']['name']} from 3 to 5"]
    update = next(a for a in sync.actions if isinstance(a, UpdateReplicaSet))
    annotations = update.replica_set["metadata"]["annotations"]
    assert (annotations[rollout.DESIRED_REPLICAS], annotations[rollout.MAX_REPLICAS]) == ("5", "7")


def test_scaling_down_is_recorded_as_such() -> None:
    d = deployment(replicas=1, generation=2, annotations={rollout.REVISION: "1"})
    rs = replica_set(d, "nginx:1.27", 3, revision=1, desired=3)
    assert events(run(d, [rs])) == [f"Scaled down replica set {rs['metadata']['name']} from 3 to 1"]


def test_scaling_during_a_rollout_is_proportional() -> None:
    # 5 replicas (max 7) spread 3/3/1 over three ReplicaSets; scaled to 10 (max 13): 6 more, shared by size.
    d = deployment(replicas=10, image="nginx:1.29", generation=4, annotations={rollout.REVISION: "3"})
    newest = replica_set(d, "nginx:1.29", 3, revision=3, created=-10, ready=0, desired=5)
    middle = replica_set(d, "nginx:1.28", 3, revision=2, created=-100, ready=0, desired=5)
    oldest = replica_set(d, "nginx:1.27", 1, revision=1, created=-600, ready=0, desired=5)
    for rs in (newest, middle, oldest):
        rs["metadata"]["annotations"][rollout.MAX_REPLICAS] = "7"
    sync = run(d, [oldest, middle, newest])
    assert sizes(sync) == {newest["metadata"]["name"]: 6, middle["metadata"]["name"]: 6,
                           oldest["metadata"]["name"]: 1}
    assert f"Scaled up replica set {newest['metadata']['name']} from 3 to 6" in events(sync)


def test_scaling_down_during_a_rollout_takes_from_the_largest_and_oldest_first() -> None:
    d = deployment(replicas=2, image="nginx:1.28", generation=4, annotations={rollout.REVISION: "2"})
    new = replica_set(d, "nginx:1.28", 3, revision=2, created=-10, ready=0, desired=5)
    old = replica_set(d, "nginx:1.27", 4, revision=1, created=-600, ready=0, desired=5)
    for rs in (new, old):
        rs["metadata"]["annotations"][rollout.MAX_REPLICAS] = "7"
    sync = run(d, [old, new])
    # max 3 now: 4 fewer. The old one (largest) gets -2 (4*3/7 rounds to 2) plus the leftover.
    assert sizes(sync) == {old["metadata"]["name"]: 2, new["metadata"]["name"]: 1}
    assert sum(sizes(sync).values()) == 3


def test_a_saturated_new_replica_set_scales_the_old_ones_to_zero() -> None:
    d = deployment(replicas=3, image="nginx:1.28", generation=2, annotations={rollout.REVISION: "2"})
    new = replica_set(d, "nginx:1.28", 3, revision=2, created=-10, desired=3)
    old = replica_set(d, "nginx:1.27", 1, revision=1, desired=4)
    sync = run(d, [old, new])
    assert events(sync) == [f"Scaled down replica set {old['metadata']['name']} from 1 to 0"]


def test_proportions_round_halves_away_from_zero_and_never_exceed_what_is_left() -> None:
    three, one = deployment(replicas=3, strategy=rolling(0, 1)), deployment(replicas=1, strategy=rolling(0, 1))
    rs = replica_set(three, "nginx:1.27", 1, revision=1)
    rs["metadata"]["annotations"][rollout.MAX_REPLICAS] = "2"
    assert rollout.replica_set_fraction(rs, three) == 1  # 1 * 3 / 2 = 1.5 -> 2
    assert rollout.replica_set_fraction(rs, one) == 0  # 1 * 1 / 2 = 0.5 -> 1
    assert rollout.proportion(rs, three, 5, 4) == 1
    assert rollout.proportion(rs, three, 5, 5) == 0


def test_a_replica_set_without_max_replicas_is_sized_against_the_deployment() -> None:
    d = deployment(replicas=4, status={"replicas": 2})
    rs = replica_set(d, "nginx:1.27", 2, revision=1)
    del rs["metadata"]["annotations"][rollout.MAX_REPLICAS]
    assert rollout.replica_set_fraction(rs, d) == 3  # 2 * 5 / 2 - 2
    assert rollout.replica_set_fraction(rs, deployment(replicas=0)) == -2


# ---- Recreate ------------------------------------------------------------------------------------------------------

def test_recreate_scales_the_old_replica_set_to_zero_before_anything_else() -> None:
    d = deployment(replicas=2, image="nginx:1.28", generation=2, strategy={"type": "Recreate"},
                   annotations={rollout.REVISION: "1"})
    old = replica_set(d, "nginx:1.27", 2, revision=1)
    sync = run(d, [old])
    assert events(sync) == [f"Scaled down replica set {old['metadata']['name']} from 2 to 0"]
    assert not any(isinstance(a, CreateReplicaSet) for a in sync.actions)


def test_recreate_waits_for_old_pods_then_creates_the_new_replica_set_at_full_size() -> None:
    d = deployment(replicas=2, image="nginx:1.28", generation=2, strategy={"type": "Recreate"},
                   annotations={rollout.REVISION: "1"})
    old = replica_set(d, "nginx:1.27", 0, revision=1, current=0)
    waiting = run(d, [old], pods={old["metadata"]["uid"]: [pod("web-old-1", phase="Running")]})
    assert not any(isinstance(a, CreateReplicaSet) for a in waiting.actions)
    finished = run(d, [old], pods={old["metadata"]["uid"]: [pod("web-old-1", phase="Succeeded")]})
    create = next(a for a in finished.actions if isinstance(a, CreateReplicaSet))
    assert create.body["spec"]["replicas"] == 2
    assert create.body["metadata"]["annotations"][rollout.MAX_REPLICAS] == "2"  # no surge


# ---- status and conditions -----------------------------------------------------------------------------------------

def test_status_counts_come_from_the_replica_sets_and_zero_counts_are_omitted() -> None:
    d = deployment(replicas=3, annotations={rollout.REVISION: "1"},
                   status={"conditions": [rollout.new_condition("Progressing", "True", "ReplicaSetUpdated",
                                                                "x", at(-5))]})
    rs = replica_set(d, "nginx:1.27", 3, revision=1, ready=0)
    new = rollout.calculate_status([rs], rs, d, at())
    assert {k: v for k, v in new.items() if k != "conditions"} == {
        "observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "unavailableReplicas": 3}
    available = condition(new, "Available")
    assert (available["status"], available["reason"], available["message"]) == (
        "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")


def test_minimum_availability_is_replicas_minus_max_unavailable() -> None:
    d = deployment(replicas=4)
    rs = replica_set(d, "nginx:1.27", 4, revision=1, available=3, ready=4)
    new = rollout.calculate_status([rs], rs, d, at())
    assert (new["readyReplicas"], new["availableReplicas"], new["unavailableReplicas"]) == (4, 3, 1)
    available = condition(new, "Available")
    assert (available["status"], available["reason"], available["message"]) == (
        "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")


def test_collision_count_is_kept_even_at_zero() -> None:
    d = deployment(status={"collisionCount": 0})
    assert rollout.calculate_status([], None, d, at())["collisionCount"] == 0
    assert "collisionCount" not in rollout.calculate_status([], None, deployment(), at())


def test_a_finished_rollout_is_progressing_true_new_replica_set_available() -> None:
    d = deployment(replicas=2, annotations={rollout.REVISION: "1"},
                   status={"conditions": [rollout.new_condition("Progressing", "True", "ReplicaSetUpdated",
                                                                "x", at(-30))]})
    rs = replica_set(d, "nginx:1.27", 2, revision=1)
    new = last_status(run(d, [rs]))
    progressing = condition(new, "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "True", "NewReplicaSetAvailable", f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.')
    assert progressing["lastTransitionTime"] == stamp(-30)


def test_progress_moves_last_update_time_but_not_last_transition_time() -> None:
    d = deployment(replicas=3, annotations={rollout.REVISION: "1"},
                   status={"replicas": 3, "updatedReplicas": 3, "unavailableReplicas": 3, "observedGeneration": 1,
                           "conditions": [rollout.new_condition("Progressing", "True", "ReplicaSetUpdated",
                                                                "x", at(-100))]})
    rs = replica_set(d, "nginx:1.27", 3, revision=1, ready=1)
    progressing = condition(last_status(run(d, [rs], at())), "Progressing")
    assert (progressing["reason"], progressing["lastUpdateTime"], progressing["lastTransitionTime"]) == (
        "ReplicaSetUpdated", stamp(), stamp(-100))
    assert progressing["message"] == f'ReplicaSet "{rs["metadata"]["name"]}" is progressing.'


def stuck(since: float) -> tuple[Object, Object]:
    """A rollout whose pods never become ready, last progressing `since` seconds from now."""
    conditions = [
        rollout.new_condition("Available", "False", "MinimumReplicasUnavailable",
                              "Deployment does not have minimum availability.", at(since)),
        rollout.new_condition("Progressing", "True", "ReplicaSetUpdated", "x", at(since)),
    ]
    d = deployment(replicas=3, annotations={rollout.REVISION: "1"}, progressDeadlineSeconds=60,
                   status={"replicas": 3, "updatedReplicas": 3, "unavailableReplicas": 3, "observedGeneration": 1,
                           "conditions": conditions})
    return d, replica_set(d, "nginx:1.27", 3, revision=1, ready=0)


def test_without_progress_the_deadline_is_checked_again_when_it_is_due() -> None:
    d, rs = stuck(since=-20)
    sync = run(d, [rs])
    assert not any(isinstance(a, UpdateDeploymentStatus) for a in sync.actions)
    assert sync.requeue_after == 41.0  # 40 s left, plus one


def test_the_deadline_is_measured_in_simulated_seconds() -> None:
    d, rs = stuck(since=-20)
    # 20 real seconds at a time scale of 0.01 are 2000 simulated ones: long past the 60 s deadline.
    progressing = condition(last_status(run(d, [rs], at(scale=0.01))), "Progressing")
    assert progressing["reason"] == "ProgressDeadlineExceeded"


def test_past_the_deadline_the_rollout_has_timed_out_progressing() -> None:
    d, rs = stuck(since=-61)
    sync = run(d, [rs])
    progressing = condition(last_status(sync), "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "False", "ProgressDeadlineExceeded", f'ReplicaSet "{rs["metadata"]["name"]}" has timed out progressing.')
    assert progressing["lastTransitionTime"] == stamp()
    assert sync.requeue_after is None


def test_a_timed_out_rollout_stays_timed_out_and_is_not_requeued() -> None:
    d, rs = stuck(since=-61)
    timed_out = last_status(run(d, [rs]))
    again = run({**d, "status": timed_out}, [rs], at(100))
    assert not any(isinstance(a, UpdateDeploymentStatus) for a in again.actions)
    assert again.requeue_after is None


def test_a_deployment_without_a_deadline_has_no_progressing_condition() -> None:
    d = deployment(replicas=1, progressDeadlineSeconds=rollout.MAX_INT32)
    statuses = [a.status for a in run(d, []).actions if isinstance(a, UpdateDeploymentStatus)]
    assert rollout.get_condition(statuses[-1], "Progressing") is None


def test_conditions_keep_their_times_when_nothing_changes_and_go_last_when_they_do() -> None:
    s: Object = {}
    rollout.set_condition(s, rollout.new_condition("Available", "False", "MinimumReplicasUnavailable", "m", at(0)))
    rollout.set_condition(s, rollout.new_condition("Progressing", "True", "ReplicaSetUpdated", "p", at(0)))
    rollout.set_condition(s, rollout.new_condition("Available", "False", "MinimumReplicasUnavailable", "m", at(9)))
    assert condition(s, "Available")["lastUpdateTime"] == stamp(0)
    rollout.set_condition(s, rollout.new_condition("Progressing", "True", "NewReplicaSetAvailable", "n", at(5)))
    assert [c["type"] for c in s["conditions"]] == ["Available", "Progressing"]
    assert condition(s, "Progressing")["lastTransitionTime"] == stamp(0)  # same status: the transition stays
    rollout.set_condition(s, rollout.new_condition("Available", "True", "MinimumReplicasAvailable", "a", at(7)))
    assert [c["type"] for c in s["conditions"]] == ["Progressing", "Available"]
    assert condition(s, "Available")["lastTransitionTime"] == stamp(7)


def test_deployment_complete_needs_the_generation_observed() -> None:
    d = deployment(replicas=2, generation=3)
    assert not rollout.deployment_complete(d, {"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2,
                                               "observedGeneration": 2})
    assert rollout.deployment_complete(d, {"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2,
                                           "observedGeneration": 3})


def test_a_replica_failure_of_the_new_replica_set_becomes_a_deployment_condition() -> None:
    d = deployment(replicas=1, annotations={rollout.REVISION: "1"})
    rs = replica_set(d, "nginx:1.27", 1, revision=1, current=0)
    rs["status"]["conditions"] = [{"type": "ReplicaFailure", "status": "True", "lastTransitionTime": stamp(-5),
                                   "reason": "FailedCreate", "message": "pods is forbidden: exceeded quota"}]
    failure = condition(last_status(run(d, [rs])), "ReplicaFailure")
    assert (failure["reason"], failure["message"], failure["lastUpdateTime"]) == (
        "FailedCreate", "pods is forbidden: exceeded quota", stamp(-5))


def test_a_failed_replica_set_creation_is_reported_in_progressing() -> None:
    failed, message = rollout.replica_set_create_failed(deployment(), "web-abc", "quota exceeded", at())
    assert message == 'Failed to create new replica set "web-abc": quota exceeded'
    progressing = condition(failed, "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ReplicaSetCreateError")


# ---- pause, resume, deletion, cleanup, collisions ------------------------------------------------------------------

def test_pausing_is_recorded_and_a_paused_deployment_does_not_roll_out() -> None:
    d = deployment(replicas=2, image="nginx:1.28", generation=3, paused=True, annotations={rollout.REVISION: "1"})
    old = replica_set(d, "nginx:1.27", 2, revision=1)
    sync = run(d, [old])
    assert not any(isinstance(a, CreateReplicaSet) for a in sync.actions)
    progressing = condition(last_status(sync), "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "Unknown", "DeploymentPaused", "Deployment is paused")


def test_resuming_is_recorded_and_the_rollout_starts() -> None:
    paused = {"conditions": [rollout.new_condition("Progressing", "Unknown", "DeploymentPaused",
                                                   "Deployment is paused", at(-900))]}
    d = deployment(replicas=2, image="nginx:1.28", generation=4, status=paused, annotations={rollout.REVISION: "1"})
    old = replica_set(d, "nginx:1.27", 2, revision=1)
    sync = run(d, [old])
    first = sync.actions[0]
    assert isinstance(first, UpdateDeploymentStatus)
    assert condition(first.status, "Progressing")["reason"] == "DeploymentResumed"
    assert any(isinstance(a, CreateReplicaSet) for a in sync.actions)


def test_a_deployment_being_deleted_only_reports_status() -> None:
    d = deployment()
    d["metadata"]["deletionTimestamp"] = stamp()
    sync = run(d, [])
    assert all(isinstance(a, UpdateDeploymentStatus) for a in sync.actions)


def test_old_replica_sets_beyond_the_history_limit_are_deleted_once_empty_and_observed() -> None:
    complete = {"replicas": 1, "updatedReplicas": 1, "availableReplicas": 1, "observedGeneration": 1}
    d = deployment(replicas=1, image="nginx:1.30", revisionHistoryLimit=1, annotations={rollout.REVISION: "4"},
                   status=complete)
    current = replica_set(d, "nginx:1.30", 1, revision=4, created=-10)
    olds = [replica_set(d, f"nginx:1.{27 + i}", 0, revision=i + 1, created=-600 + i, current=0) for i in range(3)]
    unobserved = olds[1]
    unobserved["metadata"]["generation"] = 2
    sync = run(d, [*olds, current])
    deleted = [a.name for a in sync.actions if isinstance(a, DeleteReplicaSet)]
    assert deleted == [olds[0]["metadata"]["name"]]  # the second oldest is not observed yet, the newest is kept


def test_a_paused_deployment_is_cleaned_up_too() -> None:
    d = deployment(replicas=1, revisionHistoryLimit=0, paused=True, annotations={rollout.REVISION: "2"})
    current = replica_set(d, "nginx:1.27", 1, revision=2)
    old = replica_set(d, "nginx:1.26", 0, revision=1, current=0)
    assert [a.name for a in run(d, [old, current]).actions if isinstance(a, DeleteReplicaSet)] == [
        old["metadata"]["name"]]


def test_a_replica_set_of_another_owner_or_template_under_the_new_name_is_a_collision() -> None:
    d = deployment()
    ours = replica_set(d, "nginx:1.27", 1, revision=1)
    assert not rollout.is_hash_collision(d, ours)
    foreign = copy.deepcopy(ours)
    foreign["metadata"]["ownerReferences"] = []
    assert rollout.is_hash_collision(d, foreign)
    assert rollout.with_collision(d)["collisionCount"] == 1
    bumped = deployment(status={"collisionCount": 1})
    name = run(bumped, []).actions[0].body["metadata"]["name"]  # type: ignore[union-attr]
    assert name == f"web-{rollout.pod_template_hash(template(), 1)}" != ours["metadata"]["name"]


# ---- claims ------------------------------------------------------------------------------------------------------

def test_claims_follow_the_controller_ref_manager() -> None:
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-1", "uid": "u1"},
             "spec": {"selector": {"matchLabels": {"app": "web"}}}}
    mine = pod("a", ownerReferences=[rollout.controller_ref(owner)])
    assert rollout.claim(owner, mine) is Claim.OWNED
    assert rollout.claim(owner, pod("b")) is Claim.ADOPT
    assert rollout.claim(owner, pod("c", labels={"app": "db"})) is Claim.IGNORE
    theirs = pod("d", ownerReferences=[{"kind": "ReplicaSet", "name": "x", "uid": "u2", "controller": True}])
    assert rollout.claim(owner, theirs) is Claim.IGNORE
    relabeled = pod("e", labels={"app": "debug"}, ownerReferences=[rollout.controller_ref(owner)])
    assert rollout.claim(owner, relabeled) is Claim.RELEASE
    assert rollout.claim(owner, pod("f", deletionTimestamp=stamp())) is Claim.IGNORE
    going = {**owner, "metadata": {**owner["metadata"], "deletionTimestamp": stamp()}}
    assert rollout.claim(going, relabeled) is Claim.IGNORE
    assert rollout.claim(going, pod("g")) is Claim.IGNORE
    assert rollout.claim(going, mine) is Claim.OWNED


def test_adopting_adds_a_controller_reference_and_releasing_removes_it() -> None:
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-1", "uid": "u1"}}
    adopted = rollout.adopted(pod("a"), owner)
    assert adopted is not None
    assert adopted["metadata"]["ownerReferences"] == [rollout.controller_ref(owner)]
    assert rollout.adopted(copy.deepcopy(adopted), owner) is None
    assert "ownerReferences" not in rollout.released(adopted, owner)["metadata"]


# ---- the ReplicaSet side -----------------------------------------------------------------------------------------

def owned_rs(replicas: int = 3, min_ready: int = 0) -> Object:
    d = deployment(replicas=replicas)
    rs = replica_set(d, "nginx:1.27", replicas, revision=1)
    rs["status"] = {}
    if min_ready:
        rs["spec"]["minReadySeconds"] = min_ready
    return rs


def test_pods_are_made_from_the_template_and_owned_by_the_replica_set() -> None:
    rs = owned_rs()
    rs["spec"]["template"]["metadata"]["annotations"] = {"note": "x"}
    made = rollout.pod_from_template(rs)
    assert made["metadata"]["generateName"] == f"{rs['metadata']['name']}-"
    assert made["metadata"]["labels"] == rs["spec"]["template"]["metadata"]["labels"]
    assert made["metadata"]["annotations"] == {"note": "x"}
    assert made["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                    "name": rs["metadata"]["name"], "uid": rs["metadata"]["uid"],
                                                    "controller": True, "blockOwnerDeletion": True}]
    assert made["spec"] == rs["spec"]["template"]["spec"]


def test_a_replica_set_creates_what_is_missing_up_to_the_burst() -> None:
    assert rollout.manage_replicas(owned_rs(3), [pod("a")], [], at()).create == 2
    assert rollout.manage_replicas(owned_rs(900), [], [], at()).create == rollout.BURST_REPLICAS
    assert rollout.manage_replicas(owned_rs(1), [pod("a")], [], at()) == rollout.ReplicaChange()


def test_pods_are_created_in_slow_start_batches() -> None:
    assert rollout.slow_start_batches(10) == [1, 2, 4, 3]
    assert rollout.slow_start_batches(1) == [1]
    assert rollout.slow_start_batches(0) == []


def names(pods: list[Object]) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


def test_surplus_pods_go_unscheduled_then_pending_then_not_ready_then_ready() -> None:
    pods = [pod("ready", node="n1", ready_since=-50), pod("unready", node="n1"),
            pod("pending", node="n1", phase="Pending"), pod("unscheduled", phase="Pending")]
    ranked = rollout.rank_for_deletion(pods, pods, at())
    assert names(ranked) == ["unscheduled", "pending", "unready", "ready"]
    change = rollout.manage_replicas(owned_rs(2), pods, pods, at())
    assert names(list(change.delete)) == ["unscheduled", "pending"]


def test_among_equals_more_restarts_go_first_then_newer_pods() -> None:
    pods = [pod("old", node="n1", created=-100_000), pod("crashy", node="n2", created=-100_000, restarts=3),
            pod("new", node="n3", created=-10)]
    assert names(rollout.rank_for_deletion(pods, pods, at())) == ["crashy", "new", "old"]


def test_lower_deletion_cost_goes_first_and_doubled_up_nodes_are_relieved() -> None:
    cheap = pod("cheap", node="n1", annotations={rollout.POD_DELETION_COST: "-5"})
    alone = pod("alone", node="n2")
    crowded = pod("crowded", node="n1")
    ranked = rollout.rank_for_deletion([alone, crowded, cheap], [alone, crowded, cheap], at())
    assert names(ranked) == ["cheap", "crowded", "alone"]


def test_pods_ready_for_a_shorter_time_go_first_on_a_logarithmic_scale() -> None:
    pods = [pod("long", node="n1", ready_since=-10_000, uid="b"), pod("short", node="n2", ready_since=-10, uid="c"),
            pod("similar", node="n3", ready_since=-11, uid="a")]
    # 10 s and 11 s are the same power of two of age: their order is by uid.
    assert names(rollout.rank_for_deletion(pods, pods, at())) == ["similar", "short", "long"]


def test_replica_set_status_counts_pods_and_omits_zero_counts() -> None:
    rs = owned_rs(3)
    pods = [pod("a", ready_since=-5, labels=rs["spec"]["template"]["metadata"]["labels"]), pod("b")]
    assert rollout.replica_set_status(rs, pods, at(), None) == {
        "replicas": 2, "fullyLabeledReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
        "observedGeneration": 1}
    assert rollout.replica_set_status(owned_rs(0), [], at(), None) == {"replicas": 0, "observedGeneration": 1}


def test_terminating_and_finished_pods_are_not_active() -> None:
    assert not rollout.is_pod_active(pod("a", deletionTimestamp=stamp()))
    assert not rollout.is_pod_active(pod("b", phase="Failed"))
    assert rollout.is_pod_active(pod("c", phase="Pending"))


def test_a_pod_is_available_min_ready_seconds_after_it_is_ready_in_simulated_seconds() -> None:
    rs = owned_rs(1, min_ready=30)
    ready = [pod("a", ready_since=-1)]
    assert rollout.replica_set_status(rs, ready, at(), None).get("availableReplicas") is None
    # One real second at a time scale of 0.01 is 100 simulated seconds.
    assert rollout.replica_set_status(rs, ready, at(scale=0.01), None)["availableReplicas"] == 1
    assert rollout.availability_recheck_after(rs, {"readyReplicas": 1}) == 30.0
    assert rollout.availability_recheck_after(rs, {"readyReplicas": 1, "availableReplicas": 1}) is None


def test_a_failure_to_create_pods_is_a_replica_failure_condition_until_it_clears() -> None:
    rs = owned_rs(2)
    failed = rollout.replica_set_status(rs, [], at(), 'pods "web-" is forbidden: exceeded quota')
    assert failed["conditions"] == [{"type": "ReplicaFailure", "status": "True", "lastTransitionTime": stamp(),
                                     "reason": "FailedCreate", "message": 'pods "web-" is forbidden: exceeded quota'}]
    rs["status"] = failed
    assert "conditions" not in rollout.replica_set_status(rs, [pod("a"), pod("b")], at(), None)


def test_moments_measure_simulated_seconds() -> None:
    assert at(10, scale=0.5).seconds_since(stamp(0)) == 20.0
    assert at().seconds_since(None) is None
    assert at().timestamp == stamp()
