"""Why a workload crashes: the CrashLoopBackOff playbook as rules over what a workspace shows. Pure: no I/O.

The playbook a person follows by hand (describe the pod, read Last State's exit code, read `logs --previous`,
suspect the probes, the memory limit, the image, the configuration) becomes `diagnose`: given a Deployment, its
mirror pods (from every cluster), the Events about them, the previous containers' last log lines and the images
that pulled before in the workspace, it returns the causes it can prove, each with its evidence and the fix.

What counts as evidence, per cause (../shared/design/crash-catalog.md has the kubelet's words):
- ImagePullFailed: a container waiting in ErrImagePull / ImagePullBackOff / InvalidImageName; the kubelet's
  `Failed to pull image` event; a near name among the images that did pull suggests the typo.
- MissingConfiguration: CreateContainerConfigError (`configmap "x" not found`, `secret "x" not found`,
  `couldn't find key k in ConfigMap ns/x`) or a `FailedMount` event for a configMap/secret volume.
- Unschedulable: PodScheduled=False, reason Unschedulable, and the scheduler's `0/N nodes are available: ...`.
- NodePressure: a pod Failed with reason Evicted (`The node was low on resource: memory.`).
- LivenessProbeFailed / ProbeMisconfigured: the kubelet killed the container after failed liveness probes
  (`Killing ... failed liveness probe`, `Unhealthy: Liveness probe failed: ...`). The response tells which: a 404 is a
  wrong path; `connection refused` on a port the container does not declare is a wrong port, on one it declares is
  a probe that starts before the application listens; anything else is the application not answering in time.
  A readiness probe that keeps failing keeps the pod out of service without restarts: ReadinessProbeFailing.
- From the last termination, when no probe killed it: OOMKilled (reason OOMKilled, exit 137), ProcessCompleted
  (exit 0 under restartPolicy Always), SegmentationFault (139), Terminated (143: SIGTERM from outside), Killed
  (137 without OOM: SIGKILL, a grace period run out), StartError (128: the command could not start),
  ApplicationError (any other code; 1 and 255 most often), with the previous container's last log lines quoted.

Not flagged: a pod running and ready, a rollout's new pods still starting, a container that restarted once long
ago. A container is failing while it waits in one of the reasons above, while it is terminated between restarts,
or while it runs after restarting twice or more within the kubelet's back-off reset window (10 minutes).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from controlplane.registry.quantity import parse_quantity

CLUSTER_LABEL = "workload.canopy.dev/cluster"
BACKOFF_RESET = timedelta(minutes=10)
LAST_LOG_LINES = 5

PULL_WAITING = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName"})
_CONFIG_WAITING = frozenset({"CreateContainerConfigError"})
_CRASH_WAITING = frozenset({"CrashLoopBackOff", "RunContainerError", "CreateContainerError"})

_MISSING_OBJECT = re.compile(r'(configmap|secret) "([^"]+)" not found', re.IGNORECASE)
_MISSING_KEY = re.compile(r"couldn't find key (\S+) in (ConfigMap|Secret) ([^/\s]+)/(\S+)")
_MOUNT_VOLUME = re.compile(r'for volume "([^"]+)"')
_HTTP_STATUS = re.compile(r"statuscode: (\d+)")

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    """One cause, proven on one cluster for one container of the Deployment's pods."""

    cause: str
    cluster: str
    container: str
    pods: tuple[str, ...]
    summary: str  # what happened, in a sentence
    evidence: tuple[str, ...]  # what proves it, as the user can check it
    fix: str  # what to change
    commands: tuple[str, ...] = ()  # what to run next
    weight: int = 1  # how direct the evidence is: 3 the kubelet says it, 2 an exit code, 1 circumstantial


@dataclass(frozen=True)
class Observed:
    """What the workspace shows of one Deployment."""

    deployment: Obj
    pods: Sequence[Obj]
    events: Sequence[Obj] = ()
    previous_logs: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (pod, container) -> text
    known_images: Collection[str] = ()  # images that pulled in this workspace before
    now: datetime | None = None


def diagnose(observed: Observed) -> list[Finding]:
    """The causes `observed` proves, the best proven first; empty when nothing is failing."""
    found: dict[tuple[str, str, str], Finding] = {}
    for pod in observed.pods:
        for finding in _pod_findings(observed, pod):
            key = (finding.cause, finding.cluster, finding.container)
            before = found.get(key)
            if before is None:
                found[key] = finding
            else:
                found[key] = _with_pods(before, before.pods + finding.pods)
    return sorted(found.values(), key=lambda f: (-f.weight, -len(f.pods), f.cause, f.cluster, f.container))


