"""The simulated kubelets' pod workers: they run the pods bound to this cluster's nodes and report on them as a
kubelet does.

One worker per pod, as the kubelet has. It mounts the pod's volumes (FailedMount while a ConfigMap or Secret is
missing), gives the pod its sandbox (an IP from the node's pod CIDR), runs the init containers one after another,
then every container at once. For each container: pull the image (simcluster.images; ErrImagePull then
ImagePullBackOff), assemble its environment (simcluster.podconfig; CreateContainerConfigError), start it
(simcluster.programs says what the process does, its log lines go to simcluster.logs), probe it
(simcluster.probes), and when it exits or is killed restart it after the crash-loop back-off
(simcluster.podstatus). Every change of what the kubelet knows is written to the pod's status, coalesced, by one
writer per pod. Deleting a pod stops its containers (SIGTERM, then SIGKILL after the grace period for processes
that ignore it) and then removes the pod for good, as the kubelet's status manager does.

Durations are simulated seconds (simcluster.clock); the sequence of states and events is the same at any scale.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from api.registry import BUILTIN
from controlplane import errors
from controlplane.controllers.workqueue import WorkQueue
from controlplane.registry.quantity import parse_quantity
from controlplane.storage.keys import ROOT_WORKSPACE
from controlplane.storage.watchcache import DELETED, WatchEvent
from controlplane.store import DeleteOptions, Store, now_rfc3339
from simcluster import eviction, images, podconfig, probes, programs
from simcluster import podstatus as ps
from simcluster.clock import Clock
from simcluster.events import NORMAL, WARNING, EventRecorder, Source
from simcluster.logs import ContainerLogs

log = logging.getLogger(__name__)

PODS = BUILTIN.lookup("", "v1", "pods")
NODES = BUILTIN.lookup("", "v1", "nodes")
CONFIGMAPS = BUILTIN.lookup("", "v1", "configmaps")
SECRETS = BUILTIN.lookup("", "v1", "secrets")
assert PODS is not None and NODES is not None and CONFIGMAPS is not None and SECRETS is not None

# How often a kubelet looks at a pod again while something keeps it from progressing (a missing ConfigMap, an
# image back-off): its pod worker's resync. Each look repeats the event, so `describe` shows (xN over ...).
RESYNC_SECONDS = 10.0
# From a container's exit to the kubelet noticing it (PLEG relist) and acting: the terminated state shows meanwhile.
PLEG_SECONDS = 1.0
# The volume manager's retry back-off for a mount that fails: 0.5 s doubling, capped at 2m2s.
MOUNT_RETRY_INITIAL = 0.5
MOUNT_RETRY_MAX = 122.0
SANDBOX_SECONDS = 0.5


class PodGone(Exception):
    """The pod was deleted for good (or replaced by another with the same name) while its worker ran."""


@dataclass
class Container:
    spec: dict[str, Any]
    init: bool
    view: ps.ContainerView
    instance: int = 0
    backoff: ps.BackOff = field(default_factory=ps.BackOff)
    pull_backoff: ps.BackOff = field(default_factory=ps.BackOff)
    stop: asyncio.Future[str] | None = None  # set while running: resolving it stops the process
    task: asyncio.Task[None] | None = None
    memory: int = 0  # bytes in use while it runs

    @property
    def name(self) -> str:
        return self.view.name

    @property
    def field_path(self) -> str:
        return ps.field_path(self.name, init=self.init)


@dataclass
class Termination:
    exit_code: int
    reason: str
    message: str = ""


class PodWorker:
    def __init__(self, kubelet: PodWorkers, pod: dict[str, Any]) -> None:
        self.kubelet = kubelet
        self.pod = pod
        meta, spec = pod["metadata"], pod["spec"]
        self.uid: str = meta["uid"]
        self.namespace: str = meta["namespace"]
        self.name: str = meta["name"]
        self.node: str = spec["nodeName"]
        self.source = Source("kubelet", self.node)
        self.restart_policy: str = spec.get("restartPolicy", "Always")
        self.init = [Container(c, True, ps.ContainerView(c["name"], c.get("image", ""),
                                                         ps.waiting(ps.POD_INITIALIZING)))
                     for c in spec.get("initContainers") or []]
        waiting_reason = ps.POD_INITIALIZING if self.init else ps.CONTAINER_CREATING
        self.containers = [Container(c, False, ps.ContainerView(c["name"], c.get("image", ""),
                                                                ps.waiting(waiting_reason)))
                           for c in spec.get("containers") or []]
        for c in self.init:
            c.view.state = ps.waiting(ps.CONTAINER_CREATING)
        self._carry_over(pod.get("status") or {})
        self.sandbox_ready = False
        self.init_done = not self.init
        self.pod_ip = ""
        self.host_ip = ""
        self.start_time = now_rfc3339()
        self.terminating = False
        self.grace: float | None = None  # the deletion's grace period, once the pod is being deleted
        self.evicted = ""  # the eviction's message, once the kubelet has evicted the pod
        self.poked = asyncio.Event()
        self.dirty = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.writer: asyncio.Task[None] | None = None
        self.terminator: asyncio.Task[None] | None = None

    def _carry_over(self, status: dict[str, Any]) -> None:
        """A pod that already ran on this node before the kubelet (re)started: its containers died with the node,
        as after a reboot. The running ones end `Unknown` (255); restart counts go on from where they were."""
        previous = {s.get("name"): s for key in ("initContainerStatuses", "containerStatuses")
                    for s in status.get(key) or []}
        for c in [*self.init, *self.containers]:
            before = previous.get(c.name)
            if not before or not (before.get("containerID") or before.get("restartCount")):
                continue
            state, last = before.get("state") or {}, before.get("lastState") or {}
            c.view.restart_count = int(before.get("restartCount") or 0)
            c.view.container_id = str(before.get("containerID") or "")
            c.view.image_id = str(before.get("imageID") or "")
            if "running" in state:
                c.view.last_state = ps.terminated(255, "Unknown", state["running"].get("startedAt", ""),
                                                  now_rfc3339(), c.view.container_id)
            elif "terminated" in state:
                c.view.last_state = state
            else:
                c.view.last_state = last
            c.instance = c.view.restart_count + 1

    # ---- the pod's life --------------------------------------------------------------------------------------

    def start(self) -> None:
        self.writer = asyncio.create_task(self._write_statuses(), name=f"pod-status-{self.name}")
        self.task = asyncio.create_task(self._run(), name=f"pod-worker-{self.name}")

    def update(self, pod: dict[str, Any]) -> None:
        self.pod = pod
        if pod["metadata"].get("deletionTimestamp") and self.terminator is None:
            self.terminating = True
            self.terminator = asyncio.create_task(self._terminate(), name=f"pod-terminate-{self.name}")

    def poke(self) -> None:
        """Something the pod may be waiting for changed (a ConfigMap or Secret): look again now."""
        self.poked.set()

    async def _wait_resync(self, seconds: float) -> None:
        self.poked.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.poked.wait(), self.kubelet.clock.real(seconds))

    async def _run(self) -> None:
        try:
            self.host_ip = self.kubelet.host_ip(self.node)
            self.changed()
            await self._mount_volumes()
            await self.kubelet.clock.sleep(SANDBOX_SECONDS)
            self.pod_ip = self.kubelet.allocate_ip(self.node)
            self.sandbox_ready = True
            self.changed()
            for c in self.init:
                await self._run_container(c)
                if not _succeeded(c.view):
                    return  # restartPolicy Never and it failed: the pod has failed
            self.init_done = True
            for c in self.containers:
                c.view.state = ps.waiting(ps.CONTAINER_CREATING)
            self.changed()
            for c in self.containers:
                c.task = asyncio.create_task(self._run_container(c), name=f"container-{self.name}-{c.name}")
            await asyncio.gather(*(c.task for c in self.containers if c.task is not None))
        except PodGone:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pod worker for %s/%s failed", self.namespace, self.name)

    async def _mount_volumes(self) -> None:
        delay = MOUNT_RETRY_INITIAL
        while True:
            failures = podconfig.volume_errors(self.pod, self.kubelet.lookup(self.namespace))
            if not failures:
                return
            for message in failures:
                await self.record(WARNING, "FailedMount", message)
            await self._wait_resync(delay)
            delay = min(delay * 2, MOUNT_RETRY_MAX)

    def usage(self) -> eviction.PodUsage:
        def request(c: Container) -> tuple[int, str]:
            text = ((c.spec.get("resources") or {}).get("requests") or {}).get("memory")
            return (int(parse_quantity(str(text)).value), str(text)) if text else (0, "0")

        return eviction.PodUsage((self.namespace, self.name), tuple(
            eviction.ContainerUsage(c.name, c.memory, *request(c)) for c in self.containers))

    async def evict(self, message: str) -> None:
        """Evicted for the node's sake: every container killed at once, no restart, the pod Failed (it stays, as
        evicted pods do, until something deletes it)."""
        self.evicted = message
        self.terminating = True
        self.grace = 0.0
        await self.record(WARNING, "Evicted", message)
        for task in await self._stop_containers():
            with contextlib.suppress(asyncio.CancelledError, PodGone):
                await task
        self.changed()

    async def _stop_containers(self) -> list[asyncio.Task[None]]:
        """Tell every running container to stop (Killing), cancel the rest; the tasks of those stopping."""
        stopping = []
        for c in [*self.init, *self.containers]:
            if c.stop is not None and not c.stop.done():
                await self.record(NORMAL, "Killing", f"Stopping container {c.name}", c.field_path)
                c.stop.set_result("delete")
                if c.task is not None:
                    stopping.append(c.task)
            elif c.task is not None and not c.task.done():
                c.task.cancel()
        return stopping

    async def _terminate(self) -> None:
        """Stop every container (SIGTERM; SIGKILL after the grace period), then delete the pod for good."""
        grace = self.pod["metadata"].get("deletionGracePeriodSeconds")
        self.grace = float(self.pod["spec"].get("terminationGracePeriodSeconds", 30) if grace is None else grace)
        stopping: list[Awaitable[Any]] = list(await self._stop_containers())
        if self.task is not None and not stopping:
            self.task.cancel()
        for task in [*stopping, *([self.task] if self.task else [])]:
            with contextlib.suppress(asyncio.CancelledError, PodGone):
                await task
        await self.flush()
        await self.kubelet.delete_for_good(self)

    # ---- one container ----------------------------------------------------------------------------------------

    async def _run_container(self, c: Container) -> None:
        clock = self.kubelet.clock
        while not self.terminating:
            pulled = await self._pull(c)
            env = await self._configure(c)
            termination = await self._start_and_live(c, pulled, env)
            finished = clock.monotonic()
            if self.terminating or not _restarts(self.restart_policy, termination.exit_code, c.init):
                return
            await clock.sleep(PLEG_SECONDS)
            if c.backoff.in_back_off_since(finished, clock.monotonic()):
                c.view.last_state, c.view.state = c.view.state, ps.waiting(
                    ps.CRASH_LOOP_BACK_OFF, ps.crash_loop_message(c.backoff.delay, c.name, self.pod))
                self.changed()
                while (left := c.backoff.remaining(finished, clock.monotonic())) > 0:
                    await self.record(WARNING, "BackOff", f"Back-off restarting failed container {c.name} in pod "
                                      f"{ps.pod_ref(self.pod)}", c.field_path)
                    await clock.sleep(min(left, RESYNC_SECONDS))
                    if self.terminating:
                        return
            c.backoff.next(finished, clock.monotonic())

    async def _pull(self, c: Container) -> images.Pulled:
        image = c.spec.get("image", "")
        policy = c.spec.get("imagePullPolicy", "IfNotPresent")
        clock = self.kubelet.clock
        result = images.pull(image)
        present = isinstance(result, images.Pulled) and result.reference in self.kubelet.node_images(self.node)
        if policy != "Always" and present:
            assert isinstance(result, images.Pulled)
            await self.record(NORMAL, "Pulled", f'Container image "{image}" already present on machine', c.field_path)
            return result
        if policy == "Never":
            message = f'Container image "{image}" is not present with pull policy of Never'
            c.view.state = ps.waiting("ErrImageNeverPull", message)
            self.changed()
            while True:
                await self.record(WARNING, "ErrImageNeverPull", message, c.field_path)
                await self._wait_resync(RESYNC_SECONDS)
        last_failure: float | None = None
        while True:
            if last_failure is not None and c.pull_backoff.in_back_off_since(last_failure, clock.monotonic()):
                message = f'Back-off pulling image "{image}"'
                c.view.state = ps.waiting(ps.IMAGE_PULL_BACK_OFF, message)
                self.changed()
                await self.record(NORMAL, "BackOff", message, c.field_path)
                await self.record(WARNING, "Failed", f"Error: {ps.IMAGE_PULL_BACK_OFF}", c.field_path)
                await clock.sleep(min(c.pull_backoff.remaining(last_failure, clock.monotonic()), RESYNC_SECONDS))
                continue
            await self.record(NORMAL, "Pulling", f'Pulling image "{image}"', c.field_path)
            if isinstance(result, images.PullFailure):
                await clock.sleep(PLEG_SECONDS)
                await self.record(WARNING, "Failed", f'Failed to pull image "{image}": {result.message}',
                                  c.field_path)
                await self.record(WARNING, "Failed", f"Error: {ps.ERR_IMAGE_PULL}", c.field_path)
                c.view.state = ps.waiting(ps.ERR_IMAGE_PULL, result.message)
                self.changed()
                last_failure = clock.monotonic()
                c.pull_backoff.next(last_failure, last_failure)
                await clock.sleep(PLEG_SECONDS)
                continue
            seconds = images.pull_seconds(result.image)
            await clock.sleep(seconds)
            took = ps.pull_duration_text(seconds)
            await self.record(NORMAL, "Pulled", f'Successfully pulled image "{image}" in {took} ({took} including '
                              f"waiting). Image size: {result.image.size} bytes.", c.field_path)
            self.kubelet.node_images(self.node).add(result.reference)
            return result

    async def _configure(self, c: Container) -> dict[str, str]:
        while True:
            env = podconfig.resolve_env(self.pod, c.spec, self.kubelet.lookup(self.namespace))
            if not isinstance(env, podconfig.ConfigError):
                return env
            c.view.state = ps.waiting(ps.CREATE_CONTAINER_CONFIG_ERROR, env.message)
            self.changed()
            await self.record(WARNING, "Failed", f"Error: {env.message}", c.field_path)
            await self._wait_resync(RESYNC_SECONDS)

    async def _start_and_live(self, c: Container, pulled: images.Pulled, env: dict[str, str]) -> Termination:
        clock, logs = self.kubelet.clock, self.kubelet.logs
        limit = ((c.spec.get("resources") or {}).get("limits") or {}).get("memory")
        run = programs.run(pulled.image, c.spec, env, int(parse_quantity(str(limit)).value) if limit else None,
                           started_at=clock.now())
        if c.view.state.get("terminated"):
            c.view.last_state = c.view.state
        if c.instance:
            c.view.restart_count += 1
        cid = ps.container_id(self.uid, c.name, c.instance)
        c.instance += 1
        c.view.container_id, c.view.image_id, c.view.image = cid, pulled.image_id, pulled.reference
        logs.start(self.pod, c.name, cid)
        await self.record(NORMAL, "Created", f"Created container {c.name}", c.field_path)
        if run.reason == "StartError":
            await self.record(WARNING, "Failed", f"Error: {run.message}", c.field_path)
            now = now_rfc3339()
            c.view.state = ps.terminated(run.exit_code, run.reason, "1970-01-01T00:00:00Z", now, cid, run.message)
            c.view.ready = c.view.started = False
            logs.finish(cid)
            self.changed()
            return Termination(run.exit_code, run.reason, run.message)
        await self.record(NORMAL, "Started", f"Started container {c.name}", c.field_path)
        started_at = now_rfc3339()
        started = clock.monotonic()
        c.view.state = ps.running(started_at)
        c.memory = run.memory
        c.view.started = not c.spec.get("startupProbe")
        c.view.ready = c.view.started and not c.spec.get("readinessProbe") and not c.init
        self.changed()
        c.stop = asyncio.get_running_loop().create_future()
        timeline = LogTimeline(run.logs)
        writing = asyncio.create_task(self._write_logs(c, cid, timeline))
        probing = asyncio.create_task(self._probe(c, run, started))
        ending = asyncio.create_task(clock.sleep(run.ends_after)) if run.ends_after is not None else None
        waited: list[asyncio.Future[Any]] = [c.stop, *([ending] if ending else [])]
        await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
        probing.cancel()
        writing.cancel()
        logs.write(self.pod, c.name, cid, timeline.due(clock.monotonic() - started))
        if ending is not None and ending.done() and not c.stop.done():
            c.stop.cancel()
            logs.write(self.pod, c.name, cid, run.last_words, stream="stderr" if run.exit_code else "stdout")
            termination = Termination(run.exit_code, run.reason, run.message)
            if run.reason == "OOMKilled":
                await self._report_oom_kill(programs.command_line(pulled.image, c.spec, env) or [c.name], run)
        else:
            if ending is not None:
                ending.cancel()
            termination = await self._stop(c, cid, run, c.stop.result(), clock.monotonic() - started)
        logs.finish(cid)
        c.stop = None
        c.memory = 0
        c.view.state = ps.terminated(termination.exit_code, termination.reason, started_at, now_rfc3339(), cid,
                                     termination.message)
        c.view.ready = c.init and termination.exit_code == 0
        c.view.started = False
        self.changed()
        return termination

    async def _report_oom_kill(self, argv: list[str], run: programs.Run) -> None:
        """The kubelet's OOM watcher reads the kernel's kill from /dev/kmsg and reports it on the Node."""
        node = self.kubelet.node_object(self.node)
        if node is None:
            return
        command = argv[0].rsplit("/", 1)[-1][:15]  # the kernel's comm: the executable's name, 15 characters
        pid = 1000 + len(self.kubelet.workers)
        rss_kb = run.memory // 1024
        # The kubelet's oom_score_adj by QoS class (a Burstable pod's depends on its request; 999 is its ceiling).
        score = {"Guaranteed": -997, "BestEffort": 1000}.get(self.pod.get("status", {}).get("qosClass", ""), 999)
        message = (f"Memory cgroup out of memory: Killed process {pid} ({command}) total-vm:{rss_kb + 4096}kB, "
                   f"anon-rss:{rss_kb}kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:{max(rss_kb // 512, 1)}kB "
                   f"oom_score_adj:{score}")
        ref = {**node, "metadata": {**node["metadata"], "uid": self.node, "namespace": ""}}
        await self.kubelet.recorder.record(ref, self.source, WARNING, "OOMKilling", message)

    async def _stop(self, c: Container, cid: str, run: programs.Run, why: str, elapsed: float) -> Termination:
        """SIGTERM; a process that ignores it is killed (137) once the grace period is over."""
        self.kubelet.logs.write(self.pod, c.name, cid, run.stop_log(elapsed))
        if run.stop_exit_code is None:
            grace = self.grace if why == "delete" else None
            if grace is None:
                grace = float(self.pod["spec"].get("terminationGracePeriodSeconds", 30))
            await self.kubelet.clock.sleep(grace)
            return Termination(137, "Error")
        code = run.stop_exit_code
        return Termination(code, "Completed" if code == 0 else "Error")

    async def _write_logs(self, c: Container, cid: str, timeline: LogTimeline) -> None:
        """Write the process's lines as their time comes (the rest is written when it ends)."""
        clock = self.kubelet.clock
        elapsed = 0.0
        while (offset := timeline.next_offset()) is not None:
            await clock.sleep(offset - elapsed)
            elapsed = offset
            self.kubelet.logs.write(self.pod, c.name, cid, timeline.due(elapsed))

    async def _probe(self, c: Container, run: programs.Run, started: float) -> None:
        startup = c.spec.get("startupProbe")
        if startup and not await self._probe_loop(c, run, started, "Startup", startup):
            return
        c.view.started = True
        if not c.spec.get("readinessProbe"):
            c.view.ready = not c.init
        self.changed()
        loops = [self._probe_loop(c, run, started, kind, c.spec[member])
                 for kind, member in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe"))
                 if c.spec.get(member)]
        await asyncio.gather(*loops)

    async def _probe_loop(self, c: Container, run: programs.Run, started: float, kind: str,
                          probe: dict[str, Any]) -> bool:
        """Run one probe until it decides something: a startup probe returns once it succeeds (True) or kills
        the container (False); liveness and readiness probes run for the container's life."""
        clock = self.kubelet.clock
        initial_delay, period, failure_threshold, success_threshold, _ = probes.probe_timing(probe)
        await clock.sleep(initial_delay)
        failures = successes = 0
        while True:
            result = probes.check(probe, c.spec, run, clock.monotonic() - started, self.pod_ip)
            if result.errored:
                # Neither success nor failure: the kubelet reports it and keeps the last result.
                await self.record(WARNING, "Unhealthy",
                                  f"{kind} probe errored and resulted in unknown state: {result.output}", c.field_path)
            elif result.success:
                failures, successes = 0, successes + 1
                if kind == "Startup":
                    return True
                if kind == "Readiness" and successes >= success_threshold and not c.view.ready:
                    c.view.ready = True
                    self.changed()
            else:
                successes, failures = 0, failures + 1
                await self.record(WARNING, "Unhealthy", f"{kind} probe failed: {result.output}", c.field_path)
                if kind == "Readiness":
                    if failures >= failure_threshold and c.view.ready:
                        c.view.ready = False
                        self.changed()
                elif failures >= failure_threshold:
                    await self.record(NORMAL, "Killing",
                                      f"Container {c.name} failed {kind.lower()} probe, will be restarted",
                                      c.field_path)
                    if c.stop is not None and not c.stop.done():
                        c.stop.set_result(kind.lower())
                    return False
            await clock.sleep(period)

    # ---- status and events ------------------------------------------------------------------------------------

    async def record(self, type_: str, reason: str, message: str, field_path: str = "") -> None:
        await self.kubelet.recorder.record(self.pod, self.source, type_, reason, message, field_path=field_path)

    def changed(self) -> None:
        self.dirty.set()

    async def flush(self) -> None:
        """Write what is pending now (before the pod is deleted for good)."""
        if self.dirty.is_set():
            self.dirty.clear()
            with contextlib.suppress(PodGone):
                await self._write_status()

    async def _write_statuses(self) -> None:
        while True:
            await self.dirty.wait()
            self.dirty.clear()
            try:
                await self._write_status()
            except PodGone:
                return
            except errors.StatusError:
                log.exception("writing the status of pod %s/%s failed; will retry", self.namespace, self.name)
                await asyncio.sleep(0.1)
                self.dirty.set()

    def status(self, previous: dict[str, Any]) -> dict[str, Any]:
        phase = ps.phase(self.restart_policy, [c.view for c in self.containers], initialized=self.init_done)
        if not self.init_done and self.restart_policy == "Never" and any(
            "terminated" in c.view.state and not _succeeded(c.view) for c in self.init
        ):
            phase = "Failed"
        now = now_rfc3339()
        status: dict[str, Any] = {k: v for k, v in previous.items() if k in ("qosClass", "nominatedNodeName")}
        if self.evicted:
            phase = "Failed"
            status.update(reason="Evicted", message=self.evicted)
        status["phase"] = phase
        status["conditions"] = ps.conditions(
            previous.get("conditions") or [], sandbox_ready=self.sandbox_ready, init=[c.view for c in self.init],
            containers=[c.view for c in self.containers], init_done=self.init_done, phase_=phase, now=now,
        )
        if self.host_ip:
            status["hostIP"] = self.host_ip
            status["hostIPs"] = [{"ip": self.host_ip}]
        if self.pod_ip:
            status["podIP"] = self.pod_ip
            status["podIPs"] = [{"ip": self.pod_ip}]
        status["startTime"] = previous.get("startTime") or self.start_time
        if self.init:
            status["initContainerStatuses"] = [c.view.status() for c in self.init]
        status["containerStatuses"] = [c.view.status() for c in self.containers]
        return status

    async def _write_status(self) -> None:
        def mutate(pod: dict[str, Any]) -> dict[str, Any]:
            if pod["metadata"].get("uid") != self.uid:
                raise PodGone
            pod["status"] = self.status(pod.get("status") or {})
            return pod

        try:
            await self.kubelet.store.guaranteed_update(ROOT_WORKSPACE, PODS, self.namespace, self.name, mutate,
                                                       subresource="status")
        except errors.StatusError as exc:
            if exc.code == 404:
                raise PodGone from None
            raise

    def cancel(self) -> None:
        for task in (self.task, self.writer, self.terminator, *(c.task for c in [*self.init, *self.containers])):
            if task is not None:
                task.cancel()


