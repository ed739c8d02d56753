"""Placement decisions (api/placement.py) and the heartbeat judgement of the cluster health controller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.placement import (
    choose,
    clusters_for,
    next_change,
    placed_namespaces,
    selector_matches,
    set_condition,
    share,
    workspace_allowed,
)
from api.types import LabelSelector, PlacementSpec
from controlplane.controllers.cluster import heartbeat_health

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
GRACE = 60.0


def at(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def cluster(name: str, labels: dict[str, str] | None = None, *, allowed: list[str] | None = None,
            heartbeat: str = "True", heartbeat_since: float = 600, ready: str | None = None,
            ready_since: float = 600) -> dict[str, Any]:
    conditions = [{"type": "HeartbeatHealthy", "status": heartbeat, "reason": "R", "lastTransitionTime":
                   at(heartbeat_since)}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready, "reason": "SyncerReports", "lastTransitionTime":
                           at(ready_since)})
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"allowedWorkspaces": allowed if allowed is not None else ["root:*"]},
            "status": {"conditions": conditions}}


def spec(**raw: Any) -> PlacementSpec:
    return PlacementSpec.model_validate(raw)


def selector(**raw: Any) -> LabelSelector:
    return LabelSelector.model_validate(raw)


# ---- label selectors --------------------------------------------------------------------------------------------

def test_an_empty_selector_selects_everything() -> None:
    assert selector_matches(selector(), {}) and selector_matches(selector(), {"region": "eu"})


@pytest.mark.parametrize(("raw", "labels", "expected"), [
    ({"matchLabels": {"region": "eu"}}, {"region": "eu", "tier": "gold"}, True),
    ({"matchLabels": {"region": "eu"}}, {"region": "us"}, False),
    ({"matchLabels": {"region": "eu"}}, {}, False),
    ({"matchExpressions": [{"key": "region", "operator": "In", "values": ["eu", "us"]}]}, {"region": "us"}, True),
    ({"matchExpressions": [{"key": "region", "operator": "In", "values": ["eu"]}]}, {}, False),
    ({"matchExpressions": [{"key": "region", "operator": "NotIn", "values": ["eu"]}]}, {}, True),
    ({"matchExpressions": [{"key": "region", "operator": "NotIn", "values": ["eu"]}]}, {"region": "eu"}, False),
    ({"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}, {"gpu": ""}, True),
    ({"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}, {}, False),
    ({"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]}, {}, True),
    ({"matchLabels": {"region": "eu"}, "matchExpressions": [{"key": "gpu", "operator": "Exists"}]},
     {"region": "eu"}, False),
])
def test_selectors_match_as_kubernetes_does(raw: dict[str, Any], labels: dict[str, str], expected: bool) -> None:
    assert selector_matches(selector(**raw), labels) is expected


# ---- which workspaces may use a cluster -------------------------------------------------------------------------

@pytest.mark.parametrize(("patterns", "workspace", "expected"), [
    (["root:team-a"], "root:team-a", True),
    (["root:team-a"], "root:team-ab", False),
    (["root:team-a"], "root:team-a:dev", False),
    (["root:*"], "root:team-a", True),
    (["root:*"], "root:team-a:dev", True),
    (["root:*"], "root", False),
    (["root:org:*"], "root:org", False),
    (["root:org:*"], "root:organisation", False),
    (["root:org:*"], "root:org:team", True),
    ([], "root:team-a", False),
    (["root:team-b", "root:team-a"], "root:team-a", True),
])
def test_allowed_workspaces_are_exact_paths_or_everything_below_a_prefix(
    patterns: list[str], workspace: str, expected: bool
) -> None:
    assert workspace_allowed(patterns, workspace) is expected


def test_a_workspace_is_given_only_the_clusters_allowed_to_it_by_name() -> None:
    clusters = [cluster("z", allowed=["root:team-a"]), cluster("secret", allowed=["root:team-b"]),
                cluster("a", allowed=["root:*"]), cluster("none", allowed=[])]
    assert [c["metadata"]["name"] for c in clusters_for("root:team-a", clusters)] == ["a", "z"]


# ---- choosing -----------------------------------------------------------------------------------------------------

def test_healthy_selected_clusters_are_chosen_and_the_others_explained() -> None:
    clusters = [cluster("us-1", {"region": "us"}), cluster("eu-2", {"region": "eu"}), cluster("eu-1", {"region": "eu"})]
    chosen, why = choose(spec(clusterSelector={"matchLabels": {"region": "eu"}}), clusters, NOW, grace=GRACE)
    assert chosen == ["eu-1", "eu-2"]
    assert [(e.name, e.chosen, e.reason) for e in why] == [
        ("eu-1", True, "Chosen"), ("eu-2", True, "Chosen"), ("us-1", False, "NotSelected")
    ]
    assert "region=us" in why[2].message and "spec.clusterSelector" in why[2].message


def test_an_empty_cluster_selector_chooses_every_healthy_cluster() -> None:
    chosen, _ = choose(spec(), [cluster("b"), cluster("a")], NOW, grace=GRACE)
    assert chosen == ["a", "b"]


def test_a_cluster_that_never_reported_is_not_chosen() -> None:
    new = cluster("new")
    new["status"] = {}
    unknown = cluster("unknown", heartbeat="Unknown")
    chosen, why = choose(spec(), [new, unknown], NOW, grace=GRACE)
    assert chosen == []
    assert {e.reason for e in why} == {"Unhealthy"}
    assert "not reported yet" in why[0].message


def test_an_unhealthy_cluster_stays_chosen_during_the_grace_period_saying_when_it_leaves() -> None:
    chosen, why = choose(spec(), [cluster("a", heartbeat="False", heartbeat_since=10)], NOW, grace=GRACE)
    assert chosen == ["a"]
    assert why[0].reason == "Chosen"
    assert at(10) in why[0].message and at(10 - GRACE) in why[0].message


def test_an_unhealthy_cluster_is_not_chosen_after_the_grace_period() -> None:
    clusters = [cluster("a", heartbeat="False", heartbeat_since=GRACE + 1), cluster("b")]
    chosen, why = choose(spec(), clusters, NOW, grace=GRACE)
    assert chosen == ["b"]
    assert (why[0].name, why[0].chosen, why[0].reason) == ("a", False, "Unhealthy")
    assert "HeartbeatHealthy=False" in why[0].message


def test_a_cluster_its_syncer_reports_not_ready_is_unhealthy_too() -> None:
    not_ready = cluster("a", ready="False", ready_since=GRACE + 1)
    chosen, why = choose(spec(), [not_ready], NOW, grace=GRACE)
    assert chosen == [] and why[0].reason == "Unhealthy" and "Ready=False" in why[0].message


def test_a_recovered_cluster_is_chosen_again() -> None:
    recovered = cluster("a", heartbeat="True", heartbeat_since=1, ready="True", ready_since=1)
    assert choose(spec(), [recovered], NOW, grace=GRACE)[0] == ["a"]


def test_the_next_change_is_when_the_first_grace_period_ends() -> None:
    clusters = [cluster("a", heartbeat="False", heartbeat_since=50),
                cluster("b", heartbeat="False", heartbeat_since=20),
                cluster("c", heartbeat="False", heartbeat_since=GRACE + 5), cluster("d")]
    assert next_change(clusters, NOW, grace=GRACE) == pytest.approx(GRACE - 50)
    assert next_change([cluster("d")], NOW, grace=GRACE) is None


# ---- which Placement places a namespace -------------------------------------------------------------------------

def test_each_namespace_is_placed_by_the_first_placement_by_name_that_selects_it() -> None:
    placements = {
        "b-everything": spec(),
        "a-gold": spec(namespaceSelector={"matchLabels": {"tier": "gold"}}),
        "c-never": spec(namespaceSelector={"matchLabels": {"tier": "none"}}),
    }
    namespaces = {"default": {}, "shop": {"tier": "gold"}, "batch": {"tier": "bronze"}}
    assert placed_namespaces(placements, namespaces) == {
        "a-gold": ["shop"], "b-everything": ["batch", "default"], "c-never": []
    }


# ---- shares of replicas -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("replicas", "clusters", "expected"), [
    (7, ["c", "a", "b"], {"a": 3, "b": 2, "c": 2}),
    (6, ["a", "b", "c"], {"a": 2, "b": 2, "c": 2}),
    (2, ["a", "b", "c"], {"a": 1, "b": 1, "c": 0}),
    (0, ["a", "b"], {"a": 0, "b": 0}),
    (5, ["a"], {"a": 5}),
])
def test_divided_replicas_split_evenly_with_the_remainder_on_the_first_clusters(
    replicas: int, clusters: list[str], expected: dict[str, int]
) -> None:
    shares = {name: share(replicas, clusters, name, "Divided") for name in clusters}
    assert shares == expected
    assert sum(shares.values()) == replicas


def test_duplicated_replicas_run_in_full_on_each_cluster() -> None:
    assert [share(3, ["a", "b"], name, "Duplicated") for name in ("a", "b")] == [3, 3]


def test_a_cluster_not_chosen_runs_no_replicas() -> None:
    assert share(4, ["a", "b"], "c", "Divided") == 0 and share(4, ["a"], "c", "Duplicated") == 0


# ---- conditions ---------------------------------------------------------------------------------------------------

def test_setting_a_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    ready = {"type": "Ready", "status": "True", "reason": "Up", "message": "", "lastTransitionTime": "then"}
    healthy = {"type": "HeartbeatHealthy", "status": "True", "reason": "Ok", "message": "", "lastTransitionTime": "t"}
    same = set_condition([ready, healthy], "HeartbeatHealthy", "True", "Ok", "still fine", "now")
    assert same == [ready, {**healthy, "message": "still fine"}]
    changed = set_condition([ready, healthy], "HeartbeatHealthy", "False", "HeartbeatMissed", "gone", "now")
    assert changed[0] == ready and changed[1]["lastTransitionTime"] == "now" and changed[1]["status"] == "False"
    added = set_condition(None, "Ready", "True", "Placed", "", "now", observed_generation=2)
    assert added == [{"type": "Ready", "status": "True", "reason": "Placed", "message": "", "lastTransitionTime": "now",
                      "observedGeneration": 2}]


# ---- heartbeats (controlplane/controllers/cluster.py) -----------------------------------------------------------

def test_a_cluster_without_a_heartbeat_is_unknown_and_says_to_start_its_syncer() -> None:
    status, reason, message, recheck = heartbeat_health({"metadata": {"name": "eu-1"}}, NOW, 40)
    assert (status, reason, recheck) == ("Unknown", "NoHeartbeat", None)
    assert "canopy syncer --cluster eu-1" in message


def test_a_recent_heartbeat_is_healthy_and_looked_at_again_when_it_would_be_too_old() -> None:
    obj = {"metadata": {"name": "eu-1"}, "status": {"lastHeartbeatTime": at(10)}}
    status, reason, _, recheck = heartbeat_health(obj, NOW, 40)
    assert (status, reason) == ("True", "HeartbeatReceived")
    assert recheck is not None and 30 <= recheck < 31


def test_a_missed_heartbeat_says_when_the_last_one_was_and_what_to_check() -> None:
    obj = {"metadata": {"name": "eu-1"}, "status": {"lastHeartbeatTime": at(41)}}
    status, reason, message, recheck = heartbeat_health(obj, NOW, 40)
    assert (status, reason, recheck) == ("False", "HeartbeatMissed", None)
    assert at(41) in message and "syncer of cluster eu-1" in message