# ---- one pod ---------------------------------------------------------------------------------------------------


def _pod_findings(observed: Observed, pod: Obj) -> list[Finding]:
    meta, status = _dict(pod.get("metadata")), _dict(pod.get("status"))
    name = str(meta.get("name", ""))
    if meta.get("deletionTimestamp"):
        return []
    context = _Context(observed, pod, name, str(_dict(meta.get("labels")).get(CLUSTER_LABEL, "")))
    if status.get("phase") == "Failed" and status.get("reason") == "Evicted":
        return [context.evicted(str(status.get("message", "")))]
    scheduled = next((c for c in status.get("conditions") or [] if isinstance(c, dict)
                      and c.get("type") == "PodScheduled"), None)
    if scheduled and scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return [context.unschedulable(str(scheduled.get("message", "")))]
    findings: list[Finding] = []
    spec_containers = {str(c.get("name")): c for c in _dict(pod.get("spec")).get("containers") or []
                       if isinstance(c, dict)}
    for container_status in status.get("containerStatuses") or []:
        if not isinstance(container_status, dict):
            continue
        container = str(container_status.get("name", ""))
        finding = context.container(container, spec_containers.get(container, {}), container_status)
        if finding is not None:
            findings.append(finding)
    return findings


class _Context:
    def __init__(self, observed: Observed, pod: Obj, name: str, cluster: str) -> None:
        self.observed, self.pod, self.name, self.cluster = observed, pod, name, cluster
        self.deployment = str(_dict(observed.deployment.get("metadata")).get("name", ""))
        self.namespace = str(_dict(pod.get("metadata")).get("namespace", ""))
        self.events = [e for e in observed.events
                       if _dict(e.get("involvedObject")).get("kind") == "Pod"
                       and _dict(e.get("involvedObject")).get("name") == name]
        self.on = f" on cluster {cluster}" if cluster else ""

    def finding(self, cause: str, container: str, summary: str, evidence: Sequence[str], fix: str,
                commands: Sequence[str] = (), weight: int = 2) -> Finding:
        return Finding(cause, self.cluster, container, (self.name,), summary, tuple(e for e in evidence if e),
                       fix, tuple(commands), weight)

    def events_with(self, reason: str, container: str = "") -> list[Obj]:
        path = f"spec.containers{{{container}}}"
        return [e for e in self.events if e.get("reason") == reason
                and (not container or _dict(e.get("involvedObject")).get("fieldPath") in (None, "", path))]

    # -- pod level --

    def evicted(self, message: str) -> Finding:
        return self.finding(
            "NodePressure", "", f"pod {self.name} was evicted: its node{self.on} ran short of a resource",
            [f"status: Failed, reason Evicted: {message}"],
            "give the containers requests close to what they use (the kubelet evicts pods using more than they "
            "requested first), or add capacity to the cluster",
            [f"kubectl describe pod {self.name}", f"kubectl get pods -l {self._selector()}"], weight=3)

    def unschedulable(self, message: str) -> Finding:
        requests = [f"{c.get('name')}: requests {_dict(_dict(c.get('resources')).get('requests'))}"
                    for c in _dict(self.pod.get("spec")).get("containers") or [] if isinstance(c, dict)
                    and _dict(_dict(c.get("resources")).get("requests"))]
        short = ", ".join(sorted(set(re.findall(r"Insufficient (\w+)", message)))) or "room"
        return self.finding(
            "Unschedulable", "", f"no node{self.on} has the {short} pod {self.name} asks for",
            [f"PodScheduled=False, Unschedulable: {message}", *requests],
            f"lower the containers' {short} requests to what they need, or add nodes with more {short} to the "
            "cluster, or place the workload on a cluster that has it",
            [f"kubectl describe pod {self.name}", f"kubectl get events --field-selector involvedObject.name="
             f"{self.name}"], weight=3)

    # -- one container --

    def container(self, name: str, spec: Obj, status: Obj) -> Finding | None:
        state, last = _dict(status.get("state")), _dict(status.get("lastState"))
        waiting = _dict(state.get("waiting"))
        reason = str(waiting.get("reason", ""))
        if reason in PULL_WAITING:
            return self.image_pull(name, spec, waiting)
        if reason in _CONFIG_WAITING:
            return self.missing_configuration(name, str(waiting.get("message", "")))
        if reason == "ContainerCreating" and self.events_with("FailedMount"):
            return self.failed_mount(name)
        terminated = _dict(state.get("terminated")) or _dict(last.get("terminated"))
        restarts = int(status.get("restartCount") or 0)
        running = bool(state.get("running"))
        if running and not self._recently_restarting(terminated, restarts):
            return self.readiness(name, spec, status) if not status.get("ready") else None
        if not terminated or (reason not in _CRASH_WAITING and not state.get("terminated") and not running):
            return None
        probe = self.liveness(name, spec)
        if probe is not None:
            return probe
        return self.termination(name, spec, terminated, restarts)

    def _recently_restarting(self, terminated: Obj, restarts: int) -> bool:
        if restarts < 2 or not terminated:
            return False
        finished = _time(terminated.get("finishedAt"))
        now = self.observed.now
        return finished is None or now is None or now - finished < BACKOFF_RESET

    def image_pull(self, name: str, spec: Obj, waiting: Obj) -> Finding:
        image = str(spec.get("image", ""))
        failed = [str(e.get("message", "")) for e in self.events_with("Failed", name)
                  if str(e.get("message", "")).startswith("Failed to pull image")]
        near = difflib.get_close_matches(image, [i for i in self.observed.known_images if i != image], n=1,
                                         cutoff=0.8)
        fix = (f"the image {image} cannot be pulled; did you mean {near[0]}? It pulled before in this workspace"
               if near else f"the image {image} cannot be pulled: check its name and tag in the registry, and "
               "give the pod an imagePullSecret if the registry is private")
        commands = [f"kubectl set image deployment/{self.deployment} {name}={near[0] if near else '<image>'}"]
        return self.finding(
            "ImagePullFailed", name, f"container {name} cannot start: its image {image} does not pull{self.on}",
            [f"State: Waiting, {waiting.get('reason')}: {waiting.get('message', '')}".rstrip(": "), *failed[-1:]],
            fix, commands, weight=3)

    def missing_configuration(self, name: str, message: str) -> Finding:
        key = _MISSING_KEY.search(message)
        missing = _MISSING_OBJECT.search(message)
        if key:
            what = f"key {key.group(1)} in {key.group(2)} {key.group(4)}"
            create = (f"kubectl create configmap {key.group(4)} --from-literal={key.group(1)}=<value> "
                      "--dry-run=client -o yaml | kubectl apply -f -") if key.group(2) == "ConfigMap" else \
                f"kubectl patch secret {key.group(4)} -p '{{\"stringData\":{{\"{key.group(1)}\":\"<value>\"}}}}'"
            fix = f"add the key {key.group(1)} to {key.group(2)} {key.group(4)} in namespace {self.namespace}, or " \
                  "mark the reference optional"
        elif missing:
            kind = missing.group(1).lower()
            what = f"{kind} {missing.group(2)}"
            create = (f"kubectl create {kind} {missing.group(2)} --from-literal=<key>=<value>" if kind == "configmap"
                      else f"kubectl create secret generic {missing.group(2)} --from-literal=<key>=<value>")
            fix = f"create {kind} {missing.group(2)} in namespace {self.namespace} (the pod starts on its own " \
                  "once it exists), or mark the reference optional"
        else:
            what, create, fix = "its configuration", f"kubectl describe pod {self.name}", \
                "create what the message names, in the pod's namespace"
        return self.finding(
            "MissingConfiguration", name, f"container {name} cannot start: {what} is missing",
            [f"State: Waiting, CreateContainerConfigError: {message}"], fix, [create], weight=3)

    def failed_mount(self, name: str) -> Finding:
        mounts = [str(e.get("message", "")) for e in self.events_with("FailedMount")]
        missing = _MISSING_OBJECT.search(mounts[-1])
        volume = _MOUNT_VOLUME.search(mounts[-1])
        what = f"{missing.group(1).lower()} {missing.group(2)}" if missing else "a volume's source"
        return self.finding(
            "MissingConfiguration", name,
            f"pod {self.name} stays ContainerCreating: volume {volume.group(1) if volume else ''} needs {what}",
            [f"FailedMount: {mounts[-1]}"],
            f"create {what} in namespace {self.namespace} (the pod starts on its own once it exists), or mark the "
            "volume optional", [f"kubectl describe pod {self.name}"], weight=3)

    def liveness(self, name: str, spec: Obj) -> Finding | None:
        killed = [e for e in self.events_with("Killing", name) if "liveness" in str(e.get("message", ""))]
        unhealthy = [str(e.get("message", "")) for e in sorted(self.events_with("Unhealthy", name), key=_when)
                     if str(e.get("message", "")).startswith("Liveness probe failed")]
        if not killed:
            return None
        probe = _dict(spec.get("livenessProbe"))
        # A 404 proves the application answers on that port, just not that path, whatever else failed (each new
        # container's first probes may well be refused while it starts); otherwise the latest failure speaks.
        response = next((m for m in unhealthy if (h := _HTTP_STATUS.search(m)) and h.group(1) == "404"),
                        unhealthy[-1] if unhealthy else "")
        described = _describe_probe(probe)
        evidence = [f"Killing: {killed[-1].get('message', '')}", f"Unhealthy: {response}" if response else "",
                    f"livenessProbe: {described}"]
        get = _dict(probe.get("httpGet"))
        port = get.get("port", _dict(probe.get("tcpSocket")).get("port"))
        declared = {p.get("containerPort") for p in spec.get("ports") or [] if isinstance(p, dict)} | {
            p.get("name") for p in spec.get("ports") or [] if isinstance(p, dict)}
        commands = [f"kubectl describe pod {self.name}", f"kubectl edit deployment {self.deployment}"]
        status = _HTTP_STATUS.search(response)
        if status and status.group(1) == "404":
            return self.finding(
                "ProbeMisconfigured", name,
                f"the liveness probe of {name} asks for {get.get('path')}, which the application does not serve "
                "(404): the probe, not the application, kills it",
                evidence, f"point livenessProbe.httpGet.path at a path the application answers with 2xx/3xx "
                f"(now {get.get('path')})", commands, weight=3)
        declared.discard(None)
        give_time = ("give it time to start: a startupProbe with the same check (failureThreshold x periodSeconds "
                     "longer than the start-up), or a longer initialDelaySeconds")
        if "connection refused" in response and declared and port not in declared:
            return self.finding(
                "ProbeMisconfigured", name,
                f"the liveness probe of {name} knocks on port {port}, where nothing listens: the probe, not the "
                "application, kills it", evidence,
                f"point the probe at the port the application listens on (declared: "
                f"{', '.join(str(p) for p in sorted(declared, key=str))})", commands, weight=3)
        if "connection refused" in response:
            window = _probe_window(probe)
            if declared:
                summary = (f"the liveness probe of {name} gives up {window}s after the container starts, before "
                           f"the application listens on port {port}: it is killed while still starting")
                fix = give_time
            else:
                summary = (f"the liveness probe of {name} found nothing listening on port {port} within {window}s "
                           "of the start and killed it: the probe starts before the application listens, or the "
                           "port is wrong")
                fix = f"if the application listens on {port}, {give_time}; if not, point the probe at its port"
            return self.finding("ProbeMisconfigured", name, summary, evidence, fix, commands, weight=3)
        return self.finding(
            "LivenessProbeFailed", name,
            f"container {name} was killed by its liveness probe: the application stopped answering it in time",
            evidence, "find why the application stops answering (a deadlock, a dependency, too little CPU), or "
            "give the probe a longer timeoutSeconds / failureThreshold", commands, weight=3)

    def readiness(self, name: str, spec: Obj, status: Obj) -> Finding | None:
        failing = [str(e.get("message", "")) for e in self.events_with("Unhealthy", name)
                   if str(e.get("message", "")).startswith("Readiness probe failed")]
        if not failing or status.get("ready") or not _dict(spec.get("readinessProbe")):
            return None
        return self.finding(
            "ReadinessProbeFailing", name,
            f"container {name} runs but never becomes ready: its readiness probe fails, so it gets no traffic",
            [f"Unhealthy: {failing[-1]}", f"readinessProbe: {_describe_probe(_dict(spec.get('readinessProbe')))}"],
            "point the readiness probe at a path and port the application answers on", [
                f"kubectl describe pod {self.name}"], weight=2)

    def termination(self, name: str, spec: Obj, terminated: Obj, restarts: int) -> Finding:
        code = int(terminated.get("exitCode") or 0)
        reason = str(terminated.get("reason", ""))
        last = f"Last State: Terminated, {reason or 'Error'}, Exit Code {code}; Restart Count {restarts}"
        logs = self._last_words(name)
        previous = f"kubectl logs {self.name} -c {name} --previous"
        describe = f"kubectl describe pod {self.name}"
        if reason == "OOMKilled":
            limit = str(_dict(_dict(spec.get("resources")).get("limits")).get("memory", ""))
            suggested = _more_memory(limit)
            fix = (f"raise limits.memory of {name} from {limit} to {suggested} (headroom over what it reached), "
                   "or find what makes it grow" if limit else
                   f"give {name} a memory limit with headroom over what it uses, or add memory to the node")
            return self.finding(
                "OOMKilled", name, f"container {name} went over its memory limit {limit or '(none)'} and was "
                "killed by the kernel (exit 137)", [last, f"limits.memory: {limit}" if limit else ""], fix,
                [f"kubectl set resources deployment/{self.deployment} -c {name} --limits=memory={suggested}"
                 if limit else describe], weight=3)
        if code == 0:
            return self.finding(
                "ProcessCompleted", name, f"container {name} finished its work and exited 0; a Deployment restarts "
                "it for ever (restartPolicy Always)", [last, *logs],
                "run it as a Job (or a CronJob) if it is a task; if it is a server, keep its main process in the "
                "foreground instead of letting it exit", [previous, describe])
        if code == 139:
            return self.finding(
                "SegmentationFault", name, f"container {name} crashed with a segmentation fault (exit 139, "
                "SIGSEGV)", [last, *logs],
                f"a bug in the program or a native library it loads: check that the image {spec.get('image', '')} "
                "is built for the nodes' architecture and that its native dependencies match", [previous])
        if code == 143:
            return self.finding(
                "Terminated", name, f"container {name} was stopped with SIGTERM (exit 143), and no probe did it",
                [last, *logs], "find what stops it (a preStop hook, a sidecar, the program itself); make the "
                "program handle SIGTERM and keep running until asked to stop", [previous, describe])
        if code == 137:
            return self.finding(
                "Killed", name, f"container {name} was killed with SIGKILL (exit 137) without running out of "
                "memory", [last, *logs], "it did not stop within its grace period, or something killed it: "
                "raise terminationGracePeriodSeconds or make it exit on SIGTERM", [previous, describe])
        if code == 128 or reason == "StartError":
            return self.finding(
                "StartError", name, f"container {name} could not start its command (exit 128)",
                [last, str(terminated.get("message", ""))], "fix the command: the program must exist in the "
                f"image {spec.get('image', '')} and be executable", [describe], weight=3)
        meaning = ("it exited with 255: it failed before it could set an exit code, or the entrypoint, command or "
                   "architecture is wrong" if code == 255 else f"the application chose to exit with {code}")
        return self.finding(
            "ApplicationError", name, f"container {name} exits with an error: {meaning}", [last, *logs],
            "read the previous container's last words and fix what they name (often a missing environment "
            "variable, a dependency that is unreachable, or a bad argument)", [previous, describe],
            weight=2 + (1 if logs else 0))

    def _last_words(self, container: str) -> list[str]:
        text = self.observed.previous_logs.get((self.name, container), "")
        lines = [line for line in text.splitlines() if line.strip()][-LAST_LOG_LINES:]
        return [f"last log line: {line}" for line in lines]

    def _selector(self) -> str:
        labels = _dict(_dict(_dict(self.observed.deployment.get("spec")).get("selector")).get("matchLabels"))
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<selector>"


