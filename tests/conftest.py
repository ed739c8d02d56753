"""Shared fixtures: a real etcd, a real `canopy server` process, and kubectl pointed at a fresh workspace.

One etcd and one API server serve the whole session; every test gets its own workspace (`root:t-<random>`), which
is exactly the isolation Canopy promises its tenants, so tests cannot see each other's objects either. The server
speaks TLS only and wants credentials: tests act as its admin (the client certificate of `admin.kubeconfig`) unless
they mint tenants of their own (`ApiServer.tenant`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from controlplane.encryption import generate_config
from controlplane.etcd_embedded import EmbeddedEtcd, free_port
from controlplane.pki import load_or_create_ca

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


# The admin's TLS context of every server the tests started, by base URL: `support.http` picks it by the URL.
TLS_CONTEXTS: dict[str, ssl.SSLContext] = {}


def client_tls(ca_file: Path, cert_file: Path | None = None, key_file: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file))
    if cert_file is not None:
        context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    return context


@dataclass
class ApiServer:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def admin_kubeconfig(self) -> Path:
        return self.data_dir / "admin.kubeconfig"

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "pki" / "ca.crt"

    @property
    def admin_tls(self) -> ssl.SSLContext:
        return TLS_CONTEXTS[self.url]

    def kubeconfig_for(self, workspace: str, path: Path) -> Path:
        """The admin's kubeconfig with the server URL of `workspace`, as tenants get theirs."""
        config = yaml.safe_load(self.admin_kubeconfig.read_text())
        config["clusters"][0]["cluster"]["server"] = f"{self.url}/clusters/{workspace}"
        path.write_text(yaml.safe_dump(config))
        return path

    def create_workspace(self, workspace: str) -> str:
        """Create `workspace` (its parent must exist) as the admin; usable at once, Ready a moment later."""
        parent, _, name = workspace.rpartition(":")
        body = {"apiVersion": "tenancy.canopy.dev/v1alpha1", "kind": "Workspace", "metadata": {"name": name}}
        request = urllib.request.Request(
            f"{self.url}/clusters/{parent}/apis/tenancy.canopy.dev/v1alpha1/workspaces", method="POST",
            data=json.dumps(body).encode(), headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.admin_tls):
                return workspace
        except urllib.error.HTTPError as err:
            raise AssertionError(f"cannot create workspace {workspace}: {err.code} {err.read().decode()}") from None

    def new_workspace(self) -> str:
        return self.create_workspace(new_workspace_name())


@functools.cache
def shared_encryption_config() -> Path:
    """Servers sharing one etcd must share their Secrets' keys, as kube-apiserver replicas do."""
    path = Path(tempfile.mkdtemp(prefix="canopy-encryption-")) / "encryption-config.yaml"
    path.write_text(generate_config())
    return path


@functools.cache
def shared_ca() -> Path:
    """One CA for every test server, as replicas sharing one etcd share theirs: a credential works on all."""
    pki = Path(tempfile.mkdtemp(prefix="canopy-ca-"))
    load_or_create_ca(pki)
    return pki


def start_apiserver(data_dir: Path, etcd_url: str, *extra_args: str) -> ApiServer:
    """A `canopy server` subprocess on a free port, with extra flags if given (e.g. --watch-cache-size=5)."""
    port = free_port()
    (data_dir / "pki").mkdir(parents=True, exist_ok=True)
    for name in ("ca.crt", "ca.key"):
        if not (data_dir / "pki" / name).exists():
            shutil.copy2(shared_ca() / name, data_dir / "pki" / name)
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "controlplane.cli", "server", "--data-dir", str(data_dir), "--port", str(port),
         "--etcd-servers", etcd_url, "--encryption-provider-config", str(shared_encryption_config()), *extra_args],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"https://127.0.0.1:{port}"
    pki = data_dir / "pki"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"canopy server exited: {(data_dir / 'server.log').read_text()}")
        try:
            context = client_tls(pki / "ca.crt")
            with urllib.request.urlopen(f"{url}/readyz", timeout=1, context=context) as resp:
                if resp.status == 200 and (data_dir / "admin.kubeconfig").exists():
                    TLS_CONTEXTS[url] = client_tls(pki / "ca.crt", pki / "admin.crt", pki / "admin.key")
                    return ApiServer(url, data_dir, process)
        except (OSError, ssl.SSLError):
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
    workspace = apiserver.new_workspace()
    return Kubectl(apiserver.kubeconfig_for(workspace, tmp_path / "kubeconfig"), workspace)
