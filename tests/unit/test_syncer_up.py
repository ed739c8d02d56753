"""What comes up from a cluster: mirror pods with their exact crash states, the Events about them, and the stale mark.

The downstream pods and Events are made with the simulated cluster's own code (its ReplicaSet controller's pod
template copy, the kubelet's container states, phase and conditions, client-go's Event bodies), so they have the
shapes the syncer really meets.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from controlplane.printers import pod_summary
from controlplane.registry.formats import is_qualified_name
from controlplane.registry.strategy import status_strategy_for, strategy_for
from simcluster import podstatus as ps
from simcluster.events import NORMAL, WARNING, Source, event, involved
from simcluster.rollout import controller_ref, pod_from_template, pod_template_hash
from syncer.translate import (
    CLUSTER_LABEL,
    CLUSTER_UNREACHABLE,
    DOWNSTREAM_NAME_ANNOTATION,
    DOWNSTREAM_NAMESPACE_ANNOTATION,
    DOWNSTREAM_UID_ANNOTATION,
    MIRROR_ANNOTATION,
    REFUSED_REASON,
    STALE_CONDITION,
    deployment_of,
    downstream_namespace,
    mirror_marked_stale,
    mirror_pod,
    mirror_status,
    refusal_event,
    stale_mirror_status,
    upstream_event,
)

WORKSPACE = "root:team-a"
NS = "shop"
CLUSTER = "edge-1"
DNS = downstream_namespace(WORKSPACE, NS)
NODE = "edge-1-agent-0"
STARTED = "2026-11-25T09:59:00Z"
NOW = "2026-11-25T10:00:00Z"
LATER = "2026-11-25T10:05:00Z"
MIRROR_UID = "mirror-uid-7"
DEPLOYMENT_UID = "up-deploy-uid"
SCHEDULER = Source("default-scheduler")
KUBELET = Source("kubelet", NODE)

TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "api", "tier": "backend"}, "annotations": {"prometheus.io/scrape": "true"}},
    "spec": {"containers": [{"name": "api", "image": "busybox:1.36",
                             "command": ["sh", "-c", "echo 'fatal: DATABASE_URL is not set' >&2; exit 1"],
                             "resources": {"limits": {"memory": "100Mi"}}}]},
}
HASH = pod_template_hash(TEMPLATE, None)
UPSTREAM_DEPLOYMENT: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "Deployment",
                                       "metadata": {"name": "api", "namespace": NS, "uid": DEPLOYMENT_UID}}


def replica_set() -> dict[str, Any]:
    template = copy.deepcopy(TEMPLATE)
    template["metadata"]["labels"]["pod-template-hash"] = HASH
    downstream_deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                             "metadata": {"name": "api", "namespace": DNS, "uid": "down-deploy-uid"}}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"api-{HASH}", "namespace": DNS, "uid": "down-rs-uid",
                         "ownerReferences": [controller_ref(downstream_deployment)]},
            "spec": {"template": template}}


def scheduled_pod() -> dict[str, Any]:
    """A pod as the ReplicaSet controller creates it, stored by the cluster and bound by its scheduler."""
    pod = pod_from_template(replica_set())
    pod["metadata"].update({"name": f"api-{HASH}-x2x9z", "namespace": DNS, "uid": "down-pod-uid",
                            "resourceVersion": "812", "creationTimestamp": STARTED})
    strategy_for("", "Pod").prepare_for_create(pod)
    pod["spec"]["nodeName"] = NODE
    pod["status"]["conditions"] = [{"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                                    "lastTransitionTime": STARTED}]
    return pod


def running(pod: dict[str, Any], view: ps.ContainerView) -> dict[str, Any]:
    """`pod` with the status its kubelet writes while its one container is in `view`'s state."""
    phase = ps.phase("Always", [view], initialized=True)
    status = pod["status"]
    status.update({
        "phase": phase,
        "conditions": ps.conditions(status["conditions"], sandbox_ready=True, init=[], containers=[view],
                                    init_done=True, phase_=phase, now=STARTED),
        "hostIP": "10.0.0.11", "hostIPs": [{"ip": "10.0.0.11"}], "podIP": "10.42.0.7", "podIPs": [{"ip": "10.42.0.7"}],
        "startTime": STARTED, "containerStatuses": [view.status()],
    })
    return pod


