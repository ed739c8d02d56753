"""Simulated cluster at scale: does a 50-node cluster with 2,000 pods stay responsive, and what does it cost?

    python -m bench.simcluster [--nodes 50] [--pods 2000] [--steady 60] [--rounds 7] [--profile FILE]

One `canopy simcluster` process (API server in single-cluster mode, controllers, scheduler and the kubelets' pod
workers, with its embedded etcd as a child process), in real time (`--time-scale 1.0`), so that probes run every
10 s and leases are renewed every 10 s as on a real cluster. In two stages:

1. *Small*: one Deployment of 20 nginx:1.27 pods in namespace `bench-small`, waited on until every pod is Running
   and Ready. Then `kubectl get pods -A` (the whole cluster holds 20 pods), and the process's CPU over
   `--baseline-steady` seconds.
2. *Large*: Deployments in namespace `bench` bring the cluster to `--pods` pods; the time from the first POST until
   the last pod is Ready (seen on a watch of the pods, confirmed by a list) gives pods/s. After `--settle` seconds
   the process's CPU is read over `--steady` seconds (user + system time from /proc, in thousandths of a core),
   with no client connected, and its RSS. Then, taking turns in `--rounds` rounds: `kubectl get pods -A` (every
   pod), `kubectl get pods -n bench-small` (20 pods), and `kubectl get --raw /version` (kubectl's own start-up,
   discovery cached, one tiny request); and the same two lists as kubectl asks for them (Table, pages of 500) from
   an aiohttp client, which is the server's part without kubectl's. Medians.

The headline figures are ratios measured in the same run: listing every pod of the 2,000-pod cluster against
listing 20 pods (in the same cluster, taking turns; and against the whole 20-pod cluster of stage 1), and the
steady-state CPU as a fraction of one core. Three pod shapes share the replicas: readiness and liveness httpGet
probes on `/` port 80 (so the probe loops run), a readiness probe only, and no probe.

With `--profile FILE`, the simulated cluster runs under cProfile, switched on only for `--steady` seconds after
the measured window (so it does not inflate the CPU figure); the statistics are saved to FILE and the top entries
printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.harness import check, client_ssl, print_results, session, wait_ready, wait_until
from bench.workspaces import cpu_seconds
from controlplane.etcd_embedded import free_port

REPO = Path(__file__).resolve().parents[1]
SMALL_NAMESPACE = "bench-small"
LARGE_NAMESPACE = "bench"
SMALL_PODS = 20
LARGE_DEPLOYMENTS = 9
IMAGE = "nginx:1.27"
# What kubectl sends for `get` (a server-side Table, JSON as the fallback) and its page size.
TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
                "application/json")
KUBECTL_PAGE = 500


# ---- the workload ---------------------------------------------------------------------------------------------


def http_probe(period: int) -> dict[str, Any]:
    return {"httpGet": {"path": "/", "port": 80}, "periodSeconds": period}


def deployment(name: str, namespace: str, replicas: int, shape: int) -> dict[str, Any]:
    """nginx with small requests; shape 0: readiness and liveness probes, 1: readiness only, 2: no probe."""
    container: dict[str, Any] = {
        "name": "nginx", "image": IMAGE, "ports": [{"containerPort": 80}],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
    }
    if shape in (0, 1):
        container["readinessProbe"] = http_probe(10)
    if shape == 0:
        container["livenessProbe"] = http_probe(10)
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}},
    }


def large_deployments(total: int) -> list[dict[str, Any]]:
    """`total` replicas spread over LARGE_DEPLOYMENTS Deployments, the three shapes in turn."""
    per, extra = divmod(total, LARGE_DEPLOYMENTS)
    return [deployment(f"web-{i}", LARGE_NAMESPACE, per + (i < extra), i % 3) for i in range(LARGE_DEPLOYMENTS)]


def pod_ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


class ReadyPods:
    """Follows a watch of every pod until `want` pods exist, none is being deleted, and every one is Ready.

    A watch rather than repeated lists, so as not to load the server being timed. Should the watch end, a list says
    where things stand and a new watch resumes from it.
    """

    def __init__(self, api: aiohttp.ClientSession, url: str, want: int) -> None:
        self.api, self.url, self.want = api, url, want
        self.ready: dict[tuple[str, str], bool] = {}

    def _seen(self, kind: str, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        key = (meta["namespace"], meta["name"])
        if kind == "DELETED" or meta.get("deletionTimestamp"):
            self.ready.pop(key, None)
        else:
            self.ready[key] = pod_ready(pod)

    def done(self) -> bool:
        return len(self.ready) == self.want and all(self.ready.values())

    async def list(self) -> str:
        async with self.api.get(f"{self.url}/api/v1/pods") as resp:
            body = await check(resp, 200)
        self.ready.clear()
        for pod in body["items"]:
            self._seen("ADDED", pod)
        return str(body["metadata"]["resourceVersion"])

    async def until_ready(self, rv: str) -> float:
        """Watch from `rv`; the time the last pod was seen Ready."""
        while not self.done():
            async with self.api.get(f"{self.url}/api/v1/pods", params={"watch": "1", "resourceVersion": rv},
                                    timeout=aiohttp.ClientTimeout(total=None)) as resp:
                if resp.status != 200:
                    await check(resp, 200)
                async for line in resp.content:
                    event = json.loads(line)
                    if event["type"] == "ERROR":
                        break
                    rv = event["object"]["metadata"]["resourceVersion"]
                    self._seen(event["type"], event["object"])
                    if self.done():
                        return time.perf_counter()
            rv = await self.list()
        return time.perf_counter()


async def create(api: aiohttp.ClientSession, url: str, obj: dict[str, Any]) -> None:
    async with api.post(url, json=obj) as resp:
        await check(resp, 201)


async def roll_out(api: aiohttp.ClientSession, url: str, namespace: str, deployments: list[dict[str, Any]],
                   want: int, timeout: float) -> tuple[float, float]:
    """Create `namespace` and `deployments`, and wait until the cluster holds `want` pods, all Ready: (seconds
    from the first POST until the last pod was Ready, seconds until the last POST answered)."""
    watch = ReadyPods(api, url, want)
    rv = await watch.list()
    start = time.perf_counter()
    ready = asyncio.create_task(watch.until_ready(rv))
    await create(api, f"{url}/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                   "metadata": {"name": namespace}})
    for d in deployments:
        await create(api, f"{url}/apis/apps/v1/namespaces/{namespace}/deployments", d)
    posted = time.perf_counter() - start
    last_ready = await asyncio.wait_for(ready, timeout)
    await watch.list()
    if not watch.done():
        not_ready = sum(not r for r in watch.ready.values())
        raise RuntimeError(f"a list shows {len(watch.ready)} pods, {not_ready} not Ready, although the watch saw "
                           f"{want} Ready")
    return last_ready - start, posted


# ---- the simulated cluster's process ----------------------------------------------------------------------------


def parent_of(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def children(pid: int) -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and parent_of(int(p.name)) == pid]


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class SimClusterProcess:
    process: subprocess.Popen[bytes]
    data_dir: Path
    url: str
    log_path: Path
    etcd_pids: list[int] = field(default_factory=list)  # the embedded etcd: its own session, so killed apart

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    def cpu_seconds(self) -> tuple[float, float]:
        """(the cluster process's, etcd's) CPU seconds so far."""
        return cpu_seconds(self.pid), sum(cpu_seconds(p) for p in self.etcd_pids if alive(p))

    def stop(self) -> None:
        """SIGTERM (the cluster stops its etcd itself); whatever is left after 30 s is killed, etcd included."""
        if self.process.poll() is None:
            self.etcd_pids = sorted({*self.etcd_pids, *children(self.pid)})
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.etcd_pids:
            for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                if not alive(pid):
                    break
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
                deadline = time.monotonic() + wait
                while alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)


async def start_simcluster(data_dir: Path, args: argparse.Namespace, profile: Path | None) -> SimClusterProcess:
    """`canopy simcluster` on a free port, once its kubelets have registered their nodes and it serves."""
    port = free_port()
    cluster_args = ["simcluster", "--name", "bench", "--data-dir", str(data_dir), "--port", str(port),
                    "--nodes", str(args.nodes), "--node-memory", args.node_memory, "--node-cpu", args.node_cpu,
                    "--time-scale", "1.0"]
    if profile is None:
        command = [sys.executable, "-m", "controlplane.cli", *cluster_args]
    else:
        command = [sys.executable, "-c", "from bench.simcluster import profiled_child; profiled_child()",
                   str(profile), *cluster_args]
    data_dir.mkdir(parents=True)
    log_path = data_dir.parent / "simcluster.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    cluster = SimClusterProcess(process, data_dir, f"https://127.0.0.1:{port}", log_path)
    try:
        async def listening() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"canopy simcluster exited with code {process.returncode}:\n"
                                   f"{log_path.read_text(errors='replace')[-3000:]}")
            return "listening on" in log_path.read_text(errors="replace")

        await wait_until(listening, "the simulated cluster registering its nodes", timeout=120)
        await wait_ready(f"{cluster.url}/readyz", client_ssl(data_dir / "pki", client_cert=False))
        cluster.etcd_pids = children(process.pid)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def profiled_child() -> None:
    """The simulated cluster under cProfile, switched on by SIGUSR1 and off (statistics saved) by SIGUSR2.

    Run as `python -c "from bench.simcluster import profiled_child; profiled_child()" FILE simcluster ...`.
    """
    from controlplane.cli import main

    out, cli_args = sys.argv[1], sys.argv[2:]
    profiler = cProfile.Profile()
    signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())

    def dump(*_: object) -> None:
        profiler.disable()
        profiler.dump_stats(out)

    signal.signal(signal.SIGUSR2, dump)
    main(cli_args)


# ---- measurements -----------------------------------------------------------------------------------------------


async def steady_cpu(cluster: SimClusterProcess, seconds: float) -> tuple[float, float]:
    """(the cluster process's, etcd's) CPU over `seconds` of wall time, in millicores (thousandths of a core)."""
    cpu_before, etcd_before = cluster.cpu_seconds()
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    cpu_after, etcd_after = cluster.cpu_seconds()
    wall = time.perf_counter() - start
    return (cpu_after - cpu_before) * 1000 / wall, (etcd_after - etcd_before) * 1000 / wall


async def timed_command(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of `command`, which must succeed."""
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*command, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}): {err.decode(errors='replace')}")
    return took


