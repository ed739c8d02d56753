"""The simulated kubelets' container logs: which instance a read returns, and the files behind `kubectl logs`.

Expected behaviour: the kubelet's `validateContainerLogStatus` (kubelet_pods.go, 1.32) for the choice of instance
and its error wording; /var/log/pods-style files of CRI lines for the rest.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from controlplane import errors
from controlplane.podlogs import LogOptions
from simcluster.logs import ContainerLogs, instance_to_read

T0 = "2026-11-25T10:00:00Z"
T1 = "2026-11-25T10:01:00Z"
OLD = "containerd://" + "a" * 64
NEW = "containerd://" + "b" * 64


def pod_with(*statuses: dict[str, Any], init: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": "Running", "containerStatuses": list(statuses)}
    if init:
        status["initContainerStatuses"] = init
    return {"metadata": {"name": "web-0", "namespace": "shop", "uid": "uid-1"},
            "spec": {"containers": [{"name": s["name"]} for s in statuses]}, "status": status}


def container_status(state: dict[str, Any], last: dict[str, Any] | None = None, *, name: str = "app",
                     cid: str = "") -> dict[str, Any]:
    status: dict[str, Any] = {"name": name, "state": state, "lastState": last or {}, "ready": False,
                              "restartCount": 1 if last else 0, "image": "img", "imageID": ""}
    if cid:
        status["containerID"] = cid
    return status


def terminated(cid: str, code: int = 1) -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": code, "reason": "Error", "startedAt": T0, "finishedAt": T1}
    if cid:
        state["containerID"] = cid
    return {"terminated": state}


def waiting(reason: str) -> dict[str, Any]:
    return {"waiting": {"reason": reason, "message": "..."}}


RUNNING = {"running": {"startedAt": T1}}


def refusal(target: dict[str, Any], container: str = "app", previous: bool = False) -> str:
    with pytest.raises(errors.StatusError) as caught:
        instance_to_read(target, container, previous)
    assert (caught.value.code, caught.value.reason) == (400, "BadRequest")
    return caught.value.message


# ---- instance_to_read ------------------------------------------------------------------------------------------

def test_a_running_container_is_read_from_its_current_instance() -> None:
    assert instance_to_read(pod_with(container_status(RUNNING, terminated(OLD), cid=NEW)), "app", False) == NEW


def test_a_terminated_container_is_read_from_the_instance_that_terminated() -> None:
    assert instance_to_read(pod_with(container_status(terminated(NEW), terminated(OLD))), "app", False) == NEW


def test_a_crash_looping_container_is_read_from_its_last_termination() -> None:
    target = pod_with(container_status(waiting("CrashLoopBackOff"), terminated(OLD)))
    assert instance_to_read(target, "app", False) == OLD


def test_previous_reads_the_last_termination() -> None:
    assert instance_to_read(pod_with(container_status(RUNNING, terminated(OLD), cid=NEW)), "app", True) == OLD
    target = pod_with(container_status(waiting("CrashLoopBackOff"), terminated(OLD)))
    assert instance_to_read(target, "app", True) == OLD


def test_previous_without_a_last_termination_is_refused() -> None:
    target = pod_with(container_status(RUNNING, cid=NEW))
    assert refusal(target, previous=True) == 'previous terminated container "app" in pod "web-0" not found'


def test_a_container_that_cannot_pull_its_image_is_waiting_to_start() -> None:
    assert refusal(pod_with(container_status(waiting("ErrImagePull")))) == (
        'container "app" in pod "web-0" is waiting to start: image can\'t be pulled')


def test_a_container_in_image_pull_back_off_is_trying_and_failing_to_pull() -> None:
    # validateContainerLogStatus has a case per reason: ErrImagePullBackOff -> "trying and failing to pull image".
    assert refusal(pod_with(container_status(waiting("ImagePullBackOff")))) == (
        'container "app" in pod "web-0" is waiting to start: trying and failing to pull image')


@pytest.mark.parametrize("reason", ["ContainerCreating", "PodInitializing", "CreateContainerConfigError"])
def test_other_waiting_containers_name_their_reason(reason: str) -> None:
    assert refusal(pod_with(container_status(waiting(reason)))) == (
        f'container "app" in pod "web-0" is waiting to start: {reason}')


def test_a_container_without_status_yet_is_still_being_created() -> None:
    target = pod_with()
    assert refusal(target) == 'container "app" in pod "web-0" is waiting to start: ContainerCreating'


def test_init_containers_are_read_from_their_own_status() -> None:
    target = pod_with(container_status(waiting("PodInitializing")),
                      init=[container_status(terminated(OLD, code=0), name="migrate")])
    assert instance_to_read(target, "migrate", False) == OLD


def test_a_terminated_state_without_an_id_falls_back_to_the_last_termination() -> None:
    # "in cases where the next container didn't start, terminated.ContainerID will be empty, so get logs from the
    # lastState.Terminated" (validateContainerLogStatus).
    target = pod_with(container_status(terminated(""), terminated(OLD)))
    assert instance_to_read(target, "app", False) == OLD


def test_a_terminated_state_without_any_id_is_refused_as_terminated() -> None:
    assert refusal(pod_with(container_status(terminated("")))) == 'container "app" in pod "web-0" is terminated'


def test_a_last_termination_without_an_id_is_refused_as_terminated() -> None:
    target = pod_with(container_status(waiting("CrashLoopBackOff"), terminated("")))
    assert refusal(target) == 'container "app" in pod "web-0" is terminated'


# ---- files -----------------------------------------------------------------------------------------------------

POD = pod_with(container_status(RUNNING, cid=NEW))


@pytest.fixture
def logs(tmp_path: Path) -> ContainerLogs:
    return ContainerLogs(tmp_path)


async def read_all(logs: ContainerLogs, target: dict[str, Any], **options: Any) -> bytes:
    return b"".join([chunk async for chunk in logs.read(target, LogOptions(container="app", **options))])


def test_each_instance_has_its_file_under_the_pods_directory(logs: ContainerLogs, tmp_path: Path) -> None:
    assert logs.path(POD, "app", NEW) == tmp_path / "shop_web-0_uid-1" / "app" / f"{'b' * 64}.log"
    logs.start(POD, "app", NEW)
    assert logs.path(POD, "app", NEW).is_file()


def test_written_lines_are_cri_log_lines(logs: ContainerLogs) -> None:
    logs.start(POD, "app", NEW)
    logs.write(POD, "app", NEW, ["listening on :8080"])
    logs.write(POD, "app", NEW, ["warning: slow"], stream="stderr")
    lines = logs.path(POD, "app", NEW).read_text().splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F listening on :8080", lines[0])
    assert re.fullmatch(r"\S+ stderr F warning: slow", lines[1])


def test_writing_nothing_leaves_the_file_as_it_was(logs: ContainerLogs) -> None:
    logs.start(POD, "app", NEW)
    logs.write(POD, "app", NEW, [])
    assert logs.path(POD, "app", NEW).read_text() == ""


async def test_a_read_returns_stdout_and_stderr_in_order(logs: ContainerLogs) -> None:
    logs.start(POD, "app", NEW)
    logs.write(POD, "app", NEW, ["one", "two"])
    logs.write(POD, "app", NEW, ["three"], stream="stderr")
    logs.finish(NEW)
    assert await read_all(logs, POD) == b"one\ntwo\nthree\n"


async def test_a_started_container_without_output_reads_empty(logs: ContainerLogs) -> None:
    logs.start(POD, "app", NEW)
    assert await read_all(logs, POD) == b""


async def test_tail_lines_returns_the_last_lines(logs: ContainerLogs) -> None:
    logs.start(POD, "app", NEW)
    logs.write(POD, "app", NEW, [f"line {i}" for i in range(10)])
    assert await read_all(logs, POD, tail_lines=2) == b"line 8\nline 9\n"
    assert await read_all(logs, POD, tail_lines=0) == b""


async def test_timestamps_prefix_each_line_with_its_time(logs: ContainerLogs) -> None:
    logs.start(POD, "app", NEW)
    logs.write(POD, "app", NEW, ["a", "b"])
    text = (await read_all(logs, POD, timestamps=True)).decode()
    stamps = re.findall(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) ([ab])$", text, flags=re.MULTILINE)
    assert [line for _, line in stamps] == ["a", "b"]
    file_stamps = [raw.split(" ")[0] for raw in logs.path(POD, "app", NEW).read_text().splitlines()]
    assert [stamp for stamp, _ in stamps] == file_stamps


async def test_limit_bytes_cuts_the_answer(logs: ContainerLogs) -> None:
    logs.start(POD, "app", NEW)
    logs.write(POD, "app", NEW, ["hello", "world"])
    assert await read_all(logs, POD, limit_bytes=8) == b"hello\nwo"


async def test_since_time_drops_older_lines(logs: ContainerLogs) -> None:
    logs.start(POD, "app", NEW)
    logs.write(POD, "app", NEW, ["old"])
    assert await read_all(logs, POD, since_time=datetime.now(UTC) + timedelta(hours=1)) == b""
    assert await read_all(logs, POD, since_time=datetime.now(UTC) - timedelta(hours=1)) == b"old\n"


async def test_previous_reads_the_instance_before_the_restart(logs: ContainerLogs) -> None:
    logs.start(POD, "app", OLD)
    logs.write(POD, "app", OLD, ["panic: boom"], stream="stderr")
    logs.finish(OLD)
    logs.start(POD, "app", NEW)
    logs.write(POD, "app", NEW, ["starting"])
    restarted = pod_with(container_status(RUNNING, terminated(OLD), cid=NEW))
    assert await read_all(logs, restarted) == b"starting\n"
    assert await read_all(logs, restarted, previous=True) == b"panic: boom\n"


async def test_a_crash_looping_container_reads_the_instance_that_crashed(logs: ContainerLogs) -> None:
    logs.start(POD, "app", OLD)
    logs.write(POD, "app", OLD, ["exiting 1"])
    logs.finish(OLD)
    crashing = pod_with(container_status(waiting("CrashLoopBackOff"), terminated(OLD)))
    assert await read_all(logs, crashing) == b"exiting 1\n"


async def test_reading_a_container_that_never_started_is_refused(logs: ContainerLogs) -> None:
    pulling = pod_with(container_status(waiting("ErrImagePull")))
    with pytest.raises(errors.StatusError) as caught:
        await read_all(logs, pulling)
    assert caught.value.code == 400
    assert "is waiting to start" in caught.value.message


async def test_remove_pod_removes_its_files(logs: ContainerLogs, tmp_path: Path) -> None:
    logs.start(POD, "app", NEW)
    logs.write(POD, "app", NEW, ["x"])
    other = {"metadata": {"name": "web-1", "namespace": "shop", "uid": "uid-2"}}
    logs.start(other, "app", OLD)
    logs.remove_pod(POD)
    assert not (tmp_path / "shop_web-0_uid-1").exists()
    assert logs.path(other, "app", OLD).exists()
    with pytest.raises(errors.StatusError) as caught:
        await read_all(logs, POD)
    assert caught.value.code == 400
    logs.remove_pod(POD)  # removing again is harmless


# ---- follow ----------------------------------------------------------------------------------------------------

async def test_following_a_finished_container_ends_after_its_lines(logs: ContainerLogs) -> None:
    logs.start(POD, "app", NEW)
    logs.write(POD, "app", NEW, ["done"])
    logs.finish(NEW)
    finished = pod_with(container_status(terminated(NEW, code=0)))
    assert await read_all(logs, finished, follow=True) == b"done\n"


async def test_following_previous_does_not_wait(logs: ContainerLogs) -> None:
    logs.start(POD, "app", OLD)
    logs.write(POD, "app", OLD, ["old"])
    logs.finish(OLD)
    logs.start(POD, "app", NEW)  # live
    restarted = pod_with(container_status(RUNNING, terminated(OLD), cid=NEW))
    assert await read_all(logs, restarted, follow=True, previous=True) == b"old\n"


async def wait_until(condition: Callable[[], bool]) -> None:
    """Let the follower run until `condition` holds (pytest-timeout bounds a follower that never gets there)."""
    while not condition():
        await asyncio.sleep(0.01)


async def collect(stream: AsyncIterator[bytes], into: list[bytes]) -> None:
    async for chunk in stream:
        into.append(chunk)


async def test_following_a_live_container_yields_later_lines_and_ends_when_it_finishes(logs: ContainerLogs) -> None:
    logs.start(POD, "app", NEW)
    logs.write(POD, "app", NEW, ["one"])
    received: list[bytes] = []
    follower = asyncio.create_task(collect(logs.read(POD, LogOptions(container="app", follow=True)), received))
    await wait_until(lambda: received == [b"one\n"])
    logs.write(POD, "app", NEW, ["two"])
    await wait_until(lambda: len(received) == 2)
    assert not follower.done()
    logs.write(POD, "app", NEW, ["three"], stream="stderr")
    logs.finish(NEW)
    await follower
    assert b"".join(received) == b"one\ntwo\nthree\n"


async def test_following_respects_limit_bytes_across_later_lines(logs: ContainerLogs) -> None:
    logs.start(POD, "app", NEW)
    logs.write(POD, "app", NEW, ["abc"])
    received: list[bytes] = []
    options = LogOptions(container="app", follow=True, limit_bytes=6)
    follower = asyncio.create_task(collect(logs.read(POD, options), received))
    await wait_until(lambda: received == [b"abc\n"])
    logs.write(POD, "app", NEW, ["defgh", "ijk"])
    await follower  # the limit is reached: the follow ends although the container still runs
    assert b"".join(received) == b"abc\nde"
    logs.finish(NEW)


async def test_following_with_timestamps_stamps_later_lines(logs: ContainerLogs) -> None:
    logs.start(POD, "app", NEW)
    received: list[bytes] = []
    follower = asyncio.create_task(collect(logs.read(POD, LogOptions(container="app", follow=True,
                                                                     timestamps=True)), received))
    await asyncio.sleep(0)
    logs.write(POD, "app", NEW, ["later"])
    logs.finish(NEW)
    await follower
    assert re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z later\n", b"".join(received))
