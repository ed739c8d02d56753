"""API server benchmark: every figure is a ratio against a baseline measured in the same run, on this machine.

    python -m bench.apiserver [--creates 3000] [--gets 5000] [--watchers 1000]

Measures, each at concurrency 50:
- raw etcd puts/s with the client the server uses (etcd3aio), with the same object bytes the API stores;
- API creates/s (POST ConfigMap over HTTP) -> ratio to raw etcd puts (bar: >= 0.8), and the floor any aiohttp
  server over etcd3aio has: a bare handler that only stores the body with one guarded txn;
- GETs/s of one object from the watch cache, and of the same bytes from a bare aiohttp handler -> ratio (bar: >= 0.5),
  the two taking turns (`harness.alternate`);
- the cost of authorization: GETs/s of one ConfigMap in a tenant workspace with a token whose user is bound to the
  `view` ClusterRole there (RBAC evaluated on every request) against the same GETs with a token of a user in
  `system:masters` (RBAC skipped) -> ratio (bar: >= 0.9); and the same with a new name on every request, so that
  no decision is memoised;
- p50/p99 latency of each;
- watch fan-out: N open watches on one namespace; the time from an update until every watcher has the event (p50/p99).
The server and the bare handlers run as separate processes, the load generator in this one. Everything is HTTPS:
the server serves TLS only, and the bare handlers serve it the same way with a certificate from the server's CA.
The load generator presents the admin's client certificate, or a bearer token where the user matters.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
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

from bench.harness import (
    WARMUP,
    alternate,
    check,
    client_ssl,
    create_workspace,
    mint_token,
    percentile,
    print_results,
    run_load,
    session,
    start_server,
    wait_ready,
    wait_until,
)
from controlplane.etcd_embedded import EmbeddedEtcd, free_port

# The tenant of the authorization measurement: a user bound to `view` in one namespace of its workspace.
TENANT_WORKSPACE = "bench-tenant"
TENANT_USER = "tenant-viewer"
MASTER_USER = "bench-master"


def configmap(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "bench"}},
        "data": {"config.yaml": "x" * 256},
    }


async def wait_ready_post(client: aiohttp.ClientSession, url: str) -> None:
    async def stores() -> bool:
        async with client.post(url, json={}) as resp:
            return resp.status == 201

    await wait_until(stores, f"POST {url} answering 201", timeout=30)


def start_bare_handler(port: int, body_file: Path, ca_dir: Path, etcd_endpoint: str = "") -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.bare_handler", str(port), str(body_file), str(ca_dir),
         *([etcd_endpoint] if etcd_endpoint else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


async def bench(args: argparse.Namespace) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        etcd = EmbeddedEtcd(Path(tmp) / "etcd")
        await etcd.start()
        procs: list[subprocess.Popen[bytes]] = []
        server = None
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

            server = await start_server(Path(tmp) / "canopy", etcd.endpoint)
            api, pki = server.url, server.pki_dir
            admin_tls = client_ssl(pki)
            async with session(admin_tls) as admin:
                cm_url = f"{api}/api/v1/namespaces/default/configmaps"

                async def create(i: int) -> None:
                    async with admin.post(cm_url, json=configmap(f"cm-{i:08d}")) as resp:
                        assert resp.status == 201, await resp.text()
                        await resp.read()

                await run_load(WARMUP, lambda i: create(args.creates + i))  # warm-up, not counted
                results["api_creates_per_s"], lat = await run_load(args.creates, create)
                results["api_create_p50_ms"], results["api_create_p99_ms"] = percentile(lat, 0.5), percentile(lat, 0.99)

                floor_port = free_port()
                floor_body = Path(tmp) / "floor.json"
                floor_body.write_bytes(stored)
                procs.append(start_bare_handler(floor_port, floor_body, pki, etcd.endpoint))
                floor_url = f"https://127.0.0.1:{floor_port}/x"
                await wait_ready_post(admin, floor_url)

                async def floor_create(i: int) -> None:
                    async with admin.post(floor_url, json=configmap(f"cm-{i:08d}")) as resp:
                        assert resp.status == 201
                        await resp.read()

                await run_load(WARMUP, floor_create)
                results["floor_creates_per_s"], _ = await run_load(args.creates, floor_create)

                one = f"{cm_url}/cm-00000000"
                async with admin.get(one) as resp:
                    body = await resp.read()
                body_file = Path(tmp) / "body.json"
                body_file.write_bytes(body)
                bare_port = free_port()
                procs.append(start_bare_handler(bare_port, body_file, pki))
                bare = f"https://127.0.0.1:{bare_port}/x"
                await wait_ready(bare, admin_tls)

                async def get_api(_: int) -> None:
                    async with admin.get(one) as resp:
                        assert resp.status == 200
                        await resp.read()

                async def get_bare(_: int) -> None:
                    async with admin.get(bare) as resp:
                        await resp.read()

                measured = await alternate({"api": get_api, "bare": get_bare}, args.gets)
                for side, (rate, lat) in measured.items():
                    results[f"{side}_gets_per_s"] = rate
                    results[f"{side}_get_p50_ms"], results[f"{side}_get_p99_ms"] = (
                        percentile(lat, 0.5), percentile(lat, 0.99))

                results |= await authorization_cost(admin, api, pki, args.gets)

                fanout = await watch_fanout(admin, api, args.watchers, args.rounds)
                results["watch_fanout_p50_ms"] = statistics.median(fanout)
                results["watch_fanout_p99_ms"] = percentile(fanout, 0.99)
        finally:
            for p in procs:
                p.terminate()
                p.wait()
            if server is not None:
                server.stop()
            await etcd.stop()
    results["create_ratio"] = results["api_creates_per_s"] / results["etcd_puts_per_s"]
    results["floor_ratio"] = results["floor_creates_per_s"] / results["etcd_puts_per_s"]
    results["get_ratio"] = results["api_gets_per_s"] / results["bare_gets_per_s"]
    results["rbac_get_ratio"] = results["rbac_gets_per_s"] / results["master_gets_per_s"]
    results["rbac_fresh_get_ratio"] = results["rbac_fresh_gets_per_s"] / results["master_fresh_gets_per_s"]
    return results


async def authorization_cost(admin: aiohttp.ClientSession, api: str, pki: Path, gets: int) -> dict[str, float]:
    """GETs/s of one ConfigMap in a tenant workspace, by a `view` user (RBAC) and by a `system:masters` user (none).

    Both authenticate the same way (a bearer token, over TLS without a client certificate), so the only difference
    is the authorization step: RBAC, whose decisions the server memoises, against the `system:masters` shortcut.
    """
    await create_workspace(admin, api, TENANT_WORKSPACE)
    workspace = f"{api}/clusters/root:{TENANT_WORKSPACE}"
    async with admin.post(f"{workspace}/api/v1/namespaces/default/configmaps", json=configmap("shared")) as resp:
        await check(resp, 201)
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "viewer", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": TENANT_USER}],
    }
    async with admin.post(f"{workspace}/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
                          json=binding) as resp:
        await check(resp, 201)
    viewer_token = await mint_token(admin, api, TENANT_USER)
    master_token = await mint_token(admin, api, MASTER_USER, ["system:masters"])
    one = f"{workspace}/api/v1/namespaces/default/configmaps/shared"
    token_tls = client_ssl(pki, client_cert=False)
    results: dict[str, float] = {}
    async with session(token_tls, {"Authorization": f"Bearer {viewer_token}"}) as viewer, \
            session(token_tls, {"Authorization": f"Bearer {master_token}"}) as master:

        async def allowed(s: aiohttp.ClientSession) -> bool:
            async with s.get(one) as resp:
                return resp.status == 200

        # The token and the binding take effect once the server's watch cache has them.
        await wait_until(lambda: allowed(viewer), "the viewer's token and RoleBinding taking effect")
        await wait_until(lambda: allowed(master), "the system:masters token taking effect")

        def getter(s: aiohttp.ClientSession) -> Callable[[int], Awaitable[None]]:
            async def get(_: int) -> None:
                async with s.get(one) as resp:
                    assert resp.status == 200, await resp.text()
                    await resp.read()
            return get

        measured = await alternate({"rbac": getter(viewer), "master": getter(master)}, gets)
        for side, (rate, lat) in measured.items():
            results[f"{side}_gets_per_s"] = rate
            results[f"{side}_get_p50_ms"], results[f"{side}_get_p99_ms"] = percentile(lat, 0.5), percentile(lat, 0.99)

        # The same, with a decision never made before on every request: a GET of a name not asked about yet
        # (a missing ConfigMap: 404 on both sides), so RBAC is walked each time instead of memoised.
        names = itertools.count()

        def fresh_getter(s: aiohttp.ClientSession) -> Callable[[int], Awaitable[None]]:
            async def get(_: int) -> None:
                async with s.get(f"{one}-{next(names)}") as resp:
                    assert resp.status == 404, await resp.text()
                    await resp.read()
            return get

        measured = await alternate({"rbac_fresh": fresh_getter(viewer), "master_fresh": fresh_getter(master)}, gets)
        for side, (rate, _) in measured.items():
            results[f"{side}_gets_per_s"] = rate
    return results


async def watch_fanout(client: aiohttp.ClientSession, api: str, watchers: int, rounds: int) -> list[float]:
    """Open `watchers` watches on one namespace; per update, the time until the last watcher has it (ms)."""
    ns_url = f"{api}/api/v1/namespaces"
    async with client.post(ns_url, json={"metadata": {"name": "fanout"}}) as resp:
        await resp.read()
    cm_url = f"{ns_url}/fanout/configmaps"
    async with client.post(cm_url, json=configmap("target") | {"metadata": {"name": "target"}}) as resp:
        created = await resp.json()
    rv = created["metadata"]["resourceVersion"]
    seen: list[asyncio.Queue[float]] = [asyncio.Queue() for _ in range(watchers)]
    opened = 0
    all_open = asyncio.Event()

    async def follow(q: asyncio.Queue[float]) -> None:
        nonlocal opened
        async with client.get(f"{cm_url}?watch=1&resourceVersion={rv}") as resp:
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
        async with client.patch(f"{cm_url}/target", json=patch,
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
    print_results(r)
    print(f"API creates / raw etcd puts: {r['create_ratio']:.2f} (bar >= 0.8)")
    print(f"  floor (bare aiohttp handler + one etcd txn, no Kubernetes work) / raw etcd puts: {r['floor_ratio']:.2f}")
    print(f"cached GETs / bare handler:  {r['get_ratio']:.2f} (bar >= 0.5)")
    print(f"GETs with RBAC (view binding) / GETs as system:masters: {r['rbac_get_ratio']:.2f} (bar >= 0.9)")
    print(f"  with a decision not made before on every request (404s of new names): {r['rbac_fresh_get_ratio']:.2f}")
    print(f"watch fan-out to {args.watchers} watchers: p50 {r['watch_fanout_p50_ms']:.1f} ms, "
          f"p99 {r['watch_fanout_p99_ms']:.1f} ms")


if __name__ == "__main__":
    main()
