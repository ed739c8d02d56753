"""A tenant's Deployment status from its Deployments on every chosen cluster: what `kubectl get deploy` and
`kubectl rollout status` read in the workspace, the per-cluster breakdown, and the stale mark.

Downstream Deployments carry the conditions the simulated cluster's deployment controller writes.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from controlplane.registry.strategy import status_strategy_for
from simcluster.rollout import (
    AVAILABLE,
    MINIMUM_AVAILABLE,
    MINIMUM_UNAVAILABLE,
    NEW_RS_AVAILABLE,
    PAUSED,
    PROGRESSING,
    REPLICA_FAILURE,
    RS_UPDATED,
    TIMED_OUT,
    Moment,
    new_condition,
)
from syncer.translate import (
    CLUSTER_UNREACHABLE,
    CLUSTERS_ANNOTATION,
    STALE_CONDITION,
    UPSTREAM_GENERATION_ANNOTATION,
    aggregate_deployment_status,
    cluster_summaries,
    cluster_summary,
    deployment_marked_stale,
    reflect_deployment_status,
    stale_deployment,
)

BEFORE = Moment(datetime(2026, 11, 25, 9, 50, tzinfo=UTC))
NOW = "2026-11-25T10:00:00Z"
LATER = "2026-11-25T10:05:00Z"
RS = 'ReplicaSet "api-5d8f7c9b4"'

UPSTREAM: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "api", "namespace": "shop", "uid": "up-uid", "generation": 3, "resourceVersion": "40",
                 "annotations": {"team": "storefront"}},
    "spec": {"replicas": 4},
    "status": {"observedGeneration": 2},
}


def downstream(replicas: int, *, ready: int | None = None, updated: int | None = None, made_from: int = 3,
               observed: bool = True, available: tuple[str, str, str] | None = None,
               progressing: tuple[str, str, str] | None = None, failure: str = "") -> dict[str, Any]:
    """A downstream Deployment with `replicas` pods, `ready` of them ready and available (default: all)."""
    ready = replicas if ready is None else ready
    updated = replicas if updated is None else updated
    if available is None:
        available = (("True", MINIMUM_AVAILABLE, "Deployment has minimum availability.") if ready == replicas
                     else ("False", MINIMUM_UNAVAILABLE, "Deployment does not have minimum availability."))
    if progressing is None:
        progressing = (("True", NEW_RS_AVAILABLE, f"{RS} has successfully progressed.") if ready == replicas
                       else ("True", RS_UPDATED, f"{RS} is progressing."))
    conditions = [new_condition(AVAILABLE, *available, BEFORE), new_condition(PROGRESSING, *progressing, BEFORE)]
    if failure:
        conditions.append(new_condition(REPLICA_FAILURE, "True", "FailedCreate", failure, BEFORE))
    counts = {"replicas": replicas, "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": ready,
              "unavailableReplicas": replicas - ready}
    status = {"observedGeneration": 2 if observed else 1, **{k: v for k, v in counts.items() if v},
              "conditions": conditions}
    return {"metadata": {"name": "api", "namespace": "canopy-dugedskudm", "generation": 2,
                         "annotations": {UPSTREAM_GENERATION_ANNOTATION: str(made_from),
                                         "deployment.kubernetes.io/revision": "2"}},
            "spec": {"replicas": replicas}, "status": status}


def aggregate(per_cluster: dict[str, dict[str, Any] | None], upstream: dict[str, Any] = UPSTREAM) -> dict[str, Any]:
    return aggregate_deployment_status(upstream, {c: cluster_summary(d) for c, d in per_cluster.items()}, NOW)


def condition(status: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in status["conditions"] if c["type"] == type_), None)


def rollout_status(spec_replicas: int, generation: int, status: dict[str, Any]) -> str:
    """What `kubectl rollout status` decides from a Deployment (crash catalog: "Deployment status while its
    pods crash")."""
    progressing = condition(status, PROGRESSING)
    if progressing is not None and progressing["reason"] == TIMED_OUT:
        return "exceeded its progress deadline"
    if generation > status.get("observedGeneration", 0):
        return "waiting for the spec to be observed"
    updated, total = status.get("updatedReplicas", 0), status.get("replicas", 0)
    if updated < spec_replicas or total > updated or status.get("availableReplicas", 0) < updated:
        return "waiting"
    return "successfully rolled out"


def ready_column(status: dict[str, Any]) -> str:
    return f"{status.get('readyReplicas', 0)}/{UPSTREAM['spec']['replicas']}"


# ---- one cluster's summary ------------------------------------------------------------------------------------

def test_a_clusters_summary_has_its_counts_the_generation_it_observed_and_its_conditions() -> None:
    assert cluster_summary(downstream(2, ready=1)) == {
        "desiredReplicas": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 1, "availableReplicas": 1,
        "unavailableReplicas": 1, "observedGeneration": 3,
        "conditions": {
            "Available": {"status": "False", "reason": MINIMUM_UNAVAILABLE,
                          "message": "Deployment does not have minimum availability."},
            "Progressing": {"status": "True", "reason": RS_UPDATED, "message": f"{RS} is progressing."},
        },
    }


def test_a_cluster_without_the_deployment_has_no_summary() -> None:
    assert cluster_summary(None) is None


def test_a_spec_the_cluster_has_not_observed_yet_is_not_observed() -> None:
    assert "observedGeneration" not in (cluster_summary(downstream(2, observed=False)) or {})


def test_a_deployment_made_before_the_syncer_recorded_generations_is_not_observed() -> None:
    d = downstream(2)
    del d["metadata"]["annotations"][UPSTREAM_GENERATION_ANNOTATION]
    assert "observedGeneration" not in (cluster_summary(d) or {})


# ---- the sums ---------------------------------------------------------------------------------------------------

def test_two_healthy_clusters_add_up_to_a_rolled_out_deployment() -> None:
    status = aggregate({"edge-1": downstream(2), "edge-2": downstream(2)})
    assert {k: v for k, v in status.items() if k != "conditions"} == {
        "observedGeneration": 3, "replicas": 4, "updatedReplicas": 4, "readyReplicas": 4, "availableReplicas": 4}
    assert ready_column(status) == "4/4"
    assert rollout_status(4, 3, status) == "successfully rolled out"


def test_a_crash_on_one_cluster_shows_in_ready_and_unavailable() -> None:
    status = aggregate({"edge-1": downstream(2), "edge-2": downstream(2, ready=0)})
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"]) == (4, 2, 2)
    assert status["unavailableReplicas"] == 2
    assert ready_column(status) == "2/4"
    assert rollout_status(4, 3, status) == "waiting"


def test_zero_counts_are_left_out_as_the_api_leaves_them_out() -> None:
    status = aggregate({"edge-1": downstream(2, ready=0), "edge-2": downstream(2, ready=0)})
    assert "readyReplicas" not in status and "availableReplicas" not in status
    assert ready_column(status) == "0/4"
    nothing = aggregate({"edge-1": downstream(0)})
    assert set(nothing) == {"observedGeneration", "conditions"}


def test_the_status_is_valid_for_the_control_plane() -> None:
    for per_cluster in ({"edge-1": downstream(2), "edge-2": downstream(2, ready=0)}, {"edge-1": None}, {}):
        updated = {**UPSTREAM, "status": aggregate(per_cluster)}
        assert status_strategy_for("apps", "Deployment").validate_update(updated, UPSTREAM) == []


# ---- observedGeneration -----------------------------------------------------------------------------------------

def test_the_generation_is_observed_once_every_cluster_observed_it() -> None:
    assert aggregate({"edge-1": downstream(2), "edge-2": downstream(2)})["observedGeneration"] == 3


def test_until_every_cluster_observed_the_spec_the_previous_generation_stays() -> None:
    status = aggregate({"edge-1": downstream(2), "edge-2": downstream(2, observed=False)})
    assert status["observedGeneration"] == 2
    assert rollout_status(4, 3, status) == "waiting for the spec to be observed"


def test_a_cluster_still_on_an_older_upstream_generation_has_not_observed_the_new_one() -> None:
    assert aggregate({"edge-1": downstream(2), "edge-2": downstream(2, made_from=2)})["observedGeneration"] == 2


def test_a_cluster_where_the_deployment_is_not_made_yet_has_not_observed_it() -> None:
    assert aggregate({"edge-1": downstream(2), "edge-2": None})["observedGeneration"] == 2


def test_without_a_previous_observed_generation_there_is_none() -> None:
    upstream = {**UPSTREAM, "status": {}}
    assert "observedGeneration" not in aggregate({"edge-1": None}, upstream)


# ---- conditions -------------------------------------------------------------------------------------------------

def test_available_when_available_everywhere() -> None:
    available = condition(aggregate({"edge-1": downstream(2), "edge-2": downstream(2)}), AVAILABLE)
    assert available == {"type": "Available", "status": "True", "lastUpdateTime": NOW, "lastTransitionTime": NOW,
                         "reason": MINIMUM_AVAILABLE, "message": "edge-1, edge-2: Deployment has minimum availability."}


def test_not_available_when_one_cluster_is_not_and_the_message_says_which() -> None:
    available = condition(aggregate({"edge-1": downstream(2), "edge-2": downstream(2, ready=0)}), AVAILABLE)
    assert available is not None
    assert (available["status"], available["reason"]) == ("False", MINIMUM_UNAVAILABLE)
    assert available["message"] == "edge-2: Deployment does not have minimum availability."


def test_a_cluster_where_the_deployment_is_not_made_yet_is_not_available() -> None:
    status = aggregate({"edge-1": downstream(2), "edge-2": None})
    available = condition(status, AVAILABLE)
    assert available is not None
    assert (available["status"], available["reason"], available["message"]) == (
        "False", "NotSynced", "edge-2: not made on the cluster yet")
    progressing = condition(status, PROGRESSING)
    assert progressing is not None
    assert (progressing["status"], progressing["reason"]) == ("True", "NotSynced")


def test_a_deployment_its_cluster_has_not_reported_on_is_not_available_yet() -> None:
    fresh = downstream(2)
    fresh["status"] = {}
    available = condition(aggregate({"edge-1": fresh}), AVAILABLE)
    assert available is not None
    assert (available["status"], available["reason"]) == ("False", "NotSynced")


def test_a_progress_deadline_exceeded_anywhere_fails_the_rollout_naming_the_cluster() -> None:
    timed_out = downstream(2, ready=0, progressing=("False", TIMED_OUT, f"{RS} has timed out progressing."))
    status = aggregate({"edge-1": downstream(2), "edge-2": timed_out})
    progressing = condition(status, PROGRESSING)
    assert progressing is not None
    assert (progressing["status"], progressing["reason"]) == ("False", TIMED_OUT)
    assert progressing["message"] == f"edge-2: {RS} has timed out progressing."
    assert rollout_status(4, 3, status) == "exceeded its progress deadline"


def test_clusters_with_the_same_message_share_it() -> None:
    timed_out = downstream(2, ready=0, progressing=("False", TIMED_OUT, f"{RS} has timed out progressing."))
    progressing = condition(aggregate({"edge-1": timed_out, "edge-2": timed_out, "edge-3": downstream(2)}),
                            PROGRESSING)
    assert progressing is not None
    assert progressing["message"] == f"edge-1, edge-2: {RS} has timed out progressing."


def test_a_rollout_still_going_somewhere_is_progressing_not_complete() -> None:
    progressing = condition(aggregate({"edge-1": downstream(2), "edge-2": downstream(2, ready=1)}), PROGRESSING)
    assert progressing is not None
    assert (progressing["status"], progressing["reason"]) == ("True", RS_UPDATED)
    assert progressing["message"] == (f"edge-1: {RS} has successfully progressed.; edge-2: {RS} is progressing.")


def test_a_complete_rollout_everywhere_has_a_new_replica_set_available() -> None:
    progressing = condition(aggregate({"edge-1": downstream(2), "edge-2": downstream(2)}), PROGRESSING)
    assert progressing is not None
    assert (progressing["status"], progressing["reason"]) == ("True", NEW_RS_AVAILABLE)
    assert progressing["message"] == f"edge-1, edge-2: {RS} has successfully progressed."


def test_a_paused_deployment_is_progressing_unknown() -> None:
    paused = downstream(2, progressing=("Unknown", PAUSED, "Deployment is paused"))
    progressing = condition(aggregate({"edge-1": paused, "edge-2": paused}), PROGRESSING)
    assert progressing is not None
    assert (progressing["status"], progressing["reason"]) == ("Unknown", PAUSED)


def test_a_replica_failure_on_a_cluster_comes_up() -> None:
    message = 'pods "api-5d8f7c9b4-" is forbidden: exceeded quota: compute'
    status = aggregate({"edge-1": downstream(2), "edge-2": downstream(0, updated=0, failure=message)})
    failure = condition(status, REPLICA_FAILURE)
    assert failure is not None
    assert (failure["status"], failure["reason"], failure["message"]) == ("True", "FailedCreate", f"edge-2: {message}")
    assert condition(aggregate({"edge-1": downstream(2)}), REPLICA_FAILURE) is None


def test_conditions_come_in_the_order_a_deployment_has_them() -> None:
    message = "exceeded quota"
    status = aggregate({"edge-1": downstream(2, failure=message)})
    assert [c["type"] for c in status["conditions"]] == [AVAILABLE, PROGRESSING, REPLICA_FAILURE]


def test_a_deployment_no_cluster_runs_says_so() -> None:
    status = aggregate({})
    assert status["conditions"] == [{
        "type": "Available", "status": "False", "lastUpdateTime": NOW, "lastTransitionTime": NOW,
        "reason": "NoClusterChosen", "message": "No cluster is chosen to run this Deployment."}]
    assert status["observedGeneration"] == 2


# ---- times: an unchanged status is the same status -------------------------------------------------------------

def test_an_unchanged_status_keeps_its_times_so_nothing_is_written() -> None:
    per_cluster = {"edge-1": downstream(2), "edge-2": downstream(2, ready=0)}
    first = aggregate(per_cluster)
    again = aggregate_deployment_status({**UPSTREAM, "status": first},
                                        {c: cluster_summary(d) for c, d in per_cluster.items()}, LATER)
    assert again == first


def test_a_new_status_moves_both_times() -> None:
    first = aggregate({"edge-1": downstream(2, ready=0)})
    later = aggregate_deployment_status({**UPSTREAM, "status": first}, {"edge-1": cluster_summary(downstream(2))},
                                        LATER)
    available = condition(later, AVAILABLE)
    assert available is not None
    assert (available["lastTransitionTime"], available["lastUpdateTime"]) == (LATER, LATER)


def test_a_new_reason_with_the_same_status_moves_only_the_update_time() -> None:
    first = aggregate({"edge-1": downstream(2, ready=1)})
    later = aggregate_deployment_status({**UPSTREAM, "status": first}, {"edge-1": cluster_summary(downstream(2))},
                                        LATER)
    progressing = condition(later, PROGRESSING)
    assert progressing is not None
    assert progressing["reason"] == NEW_RS_AVAILABLE
    assert (progressing["lastTransitionTime"], progressing["lastUpdateTime"]) == (NOW, LATER)


def test_the_collision_count_is_kept() -> None:
    upstream = {**UPSTREAM, "status": {"observedGeneration": 2, "collisionCount": 1}}
    assert aggregate({"edge-1": downstream(2)}, upstream)["collisionCount"] == 1


# ---- the breakdown, as each syncer writes its part ---------------------------------------------------------------

def breakdown(obj: dict[str, Any]) -> dict[str, Any]:
    return json.loads(obj["metadata"]["annotations"][CLUSTERS_ANNOTATION])


def test_a_syncer_writes_its_clusters_entry_and_the_status() -> None:
    body = reflect_deployment_status(UPSTREAM, "edge-1", downstream(2), ["edge-1", "edge-2"], NOW)
    assert breakdown(body) == {"edge-1": cluster_summary(downstream(2)), "edge-2": None}
    assert body["status"] == aggregate({"edge-1": downstream(2), "edge-2": None})
    assert body["metadata"]["annotations"]["team"] == "storefront"
    assert body["spec"] == UPSTREAM["spec"]
    assert {k: v for k, v in body["metadata"].items() if k != "annotations"} == {
        k: v for k, v in UPSTREAM["metadata"].items() if k != "annotations"}


def test_the_breakdown_survives_a_status_write_without_moving_the_generation() -> None:
    body = reflect_deployment_status(UPSTREAM, "edge-1", downstream(2), ["edge-1"], NOW)
    body["metadata"]["generation"] = 99  # whatever a client sends, /status keeps the stored one
    written = copy.deepcopy(body)
    status_strategy_for("apps", "Deployment").prepare_for_update(written, UPSTREAM)
    assert written["metadata"]["annotations"] == body["metadata"]["annotations"]
    assert written["metadata"]["generation"] == 3
    assert written["status"] == body["status"]


def test_the_other_clusters_entries_are_kept() -> None:
    edge_1 = reflect_deployment_status(UPSTREAM, "edge-1", downstream(2), ["edge-1", "edge-2"], NOW)
    both = reflect_deployment_status(edge_1, "edge-2", downstream(2, ready=0), ["edge-1", "edge-2"], NOW)
    assert breakdown(both) == {"edge-1": cluster_summary(downstream(2)), "edge-2": cluster_summary(
        downstream(2, ready=0))}
    assert (both["status"]["replicas"], both["status"]["readyReplicas"]) == (4, 2)


def test_clusters_no_longer_chosen_leave_the_breakdown() -> None:
    edge_1 = reflect_deployment_status(UPSTREAM, "edge-1", downstream(2), ["edge-1", "edge-2"], NOW)
    both = reflect_deployment_status(edge_1, "edge-2", downstream(2), ["edge-1", "edge-2"], NOW)
    moved = reflect_deployment_status(both, "edge-1", downstream(4), ["edge-1"], NOW)
    assert set(breakdown(moved)) == {"edge-1"}
    assert moved["status"]["replicas"] == 4


def test_a_syncer_whose_cluster_is_not_chosen_only_drops_entries() -> None:
    edge_1 = reflect_deployment_status(UPSTREAM, "edge-1", downstream(2), ["edge-1", "edge-2"], NOW)
    body = reflect_deployment_status(edge_1, "edge-2", downstream(2), ["edge-1"], NOW)
    assert breakdown(body) == {"edge-1": cluster_summary(downstream(2))}


def test_reflecting_the_same_downstream_again_writes_nothing() -> None:
    once = reflect_deployment_status(UPSTREAM, "edge-1", downstream(2), ["edge-1", "edge-2"], NOW)
    assert reflect_deployment_status(once, "edge-1", downstream(2), ["edge-2", "edge-1"], LATER) == once


def test_reflecting_leaves_the_upstream_object_alone() -> None:
    upstream = copy.deepcopy(UPSTREAM)
    reflect_deployment_status(upstream, "edge-1", downstream(2), ["edge-1"], NOW)
    assert upstream == UPSTREAM


def test_an_unreadable_breakdown_is_rebuilt() -> None:
    for garbage in ("{not json", "[1, 2]", "null"):
        upstream = copy.deepcopy(UPSTREAM)
        upstream["metadata"]["annotations"][CLUSTERS_ANNOTATION] = garbage
        assert cluster_summaries(upstream) == {}
        body = reflect_deployment_status(upstream, "edge-1", downstream(2), ["edge-1"], NOW)
        assert breakdown(body) == {"edge-1": cluster_summary(downstream(2))}


def test_a_breakdown_entry_that_is_not_an_object_reads_as_not_made() -> None:
    upstream = copy.deepcopy(UPSTREAM)
    upstream["metadata"]["annotations"][CLUSTERS_ANNOTATION] = '{"edge-1": 7, "edge-2": {"replicas": 1}}'
    assert cluster_summaries(upstream) == {"edge-1": None, "edge-2": {"replicas": 1}}


def test_a_deployment_without_annotations_gets_the_breakdown() -> None:
    upstream = copy.deepcopy(UPSTREAM)
    del upstream["metadata"]["annotations"]
    body = reflect_deployment_status(upstream, "edge-1", None, ["edge-1"], NOW)
    assert body["metadata"]["annotations"] == {CLUSTERS_ANNOTATION: '{"edge-1":null}'}


# ---- stale ---------------------------------------------------------------------------------------------------

def two_clusters() -> dict[str, Any]:
    edge_1 = reflect_deployment_status(UPSTREAM, "edge-1", downstream(2), ["edge-1", "edge-2"], NOW)
    return reflect_deployment_status(edge_1, "edge-2", downstream(2), ["edge-1", "edge-2"], NOW)


def test_an_unreachable_clusters_entry_is_marked_stale_with_its_last_heartbeat() -> None:
    body = stale_deployment(two_clusters(), "edge-2", "2026-11-25T10:01:00Z", LATER)
    assert breakdown(body)["edge-2"] == {**(cluster_summary(downstream(2)) or {}),
                                         "staleSince": "2026-11-25T10:01:00Z"}
    assert breakdown(body)["edge-1"] == cluster_summary(downstream(2))


def test_an_unreachable_clusters_replicas_count_but_not_as_ready_or_available() -> None:
    status = stale_deployment(two_clusters(), "edge-2", "2026-11-25T10:01:00Z", LATER)["status"]
    assert (status["replicas"], status["updatedReplicas"]) == (4, 4)
    assert (status["readyReplicas"], status["availableReplicas"], status["unavailableReplicas"]) == (2, 2, 2)
    assert ready_column(status) == "2/4"


def test_an_unreachable_cluster_makes_availability_unknown_and_is_named_stale() -> None:
    status = stale_deployment(two_clusters(), "edge-2", "2026-11-25T10:01:00Z", LATER)["status"]
    message = "edge-2: unreachable since 2026-11-25T10:01:00Z, showing what was last seen"
    for type_ in (AVAILABLE, PROGRESSING):
        merged = condition(status, type_)
        assert merged is not None
        assert (merged["status"], merged["reason"], merged["message"]) == ("Unknown", CLUSTER_UNREACHABLE, message)
    stale = condition(status, STALE_CONDITION)
    assert stale == {"type": STALE_CONDITION, "status": "True", "lastUpdateTime": LATER, "lastTransitionTime": LATER,
                     "reason": CLUSTER_UNREACHABLE, "message": message}


def test_a_timed_out_rollout_elsewhere_still_fails_while_a_cluster_is_unreachable() -> None:
    timed_out = downstream(2, ready=0, progressing=("False", TIMED_OUT, f"{RS} has timed out progressing."))
    body = reflect_deployment_status(two_clusters(), "edge-1", timed_out, ["edge-1", "edge-2"], NOW)
    status = stale_deployment(body, "edge-2", NOW, LATER)["status"]
    progressing = condition(status, PROGRESSING)
    assert progressing is not None and progressing["reason"] == TIMED_OUT


def test_marking_stale_again_writes_nothing() -> None:
    once = stale_deployment(two_clusters(), "edge-2", NOW, LATER)
    assert stale_deployment(once, "edge-2", NOW, "2026-11-25T10:09:00Z") == once


@pytest.mark.parametrize("cluster", ["edge-3", "edge-2"])
def test_nothing_to_mark_when_nothing_came_from_the_cluster(cluster: str) -> None:
    upstream = reflect_deployment_status(UPSTREAM, "edge-1", downstream(2), ["edge-1", "edge-2"], NOW)
    assert stale_deployment(upstream, cluster, NOW, LATER) == upstream


def test_the_recovered_clusters_next_report_clears_the_mark() -> None:
    stale = stale_deployment(two_clusters(), "edge-2", NOW, LATER)
    back = reflect_deployment_status(stale, "edge-2", downstream(2), ["edge-1", "edge-2"], LATER)
    assert "staleSince" not in breakdown(back)["edge-2"]
    assert condition(back["status"], STALE_CONDITION) is None
    available = condition(back["status"], AVAILABLE)
    assert available is not None and available["status"] == "True"


def test_a_share_marked_stale_is_known_as_such_until_its_cluster_reports_again() -> None:
    stale = stale_deployment(two_clusters(), "edge-2", NOW, LATER)
    assert deployment_marked_stale(stale, "edge-2")
    assert not deployment_marked_stale(stale, "edge-1"), "only the silent cluster's share"
    assert not deployment_marked_stale(stale, "edge-3")
    back = reflect_deployment_status(stale, "edge-2", downstream(2), ["edge-1", "edge-2"], LATER)
    assert not deployment_marked_stale(back, "edge-2")


def test_a_condition_the_clusters_do_not_report_is_kept_as_it_is() -> None:
    healthy = {"type": "Healthy", "status": "False", "reason": "OOMKilled", "message": "container app went over",
               "lastTransitionTime": NOW, "lastUpdateTime": NOW}
    upstream = {**UPSTREAM, "status": {"conditions": [healthy]}}
    body = reflect_deployment_status(upstream, "edge-1", downstream(2), ["edge-1"], LATER)
    assert [c for c in body["status"]["conditions"] if c["type"] == "Healthy"] == [healthy]
    assert condition(body["status"], AVAILABLE) is not None
