"""The diagnosis rules, one crash class at a time, on pods and events shaped as a 1.32 kubelet reports them (the
crash catalog), and healthy or transient controls that must not be flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from controlplane.diagnosis import Finding, Observed, diagnose

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
RECENT = (NOW - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
LONG_AGO = (NOW - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
DEPLOYMENT: dict[str, Any] = {"metadata": {"name": "web", "namespace": "shop"},
                              "spec": {"selector": {"matchLabels": {"app": "web"}}}}


def container_spec(**extra: Any) -> dict[str, Any]:
    return {"name": "app", "image": "nginx:1.27", **extra}


def pod(name: str = "web-abc.edge-1", *, spec: dict[str, Any] | None = None,
        statuses: list[dict[str, Any]] | None = None, phase: str = "Running",
        conditions: list[dict[str, Any]] | None = None, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "shop", "labels": {"app": "web",
                                                                      "workload.canopy.dev/cluster": "edge-1"}},
            "spec": {"containers": [spec or container_spec()]},
            "status": {"phase": phase, "conditions": conditions or [], "containerStatuses": statuses or [], **status}}


def crash_looping(code: int, reason: str = "Error", restarts: int = 4, finished: str = RECENT,
                  **extra: Any) -> dict[str, Any]:
    return {"name": "app", "ready": False, "restartCount": restarts,
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": "back-off 40s restarting failed container=app pod=web-abc_canopy-x(u)"}},
            "lastState": {"terminated": {"exitCode": code, "reason": reason, "finishedAt": finished, **extra}}}


def event(reason: str, message: str, pod_name: str = "web-abc.edge-1", type_: str = "Warning") -> dict[str, Any]:
    return {"reason": reason, "message": message, "type": type_,
            "involvedObject": {"kind": "Pod", "name": pod_name, "namespace": "shop",
                               "fieldPath": "spec.containers{app}"}}


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [(f.cause, f.summary) for f in findings]
    return findings[0]


def run(*pods: dict[str, Any], events: list[dict[str, Any]] | None = None,
        logs: dict[tuple[str, str], str] | None = None, images: tuple[str, ...] = ()) -> list[Finding]:
    return diagnose(Observed(DEPLOYMENT, pods, events or [], logs or {}, images, NOW))


# ---- the crash classes ------------------------------------------------------------------------------------------


def test_exit_0_under_restart_always_is_a_finished_process_to_run_as_a_job() -> None:
    found = only(run(pod(statuses=[crash_looping(0, "Completed")])))
    assert (found.cause, found.cluster, found.container, found.pods) == (
        "ProcessCompleted", "edge-1", "app", ("web-abc.edge-1",))
    assert "Job" in found.fix and "foreground" in found.fix
    assert "Exit Code 0" in found.evidence[0]


@pytest.mark.parametrize("code", [1, 255])
def test_an_application_error_quotes_the_previous_containers_last_words(code: int) -> None:
    logs = {("web-abc.edge-1", "app"): "starting\n\nfatal: DATABASE_URL is not set\n"}
    found = only(run(pod(statuses=[crash_looping(code)]), logs=logs))
    assert found.cause == "ApplicationError"
    assert "last log line: fatal: DATABASE_URL is not set" in found.evidence
    assert "kubectl logs web-abc.edge-1 -c app --previous" in found.commands
    assert found.weight == 3, "an exit code and the application's own words"
    if code == 255:
        assert "entrypoint" in found.summary


def test_only_the_last_five_log_lines_are_quoted() -> None:
    logs = {("web-abc.edge-1", "app"): "\n".join(f"line {i}" for i in range(20))}
    found = only(run(pod(statuses=[crash_looping(1)]), logs=logs))
    assert [e for e in found.evidence if e.startswith("last log line")] == [
        f"last log line: line {i}" for i in range(15, 20)]


def test_oom_killed_names_the_limit_and_suggests_one_with_headroom() -> None:
    spec = container_spec(resources={"limits": {"memory": "100Mi"}})
    found = only(run(pod(spec=spec, statuses=[crash_looping(137, "OOMKilled")])))
    assert found.cause == "OOMKilled"
    assert "100Mi" in found.summary and "200Mi" in found.fix
    assert found.commands == ("kubectl set resources deployment/web -c app --limits=memory=200Mi",)


def test_oom_headroom_is_written_in_gi_when_it_is_whole() -> None:
    spec = container_spec(resources={"limits": {"memory": "512Mi"}})
    found = only(run(pod(spec=spec, statuses=[crash_looping(137, "OOMKilled")])))
    assert "--limits=memory=1Gi" in found.commands[0]


def test_a_segfault_points_at_the_image_and_its_architecture() -> None:
    found = only(run(pod(statuses=[crash_looping(139)])))
    assert found.cause == "SegmentationFault"
    assert "nginx:1.27" in found.fix and "architecture" in found.fix


def test_sigterm_without_probe_failures_is_something_stopping_it() -> None:
    found = only(run(pod(statuses=[crash_looping(143)])))
    assert found.cause == "Terminated"
    assert "SIGTERM" in found.fix


def test_sigkill_without_oom_is_a_grace_period_or_a_killer() -> None:
    assert only(run(pod(statuses=[crash_looping(137)]))).cause == "Killed"


def test_a_command_that_cannot_start_is_a_start_error() -> None:
    status = crash_looping(128, "StartError", message='exec: "serve": executable file not found in $PATH')
    found = only(run(pod(statuses=[status])))
    assert found.cause == "StartError"
    assert 'exec: "serve": executable file not found in $PATH' in found.evidence


# ---- probes ----------------------------------------------------------------------------------------------------


LIVENESS_KILL = event("Killing", "Container app failed liveness probe, will be restarted", type_="Normal")


def probed(path: str = "/", port: Any = 80, delay: int = 0) -> dict[str, Any]:
    return container_spec(ports=[{"containerPort": 80}],
                          livenessProbe={"httpGet": {"path": path, "port": port}, "initialDelaySeconds": delay,
                                         "periodSeconds": 10, "failureThreshold": 3})


def test_a_liveness_probe_on_a_wrong_path_is_the_probe_not_the_app() -> None:
    events = [event("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404"), LIVENESS_KILL]
    found = only(run(pod(spec=probed("/healthz"), statuses=[crash_looping(0, "Completed")]), events=events))
    assert found.cause == "ProbeMisconfigured"
    assert "/healthz" in found.summary and "404" in found.summary
    assert "livenessProbe: httpGet /healthz on port 80, initialDelaySeconds=0, periodSeconds=10, failureThreshold=3" \
        in found.evidence
    assert found.weight == 3


def test_a_404_proves_a_wrong_path_even_after_a_refusal_while_starting() -> None:
    refused = {**event("Unhealthy", 'Liveness probe failed: Get "http://10.42.0.7:80/healthz": dial tcp '
                       "10.42.0.7:80: connect: connection refused"), "lastTimestamp": RECENT}
    not_found = {**event("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404"),
                 "lastTimestamp": LONG_AGO}
    found = only(run(pod(spec=probed("/healthz"), statuses=[crash_looping(0, "Completed")]),
                     events=[refused, not_found, LIVENESS_KILL]))
    assert "which the application does not serve (404)" in found.summary


def test_a_liveness_probe_on_a_port_nothing_declares_is_a_wrong_port() -> None:
    events = [event("Unhealthy", 'Liveness probe failed: Get "http://10.42.0.7:8780/": dial tcp 10.42.0.7:8780: '
                    "connect: connection refused"), LIVENESS_KILL]
    found = only(run(pod(spec=probed(port=8780), statuses=[crash_looping(143)]), events=events))
    assert found.cause == "ProbeMisconfigured"
    assert "8780" in found.summary and "declared: 80" in found.fix


def test_a_liveness_probe_refused_on_the_declared_port_starts_too_early() -> None:
    events = [event("Unhealthy", 'Liveness probe failed: Get "http://10.42.0.7:80/": dial tcp 10.42.0.7:80: '
                    "connect: connection refused"), LIVENESS_KILL]
    found = only(run(pod(spec=probed(delay=1), statuses=[crash_looping(137)]), events=events))
    assert found.cause == "ProbeMisconfigured"
    assert "startupProbe" in found.fix and "initialDelaySeconds" in found.fix


def test_a_refused_liveness_probe_of_a_container_declaring_no_port_names_both_possibilities() -> None:
    spec = container_spec(image="postgres:17", livenessProbe={"tcpSocket": {"port": 5432}, "periodSeconds": 1,
                                                              "failureThreshold": 1})
    events = [event("Unhealthy", "Liveness probe failed: dial tcp 10.42.0.9:5432: connect: connection refused"),
              LIVENESS_KILL]
    found = only(run(pod(spec=spec, statuses=[crash_looping(0, "Completed")]), events=events))
    assert found.cause == "ProbeMisconfigured"
    assert "nothing listening on port 5432 within 1s" in found.summary
    assert "startupProbe" in found.fix and "point the probe at its port" in found.fix


def test_a_liveness_probe_timing_out_is_the_application_not_answering() -> None:
    events = [event("Unhealthy", "Liveness probe failed: context deadline exceeded"), LIVENESS_KILL]
    assert only(run(pod(spec=probed(), statuses=[crash_looping(137)]), events=events)).cause == "LivenessProbeFailed"


def test_a_readiness_probe_that_keeps_failing_keeps_the_pod_out_of_service() -> None:
    spec = container_spec(readinessProbe={"httpGet": {"path": "/ready", "port": 80}})
    running = {"name": "app", "ready": False, "restartCount": 0, "state": {"running": {"startedAt": RECENT}}}
    events = [event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 404")]
    found = only(run(pod(spec=spec, statuses=[running]), events=events))
    assert found.cause == "ReadinessProbeFailing"


# ---- before the container runs ----------------------------------------------------------------------------------


def waiting(reason: str, message: str) -> dict[str, Any]:
    return {"name": "app", "ready": False, "restartCount": 0, "state": {"waiting": {"reason": reason,
                                                                                   "message": message}}}


def test_an_image_that_does_not_pull_names_the_near_image_that_did() -> None:
    spec = container_spec(image="ngnix:1.27")
    events = [event("Failed", 'Failed to pull image "ngnix:1.27": rpc error: code = NotFound desc = failed to pull '
                    'and unpack image "docker.io/library/ngnix:1.27": not found'),
              event("Failed", "Error: ErrImagePull")]
    found = only(run(pod(spec=spec, statuses=[waiting("ImagePullBackOff", 'Back-off pulling image "ngnix:1.27"')],
                         phase="Pending"), events=events, images=("nginx:1.27", "redis:7")))
    assert found.cause == "ImagePullFailed"
    assert "did you mean nginx:1.27" in found.fix
    assert found.commands == ("kubectl set image deployment/web app=nginx:1.27",)
    assert found.evidence[-1].startswith('Failed to pull image "ngnix:1.27"'), "the kubelet's words, not the echo"


def test_an_image_with_no_near_name_says_to_check_the_registry() -> None:
    spec = container_spec(image="example.com/private/thing:9")
    found = only(run(pod(spec=spec, statuses=[waiting("ErrImagePull", "not found")], phase="Pending"),
                     images=("nginx:1.27",)))
    assert "did you mean" not in found.fix and "imagePullSecret" in found.fix


@pytest.mark.parametrize(("message", "names"), [
    ('configmap "app-config" not found', ("configmap app-config", "kubectl create configmap app-config")),
    ('secret "db-password" not found', ("secret db-password", "kubectl create secret generic db-password")),
    ("couldn't find key DATABASE_URL in ConfigMap shop/app-config",
     ("key DATABASE_URL in ConfigMap app-config", "--from-literal=DATABASE_URL=")),
])
def test_missing_configuration_names_what_and_where(message: str, names: tuple[str, str]) -> None:
    found = only(run(pod(statuses=[waiting("CreateContainerConfigError", message)], phase="Pending")))
    assert found.cause == "MissingConfiguration"
    assert names[0] in found.summary
    assert "namespace shop" in found.fix
    assert names[1] in found.commands[0]


def test_a_volume_from_a_missing_configmap_keeps_the_pod_creating() -> None:
    events = [event("FailedMount", 'MountVolume.SetUp failed for volume "config" : configmap "site" not found')]
    found = only(run(pod(statuses=[waiting("ContainerCreating", "")], phase="Pending"), events=events))
    assert found.cause == "MissingConfiguration"
    assert "configmap site" in found.summary and 'volume config' in found.summary


def test_unschedulable_says_what_is_short_on_which_cluster() -> None:
    spec = container_spec(resources={"requests": {"memory": "64Gi"}})
    scheduled = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                 "message": "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: "
                            "3 No preemption victims found for incoming pod."}
    found = only(run(pod(spec=spec, phase="Pending", conditions=[scheduled])))
    assert found.cause == "Unschedulable"
    assert "memory" in found.summary and "edge-1" in found.summary
    assert "app: requests {'memory': '64Gi'}" in found.evidence


def test_an_eviction_is_node_pressure() -> None:
    found = only(run(pod(phase="Failed", reason="Evicted", message="The node was low on resource: memory.")))
    assert found.cause == "NodePressure"
    assert "low on resource: memory" in found.evidence[0]


# ---- what is not flagged, and how findings combine --------------------------------------------------------------


def running(restarts: int = 0, ready: bool = True, last: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": "app", "ready": ready, "restartCount": restarts, "state": {"running": {"startedAt": RECENT}},
            "lastState": {"terminated": last} if last else {}}


@pytest.mark.parametrize("control", [
    pytest.param(pod(statuses=[running()]), id="running and ready"),
    pytest.param(pod(statuses=[waiting("ContainerCreating", "")], phase="Pending"), id="a new pod starting"),
    pytest.param(pod(statuses=[running(1, last={"exitCode": 1, "reason": "Error", "finishedAt": LONG_AGO})]),
                 id="one restart long ago"),
    pytest.param(pod(statuses=[running(3, last={"exitCode": 1, "reason": "Error", "finishedAt": LONG_AGO})]),
                 id="restarts, the last one long ago"),
    pytest.param(pod(statuses=[running(ready=False)]), id="running, not ready yet, no probe failing"),
    pytest.param({**pod(statuses=[crash_looping(1)]), "metadata": {
        "name": "old", "namespace": "shop", "deletionTimestamp": RECENT}}, id="a pod going away"),
])
def test_healthy_and_transient_pods_are_not_flagged(control: dict[str, Any]) -> None:
    assert run(control) == []


def test_a_container_running_between_frequent_restarts_is_flagged() -> None:
    status = running(5, last={"exitCode": 1, "reason": "Error", "finishedAt": RECENT})
    assert only(run(pod(statuses=[status]))).cause == "ApplicationError"


def test_the_same_cause_in_several_pods_is_one_finding_naming_them_all() -> None:
    found = only(run(pod("web-a.edge-1", statuses=[crash_looping(1)]),
                     pod("web-b.edge-1", statuses=[crash_looping(1)])))
    assert found.pods == ("web-a.edge-1", "web-b.edge-1")


def test_two_causes_are_both_reported_the_better_proven_first() -> None:
    spec = container_spec(resources={"limits": {"memory": "100Mi"}})
    findings = run(pod("web-a.edge-1", statuses=[crash_looping(1)]),
                   pod("web-b.edge-1", spec=spec, statuses=[crash_looping(137, "OOMKilled")]))
    assert [f.cause for f in findings] == ["OOMKilled", "ApplicationError"]
