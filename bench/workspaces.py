"""Workspace benchmark: how fast empty workspaces are made, and what each one costs the server and etcd.

    python -m bench.workspaces [--count 10000] [--used 1000] [--watch-cache-size 100] [--settle 5]

One `canopy server` process over an etcd started here. After a warm-up (workspaces made and used the same way,
not counted) and a settle, it measures:
- workspaces/s: `--count` Workspaces POSTed as the admin at concurrency 50, from the first POST until the
  controller has moved the last one to phase Ready (seen on a watch of the Workspaces, then checked with a list);
  and the create-only rate (until the last POST has answered) (bar: >= 200 workspaces/s);
- the server's RSS (VmRSS) before and after, each read in the same state (see `Meter`), after `--settle` idle
  seconds: (after - before) / count, in KiB per empty workspace (bar: <= 10 KiB); the server keeps a short
  watch-cache history for this (see WATCH_CACHE_SIZE);
- etcd: keys and bytes in use (`Status` dbSizeInUse, history compacted away) per workspace;
- a *used* workspace: one GET /api/v1/namespaces in each of `--used` of them, which makes the namespaces, the
  ServiceAccounts and the `kubernetes` Service every cluster has (made lazily, on the first request into a
  workspace); the extra RSS and etcd space that adds per workspace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from etcd3aio import Etcd3Client
from etcd3aio.kv import prefix_range_end

from bench.harness import (
    TENANCY,
    ServerProcess,
    check,
    client_ssl,
    percentile,
    print_results,
    run_load,
    session,
    start_server,
    wait_until,
)
from controlplane.etcd_embedded import EmbeddedEtcd

WORKSPACES_PATH = "/clusters/root/apis/tenancy.canopy.dev/v1alpha1/workspaces"
MEASURED_PREFIX = "w-"  # measured workspaces are w-00000, w-00001, ...; warm-up ones are warm-000, ...
WARMUP_WORKSPACES = 200
WARMUP_USED = 50
CHILDREN = f"/registry/root:{MEASURED_PREFIX}"  # the prefix of every key inside the measured workspaces
# The server's watch-cache history: the last N events. It is a fixed cost, bounded by N whatever the number of
# workspaces; but with the default N (10,000), which objects it happens to hold when RSS is read (Workspace versions
# from the creates, or the Namespaces of the first requests) and how their memory was freed moves RSS by tens of MB
# from run to run: over a dozen runs of 10,000 workspaces (refilling the history before each reading or not, at
# several commits) the figure per empty workspace came out anywhere between 5.4 and 13.5 KiB, and a used
# workspace's extra between -10 and +50 KiB. With 100 events, four runs gave 5.2-5.8 KiB and +10.4-15.6 KiB (two of
# them on a loaded machine). So the server under test keeps 100 events; `--watch-cache-size 10000` measures with
# the default, and docs/performance.md gives the history's own cost.
WATCH_CACHE_SIZE = 100


def measured(i: int) -> str:
    return f"{MEASURED_PREFIX}{i:05d}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (/proc/PID/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Etcd:
    """What etcd holds: key counts under a prefix, bytes in use, and compaction of the history."""

    def __init__(self, client: Etcd3Client) -> None:
        assert client.kv is not None and client.maintenance is not None
        self.kv = client.kv
        self.maintenance = client.maintenance
        self.compacted = 0

    async def keys(self, prefix: str) -> int:
        resp = await self.kv.get(prefix, range_end=prefix_range_end(prefix.encode()), count_only=True)
        return int(resp.count)

    async def bytes_in_use(self) -> int:
        return int((await self.maintenance.status()).dbSizeInUse)

    async def compact(self) -> None:
        """Drop every old revision, as the server's compactor would after its interval, and wait until it is done."""
        revision = int((await self.kv.get("/bench-revision-probe", count_only=True)).header.revision)
        if revision > self.compacted:
            await self.kv.compact(revision, physical=True)
            self.compacted = revision


async def create_workspaces(admin: aiohttp.ClientSession, api: str, names: list[str]) -> float:
    """POST a Workspace for each name at concurrency 50; returns creates/s."""
    url = f"{api}{WORKSPACES_PATH}"

    async def create(i: int) -> None:
        body = {"apiVersion": TENANCY, "kind": "Workspace", "metadata": {"name": names[i]}, "spec": {}}
        async with admin.post(url, json=body) as resp:
            await check(resp, 201)

    rate, _ = await run_load(len(names), create)
    return rate