class Kubectl:
    def __init__(self, kubeconfig: Path, cache_dir: Path) -> None:
        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
        self.cache_dir = cache_dir

    def command(self, *args: str) -> list[str]:
        return ["kubectl", "--cache-dir", str(self.cache_dir), *args]

    def lines(self, *args: str) -> int:
        """How many lines `kubectl ARGS` prints (to check that a list shows every pod)."""
        out = subprocess.run(self.command(*args), env=self.env, capture_output=True, check=True, text=True).stdout
        return len(out.splitlines())

    def timed(self, *args: str) -> Callable[[], Awaitable[float]]:
        return lambda: timed_command(self.command(*args), self.env)


def table_lister(api: aiohttp.ClientSession, url: str) -> Callable[[], Awaitable[float]]:
    """The list `url` as kubectl asks for it (Table, pages of 500, following `continue`): wall seconds."""
    async def list_pages() -> float:
        start = time.perf_counter()
        token = ""
        while True:
            params = {"limit": str(KUBECTL_PAGE), **({"continue": token} if token else {})}
            async with api.get(url, params=params, headers={"Accept": TABLE_ACCEPT}) as resp:
                body = await check(resp, 200)
            token = (body.get("metadata") or {}).get("continue") or ""
            if not token:
                return time.perf_counter() - start

    return list_pages