def crash_looping() -> dict[str, Any]:
    pod = scheduled_pod()
    cid = ps.container_id("down-pod-uid", "api", 2)
    view = ps.ContainerView(
        "api", "docker.io/library/busybox:1.36",
        state=ps.waiting(ps.CRASH_LOOP_BACK_OFF, ps.crash_loop_message(20, "api", pod)),
        last_state=ps.terminated(1, "Error", "2026-11-25T09:59:40Z", "2026-11-25T09:59:41Z", cid),
        restart_count=2, image_id="docker.io/library/busybox@sha256:9ae97d36", container_id=cid)
    return running(pod, view)


def oom_killed() -> dict[str, Any]:
    pod = scheduled_pod()
    cid = ps.container_id("down-pod-uid", "api", 1)
    view = ps.ContainerView(
        "api", "docker.io/polinux/stress:latest",
        state=ps.waiting(ps.CRASH_LOOP_BACK_OFF, ps.crash_loop_message(10, "api", pod)),
        last_state=ps.terminated(137, "OOMKilled", "2026-11-25T09:59:50Z", "2026-11-25T09:59:51Z", cid),
        restart_count=1, image_id="docker.io/polinux/stress@sha256:b6144f84", container_id=cid)
    return running(pod, view)


def image_pull_back_off() -> dict[str, Any]:
    view = ps.ContainerView("api", "nginx:1.99",
                            state=ps.waiting(ps.IMAGE_PULL_BACK_OFF, 'Back-off pulling image "nginx:1.99"'))
    return running(scheduled_pod(), view)


def config_error() -> dict[str, Any]:
    view = ps.ContainerView("api", "docker.io/library/busybox:1.36",
                            state=ps.waiting(ps.CREATE_CONTAINER_CONFIG_ERROR, 'configmap "app-config" not found'),
                            image_id="docker.io/library/busybox@sha256:9ae97d36")
    return running(scheduled_pod(), view)


def serving() -> dict[str, Any]:
    cid = ps.container_id("down-pod-uid", "api", 0)
    view = ps.ContainerView("api", "docker.io/library/busybox:1.36", state=ps.running(STARTED), ready=True,
                            started=True, image_id="docker.io/library/busybox@sha256:9ae97d36", container_id=cid)
    return running(scheduled_pod(), view)


def kubectl_get_pods(pod: dict[str, Any]) -> tuple[str, str, str]:
    summary = pod_summary(pod, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    return summary.ready, summary.status, summary.restarts


# ---- mirror pods ---------------------------------------------------------------------------------------------

def test_a_mirror_is_named_after_the_pod_and_cluster_in_the_tenants_namespace() -> None:
    mirror = mirror_pod(crash_looping(), NS, UPSTREAM_DEPLOYMENT, CLUSTER)
    assert mirror["apiVersion"] == "v1" and mirror["kind"] == "Pod"
    assert mirror["metadata"]["name"] == f"api-{HASH}-x2x9z.edge-1"
    assert mirror["metadata"]["namespace"] == NS


def test_a_mirror_keeps_the_pods_labels_and_names_its_cluster() -> None:
    labels = mirror_pod(crash_looping(), NS, UPSTREAM_DEPLOYMENT, CLUSTER)["metadata"]["labels"]
    assert labels == {"app": "api", "tier": "backend", "pod-template-hash": HASH, CLUSTER_LABEL: CLUSTER}


def test_a_mirror_says_what_it_mirrors() -> None:
    annotations = mirror_pod(crash_looping(), NS, UPSTREAM_DEPLOYMENT, CLUSTER)["metadata"]["annotations"]
    assert annotations == {
        "prometheus.io/scrape": "true", MIRROR_ANNOTATION: "true", DOWNSTREAM_NAMESPACE_ANNOTATION: DNS,
        DOWNSTREAM_NAME_ANNOTATION: f"api-{HASH}-x2x9z", DOWNSTREAM_UID_ANNOTATION: "down-pod-uid",
    }


def test_a_mirror_carries_nothing_of_the_downstream_pods_identity() -> None:
    meta = mirror_pod(crash_looping(), NS, UPSTREAM_DEPLOYMENT, CLUSTER)["metadata"]
    assert set(meta) == {"name", "namespace", "labels", "annotations", "ownerReferences"}


def test_a_mirror_is_controlled_by_the_tenants_deployment() -> None:
    owners = mirror_pod(crash_looping(), NS, UPSTREAM_DEPLOYMENT, CLUSTER)["metadata"]["ownerReferences"]
    assert owners == [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "uid": DEPLOYMENT_UID,
                       "controller": True}]