async def list_phases(admin: aiohttp.ClientSession, api: str) -> tuple[dict[str, str], str]:
    """({workspace name: status.phase}, resourceVersion of the list) of the Workspaces in root."""
    async with admin.get(f"{api}{WORKSPACES_PATH}") as resp:
        body = await check(resp, 200)
    phases = {item["metadata"]["name"]: (item.get("status") or {}).get("phase", "") for item in body["items"]}
    return phases, body["metadata"]["resourceVersion"]


async def all_ready(admin: aiohttp.ClientSession, api: str, names: list[str]) -> bool:
    phases, _ = await list_phases(admin, api)
    return all(phases.get(name) == "Ready" for name in names)


class ReadyWatch:
    """Follows a watch of the Workspaces in root until every one of `names` is Ready.

    A watch rather than repeated lists: listing 10,000 Workspaces again and again would load the very server whose
    controller is being timed. Each Workspace's latest phase counts, so one that goes back from Ready (the
    controller acting on a stale copy) is waited for again; `regressions` counts such steps back. Should the watch
    end, a list says where things stand and a new watch resumes from it.
    """

    def __init__(self, admin: aiohttp.ClientSession, api: str, names: set[str]) -> None:
        self.admin, self.api = admin, api
        self.pending = set(names)
        self.names = names
        self.regressions = 0

    def _seen(self, name: str, phase: str) -> None:
        if name not in self.names:
            return
        if phase == "Ready":
            self.pending.discard(name)
        elif name not in self.pending:
            self.pending.add(name)
            self.regressions += 1

    async def until_ready(self, rv: str) -> float:
        """Watch from `rv`; the time the last pending Workspace was seen Ready."""
        while self.pending:
            async with self.admin.get(f"{self.api}{WORKSPACES_PATH}", params={"watch": "1", "resourceVersion": rv},
                                      timeout=aiohttp.ClientTimeout(total=None)) as resp:
                if resp.status != 200:
                    await check(resp, 200)
                async for line in resp.content:
                    event = json.loads(line)
                    obj = event["object"]
                    if event["type"] == "ERROR":
                        break
                    rv = obj["metadata"]["resourceVersion"]
                    if event["type"] != "DELETED":
                        self._seen(obj["metadata"]["name"], (obj.get("status") or {}).get("phase", ""))
                    if not self.pending:
                        return time.perf_counter()
            phases, rv = await list_phases(self.admin, self.api)
            for name in self.names:
                self._seen(name, phases.get(name, ""))
        return time.perf_counter()


async def use_workspaces(admin: aiohttp.ClientSession, api: str, names: list[str]) -> tuple[float, list[float]]:
    """The first request into each workspace: GET its namespaces (which makes them); (requests/s, latencies in ms)."""

    async def first_get(i: int) -> None:
        async with admin.get(f"{api}/clusters/root:{names[i]}/api/v1/namespaces") as resp:
            await check(resp, 200)

    return await run_load(len(names), first_get)


@dataclass
class Reading:
    rss_kib: int  # the server's VmRSS
    keys: int  # keys under /registry/
    child_keys: int  # keys inside the measured workspaces
    db_bytes: int  # etcd's bytes in use, history compacted away


class Meter:
    """Reads the server's memory and etcd's size in the same state every time: once the keys inside the measured
    workspaces have stopped changing (the controllers reacting to the last writes are done), etcd's history is
    compacted, and the server has had `settle` idle seconds."""

    def __init__(self, server: ServerProcess, etcd: Etcd, settle: float) -> None:
        self.server, self.etcd, self.settle = server, etcd, settle

    async def _quiet(self, prefix: str) -> int:
        last, stable_since = -1, time.monotonic()
        while time.monotonic() - stable_since < 1.0:
            count = await self.etcd.keys(prefix)
            if count != last:
                last, stable_since = count, time.monotonic()
            await asyncio.sleep(0.2)
        return last

    async def read(self) -> Reading:
        child_keys = await self._quiet(CHILDREN)
        await self.etcd.compact()
        db_bytes = await self.etcd.bytes_in_use()
        keys = await self.etcd.keys("/registry/")
        await asyncio.sleep(self.settle)
        return Reading(self.server.rss_kib(), keys, child_keys, db_bytes)


