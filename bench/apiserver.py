"""API server benchmark: every figure is a ratio against a baseline measured in the same run, on this machine.

    python -m bench.apiserver [--creates 3000] [--gets 5000] [--watchers 1000]

Measures, each at concurrency 50:
- raw etcd puts/s with the client the server uses (etcd3aio), with the same object bytes the API stores;
- API creates/s (POST ConfigMap over HTTP) -> ratio to raw etcd puts (bar: >= 0.8), and the floor any aiohttp
  server over etcd3aio has: a bare handler that only stores the body with one guarded txn;
- GETs/s of one object from the watch cache, and of the same bytes from a bare aiohttp handler -> ratio (bar: >= 0.5);
- p50/p99 latency of each;
- watch fan-out: N open watches on one namespace; the time from an update until every watcher has the event (p50/p99).
The server and the bare handler run as separate processes, the load generator in this one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from etcd3aio import Etcd3Client

from controlplane.etcd_embedded import EmbeddedEtcd, free_port

CONCURRENCY = 50
# Requests made before each measured phase and not counted: the first requests of a fresh process pay for lazy
# imports, schema building and connection set-up, which is not the steady state being compared.
WARMUP = 500


def configmap(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "bench"}},
        "data": {"config.yaml": "x" * 256},
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def run_load(n: int, op: Callable[[int], Awaitable[None]]) -> tuple[float, list[float]]:
    """Run op(0..n-1) with CONCURRENCY workers: (ops per second, latencies in ms)."""
    latencies: list[float] = []
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            start = time.perf_counter()
            await op(i)
            latencies.append((time.perf_counter() - start) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return n / (time.perf_counter() - start), latencies


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


async def wait_ready_post(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(300):
        try:
            async with session.post(url, json={}) as resp:
                if resp.status == 201:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


async def bench(args: argparse.Namespace) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        etcd = EmbeddedEtcd(Path(tmp) / "etcd")
        await etcd.start()
        procs: list[subprocess.Popen[bytes]] = []
        try:
            stored = json.dumps(configmap("x" * 20), separators=(",", ":")).encode()
            client = Etcd3Client([etcd.endpoint])
            await client.connect()
            assert client.kv is not None
            kv = client.kv

            async def raw_put(i: int) -> None:
                key = f"/bench-raw/{i:08d}"
                await kv.txn([kv.txn_compare_create_revision(key, 0)], [kv.txn_op_put(key, stored)])

            await run_load(WARMUP, lambda i: raw_put(args.creates + i))  # warm-up, not counted
            results["etcd_puts_per_s"], lat = await run_load(args.creates, raw_put)
            results["etcd_put_p50_ms"], results["etcd_put_p99_ms"] = percentile(lat, 0.5), percentile(lat, 0.99)
            await client.close()

            port = free_port()
            data_dir = Path(tmp) / "canopy"
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "controlplane.cli", "server", "--data-dir", str(data_dir), "--port", str(port),
                 "--etcd-servers", f"http://{etcd.endpoint}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
            api = f"http://127.0.0.1:{port}"
            await wait_ready(f"{api}/readyz")
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as session:
                cm_url = f"{api}/api/v1/namespaces/default/configmaps"

                async def create(i: int) -> None:
                    async with session.post(cm_url, json=configmap(f"cm-{i:08d}")) as resp:
                        assert resp.status == 201, await resp.text()
                        await resp.read()

                await run_load(WARMUP, lambda i: create(args.creates + i))  # warm-up, not counted
                results["api_creates_per_s"], lat = await run_load(args.creates, create)
                results["api_create_p50_ms"], results["api_create_p99_ms"] = percentile(lat, 0.5), percentile(lat, 0.99)

                floor_port = free_port()
                floor_body = Path(tmp) / "floor.json"
                floor_body.write_bytes(stored)
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "bench.bare_handler", str(floor_port), str(floor_body), etcd.endpoint],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                ))
                floor_url = f"http://127.0.0.1:{floor_port}/x"
                await wait_ready_post(session, floor_url)

                async def floor_create(i: int) -> None:
                    async with session.post(floor_url, json=configmap(f"cm-{i:08d}")) as resp:
                        assert resp.status == 201
                        await resp.read()

                await run_load(WARMUP, floor_create)
                results["floor_creates_per_s"], _ = await run_load(args.creates, floor_create)

                one = f"{cm_url}/cm-00000000"
                async with session.get(one) as resp:
                    body = await resp.read()

                async def get_api(_: int) -> None:
                    async with session.get(one) as resp:
                        assert resp.status == 200
                        await resp.read()

                await run_load(WARMUP, get_api)

                results["api_gets_per_s"], lat = await run_load(args.gets, get_api)
                results["api_get_p50_ms"], results["api_get_p99_ms"] = percentile(lat, 0.5), percentile(lat, 0.99)

                body_file = Path(tmp) / "body.json"
                body_file.write_bytes(body)
                bare_port = free_port()
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "bench.bare_handler", str(bare_port), str(body_file)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                ))
                bare = f"http://127.0.0.1:{bare_port}/x"
                await wait_ready(bare)

                async def get_bare(_: int) -> None:
                    async with session.get(bare) as resp:
                        await resp.read()

                await run_load(WARMUP, get_bare)

                results["bare_gets_per_s"], lat = await run_load(args.gets, get_bare)
                results["bare_get_p50_ms"], results["bare_get_p99_ms"] = percentile(lat, 0.5), percentile(lat, 0.99)

                fanout = await watch_fanout(session, api, args.watchers, args.rounds)
                results["watch_fanout_p50_ms"] = statistics.median(fanout)
                results["watch_fanout_p99_ms"] = percentile(fanout, 0.99)
        finally:
            for p in procs:
                p.terminate()
                p.wait()
            await etcd.stop()
    results["create_ratio"] = results["api_creates_per_s"] / results["etcd_puts_per_s"]
    results["floor_ratio"] = results["floor_creates_per_s"] / results["etcd_puts_per_s"]
    results["get_ratio"] = results["api_gets_per_s"] / results["bare_gets_per_s"]
    return results


async def watch_fanout(session: aiohttp.ClientSession, api: str, watchers: int, rounds: int) -> list[float]:
    """Open `watchers` watches on one namespace; per update, the time until the last watcher has it (ms)."""
    ns_url = f"{api}/api/v1/namespaces"
    async with session.post(ns_url, json={"metadata": {"name": "fanout"}}) as resp:
        await resp.read()
    cm_url = f"{ns_url}/fanout/configmaps"
    async with session.post(cm_url, json=configmap("target") | {"metadata": {"name": "target"}}) as resp:
        created = await resp.json()
    rv = created["metadata"]["resourceVersion"]
    seen: list[asyncio.Queue[float]] = [asyncio.Queue() for _ in range(watchers)]
    opened = 0
    all_open = asyncio.Event()

    async def follow(q: asyncio.Queue[float]) -> None:
        nonlocal opened
        async with session.get(f"{cm_url}?watch=1&resourceVersion={rv}") as resp:
            opened += 1
            if opened == watchers:
                all_open.set()
            async for _line in resp.content:
                q.put_nowait(time.perf_counter())

    tasks = [asyncio.create_task(follow(q)) for q in seen]
    await asyncio.wait_for(all_open.wait(), 120)
    await asyncio.sleep(1)
    durations = []
    for i in range(rounds):
        start = time.perf_counter()
        patch = {"data": {"round": str(i)}}
        async with session.patch(f"{cm_url}/target", json=patch,
                                 headers={"Content-Type": "application/merge-patch+json"}) as resp:
            await resp.read()
        arrivals = await asyncio.gather(*(q.get() for q in seen))
        durations.append((max(arrivals) - start) * 1000)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--creates", type=int, default=3000)
    parser.add_argument("--gets", type=int, default=5000)
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    # 1,000 watches are 1,000 sockets on each side; the server process inherits this limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    r = asyncio.run(bench(args))
    print(f"{'measure':<34}{'value':>12}")
    for key, value in r.items():
        print(f"{key:<34}{value:>12.2f}")
    print()
    print(f"API creates / raw etcd puts: {r['create_ratio']:.2f} (bar >= 0.8)")
    print(f"  floor (bare aiohttp handler + one etcd txn, no Kubernetes work) / raw etcd puts: {r['floor_ratio']:.2f}")
    print(f"cached GETs / bare handler:  {r['get_ratio']:.2f} (bar >= 0.5)")
    print(f"watch fan-out to {args.watchers} watchers: p50 {r['watch_fanout_p50_ms']:.1f} ms, "
          f"p99 {r['watch_fanout_p99_ms']:.1f} ms")


if __name__ == "__main__":
    main()
