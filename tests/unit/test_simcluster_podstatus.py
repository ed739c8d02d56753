"""What the simulated kubelet writes about a pod: back-off, wording, container states, phase and conditions.

The expected values are the kubelet's (1.32): client-go's flowcontrol.Backoff as `doBackOff` drives it, Go's
time.Duration String, `getPhase`, and pkg/kubelet/status' condition generators with the status manager's
lastTransitionTime rule.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from simcluster import podstatus as ps
from simcluster.podstatus import BackOff, ContainerView

POD: dict[str, Any] = {"metadata": {"name": "web-7d4b9c-x2x9z", "namespace": "shop", "uid": "1f0c-77aa"}}
T0 = "2026-11-25T10:00:00Z"
T1 = "2026-11-25T10:05:00Z"


# ---- crash-loop back-off ---------------------------------------------------------------------------------------

def crash_loop_waits(runs: list[float]) -> list[float]:
    """How long each exit waits before its restart, driving BackOff as the simulated kubelet does: check at the
    exit, wait out what remains, then record the restart. `runs` are how long each instance lived."""
    backoff = BackOff()
    now = 0.0
    waits: list[float] = []
    for run in runs:
        exited = now + run
        wait = backoff.remaining(exited, exited) if backoff.in_back_off_since(exited, exited) else 0.0
        waits.append(wait)
        now = exited + wait
        backoff.next(exited, now)
    return waits


def test_the_first_exit_restarts_at_once_then_waits_double_up_to_five_minutes() -> None:
    assert crash_loop_waits([1.0] * 9) == [0, 10, 20, 40, 80, 160, 300, 300, 300]


def test_a_fresh_backoff_never_holds_a_restart() -> None:
    backoff = BackOff()
    assert not backoff.in_back_off_since(100.0, 100.0)
    assert backoff.remaining(100.0, 100.0) == 0


def test_the_wait_is_measured_from_the_exit() -> None:
    backoff = BackOff()
    backoff.next(0.0, 0.0)  # first restart: the next exit waits 10 s
    exited = 30.0
    assert backoff.in_back_off_since(exited, exited + 4)
    assert backoff.remaining(exited, exited + 4) == 6
    assert backoff.in_back_off_since(exited, exited + 9.5)
    assert not backoff.in_back_off_since(exited, exited + 10)
    assert backoff.remaining(exited, exited + 25) == 0


def test_the_backoff_starts_over_once_a_container_ran_ten_minutes_since_its_last_restart() -> None:
    waits = crash_loop_waits([1.0] * 7 + [601.0, 1.0, 1.0])
    assert waits[6] == 300
    assert waits[7:] == [0, 10, 20]


def test_exactly_ten_minutes_of_running_is_not_yet_long_enough_to_start_over() -> None:
    backoff = BackOff()
    backoff.next(0.0, 0.0)
    assert backoff.in_back_off_since(600.0, 600.0)
    assert not backoff.in_back_off_since(600.5, 600.5)


def test_time_spent_waiting_in_back_off_does_not_count_as_running() -> None:
    # client-go's Backoff.Next(id, eventTime) decides "expired" from the exit (FinishedAt) the kubelet passes,
    # not from when the restart happens: a container at the 5-minute cap that lives 320 s between crashes
    # never ran 10 minutes, so it stays at 5 minutes (320 s of running + 300 s of waiting is not a reset).
    waits = crash_loop_waits([1.0] * 7 + [320.0, 1.0])
    assert waits[7:] == [300, 300]


def test_each_delay_is_capped_at_five_minutes() -> None:
    backoff = BackOff()
    for step in range(20):
        backoff.next(float(step), float(step))
        assert backoff.delay <= ps.BACKOFF_MAX_SECONDS
    assert backoff.delay == 300


# ---- durations as Go prints them -------------------------------------------------------------------------------

@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (1, "1s"), (10, "10s"), (59, "59s"), (60, "1m0s"), (80, "1m20s"), (300, "5m0s"),
    (3599, "59m59s"), (3600, "1h0m0s"), (3661, "1h1m1s"), (20.0, "20s"),
])
def test_duration_text_is_gos_duration_string(seconds: float, text: str) -> None:
    assert ps.duration_text(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (0.812, "812ms"),
    (0.001, "1ms"),
    (1.5, "1.5s"),
    (2.0, "2s"),
    (1.234, "1.234s"),
    (12.04, "12.04s"),
])
def test_pull_duration_text_prints_milliseconds_as_go_does(seconds: float, text: str) -> None:
    assert ps.pull_duration_text(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (0.8127, "812ms"),
    (0.9999, "999ms"),
    (1.2349, "1.234s"),
])
def test_pull_duration_text_truncates_to_the_millisecond(seconds: float, text: str) -> None:
    # image_manager.go: pullDuration.Truncate(time.Millisecond), never rounded up (so never "1000ms").
    assert ps.pull_duration_text(seconds) == text


def test_a_pull_shorter_than_a_millisecond_prints_zero_seconds() -> None:
    # Truncate(time.Millisecond) gives 0, and Go's Duration(0).String() is "0s".
    assert ps.pull_duration_text(0) == "0s"
    assert ps.pull_duration_text(0.0004) == "0s"


@pytest.mark.parametrize(("seconds", "text"), [(65.5, "1m5.5s"), (125.25, "2m5.25s"), (60.0, "1m0s")])
def test_pulls_over_a_minute_print_minutes_as_go_does(seconds: float, text: str) -> None:
    assert ps.pull_duration_text(seconds) == text


# ---- names and ids ---------------------------------------------------------------------------------------------

def test_pod_ref_is_name_namespace_and_uid_as_the_kubelet_formats_pods() -> None:
    assert ps.pod_ref(POD) == "web-7d4b9c-x2x9z_shop(1f0c-77aa)"


def test_container_ids_are_containerd_ids_of_64_hex_digits() -> None:
    cid = ps.container_id("1f0c-77aa", "app", 0)
    assert re.fullmatch(r"containerd://[0-9a-f]{64}", cid)


def test_container_ids_are_deterministic_and_distinct_per_instance() -> None:
    assert ps.container_id("u", "app", 3) == ps.container_id("u", "app", 3)
    ids = {ps.container_id("u", "app", 0), ps.container_id("u", "app", 1), ps.container_id("u", "side", 0),
           ps.container_id("v", "app", 0)}
    assert len(ids) == 4


def test_field_paths_name_the_container_list() -> None:
    assert ps.field_path("app") == "spec.containers{app}"
    assert ps.field_path("migrate", init=True) == "spec.initContainers{migrate}"


# ---- container states ------------------------------------------------------------------------------------------

def test_waiting_carries_a_message_only_when_there_is_one() -> None:
    assert ps.waiting(ps.CONTAINER_CREATING) == {"waiting": {"reason": "ContainerCreating"}}
    assert ps.waiting(ps.ERR_IMAGE_PULL, "rpc error") == {"waiting": {"reason": "ErrImagePull", "message": "rpc error"}}


def test_running_carries_its_start() -> None:
    assert ps.running(T0) == {"running": {"startedAt": T0}}


def test_terminated_carries_exit_code_reason_times_and_container_id() -> None:
    assert ps.terminated(137, "OOMKilled", T0, T1, "containerd://abc") == {"terminated": {
        "exitCode": 137, "reason": "OOMKilled", "startedAt": T0, "finishedAt": T1, "containerID": "containerd://abc",
    }}
    with_message = ps.terminated(1, "Error", T0, T1, "containerd://abc", message="boom")
    assert with_message["terminated"]["message"] == "boom"


def test_crash_loop_message_is_the_kubelets() -> None:
    pod = {"metadata": {"name": "p", "namespace": "ns", "uid": "uid"}}
    assert ps.crash_loop_message(10, "c", pod) == "back-off 10s restarting failed container=c pod=p_ns(uid)"
    assert ps.crash_loop_message(300, "c", pod) == "back-off 5m0s restarting failed container=c pod=p_ns(uid)"
    assert ps.crash_loop_message(40, "api", POD) == (
        "back-off 40s restarting failed container=api pod=web-7d4b9c-x2x9z_shop(1f0c-77aa)")


def test_a_new_container_status_is_waiting_in_container_creating() -> None:
    assert ContainerView("app", "nginx:1.27").status() == {
        "name": "app", "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}, "ready": False,
        "restartCount": 0, "image": "nginx:1.27", "imageID": "", "started": False,
    }


def test_a_crash_looping_container_status_shows_the_last_termination() -> None:
    last = ps.terminated(1, "Error", T0, T1, "containerd://abc")
    view = ContainerView("app", "shop/api:2", state=ps.waiting(ps.CRASH_LOOP_BACK_OFF, "back-off 10s ..."),
                         last_state=last, restart_count=2, image_id="docker.io/shop/api@sha256:aa")
    status = view.status()
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert status["lastState"] == last
    assert status["restartCount"] == 2
    assert status["imageID"] == "docker.io/shop/api@sha256:aa"
    assert "containerID" not in status


def test_a_running_container_status_names_its_container_id() -> None:
    view = ContainerView("app", "nginx", state=ps.running(T0), ready=True, started=True,
                         container_id="containerd://abc")
    status = view.status()
    assert status["containerID"] == "containerd://abc"
    assert (status["ready"], status["started"]) == (True, True)


# ---- phase -----------------------------------------------------------------------------------------------------

def view(state: dict[str, Any], last_state: dict[str, Any] | None = None, *, name: str = "app",
         ready: bool = False) -> ContainerView:
    return ContainerView(name, "img", state=state, last_state=last_state or {}, ready=ready)


def exited(code: int) -> dict[str, Any]:
    return ps.terminated(code, "Completed" if code == 0 else "Error", T0, T1, "containerd://x")


RUNNING = ps.running(T0)
CRASH_LOOPING = ps.waiting(ps.CRASH_LOOP_BACK_OFF, "back-off")
PULL_BACK_OFF = ps.waiting(ps.IMAGE_PULL_BACK_OFF, "Back-off pulling image")


@pytest.mark.parametrize("policy", ["Always", "OnFailure", "Never"])
def test_all_running_is_running(policy: str) -> None:
    assert ps.phase(policy, [view(RUNNING), view(RUNNING, name="b")], initialized=True) == "Running"


@pytest.mark.parametrize("policy", ["Always", "OnFailure", "Never"])
def test_a_container_that_never_started_keeps_the_pod_pending(policy: str) -> None:
    assert ps.phase(policy, [view(PULL_BACK_OFF)], initialized=True) == "Pending"
    assert ps.phase(policy, [view(ps.waiting(ps.CONTAINER_CREATING))], initialized=True) == "Pending"
    assert ps.phase(policy, [view(ps.waiting(ps.CREATE_CONTAINER_CONFIG_ERROR))], initialized=True) == "Pending"


def test_a_crash_looping_pod_with_restart_policy_always_is_running() -> None:
    assert ps.phase("Always", [view(CRASH_LOOPING, exited(1))], initialized=True) == "Running"


def test_a_pod_whose_container_exited_zero_under_always_is_running_between_restarts() -> None:
    assert ps.phase("Always", [view(exited(0))], initialized=True) == "Running"
    assert ps.phase("Always", [view(CRASH_LOOPING, exited(0))], initialized=True) == "Running"


def test_one_running_and_one_never_started_is_pending() -> None:
    containers = [view(RUNNING), view(PULL_BACK_OFF, name="sidecar")]
    assert ps.phase("Always", containers, initialized=True) == "Pending"


def test_one_running_and_one_crash_looping_is_running() -> None:
    containers = [view(RUNNING), view(CRASH_LOOPING, exited(137), name="worker")]
    assert ps.phase("Always", containers, initialized=True) == "Running"


def test_all_exited_zero_is_succeeded_unless_restart_policy_is_always() -> None:
    containers = [view(exited(0)), view(exited(0), name="b")]
    assert ps.phase("OnFailure", containers, initialized=True) == "Succeeded"
    assert ps.phase("Never", containers, initialized=True) == "Succeeded"
    assert ps.phase("Always", containers, initialized=True) == "Running"


def test_a_failure_under_never_is_failed() -> None:
    assert ps.phase("Never", [view(exited(1))], initialized=True) == "Failed"
    assert ps.phase("Never", [view(exited(0)), view(exited(137), name="b")], initialized=True) == "Failed"


def test_a_failure_under_on_failure_is_running_while_it_restarts() -> None:
    assert ps.phase("OnFailure", [view(exited(1))], initialized=True) == "Running"
    assert ps.phase("OnFailure", [view(CRASH_LOOPING, exited(1))], initialized=True) == "Running"
    assert ps.phase("OnFailure", [view(exited(0)), view(CRASH_LOOPING, exited(2), name="b")],
                    initialized=True) == "Running"


def test_one_still_running_keeps_a_never_pod_running_after_another_failed() -> None:
    assert ps.phase("Never", [view(RUNNING), view(exited(1), name="b")], initialized=True) == "Running"


@pytest.mark.parametrize("policy", ["Always", "OnFailure", "Never"])
def test_a_pod_whose_init_containers_are_not_done_is_pending(policy: str) -> None:
    assert ps.phase(policy, [view(ps.waiting(ps.POD_INITIALIZING))], initialized=False) == "Pending"
    assert ps.phase(policy, [view(RUNNING)], initialized=False) == "Pending"


# ---- conditions ------------------------------------------------------------------------------------------------

SCHEDULED: dict[str, Any] = {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                             "lastTransitionTime": "2026-11-25T09:59:59Z"}


def conditions(*, containers: list[ContainerView], init: list[ContainerView] | None = None,
               init_done: bool = True, phase: str = "Running", sandbox_ready: bool = True,
               previous: list[dict[str, Any]] | None = None, now: str = T0) -> dict[str, dict[str, Any]]:
    result = ps.conditions(previous if previous is not None else [SCHEDULED], sandbox_ready=sandbox_ready,
                           init=init or [], containers=containers, init_done=init_done, phase_=phase, now=now)
    return {c["type"]: c for c in result}


def test_conditions_come_in_the_kubelets_order_with_pod_scheduled_kept_last() -> None:
    result = ps.conditions([SCHEDULED], sandbox_ready=True, init=[], containers=[view(RUNNING, ready=True)],
                           init_done=True, phase_="Running", now=T0)
    assert [c["type"] for c in result] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    assert result[-1] == SCHEDULED


def test_a_ready_pod_has_every_condition_true_without_reasons() -> None:
    got = conditions(containers=[view(RUNNING, ready=True), view(RUNNING, name="b", ready=True)])
    for type_ in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"):
        assert got[type_] == {"type": type_, "status": "True", "lastProbeTime": None, "lastTransitionTime": T0}


def test_unready_containers_are_named_in_ready_and_containers_ready() -> None:
    got = conditions(containers=[view(CRASH_LOOPING, exited(1), name="a"), view(RUNNING, name="ok", ready=True),
                                 view(PULL_BACK_OFF, name="b")])
    for type_ in ("Ready", "ContainersReady"):
        assert got[type_]["status"] == "False"
        assert got[type_]["reason"] == "ContainersNotReady"
        assert got[type_]["message"] == "containers with unready status: [a b]"


def test_a_single_unready_container_is_named_in_brackets() -> None:
    got = conditions(containers=[view(CRASH_LOOPING, exited(1), name="c")])
    assert got["Ready"]["message"] == "containers with unready status: [c]"


def test_init_containers_not_done_are_named_in_initialized() -> None:
    init = [view(exited(0), name="migrate"), view(CRASH_LOOPING, exited(1), name="seed")]
    got = conditions(init=init, init_done=False, phase="Pending",
                     containers=[view(ps.waiting(ps.POD_INITIALIZING))])
    assert got["Initialized"]["status"] == "False"
    assert got["Initialized"]["reason"] == "ContainersNotInitialized"
    assert got["Initialized"]["message"] == "containers with incomplete status: [seed]"


def test_a_pod_without_a_sandbox_is_not_ready_to_start_containers() -> None:
    got = conditions(containers=[view(ps.waiting(ps.CONTAINER_CREATING))], sandbox_ready=False, phase="Pending")
    assert got["PodReadyToStartContainers"]["status"] == "False"
    assert "reason" not in got["PodReadyToStartContainers"]


def test_a_succeeded_pod_is_not_ready_because_it_completed() -> None:
    got = conditions(containers=[view(exited(0))], phase="Succeeded", sandbox_ready=False)
    for type_ in ("Ready", "ContainersReady"):
        assert got[type_]["status"] == "False"
        assert got[type_]["reason"] == "PodCompleted"
        assert "message" not in got[type_]


def test_a_succeeded_pod_is_initialized_because_it_completed() -> None:
    # GeneratePodInitializedCondition: Succeeded with every init container known -> True, reason PodCompleted.
    got = conditions(containers=[view(exited(0))], phase="Succeeded", sandbox_ready=False)
    assert got["Initialized"]["status"] == "True"
    assert got["Initialized"]["reason"] == "PodCompleted"


def test_a_failed_pod_is_not_ready_because_it_failed() -> None:
    # generateContainersReadyConditionForTerminalPhase: phase Failed -> False, reason PodFailed, no message.
    got = conditions(containers=[view(exited(1))], phase="Failed", sandbox_ready=False)
    for type_ in ("Ready", "ContainersReady"):
        assert got[type_]["status"] == "False"
        assert got[type_]["reason"] == "PodFailed"
        assert "message" not in got[type_]


def test_last_transition_time_is_kept_while_the_status_stays_the_same() -> None:
    first = ps.conditions([SCHEDULED], sandbox_ready=True, init=[], containers=[view(CRASH_LOOPING, exited(1))],
                          init_done=True, phase_="Running", now=T0)
    again = ps.conditions(first, sandbox_ready=True, init=[], containers=[view(CRASH_LOOPING, exited(1))],
                          init_done=True, phase_="Running", now=T1)
    assert {c["type"]: c["lastTransitionTime"] for c in again} == {
        "PodReadyToStartContainers": T0, "Initialized": T0, "Ready": T0, "ContainersReady": T0,
        "PodScheduled": SCHEDULED["lastTransitionTime"],
    }


def test_last_transition_time_moves_when_the_status_changes() -> None:
    first = ps.conditions([SCHEDULED], sandbox_ready=True, init=[], containers=[view(CRASH_LOOPING, exited(1))],
                          init_done=True, phase_="Running", now=T0)
    ready = ps.conditions(first, sandbox_ready=True, init=[], containers=[view(RUNNING, ready=True)],
                          init_done=True, phase_="Running", now=T1)
    times = {c["type"]: c["lastTransitionTime"] for c in ready}
    assert times["Ready"] == T1
    assert times["ContainersReady"] == T1
    assert times["Initialized"] == T0
    assert times["PodReadyToStartContainers"] == T0


def test_conditions_the_kubelet_does_not_own_are_kept_as_they_are() -> None:
    gate = {"type": "example.com/feature-ready", "status": "True", "lastProbeTime": None,
            "lastTransitionTime": "2026-11-25T09:00:00Z"}
    result = ps.conditions([SCHEDULED, gate], sandbox_ready=True, init=[], containers=[view(RUNNING, ready=True)],
                           init_done=True, phase_="Running", now=T1)
    assert SCHEDULED in result
    assert gate in result
    assert [c["type"] for c in result].count("PodScheduled") == 1
    assert len(result) == 6


def test_kubelet_owned_conditions_are_not_duplicated_from_the_previous_status() -> None:
    first = ps.conditions([SCHEDULED], sandbox_ready=True, init=[], containers=[view(RUNNING, ready=True)],
                          init_done=True, phase_="Running", now=T0)
    again = ps.conditions(first, sandbox_ready=True, init=[], containers=[view(RUNNING, ready=True)],
                          init_done=True, phase_="Running", now=T1)
    assert [c["type"] for c in again] == [c["type"] for c in first]