def test_a_mirror_without_a_known_deployment_has_no_owner() -> None:
    assert "ownerReferences" not in mirror_pod(crash_looping(), NS, None, CLUSTER)["metadata"]


def test_a_mirror_has_the_pods_spec_with_its_node() -> None:
    pod = crash_looping()
    mirror = mirror_pod(pod, NS, UPSTREAM_DEPLOYMENT, CLUSTER)
    assert mirror["spec"] == pod["spec"]
    assert mirror["spec"]["nodeName"] == NODE


def test_a_debugged_pods_ephemeral_containers_stay_on_the_cluster() -> None:
    pod = crash_looping()
    pod["spec"]["ephemeralContainers"] = [{"name": "debugger", "image": "busybox"}]
    assert "ephemeralContainers" not in mirror_pod(pod, NS, UPSTREAM_DEPLOYMENT, CLUSTER)["spec"]


@pytest.mark.parametrize(("make", "shown"), [
    (crash_looping, ("0/1", "CrashLoopBackOff", "2 (19s ago)")),
    (oom_killed, ("0/1", "CrashLoopBackOff", "1 (9s ago)")),
    (image_pull_back_off, ("0/1", "ImagePullBackOff", "0")),
    (config_error, ("0/1", "CreateContainerConfigError", "0")),
    (serving, ("1/1", "Running", "0")),
])
def test_kubectl_get_pods_shows_the_mirror_exactly_as_the_pod(make: Any, shown: tuple[str, str, str]) -> None:
    pod = make()
    mirror = mirror_pod(pod, NS, UPSTREAM_DEPLOYMENT, CLUSTER)
    assert mirror["status"] == pod["status"]
    assert kubectl_get_pods(mirror) == kubectl_get_pods(pod) == shown


