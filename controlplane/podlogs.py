"""Pod logs: the `pods/log` query (PodLogOptions), the CRI log file format, and selecting what to send. Pure.

A kubelet keeps each container instance's output in a file of CRI log lines,
`<RFC 3339 time with nanoseconds> <stdout|stderr> <F|P> <text>`, and answers `GET .../pods/NAME/log` from it:
`sinceSeconds`/`sinceTime` drop older lines, `tailLines` keeps the last ones, `timestamps` prefixes each line
with its time, `limitBytes` cuts the answer. Which container instance is read follows the kubelet's
`validateContainerLogStatus`: the running one, else the one that terminated last; `previous` always the last
terminated one. Whoever reads the files implements `PodLogSource`; the API server only validates the query and
picks the container, as kube-apiserver does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from controlplane import errors
from controlplane.errors import Cause
from controlplane.registry import field as f

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z")


@dataclass(frozen=True)
class LogOptions:
    container: str = ""
    previous: bool = False
    follow: bool = False
    timestamps: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    since_time: datetime | None = None
    limit_bytes: int | None = None

    def cutoff(self, now: datetime) -> datetime | None:
        if self.since_seconds is not None:
            return now - timedelta(seconds=self.since_seconds)
        return self.since_time


@dataclass(frozen=True)
class LogLine:
    time: datetime
    stream: str
    text: str


class PodLogSource(Protocol):
    def read(self, pod: dict[str, Any], options: LogOptions) -> AsyncIterator[bytes]:
        """The selected log of `options.container` (already checked to be one of the pod's); raises StatusError
        when there is none to read (a container waiting to start, no previous instance)."""
        ...


def _boolean(query: Mapping[str, str], name: str) -> bool:
    """kube-apiserver's query booleans: present and anything but "false" or "0" is true (`?follow=` too)."""
    if name not in query:
        return False
    return query[name].lower() not in ("false", "0")


def _integer(query: Mapping[str, str], name: str) -> int | None:
    if name not in query:
        return None
    value = query[name]
    try:
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            raise ValueError(value)
        return int(value)
    except ValueError:
        raise errors.bad_request(f'invalid value for {name}: "{query[name]}" is not an integer') from None


def parse_options(pod_name: str, query: Mapping[str, str]) -> LogOptions:
    """PodLogOptions from the query, validated as kube-apiserver does (422 Invalid for out-of-range values)."""
    since_time: datetime | None = None
    if "sinceTime" in query:
        try:
            if not _RFC3339.fullmatch(query["sinceTime"]):
                raise ValueError(query["sinceTime"])
            since_time = datetime.fromisoformat(query["sinceTime"].replace("Z", "+00:00"))
        except ValueError:
            raise errors.bad_request(
                f'invalid value for sinceTime: "{query["sinceTime"]}" is not an RFC 3339 time such as '
                "2024-01-02T15:04:05Z"
            ) from None
    options = LogOptions(
        container=query.get("container", ""), previous=_boolean(query, "previous"),
        follow=_boolean(query, "follow"), timestamps=_boolean(query, "timestamps"),
        tail_lines=_integer(query, "tailLines"), since_seconds=_integer(query, "sinceSeconds"),
        since_time=since_time, limit_bytes=_integer(query, "limitBytes"),
    )
    causes: list[Cause] = []
    if options.tail_lines is not None and options.tail_lines < 0:
        causes.append(f.invalid("tailLines", options.tail_lines, "must be greater than or equal to 0"))
    if options.limit_bytes is not None and options.limit_bytes < 1:
        causes.append(f.invalid("limitBytes", options.limit_bytes, "must be greater than 0"))
    if options.since_seconds is not None and options.since_time is not None:
        causes.append(f.forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"))
    elif options.since_seconds is not None and options.since_seconds < 1:
        causes.append(f.invalid("sinceSeconds", options.since_seconds, "must be greater than 0"))
    if causes:
        raise errors.invalid("PodLogOptions", pod_name, "", causes)
    return options


def choose_container(pod: dict[str, Any], requested: str) -> str:
    """The container to read: the one asked for, or the only one; 400 as kube-apiserver answers otherwise."""
    spec = pod.get("spec", {})
    name = pod["metadata"]["name"]
    containers = [c.get("name", "") for c in spec.get("containers", [])]
    init = [c.get("name", "") for c in spec.get("initContainers", [])]
    ephemeral = [c.get("name", "") for c in spec.get("ephemeralContainers", [])]
    if not requested:
        if len(containers) == 1:
            return containers[0]
        choices = " ".join([*init, *containers, *ephemeral])
        raise errors.bad_request(f"a container name must be specified for pod {name}, choose one of: [{choices}]")
    if requested not in (*containers, *init, *ephemeral):
        raise errors.bad_request(f"container {requested} is not valid for pod {name}")
    return requested


def format_time(moment: datetime) -> str:
    """RFC 3339 with nanoseconds, as containerd writes log lines and `kubectl logs --timestamps` shows them."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def format_line(moment: datetime, stream: str, text: str) -> str:
    return f"{format_time(moment)} {stream} F {text}\n"


def parse_line(line: str) -> LogLine | None:
    """One CRI log line; containerd drops trailing zeros of the fraction (`05.5Z`, `05Z`)."""
    parts = line.rstrip("\n").split(" ", 3)
    if len(parts) < 3:
        return None
    match = _STAMP.fullmatch(parts[0])
    if match is None:
        return None
    fraction = (match.group(2) or "")[:6].ljust(6, "0")
    try:
        moment = datetime.fromisoformat(f"{match.group(1)}.{fraction}+00:00")
    except ValueError:
        return None
    return LogLine(moment, parts[1], parts[3] if len(parts) == 4 else "")


def render(line: LogLine, options: LogOptions) -> bytes:
    text = f"{format_time(line.time)} {line.text}\n" if options.timestamps else f"{line.text}\n"
    return text.encode()


def select(lines: Iterable[LogLine], options: LogOptions, now: datetime) -> list[LogLine]:
    """The lines a non-following read returns, before `limitBytes`."""
    cutoff = options.cutoff(now)
    chosen = [line for line in lines if cutoff is None or line.time >= cutoff]
    if options.tail_lines is not None:
        chosen = chosen[len(chosen) - options.tail_lines:] if options.tail_lines else []
    return chosen


def limit(chunks: Iterable[bytes], limit_bytes: int | None) -> list[bytes]:
    if limit_bytes is None:
        return list(chunks)
    out: list[bytes] = []
    left = limit_bytes
    for chunk in chunks:
        if left <= 0:
            break
        out.append(chunk[:left])
        left -= len(chunk)
    return out
