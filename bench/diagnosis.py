"""The diagnosis controller: how soon a crash's cause shows on its Deployment, and what a healthy fleet costs.

    python -m bench.diagnosis [--crashes 20] [--healthy 1000] [--steady 30]

Every part a real process, as in bench/syncer.py: a `canopy server` (its own embedded etcd, the diagnosis controller
inside it), a `canopy simcluster --time-scale 1.0 --nodes 10` (64 CPUs and 64Gi each), registered as Cluster
`edge-1` (`--allow-workspace 'root:*'`), and `canopy syncer` between them. The benchmark talks to both API servers
with aiohttp and the admins' client certificates and observes with watches (never a poll), time-stamping every
event as it arrives. In two stages:

1. *Latency*: in workspace `crash` (with a Placement, and a first idle Deployment waited on downstream so that the
   syncer already follows it), `--crashes` Deployments of one busybox:1.36 pod that writes `fatal: boom` to stderr
   and exits 1, one every 500 ms. A watch of the workspace's pods and one of its Deployments give, per Deployment:
   when the crash is reflected (the first event of a mirror pod `<pod>.edge-1` with a container whose state or
   lastState is terminated with a non-zero exit code) and when it is diagnosed (the first event of the Deployment
   with the condition Healthy=False). The latency is the difference. Baseline, in the same run and the same way:
   one syncer round trip, from the create's response to the first event of the Deployment carrying the status the
   syncer brings up (status.observedGeneration); the diagnosis's p50 is printed as a ratio to its p50. The crashing
   Deployments are then deleted (their pods would go on crash-looping into the next stage) and waited on until
   their mirror pods are gone.
2. *Cost*: 10 more workspaces, each with a Placement; once the syncer is quiet, the `canopy server` process's CPU
   (user + system time from /proc) over `--steady` seconds, as a fraction of one core: the baseline with no
   Deployment in them. Then `--healthy` Deployments over the 10 (replicas 1, nginx:1.27, requests 10m / 16Mi),
   20 creates at a time; waited on until every pod is Ready on the cluster (a watch of the cluster's pods in the
   workspaces' namespaces) and every mirror pod is Ready in the workspaces (a watch per workspace), then until the
   syncer has made no request upstream but watches and heartbeats for 10 s; the same CPU window again. The
   embedded etcd (the server's child), the syncer and the simulated cluster are read over the same windows, apart.
   The whole server is an upper bound for the controller's cost. Its writes go straight to the store, not through
   HTTP, so the audit log cannot count them; what it wrote is counted instead: Deployments with a Healthy
   condition and Events from `canopy-diagnosis` in the 10 workspaces (0 of each expected: a healthy Deployment
   gets no write).

Bars (issue 6): the diagnosis within 1 s of the crash being reflected into the workspace; the controller under 5%
of a core with 1,000 healthy Deployments.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import check, percentile, wait_until
from bench.simcluster import alive, children
from bench.syncer import CLUSTER, Bench, Watch, deployment, pod_ready
from bench.workspaces import cpu_seconds
from syncer.naming import downstream_namespace

HEALTHY = "Healthy"
DIAGNOSIS = "canopy-diagnosis"
CRASH_WORKSPACE = "crash"
COST_WORKSPACES = 10
CRASH_INTERVAL = 0.5
CONCURRENCY = 20
QUIET = 10.0
CRASH_COMMAND = ["sh", "-c", "echo 'fatal: boom' >&2; exit 1"]


def crashing(name: str) -> dict[str, Any]:
    """One busybox pod that says why and exits 1."""
    body = deployment(name, 1)
    body["spec"]["template"]["spec"]["containers"] = [
        {"name": "app", "image": "busybox:1.36", "command": CRASH_COMMAND,
         "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]
    return body


def crashed(pod: dict[str, Any]) -> bool:
    """Whether a container of `pod` is, or last was, terminated with a non-zero exit code."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        for state in (status.get("state"), status.get("lastState")):
            if ((state or {}).get("terminated") or {}).get("exitCode", 0) != 0:
                return True
    return False


