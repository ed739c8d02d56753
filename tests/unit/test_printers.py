"""Table rendering: columns, cells and the pod status derivation, checked against what kubectl shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.registry import BUILTIN, ResourceType
from controlplane.errors import StatusError
from controlplane.printers import human_duration, pod_summary, short_human_duration, table

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rt(plural: str, group: str = "") -> ResourceType:
    found = BUILTIN.lookup(group, "v1", plural)
    assert found is not None
    return found


RBAC = "rbac.authorization.k8s.io"
NODE = ResourceType("", "v1", "Node", "nodes", False, ("no",))
WIDGET = ResourceType("example.com", "v1", "Widget", "widgets", True)


def headers(resource: ResourceType, *, wide: bool = False) -> list[str]:
    columns = table(resource, [], now=NOW)["columnDefinitions"]
    return [c["name"].upper() for c in columns if wide or c["priority"] == 0]


def cells(resource: ResourceType, obj: dict[str, Any]) -> list[Any]:
    rendered = table(resource, [obj], now=NOW)
    return rendered["rows"][0]["cells"]


# ------------------------------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (59, "59s"),
        (119, "119s"),
        (120, "2m"),
        (125, "2m5s"),
        (599, "9m59s"),
        (600, "10m"),
        (659, "10m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 20 * 60 + 59, "3h20m"),
        (8 * 3600 - 1, "7h59m"),
        (8 * 3600, "8h"),
        (48 * 3600 - 1, "47h"),
        (48 * 3600, "2d"),
        (2 * 86400 + 3 * 3600, "2d3h"),
        (8 * 86400 - 1, "7d23h"),
        (8 * 86400, "8d"),
        (45 * 86400, "45d"),
        (2 * 365 * 86400 - 1, "729d"),
        (2 * 365 * 86400, "2y"),
        (3 * 365 * 86400 + 40 * 86400, "3y40d"),
        (8 * 365 * 86400 - 1, "7y364d"),
        (8 * 365 * 86400, "8y"),
        (20 * 365 * 86400, "20y"),
    ],
)
def test_human_duration(seconds: int, expected: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(59, "59s"), (60, "1m"), (3599, "59m"), (3600, "1h"), (86399, "23h"), (86400, "1d"),
     (364 * 86400, "364d"), (365 * 86400, "1y"), (3 * 365 * 86400 + 300 * 86400, "3y")],
)
def test_short_human_duration(seconds: int, expected: str) -> None:
    assert short_human_duration(timedelta(seconds=seconds)) == expected


@pytest.mark.parametrize("render", [human_duration, short_human_duration])
def test_small_future_skew_reads_as_now_and_more_is_invalid(render: Any) -> None:
    assert render(timedelta(seconds=-1)) == "0s"
    assert render(timedelta(seconds=-1.9)) == "0s"
    assert render(timedelta(seconds=-2)) == "<invalid>"
    assert render(timedelta(days=-3)) == "<invalid>"


def test_fractional_seconds_are_truncated() -> None:
    assert human_duration(timedelta(seconds=119.999)) == "119s"
    assert human_duration(timedelta(minutes=9, seconds=59.9)) == "9m59s"


def test_age_cell_unknown_and_future() -> None:
    assert cells(rt("configmaps"), {"metadata": {"name": "c"}})[2] == "<unknown>"
    future = {"metadata": {"name": "c", "creationTimestamp": ago(seconds=-30)}}
    assert cells(rt("configmaps"), future)[2] == "<invalid>"
    assert cells(rt("configmaps"), {"metadata": {"name": "c", "creationTimestamp": ago(hours=5)}})[2] == "5h"


# ------------------------------------------------------------------------------------------------------ pods


def container(name: str = "app", *, ready: bool = False, restarts: int = 0, last_finished: str | None = None,
              last_reason: str = "Error", last_exit: int = 1, **state: Any) -> dict[str, Any]:
    status: dict[str, Any] = {"name": name, "ready": ready, "restartCount": restarts, "state": state,
                              "image": "img", "imageID": ""}
    if last_finished is not None:
        status["lastState"] = {
            "terminated": {"exitCode": last_exit, "reason": last_reason, "finishedAt": last_finished}
        }
    return status


def make_pod(*statuses: dict[str, Any], phase: str = "Running", init: list[dict[str, Any]] | None = None,
             init_specs: list[dict[str, Any]] | None = None, conditions: list[dict[str, str]] | None = None,
             deleting: bool = False, reason: str | None = None) -> dict[str, Any]:
    names = [s["name"] for s in statuses] or ["app"]
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": ago(minutes=30),
                     "resourceVersion": "42", "uid": "u-1"},
        "spec": {"containers": [{"name": n, "image": "img"} for n in names], "nodeName": "node-a"},
        "status": {"phase": phase, "containerStatuses": list(statuses)},
    }
    if init is not None:
        pod["status"]["initContainerStatuses"] = init
        pod["spec"]["initContainers"] = init_specs or [{"name": s["name"], "image": "img"} for s in init]
    if conditions is not None:
        pod["status"]["conditions"] = conditions
    if deleting:
        pod["metadata"]["deletionTimestamp"] = ago(seconds=10)
    if reason is not None:
        pod["status"]["reason"] = reason
    return pod


READY_TRUE = [{"type": "Ready", "status": "True"}]


@pytest.mark.parametrize(
    ("pod", "ready", "status", "restarts"),
    [
        pytest.param(
            make_pod(container(ready=True, running={"startedAt": ago(minutes=20)})),
            "1/1", "Running", "0", id="running"),
        pytest.param(
            make_pod(container(restarts=5, last_finished=ago(seconds=30),
                               waiting={"reason": "CrashLoopBackOff", "message": "back-off 2m40s"})),
            "0/1", "CrashLoopBackOff", "5 (30s ago)", id="crashloop-after-exit-1"),
        pytest.param(
            make_pod(container(restarts=3, last_finished=ago(minutes=2), last_reason="OOMKilled", last_exit=137,
                               terminated={"exitCode": 137, "reason": "OOMKilled",
                                           "finishedAt": ago(seconds=5)})),
            "0/1", "OOMKilled", "3 (2m ago)", id="oomkilled-between-restarts"),
        pytest.param(
            make_pod(container(waiting={"reason": "ImagePullBackOff"}), phase="Pending"),
            "0/1", "ImagePullBackOff", "0", id="image-pull-backoff"),
        pytest.param(
            make_pod(container(waiting={"reason": "ErrImagePull"}), phase="Pending"),
            "0/1", "ErrImagePull", "0", id="err-image-pull"),
        pytest.param(
            make_pod(container(waiting={"reason": "CreateContainerConfigError",
                                        "message": 'configmap "cfg" not found'}), phase="Pending"),
            "0/1", "CreateContainerConfigError", "0", id="create-container-config-error"),
        pytest.param(
            make_pod(container(terminated={"exitCode": 0, "reason": "Completed"}), phase="Succeeded"),
            "0/1", "Completed", "0", id="completed"),
        pytest.param(
            make_pod(container(terminated={"exitCode": 1, "reason": "Error"}), phase="Failed"),
            "0/1", "Error", "0", id="error"),
        pytest.param(
            make_pod(container(terminated={"exitCode": 2}), phase="Failed"),
            "0/1", "ExitCode:2", "0", id="exit-code-without-reason"),
        pytest.param(
            make_pod(container(terminated={"exitCode": 137, "signal": 9}), phase="Failed"),
            "0/1", "Signal:9", "0", id="signal-without-reason"),
        pytest.param(
            make_pod(container(waiting={"reason": "ContainerCreating"}), phase="Pending"),
            "0/1", "ContainerCreating", "0", id="container-creating"),
        pytest.param(make_pod(phase="Pending"), "0/1", "Pending", "0", id="pending-unscheduled"),
        pytest.param(
            make_pod(container(ready=True, running={}), deleting=True),
            "1/1", "Terminating", "0", id="terminating"),
        pytest.param(
            make_pod(container(terminated={"exitCode": 0, "reason": "Completed"}), phase="Succeeded", deleting=True),
            "0/1", "Completed", "0", id="terminal-pod-is-not-terminating"),
        pytest.param(
            make_pod(container(ready=True, running={}), deleting=True, reason="NodeLost"),
            "1/1", "Unknown", "0", id="node-lost"),
        pytest.param(
            make_pod(phase="Failed", reason="Evicted"), "0/1", "Evicted", "0", id="evicted"),
        pytest.param(
            make_pod(container("a", ready=True, running={}),
                     container("b", terminated={"exitCode": 0, "reason": "Completed"}),
                     conditions=READY_TRUE),
            "1/2", "Running", "0", id="completed-sidecar-but-running-and-ready"),
        pytest.param(
            make_pod(container("a", ready=True, running={}),
                     container("b", terminated={"exitCode": 0, "reason": "Completed"})),
            "1/2", "NotReady", "0", id="completed-sidecar-running-not-ready"),
        pytest.param(
            make_pod(container("a", waiting={"reason": "CrashLoopBackOff"}, restarts=1,
                               last_finished=ago(minutes=1)),
                     container("b", waiting={"reason": "ImagePullBackOff"})),
            "0/2", "CrashLoopBackOff", "1 (60s ago)", id="first-container-reason-wins"),
        pytest.param(
            make_pod(container("a", ready=False, running={})),
            "0/1", "Running", "0", id="running-not-ready"),
    ],
)
def test_pod_status(pod: dict[str, Any], ready: str, status: str, restarts: str) -> None:
    summary = pod_summary(pod, NOW)
    assert (summary.ready, summary.status, summary.restarts) == (ready, status, restarts)
    assert cells(rt("pods"), pod)[1:4] == [ready, status, restarts]


@pytest.mark.parametrize(
    ("init", "status"),
    [
        pytest.param([container("setup", running={})], "Init:0/1", id="init-running"),
        pytest.param([container("setup", waiting={"reason": "PodInitializing"})], "Init:0/1",
                     id="init-pod-initializing"),
        pytest.param([container("setup", restarts=4, waiting={"reason": "CrashLoopBackOff"})],
                     "Init:CrashLoopBackOff", id="init-crashloop"),
        pytest.param([container("setup", terminated={"exitCode": 1, "reason": "Error"})], "Init:Error",
                     id="init-error"),
        pytest.param([container("setup", terminated={"exitCode": 3})], "Init:ExitCode:3", id="init-exit-code"),
        pytest.param([container("setup", terminated={"exitCode": 143, "signal": 15})], "Init:Signal:15",
                     id="init-signal"),
        pytest.param([container("one", terminated={"exitCode": 0, "reason": "Completed"}),
                      container("two", running={})], "Init:1/2", id="second-of-two"),
        pytest.param([container("one", terminated={"exitCode": 0, "reason": "Completed"}),
                      container("two", waiting={"reason": "ErrImagePull"})], "Init:ErrImagePull",
                     id="second-fails-to-pull"),
    ],
)
def test_init_container_status(init: list[dict[str, Any]], status: str) -> None:
    pod = make_pod(container(waiting={"reason": "PodInitializing"}), phase="Pending", init=init)
    assert pod_summary(pod, NOW).status == status


def test_init_restarts_count_while_initializing() -> None:
    pod = make_pod(container(waiting={"reason": "PodInitializing"}), phase="Pending",
                   init=[container("setup", restarts=4, last_finished=ago(seconds=45),
                                   waiting={"reason": "CrashLoopBackOff"})])
    assert pod_summary(pod, NOW) == pod_summary(pod, NOW).__class__("0/1", "Init:CrashLoopBackOff", "4 (45s ago)")


def test_finished_init_restarts_are_forgotten_once_containers_run() -> None:
    pod = make_pod(container(ready=True, running={}),
                   init=[container("setup", restarts=2, last_finished=ago(hours=1),
                                   terminated={"exitCode": 0, "reason": "Completed"})])
    assert pod_summary(pod, NOW).restarts == "0"


def test_sidecar_containers_count_toward_ready_and_restarts() -> None:
    sidecar = container("proxy", ready=True, restarts=2, last_finished=ago(minutes=4), running={})
    sidecar["started"] = True
    pod = make_pod(
        container(ready=True, restarts=1, last_finished=ago(minutes=7), running={}),
        init=[sidecar],
        init_specs=[{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}],
        conditions=[{"type": "Initialized", "status": "True"}, *READY_TRUE],
    )
    summary = pod_summary(pod, NOW)
    assert (summary.ready, summary.status, summary.restarts) == ("2/2", "Running", "3 (4m ago)")


def test_unstarted_sidecar_blocks_initialization() -> None:
    sidecar = container("proxy", running={})
    sidecar["started"] = False
    pod = make_pod(container(waiting={"reason": "PodInitializing"}), phase="Pending", init=[sidecar],
                   init_specs=[{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}])
    assert (pod_summary(pod, NOW).ready, pod_summary(pod, NOW).status) == ("0/2", "Init:0/1")


def test_scheduling_gated_pod() -> None:
    pod = make_pod(phase="Pending",
                   conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}])
    assert pod_summary(pod, NOW).status == "SchedulingGated"


def test_restarts_use_the_latest_finish_across_containers() -> None:
    pod = make_pod(
        container("a", restarts=2, last_finished=ago(hours=3), ready=True, running={}),
        container("b", restarts=7, last_finished=ago(minutes=5, seconds=30), ready=True, running={}),
    )
    assert pod_summary(pod, NOW).restarts == "9 (5m30s ago)"


def test_restarts_without_a_finish_time_are_a_plain_count() -> None:
    pod = make_pod(container(restarts=4, ready=True, running={}))
    assert pod_summary(pod, NOW).restarts == "4"


def test_pod_wide_cells() -> None:
    pod = make_pod(container(ready=True, running={}), conditions=[{"type": "example.com/gate", "status": "True"}])
    pod["status"]["podIPs"] = [{"ip": "10.1.0.5"}, {"ip": "fd00::5"}]
    pod["status"]["nominatedNodeName"] = "node-b"
    pod["spec"]["readinessGates"] = [{"conditionType": "example.com/gate"}, {"conditionType": "other"}]
    assert cells(rt("pods"), pod) == ["web", "1/1", "Running", "0", "30m", "10.1.0.5", "node-a", "node-b", "1/2"]


def test_pod_wide_cells_when_unscheduled() -> None:
    pod = make_pod(phase="Pending")
    del pod["spec"]["nodeName"]
    assert cells(rt("pods"), pod)[5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_finished_pods_carry_a_completed_row_condition() -> None:
    done = table(rt("pods"), [make_pod(phase="Succeeded"), make_pod(phase="Failed"), make_pod()], now=NOW)
    assert done["rows"][0]["conditions"] == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                              "message": "The pod has completed successfully."}]
    assert done["rows"][1]["conditions"][0]["reason"] == "Failed"
    assert "conditions" not in done["rows"][2]


# ----------------------------------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("resource", "normal", "wide"),
    [
        (rt("pods"), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
         ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]),
        (rt("deployments", "apps"), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
         ["CONTAINERS", "IMAGES", "SELECTOR"]),
        (rt("replicasets", "apps"), ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
         ["CONTAINERS", "IMAGES", "SELECTOR"]),
        (rt("services"), ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], ["SELECTOR"]),
        (rt("configmaps"), ["NAME", "DATA", "AGE"], []),
        (rt("secrets"), ["NAME", "TYPE", "DATA", "AGE"], []),
        (rt("namespaces"), ["NAME", "STATUS", "AGE"], []),
        (rt("serviceaccounts"), ["NAME", "SECRETS", "AGE"], []),
        (rt("events"), ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
         ["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"]),
        (NODE, ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
         ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]),
        (WIDGET, ["NAME", "AGE"], []),
        (rt("roles", RBAC), ["NAME", "CREATED AT"], []),
        (rt("clusterroles", RBAC), ["NAME", "CREATED AT"], []),
        (rt("rolebindings", RBAC), ["NAME", "ROLE", "AGE"], ["USERS", "GROUPS", "SERVICEACCOUNTS"]),
        (rt("clusterrolebindings", RBAC), ["NAME", "ROLE", "AGE"], ["USERS", "GROUPS", "SERVICEACCOUNTS"]),
    ],
)
def test_columns(resource: ResourceType, normal: list[str], wide: list[str]) -> None:
    assert headers(resource) == normal
    every = table(resource, [], now=NOW)["columnDefinitions"]
    assert [c["name"].upper() for c in every if c["priority"] == 1] == wide
    name_columns = [c for c in every if c["format"] == "name"]
    assert len(name_columns) == 1
    assert name_columns[0]["name"] == "Name"
    assert all(set(c) == {"name", "type", "format", "description", "priority"} and c["description"] for c in every)


def test_event_wide_columns_keep_the_real_interleaved_order() -> None:
    every = [c["name"] for c in table(rt("events"), [], now=NOW)["columnDefinitions"]]
    assert every == ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen",
                     "Count", "Name"]


# ----------------------------------------------------------------------------------------------- other kinds


def test_deployment_row() -> None:
    deployment = {
        "metadata": {"name": "web", "creationTimestamp": ago(days=2, hours=3)},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"},
                         "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]},
            "template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"},
                                                 {"name": "log", "image": "busybox"}]}},
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert cells(rt("deployments", "apps"), deployment) == [
        "web", "2/3", 3, 2, "2d3h", "app,log", "nginx:1.27,busybox", "app=web,tier in (be,fe)"]


def test_new_deployment_without_status() -> None:
    deployment = {"metadata": {"name": "web", "creationTimestamp": ago(seconds=3)},
                  "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {"containers": []}}}}
    assert cells(rt("deployments", "apps"), deployment)[:5] == ["web", "0/1", 0, 0, "3s"]


def test_deployment_with_invalid_selector() -> None:
    deployment = {"metadata": {"name": "web"},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"bad key": "x"}}}}
    assert cells(rt("deployments", "apps"), deployment)[-1] == "<invalid>"


def test_replicaset_row() -> None:
    replica_set = {
        "metadata": {"name": "web-7d9f", "creationTimestamp": ago(minutes=12)},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d9f"}},
                 "template": {"spec": {"containers": [{"name": "app", "image": "nginx"}]}}},
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    assert cells(rt("replicasets", "apps"), replica_set) == [
        "web-7d9f", 2, 2, 1, "12m", "app", "nginx", "app=web,pod-template-hash=7d9f"]
    replica_set["spec"]["selector"] = {}
    assert cells(rt("replicasets", "apps"), replica_set)[-1] == "<none>"


def service(service_type: str | None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"metadata": {"name": "svc", "creationTimestamp": ago(hours=1)}, "spec": dict(spec)}
    if service_type:
        body["spec"]["type"] = service_type
    return body


@pytest.mark.parametrize(
    ("svc", "expected"),
    [
        (service("ClusterIP", clusterIP="10.96.0.10", clusterIPs=["10.96.0.10"],
                 ports=[{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                 selector={"app": "web"}),
         ["svc", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP", "60m", "app=web"]),
        (service("NodePort", clusterIPs=["10.96.0.11"], externalIPs=["1.2.3.4"],
                 ports=[{"port": 80, "nodePort": 30080, "protocol": "TCP"}]),
         ["svc", "NodePort", "10.96.0.11", "1.2.3.4", "80:30080/TCP", "60m", "<none>"]),
        (service("LoadBalancer", clusterIPs=["10.96.0.12"], ports=[{"port": 443, "nodePort": 31443}]),
         ["svc", "LoadBalancer", "10.96.0.12", "<pending>", "443:31443/TCP", "60m", "<none>"]),
        (service("ExternalName", externalName="db.example.com"),
         ["svc", "ExternalName", "<none>", "db.example.com", "<none>", "60m", "<none>"]),
        (service(None, clusterIP="None"),
         ["svc", "ClusterIP", "None", "<none>", "<none>", "60m", "<none>"]),
    ],
)
def test_service_rows(svc: dict[str, Any], expected: list[Any]) -> None:
    assert cells(rt("services"), svc) == expected


def test_load_balancer_addresses() -> None:
    svc = service("LoadBalancer", clusterIPs=["10.96.0.12"], externalIPs=["9.9.9.9"],
                  ports=[{"port": 80, "nodePort": 30000, "protocol": "TCP"}])
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}, {"hostname": "lb.example.com"},
                                                  {"ip": "5.6.7.8"}]}}
    assert cells(rt("services"), svc)[3] == "5.6.7.8,lb.example.com,9.9.9.9"


def test_simple_kinds() -> None:
    created = ago(days=45)
    config_map = {"metadata": {"name": "cfg", "creationTimestamp": created},
                  "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert cells(rt("configmaps"), config_map) == ["cfg", 3, "45d"]
    secret = {"metadata": {"name": "tls", "creationTimestamp": created}, "type": "kubernetes.io/tls",
              "data": {"tls.crt": "x", "tls.key": "y"}}
    assert cells(rt("secrets"), secret) == ["tls", "kubernetes.io/tls", 2, "45d"]
    namespace = {"metadata": {"name": "shop", "creationTimestamp": created}, "status": {"phase": "Active"}}
    assert cells(rt("namespaces"), namespace) == ["shop", "Active", "45d"]
    account = {"metadata": {"name": "default", "creationTimestamp": created}}
    assert cells(rt("serviceaccounts"), account) == ["default", 0, "45d"]


def test_event_row() -> None:
    event = {
        "metadata": {"name": "web.17f", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{app}"},
        "reason": "BackOff",
        "type": "Warning",
        "message": "Back-off restarting failed container\n",
        "source": {"component": "kubelet", "host": "node-a"},
        "firstTimestamp": ago(minutes=10),
        "lastTimestamp": ago(seconds=20),
        "count": 14,
    }
    assert cells(rt("events"), event) == [
        "20s", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kubelet, node-a",
        "Back-off restarting failed container", "10m", 14, "web.17f"]


def test_new_style_event_row() -> None:
    event = {
        "metadata": {"name": "web.18a"},
        "involvedObject": {"kind": "Deployment"},
        "type": "Normal",
        "reason": "ScalingReplicaSet",
        "eventTime": "2025-03-01T11:55:00.000000Z",
        "series": {"count": 3, "lastObservedTime": "2025-03-01T11:59:00.000000Z"},
        "reportingComponent": "deployment-controller",
        "reportingInstance": "",
        "message": "Scaled up",
    }
    assert cells(rt("events"), event) == [
        "60s", "Normal", "ScalingReplicaSet", "deployment", "", "deployment-controller", "Scaled up", "5m", 3,
        "web.18a"]


def test_singleton_event_counts_once_and_reuses_first_seen() -> None:
    event = {"metadata": {"name": "e"}, "involvedObject": {"kind": "Node", "name": "n"},
             "firstTimestamp": ago(hours=2)}
    row = cells(rt("events"), event)
    assert (row[0], row[3], row[7], row[8]) == ("120m", "node/n", "120m", 1)


def test_node_row() -> None:
    node = {
        "metadata": {"name": "node-a", "creationTimestamp": ago(days=3),
                     "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/etcd": "true",
                                "kubernetes.io/role": "master"}},
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "Hostname", "address": "node-a"}, {"type": "InternalIP", "address": "10.0.0.2"}],
            "nodeInfo": {"kubeletVersion": "v1.32.1+k3s1", "osImage": "Ubuntu 24.04", "kernelVersion": "6.8.0",
                         "containerRuntimeVersion": "containerd://1.7.23"},
        },
    }
    assert cells(NODE, node) == [
        "node-a", "Ready,SchedulingDisabled", "control-plane,etcd,master", "3d", "v1.32.1+k3s1", "10.0.0.2",
        "<none>", "Ubuntu 24.04", "6.8.0", "containerd://1.7.23"]


def test_node_without_ready_condition() -> None:
    row = cells(NODE, {"metadata": {"name": "n"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}})
    assert row[1:3] == ["NotReady", "<none>"]
    assert cells(NODE, {"metadata": {"name": "n"}})[1] == "Unknown"
    assert cells(NODE, {"metadata": {"name": "n"}})[7:] == ["<unknown>", "<unknown>", "<unknown>"]


def test_default_table_for_resources_without_a_printer() -> None:
    rendered = table(WIDGET, [{"metadata": {"name": "w", "creationTimestamp": ago(minutes=3)}},
                              {"metadata": {"name": "v"}},
                              {"metadata": {"name": "u", "creationTimestamp": "yesterday"}}], now=NOW)
    assert rendered["columnDefinitions"][1]["type"] == "date"
    assert [row["cells"] for row in rendered["rows"]] == [["w", "3m"], ["v", None], ["u", "<invalid>"]]


def test_roles_show_their_creation_time_as_rfc3339_in_utc() -> None:
    rendered = table(rt("clusterroles", RBAC), [
        {"metadata": {"name": "admin", "creationTimestamp": ago(days=40)}},
        {"metadata": {"name": "edit", "creationTimestamp": "2025-02-28T09:30:15.250000+02:00"}},
        {"metadata": {"name": "new"}},
    ], now=NOW)
    assert rendered["columnDefinitions"][1]["type"] == "date"
    assert [row["cells"] for row in rendered["rows"]] == [
        ["admin", "2025-01-20T12:00:00Z"],
        ["edit", "2025-02-28T07:30:15Z"],
        ["new", "0001-01-01T00:00:00Z"],
    ]
    assert cells(rt("roles", RBAC), {"metadata": {"name": "pod-reader", "creationTimestamp": ago(minutes=1)}}) == [
        "pod-reader", "2025-03-01T11:59:00Z"]


def test_role_binding_row_lists_subjects_by_kind() -> None:
    binding = {
        "metadata": {"name": "devs-view", "namespace": "dev", "creationTimestamp": ago(hours=5)},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "name": "alice", "apiGroup": RBAC},
            {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"},
            {"kind": "Group", "name": "devs", "apiGroup": RBAC},
            {"kind": "User", "name": "bob", "apiGroup": RBAC},
            {"kind": "ServiceAccount", "name": "default"},
        ],
    }
    assert cells(rt("rolebindings", RBAC), binding) == [
        "devs-view", "ClusterRole/view", "5h", "alice, bob", "devs", "ci/builder, /default"]


def test_cluster_role_binding_without_subjects() -> None:
    binding = {"metadata": {"name": "cluster-admin", "creationTimestamp": ago(days=3)},
               "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"}}
    assert cells(rt("clusterrolebindings", RBAC), binding) == ["cluster-admin", "ClusterRole/cluster-admin", "3d",
                                                               "", "", ""]


# ----------------------------------------------------------------------------------------------- table shape


def test_table_envelope_and_partial_metadata_rows() -> None:
    pod = make_pod(container(ready=True, running={}))
    rendered = table(rt("pods"), [pod], now=NOW, list_meta={"resourceVersion": "99", "continue": ""})
    assert rendered["kind"] == "Table"
    assert rendered["apiVersion"] == "meta.k8s.io/v1"
    assert rendered["metadata"] == {"resourceVersion": "99"}
    row_object = rendered["rows"][0]["object"]
    assert row_object == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                          "metadata": pod["metadata"]}
    bare = {k: v for k, v in pod.items() if k not in ("kind", "apiVersion")}
    full = table(rt("pods"), [bare], now=NOW, include_object="Object")["rows"][0]["object"]
    assert full == {**bare, "kind": "Pod", "apiVersion": "v1"}
    assert "kind" not in bare, "the object given is left as it was"


def test_list_metadata_keeps_continue_and_remaining_count() -> None:
    rendered = table(rt("pods"), [], now=NOW,
                     list_meta={"resourceVersion": "5", "continue": "tok", "remainingItemCount": 12})
    assert rendered["metadata"] == {"resourceVersion": "5", "continue": "tok", "remainingItemCount": 12}
    assert rendered["rows"] == []


def test_single_object_uses_its_own_resource_version() -> None:
    assert table(rt("pods"), [make_pod()], now=NOW)["metadata"] == {"resourceVersion": "42"}


def test_include_object_variants() -> None:
    config_map = {"metadata": {"name": "cfg", "resourceVersion": "3"}, "data": {"k": "v"}}
    full = table(rt("configmaps"), [config_map], now=NOW, include_object="Object")["rows"][0]["object"]
    assert full == {"kind": "ConfigMap", "apiVersion": "v1", **config_map}
    deployment = {"metadata": {"name": "web"}, "spec": {"replicas": 1}}
    assert table(rt("deployments", "apps"), [deployment], now=NOW,
                 include_object="Object")["rows"][0]["object"]["apiVersion"] == "apps/v1"
    assert "object" not in table(rt("configmaps"), [config_map], now=NOW, include_object="None")["rows"][0]
    assert table(rt("configmaps"), [config_map], now=NOW,
                 include_object="")["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_unknown_include_object_is_a_bad_request() -> None:
    with pytest.raises(StatusError) as caught:
        table(rt("pods"), [], now=NOW, include_object="Everything")
    assert caught.value.code == 400
    assert caught.value.message == 'unrecognized includeObject value: "Everything"'


def test_naive_now_is_taken_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    config_map = {"metadata": {"name": "c", "creationTimestamp": ago(minutes=4)}}
    assert table(rt("configmaps"), [config_map], now=naive)["rows"][0]["cells"][2] == "4m"


def _deployment(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "shop", "creationTimestamp": "2026-11-25T10:00:00Z"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
            "status": {"conditions": conditions}}


@pytest.mark.parametrize(("conditions", "cell"), [
    ([{"type": "Healthy", "status": "False", "reason": "OOMKilled"}], "OOMKilled"),
    ([{"type": "Healthy", "status": "True", "reason": "NoFailingPods"}], "Yes"),
    ([], "<none>"),
])
def test_the_control_planes_deployments_show_the_diagnosis_in_a_wide_column(
        conditions: list[dict[str, Any]], cell: str) -> None:
    deployments = BUILTIN.lookup("apps", "v1", "deployments")
    assert deployments is not None
    now = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
    served = table(deployments, [_deployment(conditions)], now=now, diagnosis=True)
    column = served["columnDefinitions"][-1]
    assert (column["name"], column["priority"]) == ("Healthy", 1)
    assert served["rows"][0]["cells"][-1] == cell
    cluster = table(deployments, [_deployment(conditions)], now=now)
    assert [c["name"] for c in cluster["columnDefinitions"]][-1] == "Selector", "a cluster prints what K3s prints"
