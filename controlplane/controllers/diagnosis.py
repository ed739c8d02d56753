"""The diagnosis controller: every Deployment whose pods fail gets the cause on itself, where kubectl shows it.

It watches what the syncers reflect into the workspaces (Deployments, their mirror pods, the Events about them) and
runs the playbook (`controlplane.diagnosis.diagnose`) on each Deployment that changed. Its conclusion goes on the
Deployment, in the tenant's words:
- the condition `Healthy`: False with the best-proven cause as reason and `<what happened>; its last words:
  <the previous container's last log line>; fix: <what to change>` as message (other causes named after it);
  True, reason `NoFailingPods`, once a Deployment it had flagged recovers. A Deployment never flagged gets no
  condition, so a thousand healthy ones cost no write.
- a Warning Event with the cause as reason, on the Deployment, once per cause (its count goes up when the cause
  comes back after a recovery), so `kubectl describe deployment` and `kubectl get events` show it.
The previous container's last log lines (for an application error) come through the syncer's tunnel, read once
per container instance; a cluster that cannot be reached leaves them out, and the diagnosis says what it can.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from api.placement import set_condition
from api.registry import BUILTIN
from controlplane import errors
from controlplane.controllers.workqueue import WorkQueue
from controlplane.diagnosis import CLUSTER_LABEL, LAST_LOG_LINES, PULL_WAITING, Finding, Observed, diagnose
from controlplane.podlogs import LogOptions, PodLogSource
from controlplane.storage.keys import resource_prefix
from controlplane.storage.watchcache import DELETED, WatchEvent
from controlplane.store import Store, rfc3339

log = logging.getLogger(__name__)

DEPLOYMENTS = BUILTIN.lookup("apps", "v1", "deployments")
EVENTS = BUILTIN.lookup("", "v1", "events")
PODS = BUILTIN.lookup("", "v1", "pods")
assert DEPLOYMENTS is not None and EVENTS is not None and PODS is not None

HEALTHY = "Healthy"
RECOVERED = "NoFailingPods"
# Exit codes whose cause is told by the application itself: its last log lines are worth reading.
_TELLING = frozenset({"Error"})

Key = tuple[str, str, str]  # (workspace, namespace, deployment)


class DiagnosisController:
    def __init__(self, store: Store, logs: PodLogSource | None = None) -> None:
        self.store = store
        self.logs = logs
        self.queue: WorkQueue[Key] = WorkQueue("diagnosis", self._sync)
        # (pod uid, container) -> (restartCount, the last words of that instance); forgotten with the pod
        self._last_words: dict[tuple[str, str], tuple[int, str]] = {}

    # ---- what to look at --------------------------------------------------------------------------------------

    def on_event(self, event: WatchEvent) -> None:
        key = event.key
        if (key.group, key.resource) == ("apps", "deployments"):
            self.queue.add((key.workspace, key.namespace, key.name))
        elif (key.group, key.resource) == ("", "pods"):
            if event.type == DELETED:
                uid = (event.obj.get("metadata") or {}).get("uid", "")
                for memo in [m for m in self._last_words if m[0] == uid]:
                    del self._last_words[memo]
            owner = _owner(event.obj)
            if owner:
                self.queue.add((key.workspace, key.namespace, owner))
        elif (key.group, key.resource) == ("", "events"):
            involved = event.obj.get("involvedObject") or {}
            if involved.get("kind") == "Deployment":
                self.queue.add((key.workspace, key.namespace, str(involved.get("name", ""))))
            elif involved.get("kind") == "Pod":
                pod = self.store.peek(key.workspace, PODS, key.namespace, str(involved.get("name", "")))
                owner = _owner(pod.obj) if pod is not None else ""
                if owner:
                    self.queue.add((key.workspace, key.namespace, owner))

    def resync(self) -> None:
        for cached in self.store.cache.list_everywhere("apps", "deployments"):
            self.queue.add((cached.key.workspace, cached.key.namespace, cached.key.name))

    def start(self) -> None:
        self.resync()
        self.queue.start()

    # ---- concluding -------------------------------------------------------------------------------------------

    async def _sync(self, key: Key) -> bool:
        workspace, namespace, name = key
        cached = self.store.peek(workspace, DEPLOYMENTS, namespace, name)
        if cached is None:
            return True
        deployment = cached.obj
        uid = deployment["metadata"].get("uid")
        pods = [c.obj for c in self.store.cache.list((workspace, "", "pods"),
                                                       resource_prefix(workspace, "", "pods", namespace))
                if _owner(c.obj, uid) == name]
        names = {p["metadata"]["name"] for p in pods}
        events = [c.obj for c in self.store.cache.list((workspace, "", "events"),
                                                         resource_prefix(workspace, "", "events", namespace))
                  if (c.obj.get("involvedObject") or {}).get("name") in names]
        # The images that pulled before only matter to a pull that fails: not read for every change of every pod.
        pulling = any(((s.get("state") or {}).get("waiting") or {}).get("reason") in PULL_WAITING
                      for p in pods for s in (p.get("status") or {}).get("containerStatuses") or [])
        observed = Observed(deployment, pods, events, await self._previous_logs(pods),
                            self._images(workspace) if pulling else set(), datetime.now(UTC))
        findings = diagnose(observed)
        await self._conclude(workspace, namespace, name, deployment, findings)
        return True

    async def _conclude(self, workspace: str, namespace: str, name: str, deployment: Mapping[str, Any],
                        findings: list[Finding]) -> None:
        conditions = (deployment.get("status") or {}).get("conditions") or []
        current = next((c for c in conditions if c.get("type") == HEALTHY), None)
        if findings:
            best = findings[0]
            also = [f.cause for f in findings[1:]]
            words = [e.removeprefix("last log line: ") for e in best.evidence if e.startswith("last log line: ")]
            message = (f"{best.summary}" + (f"; its last words: {words[-1]}" if words else "") + f"; fix: {best.fix}"
                       + (f" (also: {', '.join(also)})" if also else ""))
            wanted = ("False", best.cause, message)
        elif current is not None and current.get("status") == "False":
            wanted = ("True", RECOVERED, "no pod of this Deployment is failing")
        else:
            return
        if current is not None and (current.get("status"), current.get("reason"), current.get("message")) == wanted:
            return
        now = rfc3339(datetime.now(UTC))

        def write(obj: dict[str, Any]) -> dict[str, Any]:
            status = obj.setdefault("status", {})
            status["conditions"] = set_condition(status.get("conditions"), HEALTHY, *wanted, now)
            return obj

        try:
            await self.store.guaranteed_update(workspace, DEPLOYMENTS, namespace, name, write, subresource="status")
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
            return
        if findings and (current is None or current.get("reason") != findings[0].cause
                         or current.get("status") != "False"):
            await self._record(workspace, namespace, deployment, findings[0], now)

    async def _record(self, workspace: str, namespace: str, deployment: Mapping[str, Any], finding: Finding,
                      now: str) -> None:
        """A Warning Event on the Deployment for `finding`, one per cause, counting up when it comes back."""
        meta = deployment["metadata"]
        name = f"{meta['name']}.diagnosis.{finding.cause.lower()}"
        message = f"{finding.summary}; fix: {finding.fix}"
        cached = self.store.peek(workspace, EVENTS, namespace, name)
        if cached is not None:
            def bump(obj: dict[str, Any]) -> dict[str, Any]:
                obj.update(count=int(obj.get("count") or 1) + 1, lastTimestamp=now, message=message)
                return obj

            await self.store.guaranteed_update(workspace, EVENTS, namespace, name, bump)
            return
        event = {
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {"kind": "Deployment", "apiVersion": "apps/v1", "namespace": namespace,
                               "name": meta["name"], "uid": meta.get("uid", "")},
            "reason": finding.cause, "message": message, "type": "Warning",
            "source": {"component": "canopy-diagnosis"}, "reportingComponent": "canopy-diagnosis",
            "count": 1, "firstTimestamp": now, "lastTimestamp": now,
        }
        try:
            await self.store.create(workspace, EVENTS, namespace, event)
        except errors.StatusError as exc:
            if exc.code != 409:
                raise

    async def _previous_logs(self, pods: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
        """The last words of each container that ended in an error, read once per container instance."""
        found: dict[tuple[str, str], str] = {}
        if self.logs is None:
            return found
        for pod in pods:
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                terminated = (status.get("lastState") or {}).get("terminated") or {}
                if terminated.get("reason") not in _TELLING:
                    continue
                memo = (pod["metadata"].get("uid", ""), str(status.get("name", "")))
                restarts = int(status.get("restartCount") or 0)
                known = self._last_words.get(memo)
                words = known[1] if known and known[0] == restarts else await self._read(pod, memo[1])
                if words:  # nothing read (the cluster out of reach, the log not there yet): tried again next time
                    self._last_words[memo] = (restarts, words)
                found[(pod["metadata"]["name"], status.get("name", ""))] = words
        return found

    async def _read(self, pod: dict[str, Any], container: str) -> str:
        assert self.logs is not None
        chunks: list[bytes] = []
        try:
            async for chunk in self.logs.read(pod, LogOptions(container=container, previous=True,
                                                              tail_lines=LAST_LOG_LINES)):
                chunks.append(chunk)
        except errors.StatusError as exc:  # the cluster unreachable, or no previous instance: said without it
            log.debug("no previous log for %s/%s: %s", pod["metadata"]["name"], container, exc)
            return ""
        return b"".join(chunks).decode(errors="replace")

    def _images(self, workspace: str) -> set[str]:
        """Images that pulled in this workspace: those of containers that started."""
        images: set[str] = set()
        for cached in self.store.cache.list((workspace, "", "pods"), resource_prefix(workspace, "", "pods")):
            spec = {c.get("name"): c.get("image") for c in (cached.obj.get("spec") or {}).get("containers") or []}
            for status in (cached.obj.get("status") or {}).get("containerStatuses") or []:
                if status.get("started") or (status.get("state") or {}).get("running"):
                    image = spec.get(status.get("name"))
                    if image:
                        images.add(str(image))
        return images


def _owner(pod: Mapping[str, Any], uid: str | None = None) -> str:
    """The Deployment a mirror pod belongs to (its controller owner), or "" for any other pod."""
    meta = pod.get("metadata") or {}
    if CLUSTER_LABEL not in (meta.get("labels") or {}):
        return ""
    for ref in meta.get("ownerReferences") or []:
        if ref.get("kind") == "Deployment" and ref.get("controller") and (uid is None or ref.get("uid") == uid):
            return str(ref.get("name", ""))
    return ""
