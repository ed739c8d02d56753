"""What a kubelet writes about a pod: container states, restart back-off, phase, conditions, event wording. Pure.

The rules are the kubelet's (1.32):
- Crash-loop back-off: a container's first exit restarts it at once; each further exit waits 10 s, then 20 s, 40 s,
  ... capped at 300 s, measured from when it exited. Once a container has run for 10 minutes (twice the cap) since
  its last restart, the back-off starts over. Image pulls back off the same way.
- Phase (`getPhase`): a container waiting without ever having terminated is pending and keeps the pod Pending; one
  that terminated and waits to restart counts as stopped, so a crash-looping pod with restartPolicy Always is
  Running. All stopped: Succeeded when all exited 0, Failed under restartPolicy Never, Running otherwise.
- Conditions in the kubelet's order: PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

BACKOFF_INITIAL_SECONDS = 10.0
BACKOFF_MAX_SECONDS = 300.0
BACKOFF_RESET_SECONDS = 2 * BACKOFF_MAX_SECONDS

CONTAINER_CREATING = "ContainerCreating"
POD_INITIALIZING = "PodInitializing"
CRASH_LOOP_BACK_OFF = "CrashLoopBackOff"
ERR_IMAGE_PULL = "ErrImagePull"
IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"


@dataclass
class BackOff:
    """client-go's flowcontrol.Backoff for one key: `delay` is the current back-off, `updated` when it last grew
    (simulated seconds on any monotonic origin)."""

    delay: float = 0.0
    updated: float | None = None

    def in_back_off_since(self, event_time: float, now: float) -> bool:
        """Whether a restart after an exit at `event_time` must still wait."""
        if self.updated is None or event_time - self.updated > BACKOFF_RESET_SECONDS:
            return False
        return now - event_time < self.delay

    def next(self, event_time: float, now: float) -> None:
        """Record a (re)start at `now` after an exit at `event_time`: the next exit waits twice as long, unless
        that exit came more than 10 minutes after the previous start (then it starts over at 10 s)."""
        if self.updated is None or event_time - self.updated > BACKOFF_RESET_SECONDS:
            self.delay = BACKOFF_INITIAL_SECONDS
        else:
            self.delay = min(self.delay * 2, BACKOFF_MAX_SECONDS)
        self.updated = now

    def remaining(self, event_time: float, now: float) -> float:
        return max(0.0, event_time + self.delay - now)


def duration_text(seconds: float) -> str:
    """Go's time.Duration String for whole seconds: 10s, 5m0s, 1m20s."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m{secs}s"


def pull_duration_text(seconds: float) -> str:
    """Go's Duration String of a duration truncated to the millisecond, as the Pulled event prints it:
    812ms, 1.234s, 1m5.5s, 0s."""
    millis = int(seconds * 1000 + 1e-9)
    if millis == 0:
        return "0s"
    if millis < 1000:
        return f"{millis}ms"
    minutes, millis = divmod(millis, 60_000)
    hours, minutes = divmod(minutes, 60)
    whole, fraction = divmod(millis, 1000)
    text = f"{whole}" + (f".{fraction:03d}".rstrip("0") if fraction else "") + "s"
    if minutes or hours:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return text


def pod_ref(pod: dict[str, Any]) -> str:
    """`<name>_<namespace>(<uid>)`, how the kubelet names a pod in messages."""
    meta = pod["metadata"]
    return f"{meta['name']}_{meta.get('namespace', '')}({meta.get('uid', '')})"


def container_id(pod_uid: str, container: str, instance: int) -> str:
    digest = hashlib.sha256(f"{pod_uid}/{container}/{instance}".encode()).hexdigest()
    return f"containerd://{digest}"


def field_path(container: str, *, init: bool = False) -> str:
    return f"spec.{'initContainers' if init else 'containers'}{{{container}}}"


# ---- container states ----------------------------------------------------------------------------------------

def waiting(reason: str, message: str = "") -> dict[str, Any]:
    state: dict[str, Any] = {"reason": reason}
    if message:
        state["message"] = message
    return {"waiting": state}


def running(started_at: str) -> dict[str, Any]:
    return {"running": {"startedAt": started_at}}


def terminated(exit_code: int, reason: str, started_at: str, finished_at: str, cid: str,
               message: str = "") -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": exit_code, "reason": reason, "startedAt": started_at,
                             "finishedAt": finished_at, "containerID": cid}
    if message:
        state["message"] = message
    return {"terminated": state}


