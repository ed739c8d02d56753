"""What every benchmark here shares: the load generator, and a `canopy server` process to point it at.

The server runs as its own process (`python -m controlplane.cli server`) on an etcd the benchmark starts, so that
the benchmark can read the server's memory from /proc and etcd's size directly. The server speaks TLS only and
authenticates every request: the benchmark's clients trust the CA the server made under `DATA_DIR/pki` and present
the admin's client certificate (`system:masters`) or a bearer token, exactly as kubectl would.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from controlplane.auth.authn import token_hash
from controlplane.etcd_embedded import free_port

CONCURRENCY = 50
# Requests made before each measured phase and not counted: the first requests of a fresh process pay for lazy
# imports, schema building and connection set-up, which is not the steady state being compared.
WARMUP = 500
ROUNDS = 5  # turns each side takes in `alternate`
TENANCY = "tenancy.canopy.dev/v1alpha1"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def run_load(n: int, op: Callable[[int], Awaitable[None]],
                   concurrency: int = CONCURRENCY) -> tuple[float, list[float]]:
    """Run op(0..n-1) with `concurrency` workers: (ops per second, latencies in ms)."""
    latencies: list[float] = []
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            start = time.perf_counter()
            await op(i)
            latencies.append((time.perf_counter() - start) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - start), latencies


async def alternate(sides: dict[str, Callable[[int], Awaitable[None]]], n: int,
                    rounds: int = ROUNDS) -> dict[str, tuple[float, list[float]]]:
    """Run each side's op n times in all, the sides taking turns in `rounds` rounds: {side: (ops/s, latencies ms)}.

    Two things compared by their ratio are measured in alternation, so that whatever else this shared machine is
    doing at the time (and it varies by tens of percent over a minute) falls on both alike.
    """
    for op in sides.values():
        await run_load(WARMUP, op)  # warm-up, not counted
    elapsed = dict.fromkeys(sides, 0.0)
    latencies: dict[str, list[float]] = {side: [] for side in sides}
    per_round = n // rounds
    for _ in range(rounds):
        for side, op in sides.items():
            rate, lat = await run_load(per_round, op)
            elapsed[side] += per_round / rate
            latencies[side] += lat
    return {side: (per_round * rounds / elapsed[side], latencies[side]) for side in sides}


def client_ssl(pki_dir: Path, *, client_cert: bool = True) -> ssl.SSLContext:
    """Trust the server's CA; with `client_cert`, present the admin's certificate (CN admin, O system:masters)."""
    context = ssl.create_default_context(cafile=str(pki_dir / "ca.crt"))
    if client_cert:
        context.load_cert_chain(pki_dir / "admin.crt", pki_dir / "admin.key")
    return context


def session(context: ssl.SSLContext, headers: dict[str, str] | None = None) -> aiohttp.ClientSession:
    """A client with no cap on open connections (each worker keeps one), verifying the server with `context`."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, ssl=context), headers=headers)


async def wait_until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if await check():
                return
        except (aiohttp.ClientError, OSError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{what} did not happen within {timeout:.0f}s")


async def wait_ready(url: str, context: ssl.SSLContext | None = None) -> None:
    """Until GET `url` answers 200 (/readyz needs no credentials; `context` only verifies the server)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context or False)) as s:
        async def answers() -> bool:
            async with s.get(url) as resp:
                return resp.status == 200

        await wait_until(answers, f"GET {url} answering 200")


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str  # https://127.0.0.1:PORT, the root workspace
    pki_dir: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int:
        """The server's resident set size (VmRSS in /proc/PID/status), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for process {self.pid}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def start_server(data_dir: Path, etcd_endpoint: str, extra_args: Sequence[str] = ()) -> ServerProcess:
    """`canopy server` on a free port over the etcd at `etcd_endpoint`, once it serves and its admin files exist."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "controlplane.cli", "server", "--data-dir", str(data_dir), "--port", str(port),
         "--etcd-servers", f"http://{etcd_endpoint}", *extra_args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    server = ServerProcess(process, f"https://127.0.0.1:{port}", data_dir / "pki")
    try:
        # The admin's certificate and kubeconfig are written once the port is open: wait for the last of them.
        async def admin_files() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"canopy server exited with code {process.returncode}")
            return (data_dir / "admin.kubeconfig").exists()

        await wait_until(admin_files, "the server writing admin.kubeconfig")
        await wait_ready(f"{server.url}/readyz", client_ssl(server.pki_dir, client_cert=False))
    except BaseException:
        server.stop()
        raise
    return server


async def check(resp: aiohttp.ClientResponse, *expected: int) -> Any:
    """The JSON body of `resp`, which must have one of the `expected` status codes."""
    body = await resp.read()
    if resp.status not in expected:
        raise RuntimeError(f"{resp.method} {resp.url} answered {resp.status}: {body[:500]!r}")
    return json.loads(body) if body else None


async def create_workspace(admin: aiohttp.ClientSession, api: str, name: str) -> None:
    """Workspace `name` in root, waited on until Ready."""
    url = f"{api}/clusters/root/apis/tenancy.canopy.dev/v1alpha1/workspaces"
    async with admin.post(url, json={"apiVersion": TENANCY, "kind": "Workspace", "metadata": {"name": name},
                                     "spec": {}}) as resp:
        await check(resp, 201)

    async def ready() -> bool:
        async with admin.get(f"{url}/{name}") as resp:
            return ((await check(resp, 200)).get("status") or {}).get("phase") == "Ready"

    await wait_until(ready, f"workspace {name} becoming Ready")


async def mint_token(admin: aiohttp.ClientSession, api: str, user: str, groups: Sequence[str] = ()) -> str:
    """A new bearer token for `user` in `groups` (an AccessToken in root, holding only the token's hash)."""
    token = secrets.token_urlsafe(32)
    body = {
        "apiVersion": TENANCY, "kind": "AccessToken", "metadata": {"name": f"bench-{user}"},
        "spec": {"user": user, "groups": list(groups), "tokenHash": token_hash(token)},
    }
    async with admin.post(f"{api}/clusters/root/apis/tenancy.canopy.dev/v1alpha1/accesstokens", json=body) as resp:
        await check(resp, 201)
    return token


def print_results(results: dict[str, float]) -> None:
    print(f"{'measure':<38}{'value':>14}")
    for key, value in results.items():
        print(f"{key:<38}{value:>14.2f}")
    print()
