"""The Nodes of a simulated K3s cluster, as kubectl shows them."""

from __future__ import annotations

from datetime import UTC, datetime

from api.registry import BUILTIN
from controlplane.printers import table
from simcluster import nodes

NOW = "2026-11-25T00:00:00Z"
NODES = BUILTIN.lookup("", "v1", "nodes")


def registered(index: int) -> dict:
    obj = nodes.node("edge-1", index, memory="8Gi", cpu="4")
    obj["metadata"]["creationTimestamp"] = NOW
    obj["status"] = nodes.initial_status("edge-1", index, memory="8Gi", cpu="4", now=NOW)
    return obj


def test_the_first_node_is_the_k3s_server_and_the_others_agents() -> None:
    assert NODES is not None
    rendered = table(NODES, [registered(0), registered(1)], now=datetime(2026, 11, 25, 0, 5, tzinfo=UTC))
    rows = {row["cells"][0]: row["cells"] for row in rendered["rows"]}
    assert rows["edge-1-server-0"][1:5] == ["Ready", "control-plane,master", "5m", "v1.32.4+k3s1"]
    assert rows["edge-1-agent-0"][1:3] == ["Ready", "<none>"]
    assert rows["edge-1-agent-0"][5] == "10.0.0.11"


def test_capacity_is_what_the_node_was_given_and_all_of_it_allocatable() -> None:
    status = registered(1)["status"]
    assert status["capacity"]["memory"] == "8388608Ki"
    assert status["capacity"]["cpu"] == "4"
    assert status["capacity"]["pods"] == "110"
    assert status["allocatable"] == status["capacity"]


def test_a_healthy_kubelet_reports_its_four_conditions() -> None:
    conditions = {c["type"]: (c["status"], c["reason"]) for c in registered(0)["status"]["conditions"]}
    assert conditions == {
        "MemoryPressure": ("False", "KubeletHasSufficientMemory"),
        "DiskPressure": ("False", "KubeletHasNoDiskPressure"),
        "PIDPressure": ("False", "KubeletHasSufficientPID"),
        "Ready": ("True", "KubeletReady"),
    }


def test_a_heartbeat_moves_only_the_heartbeat_times() -> None:
    status = registered(0)["status"]
    later = nodes.heartbeat(status, "2026-11-25T00:05:00Z")
    assert {c["lastHeartbeatTime"] for c in later["conditions"]} == {"2026-11-25T00:05:00Z"}
    assert {c["lastTransitionTime"] for c in later["conditions"]} == {NOW}
    assert later["capacity"] == status["capacity"]


def test_node_identities_are_stable_across_restarts() -> None:
    first = nodes.initial_status("edge-1", 2, memory="8Gi", cpu="4", now=NOW)["nodeInfo"]
    again = nodes.initial_status("edge-1", 2, memory="8Gi", cpu="4", now="2027-01-01T00:00:00Z")["nodeInfo"]
    assert first["systemUUID"] == again["systemUUID"]
    assert first["machineID"] != nodes.initial_status("edge-2", 2, memory="8Gi", cpu="4", now=NOW)["nodeInfo"][
        "machineID"]


def test_a_node_lease_is_held_by_its_node_and_owned_by_it() -> None:
    node_obj = registered(1)
    node_obj["metadata"]["uid"] = "u-1"
    lease = nodes.lease(node_obj, "2026-11-25T00:00:00.123456Z")
    assert lease["metadata"]["namespace"] == "kube-node-lease"
    assert lease["metadata"]["ownerReferences"] == [{"apiVersion": "v1", "kind": "Node", "name": "edge-1-agent-0",
                                                     "uid": "u-1"}]
    assert lease["spec"] == {"holderIdentity": "edge-1-agent-0", "leaseDurationSeconds": 40,
                             "renewTime": "2026-11-25T00:00:00.123456Z"}