def test_a_crash_loops_last_state_and_exit_code_come_up() -> None:
    container = mirror_pod(crash_looping(), NS, UPSTREAM_DEPLOYMENT, CLUSTER)["status"]["containerStatuses"][0]
    assert container["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert container["lastState"]["terminated"]["exitCode"] == 1
    assert container["lastState"]["terminated"]["reason"] == "Error"
    assert container["restartCount"] == 2
    assert container["ready"] is False


def test_an_oom_kill_comes_up_as_137_oomkilled() -> None:
    container = mirror_pod(oom_killed(), NS, UPSTREAM_DEPLOYMENT, CLUSTER)["status"]["containerStatuses"][0]
    assert container["lastState"]["terminated"]["exitCode"] == 137
    assert container["lastState"]["terminated"]["reason"] == "OOMKilled"


def test_a_pod_whose_container_never_started_stays_pending_upstream() -> None:
    for make in (image_pull_back_off, config_error):
        status = mirror_pod(make(), NS, UPSTREAM_DEPLOYMENT, CLUSTER)["status"]
        assert status["phase"] == "Pending"
        ready = next(c for c in status["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"], ready["message"]) == (
            "False", "ContainersNotReady", "containers with unready status: [api]")


def test_the_mirror_is_a_valid_pod_for_the_control_plane() -> None:
    mirror = mirror_pod(crash_looping(), NS, UPSTREAM_DEPLOYMENT, CLUSTER)
    created = copy.deepcopy(mirror)
    pods = strategy_for("", "Pod")
    pods.prepare_for_create(created)
    assert pods.validate(created) == []
    with_status = {**created, "status": mirror_status(crash_looping())}
    assert status_strategy_for("", "Pod").validate_update(with_status, created) == []


def test_mirroring_leaves_the_downstream_pod_as_it_was() -> None:
    pod = crash_looping()
    before = copy.deepcopy(pod)
    mirror = mirror_pod(pod, NS, UPSTREAM_DEPLOYMENT, CLUSTER)
    mirror["status"]["containerStatuses"][0]["restartCount"] = 99
    mirror["spec"]["containers"][0]["image"] = "changed"
    assert pod == before


def test_the_mirror_status_is_the_pods_status_unchanged_and_unshared() -> None:
    pod = oom_killed()
    status = mirror_status(pod)
    assert status == pod["status"]
    status["phase"] = "Failed"
    assert pod["status"]["phase"] == "Running"
    assert mirror_status({"metadata": {"name": "new"}}) == {}


def test_a_pod_leads_to_the_deployment_of_its_replica_set() -> None:
    assert deployment_of(crash_looping()) == "api"


def test_a_hyphenated_deployment_name_survives() -> None:
    pod = {"metadata": {"ownerReferences": [{"kind": "ReplicaSet", "name": "shop-api-v2-7c9b4d5f6",
                                             "controller": True}]}}
    assert deployment_of(pod) == "shop-api-v2"


@pytest.mark.parametrize("owners", [
    [],
    [{"kind": "ReplicaSet", "name": "api-7c9b4d5f6"}],
    [{"kind": "StatefulSet", "name": "db", "controller": True}],
    [{"kind": "ReplicaSet", "name": "nodash", "controller": True}],
])
def test_a_pod_no_deployment_controls_has_no_deployment(owners: list[dict[str, Any]]) -> None:
    assert deployment_of({"metadata": {"ownerReferences": owners}}) is None


# ---- events --------------------------------------------------------------------------------------------------

def uids(kind: str, name: str) -> str | None:
    """What the syncer knows upstream: the mirror of the pod and the Deployment."""
    return {("Pod", f"api-{HASH}-x2x9z.edge-1"): MIRROR_UID, ("Deployment", "api"): DEPLOYMENT_UID}.get((kind, name))


def kubelet_event(type_: str, reason: str, message: str, **changes: Any) -> dict[str, Any]:
    body = event(involved(crash_looping(), ps.field_path("api")), KUBELET, type_, reason, message, now=NOW,
                 name_suffix=0x187B3796DC210D15)
    body.update(changes)
    return body


def test_a_back_off_event_comes_up_about_the_mirror() -> None:
    pod = crash_looping()
    down = kubelet_event(WARNING, "BackOff", f"Back-off restarting failed container api in pod {ps.pod_ref(pod)}",
                         count=7, lastTimestamp=LATER)
    up = upstream_event(down, NS, CLUSTER, uids)
    assert up is not None
    assert up["involvedObject"] == {"kind": "Pod", "namespace": NS, "name": f"api-{HASH}-x2x9z.edge-1",
                                    "uid": MIRROR_UID, "apiVersion": "v1", "fieldPath": "spec.containers{api}"}
    mirror_ref = f"api-{HASH}-x2x9z.edge-1_shop({MIRROR_UID})"
    assert up["message"] == f"Back-off restarting failed container api in pod {mirror_ref}"
    assert (up["type"], up["reason"], up["count"]) == ("Warning", "BackOff", 7)
    assert (up["firstTimestamp"], up["lastTimestamp"]) == (NOW, LATER)
    assert up["source"] == {"component": "kubelet", "host": NODE}


def test_the_upstream_event_is_named_after_the_downstream_one_and_the_cluster() -> None:
    down = kubelet_event(NORMAL, "Pulled", 'Container image "busybox:1.36" already present on machine')
    up = upstream_event(down, NS, CLUSTER, uids)
    assert up is not None
    assert up["metadata"] == {"name": f"{down['metadata']['name']}.edge-1", "namespace": NS,
                              "labels": {CLUSTER_LABEL: CLUSTER}}


def test_a_repeat_of_the_event_translates_to_the_same_upstream_event() -> None:
    first = upstream_event(kubelet_event(WARNING, "Unhealthy", "Liveness probe failed: HTTP probe failed with "
                                         "statuscode: 404"), NS, CLUSTER, uids)
    again = upstream_event(kubelet_event(WARNING, "Unhealthy", "Liveness probe failed: HTTP probe failed with "
                                         "statuscode: 404", count=3, lastTimestamp=LATER), NS, CLUSTER, uids)
    assert first is not None and again is not None
    assert first["metadata"] == again["metadata"] and first["involvedObject"] == again["involvedObject"]
    assert again["count"] == 3


def test_the_scheduled_event_names_the_mirror_in_the_tenants_namespace() -> None:
    pod = crash_looping()
    down = event(involved(pod), SCHEDULER, NORMAL, "Scheduled",
                 f"Successfully assigned {DNS}/{pod['metadata']['name']} to {NODE}", now=NOW, name_suffix=1)
    up = upstream_event(down, NS, CLUSTER, uids)
    assert up is not None
    assert up["message"] == f"Successfully assigned shop/api-{HASH}-x2x9z.edge-1 to {NODE}"
    assert "fieldPath" not in up["involvedObject"]
    assert up["source"] == {"component": "default-scheduler"}


@pytest.mark.parametrize(("reason", "message", "expected"), [
    ("Failed", f"Error: couldn't find key LEVEL in ConfigMap {DNS}/app-config",
     "Error: couldn't find key LEVEL in ConfigMap shop/app-config"),
    ("Failed", 'Error: configmap "app-config" not found', 'Error: configmap "app-config" not found'),
    ("Failed", 'Failed to pull image "nginx:1.99": failed to resolve reference "docker.io/library/nginx:1.99": '
     "docker.io/library/nginx:1.99: not found",
     'Failed to pull image "nginx:1.99": failed to resolve reference "docker.io/library/nginx:1.99": '
     "docker.io/library/nginx:1.99: not found"),
    ("Killing", "Container api failed liveness probe, will be restarted",
     "Container api failed liveness probe, will be restarted"),
    ("FailedMount", 'MountVolume.SetUp failed for volume "config" : configmap "app-config" not found',
     'MountVolume.SetUp failed for volume "config" : configmap "app-config" not found'),
])
def test_kubelet_messages_name_only_upstream_things(reason: str, message: str, expected: str) -> None:
    up = upstream_event(kubelet_event(WARNING, reason, message), NS, CLUSTER, uids)
    assert up is not None
    assert up["message"] == expected
    assert DNS not in str(up)


def test_a_failed_scheduling_event_comes_up() -> None:
    message = "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No " \
              "preemption victims found for incoming pod."
    down = event(involved(scheduled_pod()), SCHEDULER, WARNING, "FailedScheduling", message, now=NOW, name_suffix=2)
    up = upstream_event(down, NS, CLUSTER, uids)
    assert up is not None
    assert (up["reason"], up["message"]) == ("FailedScheduling", message)


def test_a_namespace_like_word_is_not_mistaken_for_the_downstream_namespace() -> None:
    message = f"volume {DNS}x and x{DNS} stay; {DNS} goes"
    up = upstream_event(kubelet_event(WARNING, "Failed", message), NS, CLUSTER, uids)
    assert up is not None
    assert up["message"] == f"volume {DNS}x and x{DNS} stay; shop goes"


def test_a_deployment_event_comes_up_about_the_tenants_deployment() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "api", "namespace": DNS, "uid": "down-deploy-uid", "resourceVersion": "5"}}
    down = event(involved(deployment), Source("deployment-controller"), NORMAL, "ScalingReplicaSet",
                 f"Scaled up replica set api-{HASH} to 2", now=NOW, name_suffix=3)
    up = upstream_event(down, NS, CLUSTER, uids)
    assert up is not None
    assert up["involvedObject"] == {"kind": "Deployment", "namespace": NS, "name": "api", "uid": DEPLOYMENT_UID,
                                    "apiVersion": "apps/v1"}
    assert up["message"] == f"Scaled up replica set api-{HASH} to 2"