def crash_loop_message(delay: float, container: str, pod: dict[str, Any]) -> str:
    return f"back-off {duration_text(delay)} restarting failed container={container} pod={pod_ref(pod)}"


@dataclass
class ContainerView:
    """What the kubelet knows of one container, enough to write its status."""

    name: str
    image: str
    state: dict[str, Any] = field(default_factory=lambda: waiting(CONTAINER_CREATING))
    last_state: dict[str, Any] = field(default_factory=dict)
    restart_count: int = 0
    ready: bool = False
    started: bool = False
    image_id: str = ""
    container_id: str = ""

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "name": self.name, "state": self.state, "lastState": self.last_state, "ready": self.ready,
            "restartCount": self.restart_count, "image": self.image, "imageID": self.image_id,
            "started": self.started,
        }
        if self.container_id:
            status["containerID"] = self.container_id
        return status


# ---- pod phase and conditions -------------------------------------------------------------------------------

def phase(restart_policy: str, containers: Sequence[ContainerView], *, initialized: bool) -> str:
    """The kubelet's getPhase for the regular containers."""
    if not initialized:
        return "Pending"
    waiting_ = running_ = stopped = succeeded = 0
    for c in containers:
        if "running" in c.state:
            running_ += 1
        elif "terminated" in c.state:
            stopped += 1
            if c.state["terminated"].get("exitCode") == 0:
                succeeded += 1
        elif "terminated" in c.last_state:
            stopped += 1
            if c.last_state["terminated"].get("exitCode") == 0:
                succeeded += 1
        else:
            waiting_ += 1
    if waiting_:
        return "Pending"
    if running_:
        return "Running"
    if not stopped:
        return "Pending"
    if restart_policy == "Always":
        return "Running"
    if stopped == succeeded:
        return "Succeeded"
    if restart_policy == "Never":
        return "Failed"
    return "Running"


def _condition(type_: str, ok: bool, since: str, reason: str = "", message: str = "",
               reason_when_true: str = "") -> dict[str, Any]:
    condition: dict[str, Any] = {"type": type_, "status": "True" if ok else "False", "lastProbeTime": None,
                                 "lastTransitionTime": since}
    if ok and reason_when_true:
        condition["reason"] = reason_when_true
    if not ok and reason:
        condition["reason"] = reason
        if message:
            condition["message"] = message
    return condition


def _names(views: Iterable[ContainerView]) -> str:
    return "[" + " ".join(v.name for v in views) + "]"


def conditions(
    previous: Sequence[dict[str, Any]], *, sandbox_ready: bool, init: Sequence[ContainerView],
    containers: Sequence[ContainerView], init_done: bool, phase_: str, now: str,
) -> list[dict[str, Any]]:
    """The pod's conditions; a condition keeps its lastTransitionTime while its status stays the same, and
    conditions the kubelet does not own (PodScheduled, readiness gates) are kept as they are."""
    before = {c.get("type"): c for c in previous}

    def since(type_: str, ok: bool) -> str:
        old = before.get(type_)
        if old is not None and old.get("status") == ("True" if ok else "False"):
            return str(old.get("lastTransitionTime") or now)
        return now

    completed = phase_ == "Succeeded"
    finished = {"Succeeded": "PodCompleted", "Failed": "PodFailed"}.get(phase_, "")
    unready = [c for c in containers if not c.ready]
    ready = not unready and not finished
    not_ready_reason = finished or "ContainersNotReady"
    not_ready_message = "" if finished else f"containers with unready status: {_names(unready)}"
    pending_init = [c for c in init if not ("terminated" in c.state and c.state["terminated"].get("exitCode") == 0)]
    ours = [
        _condition("PodReadyToStartContainers", sandbox_ready, since("PodReadyToStartContainers", sandbox_ready)),
        _condition("Initialized", init_done, since("Initialized", init_done), "ContainersNotInitialized",
                   f"containers with incomplete status: {_names(pending_init)}",
                   reason_when_true="PodCompleted" if completed else ""),
        _condition("Ready", ready, since("Ready", ready), not_ready_reason, not_ready_message),
        _condition("ContainersReady", ready, since("ContainersReady", ready), not_ready_reason, not_ready_message),
    ]
    owned = {c["type"] for c in ours}
    return ours + [c for c in previous if c.get("type") not in owned]