# ---- helpers ---------------------------------------------------------------------------------------------------


def _with_pods(finding: Finding, pods: tuple[str, ...]) -> Finding:
    return Finding(finding.cause, finding.cluster, finding.container, tuple(sorted(set(pods))), finding.summary,
                   finding.evidence, finding.fix, finding.commands, finding.weight)


def _describe_probe(probe: Obj) -> str:
    get, tcp = _dict(probe.get("httpGet")), _dict(probe.get("tcpSocket"))
    if get:
        target = f"httpGet {get.get('path', '/')} on port {get.get('port')}"
    elif tcp:
        target = f"tcpSocket on port {tcp.get('port')}"
    elif probe.get("exec"):
        target = f"exec {_dict(probe.get('exec')).get('command')}"
    else:
        target = "(none)"
    timing = ", ".join(f"{k}={probe[k]}" for k in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds",
                                                  "failureThreshold") if k in probe)
    return f"{target}{', ' + timing if timing else ''}"


def _when(event: Obj) -> str:
    """An event's latest time, for ordering (RFC 3339 strings in UTC order as text)."""
    return str(event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or "")


def _probe_window(probe: Obj) -> int:
    """Seconds from the container's start until a failing probe gives up: the kubelet's defaults where unset."""
    return int(probe.get("initialDelaySeconds") or 0) + int(probe.get("periodSeconds") or 10) * int(
        probe.get("failureThreshold") or 3)


def _more_memory(limit: str) -> str:
    """A limit with headroom over `limit`: double it, in Mi (or Gi from 1Gi up)."""
    if not limit:
        return ""
    try:
        doubled = parse_quantity(limit).value * 2
    except ValueError:
        return ""
    mib = math.ceil(doubled / 2**20)
    return f"{mib // 1024}Gi" if mib >= 1024 and mib % 1024 == 0 else f"{mib}Mi"


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