def test_a_replica_set_warning_comes_up_about_the_deployment() -> None:
    message = f'Error creating: pods "api-{HASH}-" is forbidden: exceeded quota: compute, requested: memory=100Mi'
    down = event(involved(replica_set()), Source("replicaset-controller"), WARNING, "FailedCreate", message,
                 now=NOW, name_suffix=4)
    up = upstream_event(down, NS, CLUSTER, uids)
    assert up is not None
    assert (up["involvedObject"]["kind"], up["involvedObject"]["name"]) == ("Deployment", "api")
    assert up["involvedObject"]["uid"] == DEPLOYMENT_UID
    assert up["message"] == message


def test_routine_replica_set_events_stay_on_the_cluster() -> None:
    down = event(involved(replica_set()), Source("replicaset-controller"), NORMAL, "SuccessfulCreate",
                 f"Created pod: api-{HASH}-x2x9z", now=NOW, name_suffix=5)
    assert upstream_event(down, NS, CLUSTER, uids) is None


def test_node_events_stay_on_the_cluster() -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE, "uid": NODE, "namespace": ""}}
    down = event(involved(node), KUBELET, WARNING, "OOMKilling", "Memory cgroup out of memory: Killed process 1004",
                 now=NOW, name_suffix=6)
    assert upstream_event(down, NS, CLUSTER, uids) is None


