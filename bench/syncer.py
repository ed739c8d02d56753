"""The syncer's latency both ways, and its resync after a restart.

    python -m bench.syncer [--deployments 50] [--pods 10] [--resync 1000]

Every part a real process: a `canopy server` (its own embedded etcd), a `canopy simcluster --time-scale 1.0
--nodes 3`, registered as Cluster `edge-1` (`canopy cluster register ... --allow-workspace 'root:*'`), and
`canopy syncer --heartbeat-seconds 10` between them. The benchmark talks to both API servers with aiohttp and the
admins' client certificates, and observes each side with a watch (never a poll), time-stamping every event as it
arrives. In three stages:

1. *Down*, with 1 workspace and again with 100 (the 99 added ones each with a Placement and one idle Deployment,
   replicas 0, which the syncer follows): `--deployments` Deployments (replicas 0, so no pods are needed) are
   created in one workspace, one every 100 ms; per Deployment, the time from the create's response to its
   downstream copy appearing on a watch of the cluster's Deployments (label `workload.canopy.dev/managed-by`).
2. *Up*, in both states too: a synced Deployment of `--pods` nginx:1.27 pods; its pods are deleted on the
   cluster, one every 500 ms, and the ReplicaSet replaces them. Per pod, the time from the cluster's watch showing
   it deleted / added / Ready to the tenant's watch of pods showing its mirror `<pod>.edge-1` deleted / added /
   Ready.
3. *Resync*: `--resync` Deployments (replicas 0) over 10 workspaces, all downstream and the syncer quiet; the
   syncer is stopped (SIGTERM) and started again. Converged is when the new syncer has listed the Deployments of
   every workspace and a sentinel Deployment, created right after those lists, has reached the cluster (the
   syncer's work queue is one FIFO, so the sentinel comes down only after the 1,000 re-synced ones). The syncer's
   writes after the restart are counted from both audit logs (upstream: user `system:syncer:edge-1`, verbs other
   than get/list/watch, the Cluster's heartbeats and the sentinel excepted; downstream: the same verbs, the
   sentinel excepted), and every downstream Deployment must keep its uid.

Baseline, in the same run and the same way: a bare relay written here (a watch on one side, a create on the other
for each object it sees, nothing else) carries ConfigMaps down (workspace `lat` -> a plain namespace of the
cluster) and up (the other way), `--deployments` of them one every 100 ms; its latency, from the create's response
to the copy showing on the other side's watch, is the floor two API servers and a watch each way set. The syncer's
figures are printed as ratios to it as well (down: its p50 / the relay's down p50; up likewise).

Bars (issue 5): p99 <= 250 ms each way; resync of 1,000 Deployments <= 10 s with zero writes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.harness import check, client_ssl, create_workspace, percentile, session, wait_ready, wait_until
from bench.simcluster import alive, children, start_simcluster
from controlplane.etcd_embedded import free_port

REPO = Path(__file__).resolve().parents[1]
CLUSTER = "edge-1"
SYNCER_USER = f"system:syncer:{CLUSTER}"
MANAGED = "workload.canopy.dev/managed-by=canopy-syncer"
UPSTREAM_NAME = "workload.canopy.dev/name"
DOWNSTREAM_NAMESPACE = "workload.canopy.dev/downstream-namespace"
READS = ("get", "list", "watch")
IDLE_WORKSPACES = 99
RESYNC_WORKSPACES = 10
DOWN_INTERVAL = 0.1
UP_INTERVAL = 0.5


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canopy(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "controlplane.cli", *args], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM, SIGKILL after `timeout`; then whatever children it left (an embedded etcd) the same way."""
    if process.poll() is None:
        leftovers = children(process.pid)
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    else:
        leftovers = []
    for pid in leftovers:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not alive(pid):
                break
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + 10
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)


