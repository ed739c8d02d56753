"""The simulated cluster's scheduler, as kubectl shows it: pods get a node, or a FailedScheduling that says why."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.integration.simsupport import SimCluster, simulated_cluster
from tests.integration.support import eventually, table_rows_by_name, to_yaml

NODES = ("edge-1-agent-0", "edge-1-agent-1", "edge-1-server-0")
TOO_BIG = ("0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption "
           "victims found for incoming pod.")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimCluster]:
    # Three nodes of 4 cpu and 2Gi each: a pod of 1500Mi fills a node.
    with simulated_cluster(tmp_path_factory.mktemp("scheduler"), node_memory="2Gi") as sim:
        yield sim


def pod(name: str, *, cpu: str = "", memory: str = "", **spec: object) -> dict:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container: dict = {"name": "app", "image": "nginx"}
    if requests:
        container["resources"] = {"requests": requests}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [container], **spec}}


def create(cluster: SimCluster, *pods: dict) -> None:
    cluster.kubectl("create", "-f", "-", input=to_yaml(*pods))


def node_of(cluster: SimCluster, name: str) -> str:
    return table_rows_by_name(cluster.kubectl("get", "pod", name, "-o", "wide"))[name]["NODE"]


def assigned(cluster: SimCluster, name: str) -> str:
    return eventually(lambda: (node := node_of(cluster, name)) != "<none>" and node, what=f"{name} on a node")


def events_of(cluster: SimCluster, name: str) -> str:
    return cluster.kubectl("describe", "pod", name).split("\nEvents:", 1)[1]


def force_delete(cluster: SimCluster, *names: str) -> None:
    cluster.kubectl("delete", "pod", *names, "--grace-period=0", "--force")


def test_a_small_pod_is_assigned_a_node_and_describe_says_by_whom(cluster: SimCluster) -> None:
    create(cluster, pod("small", cpu="100m", memory="64Mi"))
    node = assigned(cluster, "small")
    assert node in NODES
    assert re.search(rf"Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default/small to {node}\n",
                     events_of(cluster, "small"))
    assert cluster.kubectl("get", "pod", "small", "-o",
                           'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}') == "True"


def test_describe_node_lists_the_pod_and_what_it_takes(cluster: SimCluster) -> None:
    node = assigned(cluster, "small")
    described = cluster.kubectl("describe", "node", node)
    non_terminated = described.split("Non-terminated Pods:", 1)[1].split("Allocated resources:", 1)[0]
    assert re.search(r"default\s+small\s+100m \(2%\)\s+0 \(0%\)\s+64Mi \(3%\)\s+0 \(0%\)", non_terminated)
    allocated = described.split("Allocated resources:", 1)[1]
    assert re.search(r"\n  cpu\s+\d+m \(\d+%\)\s+0 \(0%\)\n", allocated)
    assert re.search(r"\n  memory\s+\d+Mi \(\d+%\)\s+0 \(0%\)\n", allocated)


def test_a_pod_bigger_than_any_node_stays_pending_and_says_why(cluster: SimCluster) -> None:
    create(cluster, pod("huge", memory="8Gi"))
    eventually(lambda: "FailedScheduling" in events_of(cluster, "huge"), what="a FailedScheduling event")
    assert re.search(r"Warning\s+FailedScheduling\s+.+\s+default-scheduler\s+" + re.escape(TOO_BIG),
                     events_of(cluster, "huge"))
    row = table_rows_by_name(cluster.kubectl("get", "pod", "huge", "-o", "wide"))["huge"]
    assert (row["STATUS"], row["NODE"]) == ("Pending", "<none>")
    conditions = json.loads(cluster.kubectl("get", "pod", "huge", "-o", "json"))["status"]["conditions"]
    scheduled = next(c for c in conditions if c["type"] == "PodScheduled")
    assert (scheduled["status"], scheduled["reason"], scheduled["message"]) == ("False", "Unschedulable", TOO_BIG)
    force_delete(cluster, "huge")


def test_a_deleted_pod_makes_room_for_one_that_waited(cluster: SimCluster) -> None:
    create(cluster, *(pod(f"fill-{i}", memory="1500Mi") for i in range(3)))
    filled = {assigned(cluster, f"fill-{i}") for i in range(3)}
    assert filled == set(NODES)  # least allocated first: one on each node
    create(cluster, pod("waiting", memory="1500Mi"))
    eventually(lambda: "FailedScheduling" in events_of(cluster, "waiting"), what="waiting to be unschedulable")
    freed = node_of(cluster, "fill-1")
    force_delete(cluster, "fill-1")
    assert assigned(cluster, "waiting") == freed
    assert re.search(rf"Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default/waiting to "
                     rf"{freed}\n", events_of(cluster, "waiting"))
    force_delete(cluster, "fill-0", "fill-2", "waiting")


def test_a_pod_waits_while_every_node_is_cordoned_and_goes_where_room_opens(cluster: SimCluster) -> None:
    cluster.kubectl("cordon", *NODES)
    try:
        create(cluster, pod("patient"))
        eventually(lambda: "FailedScheduling" in events_of(cluster, "patient"), what="patient to be unschedulable")
        assert ("0/3 nodes are available: 3 node(s) were unschedulable. preemption: 0/3 nodes are available: "
                "3 Preemption is not helpful for scheduling.") in events_of(cluster, "patient")
        cluster.kubectl("uncordon", "edge-1-agent-1")
        assert assigned(cluster, "patient") == "edge-1-agent-1"
    finally:
        cluster.kubectl("uncordon", *NODES)
    force_delete(cluster, "patient")


def test_a_pod_for_another_scheduler_is_left_alone(cluster: SimCluster) -> None:
    create(cluster, pod("elsewhere", schedulerName="my-scheduler"), pod("marker"))
    assigned(cluster, "marker")  # created after it, and scheduled: the other was looked at and passed over
    assert node_of(cluster, "elsewhere") == "<none>"
    assert "<none>" in events_of(cluster, "elsewhere")
    force_delete(cluster, "elsewhere", "marker")