class LogTimeline:
    """A process's log lines by time; `due` hands out each line once."""

    def __init__(self, lines: tuple[tuple[float, str], ...]) -> None:
        self._lines = sorted(lines, key=lambda entry: entry[0])
        self._next = 0

    def next_offset(self) -> float | None:
        return self._lines[self._next][0] if self._next < len(self._lines) else None

    def due(self, elapsed: float) -> list[str]:
        out: list[str] = []
        while self._next < len(self._lines) and self._lines[self._next][0] <= elapsed:
            out.append(self._lines[self._next][1])
            self._next += 1
        return out


def _succeeded(view: ps.ContainerView) -> bool:
    return view.state.get("terminated", {}).get("exitCode") == 0


def _restarts(policy: str, exit_code: int, init: bool) -> bool:
    if init:
        return exit_code != 0 and policy != "Never"
    return policy == "Always" or (policy == "OnFailure" and exit_code != 0)


class PodWorkers:
    """The kubelets of every simulated node, in one controller: pods bound to one of `nodes` get a worker."""

    def __init__(self, store: Store, recorder: EventRecorder, clock: Clock, logs: ContainerLogs,
                 nodes: list[str]) -> None:
        self.store = store
        self.recorder = recorder
        self.clock = clock
        self.logs = logs
        self.nodes = set(nodes)
        self.workers: dict[tuple[str, str], PodWorker] = {}
        self._images: dict[str, set[str]] = {}
        self._next_ip: dict[str, int] = {}
        self.queue: WorkQueue[tuple[str, str]] = WorkQueue("kubelet", self._sync)
        self._housekeeping: asyncio.Task[None] | None = None

    def on_event(self, event: WatchEvent) -> None:
        key = event.key
        if key.workspace != ROOT_WORKSPACE:
            return
        if key.resource == "pods" and key.group == "":
            node = (event.obj.get("spec") or {}).get("nodeName")
            if node in self.nodes or (key.namespace, key.name) in self.workers:
                self.queue.add((key.namespace, key.name))
        elif key.group == "" and key.resource in ("configmaps", "secrets") and event.type != DELETED:
            for (namespace, _), worker in self.workers.items():
                if namespace == key.namespace:
                    worker.poke()

    def resync(self) -> None:
        for cached in self.store.cache.list_everywhere("", "pods"):
            if cached.key.workspace == ROOT_WORKSPACE:
                self.queue.add((cached.key.namespace, cached.key.name))

    def start(self) -> None:
        self.resync()
        self.queue.start()
        self._housekeeping = asyncio.create_task(self._evict_under_pressure(), name="eviction-manager")

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
        await self.queue.stop()
        for worker in self.workers.values():
            worker.cancel()

    async def _evict_under_pressure(self) -> None:
        """Each node's eviction manager: below the memory threshold, the node is under MemoryPressure and one pod
        is evicted per housekeeping interval; the condition clears a transition period after the signal does."""
        last_pressure: dict[str, float] = {}
        while True:
            await self.clock.sleep(eviction.HOUSEKEEPING_SECONDS)
            for node in sorted(self.nodes):
                capacity = self.node_memory(node)
                pods = [w.usage() for w in self.workers.values() if w.node == node and not w.evicted]
                if capacity is None:
                    continue
                now = self.clock.monotonic()
                if not eviction.under_pressure(capacity, pods):
                    since = last_pressure.get(node)
                    if since is not None and now - since >= eviction.PRESSURE_TRANSITION_SECONDS:
                        del last_pressure[node]
                        await self._memory_pressure(node, eviction.NO_PRESSURE, "NodeHasSufficientMemory")
                    continue
                if node not in last_pressure:
                    await self._memory_pressure(node, eviction.UNDER_PRESSURE, "NodeHasInsufficientMemory")
                last_pressure[node] = now
                chosen = eviction.victim(pods)
                if chosen is None:
                    continue
                await self._node_event(node, WARNING, "EvictionThresholdMet", "Attempting to reclaim memory")
                log.info("node %s low on memory: evicting %s/%s", node, *chosen.key)
                await self.workers[chosen.key].evict(eviction.message(chosen, capacity, pods))

    async def _memory_pressure(self, node: str, condition: tuple[str, str, str], event: str) -> None:
        status_, reason, message = condition
        now = now_rfc3339()

        def write(obj: dict[str, Any]) -> dict[str, Any]:
            status = obj.setdefault("status", {})
            status["conditions"] = [
                {**c, "status": status_, "reason": reason, "message": message, "lastTransitionTime": now,
                 "lastHeartbeatTime": now} if c.get("type") == "MemoryPressure" else c
                for c in status.get("conditions") or []]
            return obj

        assert NODES is not None
        await self.store.guaranteed_update(ROOT_WORKSPACE, NODES, "", node, write, subresource="status")
        await self._node_event(node, NORMAL, event, f"Node {node} status is now: {event}")

    async def _node_event(self, node: str, type_: str, reason: str, message: str) -> None:
        obj = self.node_object(node)
        if obj is not None:
            ref = {**obj, "metadata": {**obj["metadata"], "uid": node, "namespace": ""}}
            await self.recorder.record(ref, Source("kubelet", node), type_, reason, message)

    def node_memory(self, node: str) -> int | None:
        """The node's memory capacity in bytes, as its Node says."""
        obj = self.node_object(node)
        quantity = ((obj or {}).get("status") or {}).get("capacity", {}).get("memory")
        return int(parse_quantity(str(quantity)).value) if quantity else None

    async def _sync(self, item: tuple[str, str]) -> bool:
        namespace, name = item
        cached = self.store.peek(ROOT_WORKSPACE, PODS, namespace, name)
        worker = self.workers.get(item)
        if worker is not None and (cached is None or cached.obj["metadata"].get("uid") != worker.uid):
            self._forget(worker)
            worker = None
        if cached is None:
            return True
        pod = cached.obj
        if (pod.get("spec") or {}).get("nodeName") not in self.nodes:
            return True
        if worker is None:
            if pod.get("status", {}).get("phase") in ("Succeeded", "Failed") and not pod["metadata"].get(
                    "deletionTimestamp"):
                return True  # finished before this kubelet started: nothing to run
            worker = PodWorker(self, pod)
            self.workers[item] = worker
            worker.start()
        worker.update(pod)
        return True

    def _forget(self, worker: PodWorker) -> None:
        worker.cancel()
        self.workers.pop((worker.namespace, worker.name), None)
        self.logs.remove_pod(worker.pod)
        self.recorder.forget(worker.uid)

    async def delete_for_good(self, worker: PodWorker) -> None:
        with contextlib.suppress(errors.StatusError):  # already gone
            await self.store.delete(ROOT_WORKSPACE, PODS, worker.namespace, worker.name,
                                    DeleteOptions(grace_period_seconds=0, precondition_uid=worker.uid))

    def lookup(self, namespace: str) -> Callable[[str, str], dict[str, Any] | None]:
        def find(kind: str, name: str) -> dict[str, Any] | None:
            rt = CONFIGMAPS if kind == "ConfigMap" else SECRETS
            assert rt is not None
            cached = self.store.peek(ROOT_WORKSPACE, rt, namespace, name)
            return None if cached is None else cached.obj

        return find

    def node_images(self, node: str) -> set[str]:
        return self._images.setdefault(node, set())

    def node_object(self, node: str) -> dict[str, Any] | None:
        assert NODES is not None
        cached = self.store.peek(ROOT_WORKSPACE, NODES, "", node)
        return None if cached is None else cached.obj

    def host_ip(self, node: str) -> str:
        node_obj = self.node_object(node)
        for address in ((node_obj.get("status") or {}).get("addresses") or []) if node_obj else []:
            if address.get("type") == "InternalIP":
                return str(address.get("address", ""))
        return ""

    def allocate_ip(self, node: str) -> str:
        """The next address of the node's pod CIDR (10.42.N.0/24), skipping the network and gateway."""
        assert NODES is not None
        cached = self.store.peek(ROOT_WORKSPACE, NODES, "", node)
        cidr = (cached.obj.get("spec") or {}).get("podCIDR", "10.42.0.0/24") if cached else "10.42.0.0/24"
        network = ipaddress.ip_network(cidr, strict=False)
        hosts = network.num_addresses - 3
        offset = self._next_ip.get(node, 0)
        self._next_ip[node] = offset + 1
        return str(network.network_address + 2 + offset % hosts)