def audit(path: Path, since: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if entry["time"] > since:
                entries.append(entry)
    return entries


def deployment(name: str, replicas: int = 0) -> dict[str, Any]:
    labels = {"app": name}
    container: dict[str, Any] = {"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
                                 "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}}


def pod_ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


class Watch:
    """A list then a watch of `url`, calling on_event(type, obj, monotonic arrival time) for every event (the
    listed items as ADDED); relists when the watch ends."""

    def __init__(self, api: aiohttp.ClientSession, url: str, params: dict[str, str],
                 on_event: Callable[[str, dict[str, Any], float], None]) -> None:
        self.api, self.url, self.params, self.on_event = api, url, params, on_event
        self.listed = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            async with self.api.get(self.url, params=self.params) as resp:
                body = await check(resp, 200)
            now = time.monotonic()
            for item in body["items"]:
                self.on_event("ADDED", item, now)
            self.listed.set()
            rv = str(body["metadata"]["resourceVersion"])
            params = {**self.params, "watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "false"}
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with self.api.get(self.url, params=params, timeout=aiohttp.ClientTimeout(total=None)) as resp:
                    if resp.status != 200:
                        await check(resp, 200)
                    async for line in resp.content:
                        arrived = time.monotonic()
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                            self.on_event(event["type"], event["object"], arrived)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class Bench:
    nodes = 3  # of the simulated cluster, 64 CPUs and 64Gi each

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp
        self.results: dict[str, float] = {}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.syncer: subprocess.Popen[bytes] | None = None
        # Downstream Deployments by their upstream name: first arrival time, and the latest object.
        self.arrived: dict[str, float] = {}
        self.down_objects: dict[tuple[str, str], dict[str, Any]] = {}

    # ---- processes --------------------------------------------------------------------------------------------

    async def start_server(self) -> None:
        data = self.tmp / "server"
        data.mkdir()
        port = free_port()
        with (self.tmp / "server.log").open("wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "controlplane.cli", "server", "--data-dir", str(data),
                                        "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        self.processes.append(process)
        self.server_data, self.server_url = data, f"https://127.0.0.1:{port}"

        async def admin_files() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"canopy server exited: {(self.tmp / 'server.log').read_text()[-3000:]}")
            return (data / "admin.kubeconfig").exists()

        await wait_until(admin_files, "the server writing admin.kubeconfig", timeout=120)
        await wait_ready(f"{self.server_url}/readyz", client_ssl(data / "pki", client_cert=False))

    def start_syncer(self) -> None:
        with (self.tmp / "syncer.log").open("ab") as log:
            self.syncer = subprocess.Popen(
                [sys.executable, "-m", "controlplane.cli", "syncer", "--cluster", CLUSTER, "--kubeconfig",
                 str(self.tmp / "syncer.kubeconfig"), "--cluster-kubeconfig", str(self.cluster.kubeconfig),
                 "--heartbeat-seconds", "10"], stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        self.processes.append(self.syncer)

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            stop_process(process)
        if getattr(self, "cluster", None) is not None:
            self.cluster.stop()

    # ---- helpers ----------------------------------------------------------------------------------------------

    def ws_url(self, workspace: str, path: str) -> str:
        return f"{self.server_url}/clusters/root:{workspace}/{path}"

    async def create_deployment(self, workspace: str, body: dict[str, Any]) -> float:
        """POST the Deployment; the monotonic time of the response."""
        async with self.up.post(self.ws_url(workspace, "apis/apps/v1/namespaces/default/deployments"),
                                json=body) as resp:
            await check(resp, 201)
        return time.monotonic()

    async def placed_workspace(self, name: str) -> None:
        await create_workspace(self.up, self.server_url, name)
        placement = {"apiVersion": "workload.canopy.dev/v1alpha1", "kind": "Placement",
                     "metadata": {"name": "everywhere"}, "spec": {}}
        async with self.up.post(self.ws_url(name, "apis/workload.canopy.dev/v1alpha1/placements"),
                                json=placement) as resp:
            await check(resp, 201)

    async def until_downstream(self, names: set[str], what: str, timeout: float = 120) -> None:
        async def there() -> bool:
            return names <= self.arrived.keys()

        await wait_until(there, what, timeout=timeout)

    def _on_down_deployment(self, type_: str, obj: dict[str, Any], at: float) -> None:
        meta = obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if type_ == "DELETED":
            self.down_objects.pop(key, None)
            return
        self.down_objects[key] = obj
        name = (meta.get("annotations") or {}).get(UPSTREAM_NAME, meta["name"])
        self.arrived.setdefault(name, at)

    # ---- stages -----------------------------------------------------------------------------------------------

    async def down_latency(self, label: str, prefix: str) -> None:
        created: dict[str, float] = {}
        for i in range(self.args.deployments):
            name = f"{prefix}-{i}"
            created[name] = await self.create_deployment("lat", deployment(name))
            await asyncio.sleep(DOWN_INTERVAL)
        await self.until_downstream(set(created), f"{len(created)} Deployments downstream ({label})")
        latencies = [(self.arrived[n] - t) * 1000 for n, t in created.items()]
        self.results[f"down_p50_ms_{label}"] = percentile(latencies, 0.5)
        self.results[f"down_p99_ms_{label}"] = percentile(latencies, 0.99)
        self.results[f"down_max_ms_{label}"] = max(latencies)

    async def up_latency(self, label: str) -> None:
        """Delete the web pods on the cluster, one every UP_INTERVAL; match each pod's transitions with its mirror's."""
        down: dict[tuple[str, str], float] = {}  # (pod, transition) -> first time seen on the cluster
        up: dict[tuple[str, str], float] = {}
        suffix = f".{CLUSTER}"

        def record(seen: dict[tuple[str, str], float], name: str, type_: str, obj: dict[str, Any], at: float) -> None:
            if type_ == "DELETED":
                seen.setdefault((name, "deleted"), at)
            elif type_ == "ADDED":
                seen.setdefault((name, "added"), at)
            if type_ != "DELETED" and pod_ready(obj) and not obj["metadata"].get("deletionTimestamp"):
                seen.setdefault((name, "ready"), at)

        def on_down(type_: str, obj: dict[str, Any], at: float) -> None:
            record(down, obj["metadata"]["name"], type_, obj, at)

        def on_up(type_: str, obj: dict[str, Any], at: float) -> None:
            name = obj["metadata"]["name"]
            if name.endswith(suffix):
                record(up, name.removesuffix(suffix), type_, obj, at)

        dns = self.web_namespace
        down_watch = Watch(self.down, f"{self.cluster.url}/api/v1/namespaces/{dns}/pods", {}, on_down)
        up_watch = Watch(self.up, self.ws_url("lat", "api/v1/namespaces/default/pods"), {}, on_up)
        try:
            await down_watch.listed.wait()
            await up_watch.listed.wait()
            victims = sorted(name for (name, kind) in down if kind == "added")
            down.clear()
            up.clear()
            for name in victims:
                async with self.down.delete(f"{self.cluster.url}/api/v1/namespaces/{dns}/pods/{name}") as resp:
                    await check(resp, 200, 202)
                await asyncio.sleep(UP_INTERVAL)

            def settled() -> bool:
                new = {n for (n, kind) in down if kind == "added"}
                return (all((v, "deleted") in up for v in victims) and len(new) >= len(victims)
                        and all((n, "ready") in up for n in new))

            async def check_settled() -> bool:
                return settled()

            await wait_until(check_settled, f"the replaced pods mirrored Ready ({label})", timeout=90)
        finally:
            await down_watch.stop()
            await up_watch.stop()
        samples: dict[str, list[float]] = {"deleted": [], "added": [], "ready": []}
        for (name, kind), at in down.items():
            if (name, kind) in up:
                samples[kind].append((up[(name, kind)] - at) * 1000)
        every = [x for values in samples.values() for x in values]
        self.results[f"up_samples_{label}"] = len(every)
        self.results[f"up_p50_ms_{label}"] = percentile(every, 0.5)
        self.results[f"up_p99_ms_{label}"] = percentile(every, 0.99)
        self.results[f"up_max_ms_{label}"] = max(every)
        for kind, values in samples.items():
            if values:
                self.results[f"up_{kind}_p50_ms_{label}"] = statistics.median(values)

    async def relay_latency(self) -> None:
        """The bare relay both ways (see the module's docstring): the floor the syncer is compared with."""
        relay_ns = "bench-relay"
        async with self.down.post(f"{self.cluster.url}/api/v1/namespaces",
                                  json={"metadata": {"name": relay_ns}}) as resp:
            await check(resp, 201)
        sides = {
            "down": (self.up, self.ws_url("lat", "api/v1/namespaces/default/configmaps"),
                     self.down, f"{self.cluster.url}/api/v1/namespaces/{relay_ns}/configmaps"),
            "up": (self.down, f"{self.cluster.url}/api/v1/namespaces/{relay_ns}/configmaps",
                   self.up, self.ws_url("lat", "api/v1/namespaces/default/configmaps")),
        }
        for way, (source, source_url, target, target_url) in sides.items():
            latencies = await self._relay(way, source, source_url, target, target_url)
            self.results[f"relay_{way}_p50_ms"] = percentile(latencies, 0.5)
            self.results[f"relay_{way}_p99_ms"] = percentile(latencies, 0.99)

    async def _relay(self, way: str, source: aiohttp.ClientSession, source_url: str, target: aiohttp.ClientSession,
                     target_url: str) -> list[float]:
        """Relay ConfigMaps `relay-<way>-N` from source to target; each one's latency in ms."""
        prefix = f"relay-{way}-"
        arrived: dict[str, float] = {}
        relayed: set[str] = set()
        tasks: set[asyncio.Task[None]] = set()

        async def copy(name: str) -> None:
            async with target.post(target_url, json={"metadata": {"name": f"{name}-copy"}}) as resp:
                await check(resp, 201)

        def on_source(type_: str, obj: dict[str, Any], _: float) -> None:
            name = obj["metadata"]["name"]
            if type_ == "ADDED" and name.startswith(prefix) and not name.endswith("-copy") and name not in relayed:
                relayed.add(name)
                task = asyncio.get_running_loop().create_task(copy(name))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        def on_target(type_: str, obj: dict[str, Any], at: float) -> None:
            name = obj["metadata"]["name"]
            if type_ == "ADDED" and name.startswith(prefix) and name.endswith("-copy"):
                arrived.setdefault(name.removesuffix("-copy"), at)

        watches = [Watch(source, source_url, {}, on_source), Watch(target, target_url, {}, on_target)]
        created: dict[str, float] = {}
        try:
            for watch in watches:
                await watch.listed.wait()
            for i in range(self.args.deployments):
                name = f"{prefix}{i}"
                async with source.post(source_url, json={"metadata": {"name": name}}) as resp:
                    await check(resp, 201)
                created[name] = time.monotonic()
                await asyncio.sleep(DOWN_INTERVAL)

            async def all_arrived() -> bool:
                return created.keys() <= arrived.keys()

            await wait_until(all_arrived, f"the relay's {way} copies", timeout=60)
        finally:
            for watch in watches:
                await watch.stop()
        return [(arrived[n] - t) * 1000 for n, t in created.items()]

    async def quiet(self, seconds: float, timeout: float = 120) -> None:
        """Until the syncer has made no request upstream but watches and heartbeats for `seconds`."""
        path = self.server_data / "audit.log"
        start = utc_now()
        count, since = -1, time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = sum(1 for e in audit(path, start) if e.get("user") == SYNCER_USER and e.get("verb") != "watch"
                    and not str(e.get("resource", "")).startswith("clusters"))
            if n != count:
                count, since = n, time.monotonic()
            elif time.monotonic() - since >= seconds:
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the syncer did not go quiet within {timeout:.0f}s")

    async def resync(self) -> None:
        names: set[str] = set()
        per = self.args.resync // RESYNC_WORKSPACES
        sem = asyncio.Semaphore(20)

        async def one(ws: str, name: str) -> None:
            async with sem:
                await self.create_deployment(ws, deployment(name))

        await asyncio.gather(*(self.placed_workspace(f"rs-{w}") for w in range(RESYNC_WORKSPACES)))
        jobs = []
        for w in range(RESYNC_WORKSPACES):
            for i in range(per):
                names.add(f"r{w}-{i}")
                jobs.append(one(f"rs-{w}", f"r{w}-{i}"))
        start = time.monotonic()
        await asyncio.gather(*jobs)
        await self.until_downstream(names, f"{len(names)} Deployments downstream", timeout=180)
        self.results["resync_deployments"] = len(names)
        self.results["initial_sync_s"] = time.monotonic() - start
        await self.quiet(4)
        uids = {k: d["metadata"]["uid"] for k, d in self.down_objects.items()}

        assert self.syncer is not None
        stop_process(self.syncer)
        restarted = utc_now()
        t0 = time.monotonic()
        self.start_syncer()
        upstream_audit = self.server_data / "audit.log"
        workspaces = {f"root:rs-{w}" for w in range(RESYNC_WORKSPACES)}

        async def listed_all() -> bool:
            listed = {e.get("workspace") for e in audit(upstream_audit, restarted) if e.get("user") == SYNCER_USER
                      and e.get("verb") == "list" and e.get("resource") == "deployments"}
            return workspaces <= listed

        await wait_until(listed_all, "the restarted syncer listing every workspace's Deployments", timeout=60)
        self.results["resync_listed_s"] = time.monotonic() - t0
        await self.create_deployment(f"rs-{RESYNC_WORKSPACES - 1}", deployment("sentinel"))
        await self.until_downstream({"sentinel"}, "the sentinel downstream", timeout=60)
        self.results["resync_converged_s"] = self.arrived["sentinel"] - t0
        await self.quiet(3)
        await asyncio.sleep(1.5)  # the audit logs flush once a second
        up_writes = [e for e in audit(upstream_audit, restarted) if e.get("user") == SYNCER_USER
                     and e.get("verb") not in READS and not str(e.get("resource", "")).startswith("clusters")
                     and e.get("name") != "sentinel"]
        down_writes = [e for e in audit(self.cluster.data_dir / "audit.log", restarted)
                       if e.get("verb") not in READS and e.get("name") != "sentinel"
                       and str(e.get("namespace", "")).startswith("canopy-")]
        self.results["resync_upstream_writes"] = len(up_writes)
        self.results["resync_downstream_writes"] = len(down_writes)
        for label, writes in (("upstream", up_writes), ("downstream", down_writes)):
            if writes:
                kinds = Counter((e.get("user"), e.get("verb"), e.get("resource")) for e in writes)
                print(f"resync {label} writes: {dict(kinds.most_common(8))}", file=sys.stderr)
        after = {k: d["metadata"]["uid"] for k, d in self.down_objects.items() if k in uids}
        self.results["resync_uids_changed"] = sum(1 for k, uid in uids.items() if after.get(k) != uid)

    # ---- the run ----------------------------------------------------------------------------------------------

    async def run(self) -> dict[str, float]:
        cluster_args = argparse.Namespace(nodes=self.nodes, node_memory="64Gi", node_cpu="64")
        self.cluster = None
        try:
            await self.start_server()
            self.cluster = await start_simcluster(self.tmp / "cluster", cluster_args, None)
            admin_kubeconfig = self.server_data / "admin.kubeconfig"
            await asyncio.to_thread(canopy, "cluster", "register", CLUSTER, "--kubeconfig", str(admin_kubeconfig),
                                    "--allow-workspace", "root:*", "-o", str(self.tmp / "syncer.kubeconfig"))
            self.start_syncer()
            async with session(client_ssl(self.server_data / "pki")) as self.up, \
                    session(client_ssl(self.cluster.data_dir / "pki")) as self.down:
                down_watch = Watch(self.down, f"{self.cluster.url}/apis/apps/v1/deployments",
                                   {"labelSelector": MANAGED}, self._on_down_deployment)
                try:
                    await self.stages()
                finally:
                    await down_watch.stop()
        except BaseException:
            print(f"partial results: {self.results}", file=sys.stderr)
            for log in ("syncer.log", "server.log", "simcluster.log"):
                path = self.tmp / log
                if path.exists():
                    print(f"--- {log} (last lines)\n{path.read_text(errors='replace')[-2000:]}", file=sys.stderr)
            raise
        finally:
            self.stop_all()
        return self.results

    async def stages(self) -> None:
        # One workspace, its Placement, and a first Deployment to know the syncer follows it.
        await self.placed_workspace("lat")
        await self.create_deployment("lat", deployment("web", self.args.pods))
        await self.until_downstream({"web"}, "the first Deployment downstream", timeout=60)
        self.web_namespace = next(ns for (ns, name) in self.down_objects if name == "web")
        await self.web_ready()
        await self.relay_latency()
        await self.down_latency("1ws", "a")
        await self.up_latency("1ws")

        # 99 more workspaces, each with a Placement and an idle Deployment.
        sem = asyncio.Semaphore(10)

        async def idle(i: int) -> None:
            async with sem:
                await self.placed_workspace(f"idle-{i}")
                await self.create_deployment(f"idle-{i}", deployment(f"idle-{i}"))

        start = time.monotonic()
        await asyncio.gather(*(idle(i) for i in range(IDLE_WORKSPACES)))
        idle_names = {f"idle-{i}" for i in range(IDLE_WORKSPACES)}
        try:
            await self.until_downstream(idle_names, "the idle Deployments downstream", timeout=180)
        except RuntimeError as exc:  # measured all the same, with what did arrive: reported
            print(f"warning: {exc}", file=sys.stderr)
        self.results["idle_deployments_downstream"] = len(idle_names & self.arrived.keys())
        self.results["idle_workspaces_setup_s"] = time.monotonic() - start
        await self.quiet(2)
        await self.down_latency("100ws", "b")
        await self.up_latency("100ws")

        await self.resync()
        self.results["syncer_403s_upstream"] = sum(
            1 for e in audit(self.server_data / "audit.log", "")
            if e.get("user") == SYNCER_USER and e.get("code") == 403)

    async def web_ready(self) -> None:
        url = self.ws_url("lat", "api/v1/namespaces/default/pods")

        async def mirrored_ready() -> bool:
            async with self.up.get(url) as resp:
                items = (await check(resp, 200))["items"]
            return len(items) == self.args.pods and all(pod_ready(p) for p in items)

        await wait_until(mirrored_ready, f"{self.args.pods} web pods mirrored Ready", timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployments", type=int, default=50, help="Deployments created per down-latency run")
    parser.add_argument("--pods", type=int, default=10, help="pods deleted per up-latency run")
    parser.add_argument("--resync", type=int, default=1000, help="Deployments placed for the resync")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(Bench(args, Path(tmp)).run())
    for label in ("1ws", "100ws"):
        for way in ("down", "up"):
            r[f"{way}_p50_ratio_to_relay_{label}"] = r[f"{way}_p50_ms_{label}"] / r[f"relay_{way}_p50_ms"]
    print(f"{'measure':<38}{'value':>14}")
    for key, value in r.items():
        print(f"{key:<38}{value:>14.1f}")
    print()
    for label, what in (("1ws", "1 workspace"), ("100ws", "100 workspaces")):
        print(f"{what}: down p50 {r[f'down_p50_ms_{label}']:.0f} ms, p99 {r[f'down_p99_ms_{label}']:.0f} ms; "
              f"up p50 {r[f'up_p50_ms_{label}']:.0f} ms, p99 {r[f'up_p99_ms_{label}']:.0f} ms (bar p99 <= 250 ms); "
              f"p50 {r[f'down_p50_ratio_to_relay_{label}']:.1f}x / {r[f'up_p50_ratio_to_relay_{label}']:.1f}x the "
              f"bare relay's ({r['relay_down_p50_ms']:.0f} / {r['relay_up_p50_ms']:.0f} ms)")
    print(f"resync of {r['resync_deployments']:.0f} Deployments: converged in {r['resync_converged_s']:.1f} s "
          f"(all listed after {r['resync_listed_s']:.1f} s), {r['resync_upstream_writes']:.0f} writes upstream, "
          f"{r['resync_downstream_writes']:.0f} downstream, {r['resync_uids_changed']:.0f} uids changed "
          f"(bar <= 10 s, zero writes)")


if __name__ == "__main__":
    main()
