"""The simulated kubelets' container logs: one file of CRI log lines per container instance, kept as a kubelet
keeps /var/log/pods, and read back for `kubectl logs` (PodLogSource).

Files live at DATA_DIR/pods/<namespace>_<pod>_<uid>/<container>/<container ID>.log; they go when the pod goes.
Which instance a read returns follows the kubelet's rules (controlplane.podlogs), from the pod's own status: the
running container, else the one that terminated last; with `previous`, the last terminated one.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from controlplane import errors
from controlplane.podlogs import LogLine, LogOptions, format_line, limit, parse_line, render, select

_FOLLOW_POLL_SECONDS = 0.05


def _pod_dir_name(pod: dict[str, Any]) -> str:
    meta = pod["metadata"]
    return f"{meta.get('namespace', '')}_{meta['name']}_{meta.get('uid', '')}"


def _bare_id(container_id: str) -> str:
    return container_id.split("://", 1)[-1]


def _container_status(pod: dict[str, Any], container: str) -> dict[str, Any] | None:
    status = pod.get("status", {})
    for member in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for entry in status.get(member) or []:
            if entry.get("name") == container:
                return entry
    return None


def instance_to_read(pod: dict[str, Any], container: str, previous: bool) -> str:
    """The container ID whose log a read returns, or a 400 worded as the kubelet words it."""
    name = pod["metadata"]["name"]
    status = _container_status(pod, container)
    if status is None:
        raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating')
    state, last = status.get("state") or {}, status.get("lastState") or {}
    last_terminated = last.get("terminated")
    if previous:
        if not last_terminated or not last_terminated.get("containerID"):
            raise errors.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        return str(last_terminated["containerID"])
    if "running" in state and status.get("containerID"):
        return str(status["containerID"])
    if "terminated" in state and state["terminated"].get("containerID"):
        return str(state["terminated"]["containerID"])
    if "terminated" in state or last_terminated:
        if not last_terminated or not last_terminated.get("containerID"):
            raise errors.bad_request(f'container "{container}" in pod "{name}" is terminated')
        return str(last_terminated["containerID"])
    reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
    if reason == "ErrImagePull":
        raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: image can\'t be pulled')
    if reason == "ImagePullBackOff":
        raise errors.bad_request(
            f'container "{container}" in pod "{name}" is waiting to start: trying and failing to pull image'
        )
    raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')


class ContainerLogs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._live: set[str] = set()  # container IDs still running: a follow waits for more of their lines

    def path(self, pod: dict[str, Any], container: str, container_id: str) -> Path:
        return self.root / _pod_dir_name(pod) / container / f"{_bare_id(container_id)}.log"

    def start(self, pod: dict[str, Any], container: str, container_id: str) -> None:
        path = self.path(pod, container, container_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        self._live.add(_bare_id(container_id))

    def write(self, pod: dict[str, Any], container: str, container_id: str, lines: Iterable[str], *,
              stream: str = "stdout") -> None:
        now = datetime.now(UTC)
        text = "".join(format_line(now, stream, line) for line in lines)
        if text:
            with self.path(pod, container, container_id).open("a", encoding="utf-8") as out:
                out.write(text)

    def finish(self, container_id: str) -> None:
        self._live.discard(_bare_id(container_id))

    def remove_pod(self, pod: dict[str, Any]) -> None:
        shutil.rmtree(self.root / _pod_dir_name(pod), ignore_errors=True)

    async def read(self, pod: dict[str, Any], options: LogOptions) -> AsyncIterator[bytes]:
        cid = instance_to_read(pod, options.container, options.previous)
        path = self.path(pod, options.container, cid)
        if not path.exists():
            raise errors.bad_request(
                f'the log of container "{options.container}" in pod "{pod["metadata"]["name"]}" is gone (its '
                "files were removed); newer instances have their own"
            )
        with path.open("r", encoding="utf-8") as source:
            lines = [line for line in map(parse_line, source.readlines()) if line is not None]
            chosen = select(lines, options, datetime.now(UTC))
            sent = 0
            for chunk in limit((render(line, options) for line in chosen), options.limit_bytes):
                sent += len(chunk)
                yield chunk
            if not options.follow or options.previous:
                return
            async for chunk in self._follow(source, cid, options, sent):
                yield chunk

    async def _follow(self, source: Any, cid: str, options: LogOptions, sent: int) -> AsyncIterator[bytes]:
        while True:
            live = _bare_id(cid) in self._live
            for raw in source.readlines():
                line: LogLine | None = parse_line(raw)
                if line is None:
                    continue
                chunk = render(line, options)
                if options.limit_bytes is not None:
                    chunk = chunk[: max(options.limit_bytes - sent, 0)]
                    if not chunk:
                        return
                sent += len(chunk)
                yield chunk
            if not live:
                return
            await asyncio.sleep(_FOLLOW_POLL_SECONDS)