def healthy_condition(obj: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == HEALTHY), None)


class DiagnosisBench(Bench):
    nodes = 10  # room for 1,000 pods

    # ---- stage 1: latency -------------------------------------------------------------------------------------

    async def latency(self) -> None:
        await self.placed_workspace(CRASH_WORKSPACE)
        await self.create_deployment(CRASH_WORKSPACE, deployment("warmup"))
        await self.until_downstream({"warmup"}, "the first Deployment downstream", timeout=60)

        reflected: dict[str, float] = {}  # Deployment -> the first event of a mirror pod showing the crash
        diagnosed: dict[str, float] = {}  # Deployment -> the first event showing Healthy=False
        synced: dict[str, float] = {}  # Deployment -> the first event carrying the syncer's status
        reasons: dict[str, str] = {}
        mirrors: set[str] = set()  # the workspace's mirror pods now

        def on_pod(type_: str, obj: dict[str, Any], at: float) -> None:
            name = obj["metadata"]["name"]
            if type_ == "DELETED":
                mirrors.discard(name)
                return
            mirrors.add(name)
            owner = (obj["metadata"].get("labels") or {}).get("app")
            if owner and name.endswith(f".{CLUSTER}") and crashed(obj):
                reflected.setdefault(owner, at)

        def on_deployment(type_: str, obj: dict[str, Any], at: float) -> None:
            name = obj["metadata"]["name"]
            if type_ == "DELETED":
                return
            if "observedGeneration" in (obj.get("status") or {}):
                synced.setdefault(name, at)
            condition = healthy_condition(obj)
            if condition is not None and condition.get("status") == "False" and name not in diagnosed:
                diagnosed[name] = at
                reasons[name] = str(condition.get("reason"))

        pods = Watch(self.up, self.ws_url(CRASH_WORKSPACE, "api/v1/namespaces/default/pods"), {}, on_pod)
        deployments = Watch(self.up, self.ws_url(CRASH_WORKSPACE, "apis/apps/v1/namespaces/default/deployments"), {},
                            on_deployment)
        created: dict[str, float] = {}
        try:
            await pods.listed.wait()
            await deployments.listed.wait()
            for i in range(self.args.crashes):
                name = f"crash-{i}"
                created[name] = await self.create_deployment(CRASH_WORKSPACE, crashing(name))
                await asyncio.sleep(CRASH_INTERVAL)

            async def all_diagnosed() -> bool:
                return created.keys() <= diagnosed.keys() and created.keys() <= reflected.keys()

            try:
                await wait_until(all_diagnosed, f"{len(created)} crashes reflected and diagnosed", timeout=120)
            except RuntimeError as exc:  # measured all the same, with what did arrive: reported
                print(f"warning: {exc}", file=sys.stderr)
            self.results["crashes"] = len(created)
            self.results["crashes_reflected"] = len(created.keys() & reflected.keys())
            self.results["crashes_diagnosed"] = len(created.keys() & diagnosed.keys())
            causes = Counter(reasons[n] for n in created if n in reasons)
            self.results["crashes_diagnosed_application_error"] = causes["ApplicationError"]
            if set(causes) - {"ApplicationError"}:
                print(f"diagnosed causes: {dict(causes)}", file=sys.stderr)
            events = await self.diagnosis_events(CRASH_WORKSPACE)
            self.results["crash_warning_events"] = sum(
                1 for e in events if (e.get("involvedObject") or {}).get("name") in created)

            latencies = [(diagnosed[n] - reflected[n]) * 1000 for n in created if n in diagnosed and n in reflected]
            round_trips = [(synced[n] - t) * 1000 for n, t in created.items() if n in synced]
            after_create = [(reflected[n] - t) * 1000 for n, t in created.items() if n in reflected]
            if not latencies or not round_trips:
                raise RuntimeError("no crash was both reflected and diagnosed, or no syncer status came up")
            self.results["diagnosis_p50_ms"] = percentile(latencies, 0.5)
            self.results["diagnosis_p99_ms"] = percentile(latencies, 0.99)
            self.results["diagnosis_max_ms"] = max(latencies)
            self.results["diagnosis_min_ms"] = min(latencies)
            self.results["syncer_round_trip_p50_ms"] = percentile(round_trips, 0.5)
            self.results["diagnosis_p50_ratio_to_round_trip"] = (self.results["diagnosis_p50_ms"]
                                                                 / self.results["syncer_round_trip_p50_ms"])
            self.results["crash_reflected_after_create_p50_ms"] = percentile(after_create, 0.5)

            for name in created:
                url = self.ws_url(CRASH_WORKSPACE, f"apis/apps/v1/namespaces/default/deployments/{name}")
                async with self.up.delete(url) as resp:
                    await check(resp, 200, 202)

            async def mirrors_gone() -> bool:
                return not any(n.startswith("crash-") for n in mirrors)

            await wait_until(mirrors_gone, "the crashing Deployments' mirror pods deleted", timeout=120)
        finally:
            await pods.stop()
            await deployments.stop()

    # ---- stage 2: cost ----------------------------------------------------------------------------------------

    async def cpu_window(self, label: str) -> None:
        """CPU over `--steady` seconds of the server, its etcd, the syncer and the simulated cluster (and its etcd),
        each as a percentage of one core."""
        server = self.processes[0]
        etcd = [p for p in children(server.pid) if alive(p)]
        assert self.syncer is not None
        syncer_pid = self.syncer.pid

        def read() -> dict[str, float]:
            assert self.cluster is not None
            cluster, cluster_etcd = self.cluster.cpu_seconds()
            return {"server": cpu_seconds(server.pid), "server_etcd": sum(cpu_seconds(p) for p in etcd if alive(p)),
                    "syncer": cpu_seconds(syncer_pid), "simcluster": cluster + cluster_etcd}

        before, start = read(), time.monotonic()
        await asyncio.sleep(self.args.steady)
        after, wall = read(), time.monotonic() - start
        for part in before:
            self.results[f"{part}_cpu_pct_{label}"] = (after[part] - before[part]) * 100 / wall

    async def diagnosis_events(self, workspace: str) -> list[dict[str, Any]]:
        async with self.up.get(self.ws_url(workspace, "api/v1/namespaces/default/events")) as resp:
            items: list[dict[str, Any]] = (await check(resp, 200))["items"]
        return [e for e in items if (e.get("source") or {}).get("component") == DIAGNOSIS]

    async def cost(self) -> None:
        workspaces = [f"cost-{w}" for w in range(COST_WORKSPACES)]
        await asyncio.gather(*(self.placed_workspace(ws) for ws in workspaces))
        await self.quiet(QUIET, timeout=300)
        await self.cpu_window("before")

        namespaces = {downstream_namespace(f"root:{ws}", "default") for ws in workspaces}
        on_cluster: dict[tuple[str, str], bool] = {}
        mirrored: dict[tuple[str, str], bool] = {}

        def on_cluster_pod(type_: str, obj: dict[str, Any], _: float) -> None:
            meta = obj["metadata"]
            if meta["namespace"] not in namespaces:
                return
            if type_ == "DELETED":
                on_cluster.pop((meta["namespace"], meta["name"]), None)
            else:
                on_cluster[(meta["namespace"], meta["name"])] = pod_ready(obj)

        def on_mirror(workspace: str) -> Callable[[str, dict[str, Any], float], None]:
            def seen(type_: str, obj: dict[str, Any], _: float) -> None:
                key = (workspace, obj["metadata"]["name"])
                if type_ == "DELETED":
                    mirrored.pop(key, None)
                else:
                    mirrored[key] = pod_ready(obj)

            return seen

        watches = [Watch(self.down, f"{self.cluster.url}/api/v1/pods", {}, on_cluster_pod)]
        watches += [Watch(self.up, self.ws_url(ws, "api/v1/namespaces/default/pods"), {}, on_mirror(ws))
                    for ws in workspaces]
        want = self.args.healthy
        per, extra = divmod(want, COST_WORKSPACES)
        sem = asyncio.Semaphore(CONCURRENCY)

        async def one(ws: str, name: str) -> None:
            async with sem:
                await self.create_deployment(ws, deployment(name, 1))

        try:
            for watch in watches:
                await watch.listed.wait()
            start = time.monotonic()
            await asyncio.gather(*(one(ws, f"h{w}-{i}") for w, ws in enumerate(workspaces)
                                   for i in range(per + (w < extra))))
            self.results["healthy_deployments"] = want
            self.results["healthy_creates_s"] = time.monotonic() - start

            def all_ready(pods: dict[tuple[str, str], bool]) -> bool:
                return sum(pods.values()) == want and len(pods) == want

            async def running() -> bool:
                return all_ready(on_cluster)

            async def reflected() -> bool:
                return all_ready(mirrored)

            await wait_until(running, f"{want} pods Ready on the cluster", timeout=self.args.timeout)
            self.results["healthy_pods_ready_s"] = time.monotonic() - start
            await wait_until(reflected, f"{want} mirror pods Ready in the workspaces", timeout=self.args.timeout)
            self.results["healthy_mirrors_ready_s"] = time.monotonic() - start
        finally:
            for watch in watches:
                await watch.stop()
        await self.quiet(QUIET, timeout=self.args.timeout)
        self.results["healthy_quiet_s"] = time.monotonic() - start
        await self.cpu_window("healthy")

        flagged = 0
        events = 0
        for ws in workspaces:
            async with self.up.get(self.ws_url(ws, "apis/apps/v1/namespaces/default/deployments")) as resp:
                items = (await check(resp, 200))["items"]
            flagged += sum(1 for d in items if healthy_condition(d) is not None)
            events += len(await self.diagnosis_events(ws))
        self.results["healthy_with_condition"] = flagged
        self.results["healthy_diagnosis_events"] = events

    async def stages(self) -> None:
        await self.latency()
        await self.cost()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crashes", type=int, default=20, help="crashing Deployments, one every 500 ms")
    parser.add_argument("--healthy", type=int, default=1000, help="healthy Deployments for the cost")
    parser.add_argument("--steady", type=float, default=30.0, help="seconds of each CPU window")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds the healthy pods get to be Ready")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(DiagnosisBench(args, Path(tmp)).run())
    print(f"{'measure':<38}{'value':>14}")
    for key, value in r.items():
        print(f"{key:<38}{value:>14.1f}")
    print()
    print(f"diagnosis latency after the crash is reflected: p50 {r['diagnosis_p50_ms']:.0f} ms, "
          f"p99 {r['diagnosis_p99_ms']:.0f} ms (bar 1 s); {r['diagnosis_p50_ratio_to_round_trip']:.1f}x a syncer "
          f"round trip ({r['syncer_round_trip_p50_ms']:.0f} ms); {r['crashes_diagnosed']:.0f} of "
          f"{r['crashes']:.0f} diagnosed")
    print(f"steady state with {r['healthy_deployments']:,.0f} healthy Deployments: server "
          f"{r['server_cpu_pct_healthy']:.1f}% of a core (bar 5% for the controller), "
          f"{r['healthy_with_condition']:.0f} flagged, {r['healthy_diagnosis_events']:.0f} diagnosis events; "
          f"{r['server_cpu_pct_before']:.1f}% before they were created; its etcd "
          f"{r['server_etcd_cpu_pct_healthy']:.1f}%")


if __name__ == "__main__":
    main()