def test_an_event_about_a_pod_not_mirrored_yet_waits() -> None:
    assert upstream_event(kubelet_event(NORMAL, "Pulling", 'Pulling image "busybox:1.36"'), NS, CLUSTER,
                          lambda kind, name: None) is None


def test_an_event_comes_up_valid_for_the_control_plane() -> None:
    pod = crash_looping()
    up = upstream_event(kubelet_event(WARNING, "BackOff", f"Back-off restarting failed container api in pod "
                                      f"{ps.pod_ref(pod)}"), NS, CLUSTER, uids)
    assert up is not None
    assert strategy_for("", "Event").validate(up) == []


def test_the_downstream_event_is_left_as_it_was() -> None:
    down = kubelet_event(WARNING, "BackOff", "x")
    before = copy.deepcopy(down)
    up = upstream_event(down, NS, CLUSTER, uids)
    assert up is not None
    up["source"]["host"] = "changed"
    assert down == before


# ---- stale mirrors ---------------------------------------------------------------------------------------------

def stale(status: dict[str, Any], last_seen: str = NOW, now: str = LATER) -> dict[str, Any]:
    return stale_mirror_status(status, CLUSTER, last_seen, now)


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


def test_a_stale_mirror_says_since_when_its_cluster_is_unreachable() -> None:
    marked = stale(mirror_status(serving()))
    assert condition(marked, STALE_CONDITION) == {
        "type": "workload.canopy.dev/Stale", "status": "True", "lastProbeTime": None, "lastTransitionTime": LATER,
        "reason": CLUSTER_UNREACHABLE,
        "message": f"cluster edge-1 unreachable since {NOW}, showing what was last seen",
    }
    assert is_qualified_name(STALE_CONDITION) == []


def test_a_stale_mirror_is_not_ready_as_on_an_unreachable_node() -> None:
    marked = stale(mirror_status(serving()))
    ready = condition(marked, "Ready")
    assert (ready["status"], ready["reason"], ready["lastTransitionTime"]) == ("False", CLUSTER_UNREACHABLE, LATER)


def test_the_rest_of_a_stale_mirror_is_what_was_last_seen() -> None:
    status = mirror_status(crash_looping())
    marked = stale(status)
    assert {k: v for k, v in marked.items() if k != "conditions"} == {
        k: v for k, v in status.items() if k != "conditions"}
    kept = [c for c in status["conditions"] if c["type"] != "Ready"]
    assert [c for c in marked["conditions"] if c["type"] not in ("Ready", STALE_CONDITION)] == kept