async def take_turns(sides: dict[str, Callable[[], Awaitable[float]]], rounds: int) -> dict[str, float]:
    """Each side once as a warm-up (not counted), then once per round in turn: {side: median seconds}."""
    for run in sides.values():
        await run()
    times: dict[str, list[float]] = {side: [] for side in sides}
    for _ in range(rounds):
        for side, run in sides.items():
            times[side].append(await run())
    return {side: statistics.median(t) for side, t in times.items()}


def print_profile(path: Path, top: int = 30) -> None:
    stats = pstats.Stats(str(path))
    print(f"cProfile of the simulated cluster at steady state ({path}), by own time:")
    stats.sort_stats("tottime").print_stats(top)
    print("by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)


# ---- the benchmark ----------------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    results: dict[str, float] = {}
    profile = Path(args.profile).resolve() if args.profile else None
    cluster = await start_simcluster(tmp / "cluster", args, profile)
    try:
        kubectl = Kubectl(cluster.kubeconfig, tmp / "kubectl-cache")
        results["nodes"] = args.nodes
        async with session(client_ssl(cluster.data_dir / "pki")) as api:
            url = cluster.url
            # Stage 1: 20 pods.
            took, _ = await roll_out(api, url, SMALL_NAMESPACE, [deployment("web", SMALL_NAMESPACE, SMALL_PODS, 0)],
                                     SMALL_PODS, timeout=120)
            results["small_pods_ready_s"] = took
            await asyncio.sleep(args.settle)
            results["cpu_millicores_20_pods"], results["etcd_cpu_millicores_20_pods"] = await steady_cpu(
                cluster, args.baseline_steady)
            results["rss_mib_20_pods"] = rss_kib(cluster.pid) / 1024
            small_cluster = await take_turns({
                "all": kubectl.timed("get", "pods", "-A"),
                "version": kubectl.timed("get", "--raw", "/version"),
            }, args.rounds)
            results["kubectl_get_pods_all_20_ms"] = small_cluster["all"] * 1000

            # Stage 2: the rest of the pods.
            large = args.pods - SMALL_PODS
            cpu_before, etcd_before = cluster.cpu_seconds()
            took, posted = await roll_out(api, url, LARGE_NAMESPACE, large_deployments(large), args.pods,
                                          timeout=args.timeout)
            cpu_after, etcd_after = cluster.cpu_seconds()
            results["pods"] = args.pods
            results["rollout_s"] = took
            results["rollout_pods_per_s"] = large / took
            results["deployment_posts_s"] = posted
            results["rollout_cpu_cores"] = (cpu_after - cpu_before) / took
            results["rollout_cpu_ms_per_pod"] = (cpu_after - cpu_before) * 1000 / large
            results["rollout_etcd_cpu_ms_per_pod"] = (etcd_after - etcd_before) * 1000 / large
        await asyncio.sleep(args.settle)
        results["cpu_millicores"], results["etcd_cpu_millicores"] = await steady_cpu(cluster, args.steady)
        results["rss_mib"] = rss_kib(cluster.pid) / 1024
        results["etcd_rss_mib"] = sum(rss_kib(p) for p in cluster.etcd_pids if alive(p)) / 1024
        results["rss_kib_per_pod"] = (results["rss_mib"] - results["rss_mib_20_pods"]) * 1024 / large

        listed = kubectl.lines("get", "pods", "-A", "--no-headers")
        if listed != args.pods:
            raise RuntimeError(f"kubectl get pods -A shows {listed} pods, not {args.pods}")
        async with session(client_ssl(cluster.data_dir / "pki")) as api:
            turns = await take_turns({
                "all": kubectl.timed("get", "pods", "-A"),
                "ns": kubectl.timed("get", "pods", "-n", SMALL_NAMESPACE),
                "version": kubectl.timed("get", "--raw", "/version"),
                "api_all": table_lister(api, f"{cluster.url}/api/v1/pods"),
                "api_ns": table_lister(api, f"{cluster.url}/api/v1/namespaces/{SMALL_NAMESPACE}/pods"),
            }, args.rounds)
        results["kubectl_get_pods_all_ms"] = turns["all"] * 1000
        results["kubectl_get_pods_ns_ms"] = turns["ns"] * 1000
        results["kubectl_version_ms"] = turns["version"] * 1000
        results["kubectl_version_20_ms"] = small_cluster["version"] * 1000
        results["api_list_all_ms"] = turns["api_all"] * 1000
        results["api_list_ns_ms"] = turns["api_ns"] * 1000
        results["list_ratio"] = turns["all"] / turns["ns"]
        results["list_ratio_vs_20_pod_cluster"] = turns["all"] / small_cluster["all"]
        results["api_list_ratio"] = turns["api_all"] / turns["api_ns"]

        if profile is not None:
            os.kill(cluster.pid, signal.SIGUSR1)
            await asyncio.sleep(args.steady)
            os.kill(cluster.pid, signal.SIGUSR2)

            async def written() -> bool:
                return profile.exists()

            await wait_until(written, "the profile being written", timeout=30)
            await asyncio.sleep(1)  # dump_stats may still be writing
    except BaseException:
        print(f"simulated cluster's log (last lines):\n{cluster.log_path.read_text(errors='replace')[-3000:]}",
              file=sys.stderr)
        raise
    finally:
        cluster.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--pods", type=int, default=2000, help=f"pods in all (at least {SMALL_PODS + 1})")
    parser.add_argument("--node-memory", default="16Gi")
    parser.add_argument("--node-cpu", default="16")
    parser.add_argument("--settle", type=float, default=15.0,
                        help="seconds between the last pod Ready and the CPU window")
    parser.add_argument("--steady", type=float, default=60.0, help="seconds of the steady-state CPU window")
    parser.add_argument("--baseline-steady", type=float, default=30.0,
                        help="seconds of the CPU window with 20 pods")
    parser.add_argument("--rounds", type=int, default=7, help="timed runs of each list (medians)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds the pods get to become Ready")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the cluster at steady state into FILE")
    args = parser.parse_args()
    if args.pods <= SMALL_PODS:
        parser.error(f"--pods must be more than {SMALL_PODS}")
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(bench(args, Path(tmp)))
    print_results(r)
    print(f"{r['pods']:.0f} pods on {r['nodes']:.0f} nodes Running and Ready in {r['rollout_s']:.0f} s "
          f"({r['rollout_pods_per_s']:.0f} pods/s); meanwhile the cluster process used {r['rollout_cpu_cores']:.2f} "
          f"of a core, {r['rollout_cpu_ms_per_pod']:.1f} ms per pod (etcd {r['rollout_etcd_cpu_ms_per_pod']:.1f} ms)")
    print(f"kubectl get pods -A ({r['pods']:.0f} pods) / kubectl get pods -n {SMALL_NAMESPACE} (20 pods): "
          f"{r['list_ratio']:.1f} ({r['kubectl_get_pods_all_ms']:.0f} / {r['kubectl_get_pods_ns_ms']:.0f} ms; "
          f"kubectl get --raw /version {r['kubectl_version_ms']:.0f} ms)")
    print(f"  / kubectl get pods -A when the cluster held 20 pods ({r['kubectl_get_pods_all_20_ms']:.0f} ms): "
          f"{r['list_ratio_vs_20_pod_cluster']:.1f}")
    print(f"  the server's part (Table, pages of 500, aiohttp client): {r['api_list_all_ms']:.0f} / "
          f"{r['api_list_ns_ms']:.1f} ms = {r['api_list_ratio']:.0f}")
    print(f"steady-state CPU of the simulated cluster: {r['cpu_millicores'] / 1000:.3f} of a core (bar < 0.5) with "
          f"{r['pods']:.0f} pods, {r['cpu_millicores_20_pods'] / 1000:.3f} with 20; its etcd "
          f"{r['etcd_cpu_millicores'] / 1000:.3f}")
    print(f"RSS: {r['rss_mib']:.0f} MiB with {r['pods']:.0f} pods ({r['rss_kib_per_pod']:.0f} KiB per pod), "
          f"{r['rss_mib_20_pods']:.0f} MiB with 20; etcd {r['etcd_rss_mib']:.0f} MiB")
    if args.profile:
        print_profile(Path(args.profile))


if __name__ == "__main__":
    main()
