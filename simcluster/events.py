"""core/v1 Events as the components of a real cluster record them, repeats folded into one Event.

client-go's EventRecorder names an Event `<involved object>.<hex of the time in ns>` and, when the same component
reports the same reason and message about the same object again, raises `count` and `lastTimestamp` of the Event it
wrote before instead of writing a new one: `kubectl describe` then shows `(x4 over 2m)`. `event()` builds the body
(pure); `EventRecorder` writes it, keeping the names of the Events it wrote to fold repeats into.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from api.registry import BUILTIN
from controlplane import errors
from controlplane.storage.keys import ROOT_WORKSPACE
from controlplane.store import Store, now_rfc3339

EVENTS = BUILTIN.lookup("", "v1", "events")
assert EVENTS is not None

NORMAL = "Normal"
WARNING = "Warning"


@dataclass(frozen=True)
class Source:
    """Who reports: `kubelet` on a node, or a control-plane component (`default-scheduler`,
    `deployment-controller`, `replicaset-controller`)."""

    component: str
    host: str = ""


def involved(obj: dict[str, Any], field_path: str = "") -> dict[str, Any]:
    """The involvedObject reference to `obj` (a stored object, with kind, apiVersion and metadata)."""
    meta = obj.get("metadata", {})
    ref = {"kind": obj.get("kind", ""), "namespace": meta.get("namespace", ""), "name": meta.get("name", ""),
           "uid": meta.get("uid", ""), "apiVersion": obj.get("apiVersion", ""),
           "resourceVersion": meta.get("resourceVersion", "")}
    if field_path:
        ref["fieldPath"] = field_path
    return {k: v for k, v in ref.items() if v}


def event(ref: dict[str, Any], source: Source, type_: str, reason: str, message: str, *, now: str,
          name_suffix: int) -> dict[str, Any]:
    """A new Event about `ref`, as client-go's recorder makes it (count 1, first = last timestamp)."""
    source_obj = {"component": source.component}
    if source.host:
        source_obj["host"] = source.host
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{ref['name']}.{name_suffix:x}", "namespace": ref.get("namespace") or "default"},
        "involvedObject": ref,
        "reason": reason, "message": message, "type": type_,
        "source": source_obj,
        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        "eventTime": None,
        "reportingComponent": source.component, "reportingInstance": source.host,
    }


def correlation_key(ref: dict[str, Any], source: Source, type_: str, reason: str, message: str) -> tuple[str, ...]:
    """What makes two reports the same Event (client-go's getEventKey)."""
    return (source.component, source.host, ref.get("kind", ""), ref.get("namespace", ""), ref.get("name", ""),
            ref.get("uid", ""), ref.get("apiVersion", ""), ref.get("fieldPath", ""), type_, reason, message)


class EventRecorder:
    def __init__(self, store: Store, workspace: str = ROOT_WORKSPACE) -> None:
        self.store = store
        self.workspace = workspace
        self._written: dict[tuple[str, ...], tuple[str, str]] = {}  # key -> (namespace, event name)

    async def record(self, obj: dict[str, Any], source: Source, type_: str, reason: str, message: str, *,
                     field_path: str = "") -> None:
        """Record an Event about `obj`; never fails the caller (a real recorder drops what it cannot write)."""
        ref = involved(obj, field_path)
        key = correlation_key(ref, source, type_, reason, message)
        now = now_rfc3339()
        seen = self._written.get(key)
        if seen is not None:
            namespace, name = seen
            try:
                await self.store.guaranteed_update(self.workspace, EVENTS, namespace, name,
                                                   lambda e: _repeated(e, now))
                return
            except errors.StatusError:
                self._written.pop(key, None)  # expired or deleted: write a new one
        body = event(ref, source, type_, reason, message, now=now, name_suffix=time.time_ns())
        namespace = body["metadata"]["namespace"]
        with contextlib.suppress(errors.StatusError):  # the namespace is going away
            await self.store.create(self.workspace, EVENTS, namespace, body)
            self._written[key] = (namespace, body["metadata"]["name"])

    def forget(self, uid: str) -> None:
        """Drop what is kept about an object that is gone."""
        for key in [k for k in self._written if k[5] == uid]:
            del self._written[key]


def _repeated(existing: dict[str, Any], now: str) -> dict[str, Any]:
    existing["count"] = int(existing.get("count") or 1) + 1
    existing["lastTimestamp"] = now
    return existing