def test_a_not_ready_mirror_keeps_when_it_became_not_ready() -> None:
    marked = stale(mirror_status(crash_looping()))
    assert condition(marked, "Ready")["lastTransitionTime"] == STARTED


def test_marking_again_changes_nothing() -> None:
    once = stale(mirror_status(serving()))
    assert stale(once, now="2026-11-25T10:09:00Z") == once


def test_a_later_mark_keeps_the_times_but_says_the_new_last_seen() -> None:
    once = stale(mirror_status(serving()))
    again = stale(once, last_seen="2026-11-25T10:01:00Z", now="2026-11-25T10:09:00Z")
    assert condition(again, STALE_CONDITION)["lastTransitionTime"] == LATER
    assert "since 2026-11-25T10:01:00Z" in condition(again, STALE_CONDITION)["message"]


def test_a_mirror_without_conditions_gets_both() -> None:
    marked = stale({"phase": "Pending", "qosClass": "BestEffort"})
    assert [c["type"] for c in marked["conditions"]] == ["Ready", STALE_CONDITION]


def test_marking_leaves_the_status_it_was_given_alone() -> None:
    status = mirror_status(serving())
    before = copy.deepcopy(status)
    stale(status)
    assert status == before



# ---- a cluster refusing the tenant's object -------------------------------------------------------------------


def test_a_refusal_is_a_valid_warning_event_on_the_tenants_object_in_the_clusters_words() -> None:
    refused = refusal_event(UPSTREAM_DEPLOYMENT, CLUSTER, 'Deployment.apps "api" is invalid: spec.replicas: '
                            "Invalid value: -1", NOW, None)
    assert strategy_for("", "Event").validate(refused) == []
    assert (refused["type"], refused["reason"], refused["count"]) == ("Warning", REFUSED_REASON, 1)
    assert refused["involvedObject"] == {"kind": "Deployment", "namespace": NS, "name": "api", "uid": DEPLOYMENT_UID,
                                         "apiVersion": "apps/v1"}
    assert refused["metadata"]["namespace"] == NS
    assert refused["metadata"]["labels"] == {CLUSTER_LABEL: CLUSTER}
    assert refused["message"].startswith(f"cluster {CLUSTER} refused the Deployment: Deployment.apps \"api\" is "
                                         "invalid: spec.replicas")
    assert "fix the manifest" in refused["message"], "it says what to do"
    assert refused["firstTimestamp"] == refused["lastTimestamp"] == NOW


def test_a_refusal_that_goes_on_counts_up_on_the_same_event() -> None:
    first = refusal_event(UPSTREAM_DEPLOYMENT, CLUSTER, "forbidden: exceeded quota", NOW, None)
    stored = {**first, "metadata": {**first["metadata"], "resourceVersion": "42"}}
    again = refusal_event(UPSTREAM_DEPLOYMENT, CLUSTER, "forbidden: exceeded quota", LATER, stored)
    assert again["metadata"]["name"] == first["metadata"]["name"]
    assert (again["count"], again["firstTimestamp"], again["lastTimestamp"]) == (2, NOW, LATER)
    assert again["metadata"]["resourceVersion"] == "42", "written over the one read"


def test_refusals_by_two_clusters_or_of_two_kinds_are_separate_events() -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": NS, "uid": "s"}}
    names = {refusal_event(UPSTREAM_DEPLOYMENT, CLUSTER, "no", NOW, None)["metadata"]["name"],
             refusal_event(UPSTREAM_DEPLOYMENT, "edge-2", "no", NOW, None)["metadata"]["name"],
             refusal_event(service, CLUSTER, "no", NOW, None)["metadata"]["name"]}
    assert len(names) == 3


def test_a_mirror_marked_stale_is_known_as_such_until_its_pod_is_written_again() -> None:
    status = mirror_status(serving())
    assert mirror_marked_stale({"status": stale(status)})
    assert not mirror_marked_stale({"status": status})
    assert not mirror_marked_stale({})
