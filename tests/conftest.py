"""Shared fixtures: a real etcd, a real `canopy server` process, and kubectl pointed at a fresh workspace.

One etcd and one API server serve the whole session; every test gets its own workspace (`root:t-<random>`), which
is exactly the isolation Canopy promises its tenants, so tests cannot see each other's objects either.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from controlplane.etcd_embedded import EmbeddedEtcd, free_port

KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")


@dataclass
class Etcd:
    endpoint: str

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"


@pytest.fixture(scope="session")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Etcd]:
    server = EmbeddedEtcd(tmp_path_factory.mktemp("etcd"))
    asyncio.run(server.start())
    try:
        yield Etcd(server.endpoint)
    finally:
        asyncio.run(server.stop())


@dataclass
class ApiServer:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def admin_kubeconfig(self) -> Path:
        return self.data_dir / "admin.kubeconfig"

    def kubeconfig_for(self, workspace: str, path: Path) -> Path:
        """A kubeconfig whose server URL carries the workspace path, as tenants get them."""
        config = yaml.safe_load(self.admin_kubeconfig.read_text())
        config["clusters"][0]["cluster"]["server"] = f"{self.url}/clusters/{workspace}"
        path.write_text(yaml.safe_dump(config))
        return path


def start_apiserver(data_dir: Path, etcd_url: str, *extra_args: str) -> ApiServer:
    """A `canopy server` subprocess on a free port, with extra flags if given (e.g. --watch-cache-size=5)."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "controlplane.cli", "server", "--data-dir", str(data_dir), "--port", str(port),
         "--etcd-servers", etcd_url, *extra_args],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"canopy server exited: {(data_dir / 'server.log').read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as resp:
                if resp.status == 200 and (data_dir / "admin.kubeconfig").exists():
                    return ApiServer(url, data_dir, process)
        except OSError:
            time.sleep(0.1)
    process.kill()
    process.wait()
    raise RuntimeError(f"canopy server did not become ready: {(data_dir / 'server.log').read_text()}")


def stop_apiserver(server: ApiServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def apiserver(etcd: Etcd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    data_dir = tmp_path_factory.mktemp("canopy")
    (data_dir / "server.log").touch()
    server = start_apiserver(data_dir, etcd.url)
    try:
        yield server
    finally:
        stop_apiserver(server)


def new_workspace_name() -> str:
    return f"root:t-{secrets.token_hex(4)}"


@dataclass
class Kubectl:
    kubeconfig: Path
    workspace: str

    def run(self, *args: str, input: str | None = None, check: bool = True, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [KUBECTL, "--kubeconfig", str(self.kubeconfig), *args],
            input=input, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, **(env or {})},
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result

    def __call__(self, *args: str, **kwargs: object) -> str:
        return self.run(*args, **kwargs).stdout  # type: ignore[arg-type]


@pytest.fixture
def kubectl(apiserver: ApiServer, tmp_path: Path) -> Kubectl:
    workspace = new_workspace_name()
    return Kubectl(apiserver.kubeconfig_for(workspace, tmp_path / "kubeconfig"), workspace)