async def bench(args: argparse.Namespace) -> dict[str, float]:
    results: dict[str, float] = {}
    n = args.count
    names = [measured(i) for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        etcd_process = EmbeddedEtcd(Path(tmp) / "etcd")
        await etcd_process.start()
        client = Etcd3Client([etcd_process.endpoint])
        server: ServerProcess | None = None
        try:
            await client.connect()
            etcd = Etcd(client)
            server = await start_server(Path(tmp) / "canopy", etcd_process.endpoint,
                                        ["--watch-cache-size", str(args.watch_cache_size)])
            api = server.url
            async with session(client_ssl(server.pki_dir)) as admin:
                # Warm-up: the same requests as measured below, on other workspaces, so that lazy imports, caches
                # and the connection pool are in place before the first reading.
                warm = [f"warm-{i:03d}" for i in range(WARMUP_WORKSPACES)]
                await create_workspaces(admin, api, warm)
                await wait_until(
                    lambda: all_ready(admin, api, warm), "the warm-up workspaces becoming Ready", timeout=120)
                await use_workspaces(admin, api, warm[:WARMUP_USED])
                meter = Meter(server, etcd, args.settle)
                before = await meter.read()

                _, rv = await list_phases(admin, api)
                cpu_before = cpu_seconds(server.pid)
                start = time.perf_counter()
                watch = ReadyWatch(admin, api, set(names))
                ready = asyncio.create_task(watch.until_ready(rv))
                await create_workspaces(admin, api, names)
                created = time.perf_counter()
                last_ready = await asyncio.wait_for(ready, timeout=max(600, n / 10))
                cpu_after = cpu_seconds(server.pid)
                phases, _ = await list_phases(admin, api)
                not_ready = [name for name in names if phases.get(name) != "Ready"]
                if not_ready:
                    raise RuntimeError(f"{len(not_ready)} workspaces are not Ready in a list although the watch saw "
                                       f"them Ready, e.g. {not_ready[:3]}")
                results["workspaces"] = n
                results["workspace_creates_per_s"] = n / (created - start)
                results["workspaces_ready_per_s"] = n / (last_ready - start)
                results["ready_to_not_ready_steps"] = watch.regressions
                results["server_cpu_ms_per_workspace"] = (cpu_after - cpu_before) * 1000 / n

                after = await meter.read()
                results["rss_before_mib"] = before.rss_kib / 1024
                results["rss_after_mib"] = after.rss_kib / 1024
                results["rss_kib_per_empty_workspace"] = (after.rss_kib - before.rss_kib) / n
                results["etcd_keys_per_empty_workspace"] = (after.keys - before.keys) / n
                results["etcd_keys_inside_each_workspace"] = after.child_keys / n
                results["etcd_bytes_per_empty_workspace"] = (after.db_bytes - before.db_bytes) / n

                used = names[: args.used]
                results["used_workspaces"] = len(used)
                results["first_gets_per_s"], lat = await use_workspaces(admin, api, used)
                results["first_get_p50_ms"], results["first_get_p99_ms"] = percentile(lat, 0.5), percentile(lat, 0.99)
                used_reading = await meter.read()
                extra = (used_reading.rss_kib - after.rss_kib) / len(used)
                results["rss_used_mib"] = used_reading.rss_kib / 1024
                results["rss_kib_extra_per_used_workspace"] = extra
                results["rss_kib_per_used_workspace"] = results["rss_kib_per_empty_workspace"] + extra
                results["etcd_keys_extra_per_used_workspace"] = (used_reading.keys - after.keys) / len(used)
                results["etcd_bytes_extra_per_used_workspace"] = (used_reading.db_bytes - after.db_bytes) / len(used)
        finally:
            if server is not None:
                server.stop()
            await client.close()
            await etcd_process.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="empty workspaces to create and measure")
    parser.add_argument("--used", type=int, default=1_000, help="of those, how many get a first request")
    parser.add_argument("--watch-cache-size", type=int, default=WATCH_CACHE_SIZE,
                        help="the server's --watch-cache-size (see WATCH_CACHE_SIZE)")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="idle seconds the server gets before each RSS reading")
    args = parser.parse_args()
    args.used = min(args.used, args.count)
    r = asyncio.run(bench(args))
    print_results(r)
    print(f"workspaces created and Ready: {r['workspaces_ready_per_s']:.0f}/s (bar >= 200); "
          f"creates alone: {r['workspace_creates_per_s']:.0f}/s")
    print(f"server RSS per empty workspace: {r['rss_kib_per_empty_workspace']:.1f} KiB (bar <= 10 KiB)")
    print(f"  after a first request into it (system namespaces, ServiceAccounts, Service): "
          f"{r['rss_kib_per_used_workspace']:.1f} KiB")
    print(f"etcd per empty workspace: {r['etcd_keys_per_empty_workspace']:.1f} keys, "
          f"{r['etcd_bytes_per_empty_workspace'] / 1024:.1f} KiB in use (history compacted); a first request "
          f"adds {r['etcd_keys_extra_per_used_workspace']:.1f} keys, "
          f"{r['etcd_bytes_extra_per_used_workspace'] / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
