"""`canopy server`: etcd (embedded or external), the watch cache, the controllers and the API, as one process.

Start-up order matters: etcd must answer before the watch cache lists, and the cache must be primed before the
API accepts a request, so that the first read already sees everything. Shutdown runs in reverse. Several server
processes may share one etcd (`--etcd-servers`); each has its own cache, fed by its own etcd watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import gc
import logging
import os
import signal
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from etcd3aio.errors import EtcdError

from api.registry import BUILTIN
from api.types import HEARTBEAT_THRESHOLD_SECONDS, SERVED, UNHEALTHY_GRACE_SECONDS
from controlplane import kubeconfig
from controlplane.apiserver.app import create_app
from controlplane.apiserver.discovery import version_info
from controlplane.audit import AuditLog
from controlplane.auth.authn import SYSTEM_MASTERS
from controlplane.auth.authz import shared_cluster_roles
from controlplane.controllers import start_controllers
from controlplane.encryption import EncryptionError
from controlplane.encryption import load_or_create as load_or_create_encryption
from controlplane.errors import StatusError
from controlplane.etcd_embedded import EmbeddedEtcd
from controlplane.leaderelection import lead
from controlplane.pki import (
    CertificateAuthority,
    default_hosts,
    ensure_serving_cert,
    load_or_create_ca,
    write_atomically,
)
from controlplane.podlogs import PodLogSource
from controlplane.storage.compactor import run_compactor
from controlplane.storage.etcd import EtcdStorage, EtcdTLS
from controlplane.storage.keys import ROOT_WORKSPACE
from controlplane.storage.watchcache import WatchCache
from controlplane.store import Store, now_rfc3339
from controlplane.tlsalerts import send_handshake_alerts
from controlplane.tunnel import Tunnels

log = logging.getLogger(__name__)


ADMIN_USER = "admin"


class ServerError(RuntimeError):
    """A start-up failure the user can fix; the message says how."""


@dataclass
class ServerConfig:
    data_dir: Path
    port: int = 6443
    bind_address: str = "127.0.0.1"
    etcd_servers: tuple[str, ...] = ()
    run_controllers: bool = True
    watch_cache_size: int = 10_000
    etcd_tls: EtcdTLS | None = None
    compaction_interval: float = 300.0
    tls_sans: tuple[str, ...] = ()
    # kube-apiserver's EncryptionConfiguration; default DATA_DIR/encryption-config.yaml, made on first start.
    encryption_config: Path | None = None
    # Single-cluster mode (simcluster/): one cluster named so, serving Kubernetes' kinds only (no workspaces, no
    # AccessTokens), with its admin kubeconfig at DATA_DIR/kubeconfig pointing at the server itself, as K3s writes.
    cluster_name: str = ""
    # Where pods/log reads from: the simulated cluster's kubelets; None in the control plane (404 says why).
    pod_logs: PodLogSource | None = None
    # Seconds after its last heartbeat a Cluster is HeartbeatHealthy=False, and seconds of that before Placements
    # stop choosing it (docs/placement.md).
    cluster_heartbeat_threshold: float = HEARTBEAT_THRESHOLD_SECONDS
    cluster_unhealthy_grace: float = UNHEALTHY_GRACE_SECONDS


@dataclass
class RunningServer:
    url: str
    store: Store
    kubeconfig: Path


def build_version() -> dict[str, str]:
    commit = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
        if out.returncode == 0:
            commit = out.stdout.strip()
    return version_info(f"canopy-{commit}", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def tls_context(pki_dir: Path, ca: CertificateAuthority, hosts: list[str]) -> ssl.SSLContext:
    """Serve TLS with the server's certificate; ask for a client certificate, and accept only ones from our CA."""
    cert, key = ensure_serving_cert(pki_dir, ca, hosts)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.load_verify_locations(cadata=ca.cert_pem.decode())
    context.verify_mode = ssl.CERT_OPTIONAL
    send_handshake_alerts()
    return context


async def bind_masters_in_root(store: Store) -> None:
    """The ClusterRoleBinding kube-apiserver bootstraps, in root: `system:masters` (the admin) is cluster-admin.
    Masters are allowed everything anyway; the binding makes that visible to `kubectl get clusterrolebindings`."""
    rt = SERVED.lookup("rbac.authorization.k8s.io", "v1", "clusterrolebindings")
    assert rt is not None
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "cluster-admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": SYSTEM_MASTERS}],
    }
    if store.peek(ROOT_WORKSPACE, rt, "", "cluster-admin") is None:
        with contextlib.suppress(StatusError):  # another replica made it first
            await store.create(ROOT_WORKSPACE, rt, "", binding)


def admin_credentials(pki_dir: Path, ca: CertificateAuthority) -> tuple[bytes, bytes]:
    """The platform admin's client certificate (in `system:masters`), made once and kept."""
    cert_path, key_path = pki_dir / "admin.crt", pki_dir / "admin.key"
    if cert_path.exists() and key_path.exists():
        return cert_path.read_bytes(), key_path.read_bytes()
    cert, key = ca.issue_client_cert(ADMIN_USER, [SYSTEM_MASTERS], days=3650)
    write_atomically(key_path, key, mode=0o600)
    write_atomically(cert_path, cert, mode=0o644)
    return cert, key


def _host(bind_address: str) -> str:
    """The address clients use to reach a server listening on `bind_address`."""
    return "127.0.0.1" if bind_address in ("0.0.0.0", "", "::") else bind_address


def _lock_data_dir(data_dir: Path) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / "canopy.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ServerError(
            f"another canopy server is running with --data-dir {data_dir}; stop it first, or give this one its own"
            " --data-dir"
        ) from None
    return fd


@contextlib.asynccontextmanager
async def serving(config: ServerConfig) -> AsyncIterator[RunningServer]:
    """Run the whole server for the duration of the `async with` block."""
    lock_fd = _lock_data_dir(config.data_dir)
    etcd: EmbeddedEtcd | None = None
    storage: EtcdStorage | None = None
    cache: WatchCache | None = None
    runner: web.AppRunner | None = None
    controllers: asyncio.Task[None] | None = None
    compactor: asyncio.Task[None] | None = None
    audit = AuditLog(config.data_dir / "audit.log")
    try:
        pki_dir = config.data_dir / "pki"
        ca = load_or_create_ca(pki_dir)
        host = _host(config.bind_address)
        ssl_context = tls_context(pki_dir, ca, default_hosts([*config.tls_sans, host]))
        url = f"https://{host}:{config.port}"
        endpoints = list(config.etcd_servers)
        if not endpoints:
            etcd = EmbeddedEtcd(config.data_dir / "etcd")
            await etcd.start()
            endpoints = [etcd.endpoint]
        encryption_path = config.encryption_config or config.data_dir / "encryption-config.yaml"
        try:
            encryption = load_or_create_encryption(encryption_path)
        except EncryptionError as exc:
            raise ServerError(f"{encryption_path}: {exc}") from None
        storage = EtcdStorage(endpoints, config.etcd_tls if config.etcd_servers else None, encryption=encryption)
        await storage.connect()
        cache = WatchCache(storage, history_size=config.watch_cache_size)
        try:
            await asyncio.wait_for(cache.start(), timeout=30)
        except (TimeoutError, OSError, EtcdError) as exc:
            raise ServerError(
                f"cannot read from etcd at {', '.join(endpoints)} ({exc or 'timed out'}); check --etcd-servers, "
                "and with TLS --etcd-cafile, --etcd-certfile and --etcd-keyfile"
            ) from None
        store = Store(storage, cache, shared=shared_cluster_roles(now_rfc3339()))
        await bind_masters_in_root(store)
        if config.compaction_interval > 0:
            compactor = asyncio.create_task(run_compactor(storage, config.compaction_interval), name="compactor")
        # The control plane serves its mirrored pods' logs through the syncers' tunnels; a simulated cluster its own.
        tunnels = None if config.cluster_name else Tunnels()
        if config.run_controllers:
            controllers = asyncio.create_task(
                lead(storage, lambda: start_controllers(
                    store, url, cluster_heartbeat_threshold=config.cluster_heartbeat_threshold,
                    cluster_unhealthy_grace=config.cluster_unhealthy_grace, pod_logs=tunnels,
                )),
                name="leader-election",
            )
        audit.open()
        app = create_app(store, BUILTIN if config.cluster_name else SERVED, build_version(), audit,
                         config.pod_logs or tunnels, tunnels, diagnosis=not config.cluster_name)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, config.bind_address, config.port, ssl_context=ssl_context)
        try:
            await site.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServerError(
                    f"port {config.port} on {config.bind_address} is already in use; pass --port with a free port"
                ) from None
            raise
        cert, key = admin_credentials(pki_dir, ca)
        if config.cluster_name:
            kubeconfig_path = config.data_dir.resolve() / "kubeconfig"
            server_url, context = url, config.cluster_name
        else:
            kubeconfig_path = config.data_dir.resolve() / "admin.kubeconfig"
            server_url, context = kubeconfig.workspace_url(url, ROOT_WORKSPACE), "canopy-root"
        kubeconfig.write(kubeconfig_path, kubeconfig.build(
            server_url, ca.cert_pem, ADMIN_USER, cert_pem=cert, key_pem=key, name=context,
        ))
        # Everything loaded so far (the primed cache, imported modules) lives for the whole process: keep it out of
        # the cyclic garbage collector's passes, and run young-generation passes less often (each request makes
        # thousands of short-lived dicts, few of them cyclic). Measured: creates/s +15%, create p99 from ~100 ms to
        # ~35 ms (docs/performance.md).
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        yield RunningServer(url, store, kubeconfig_path)
    finally:
        if runner is not None:
            await runner.cleanup()
        await audit.close()
        if compactor is not None:
            compactor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await compactor
        if controllers is not None:
            controllers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await controllers
        if cache is not None:
            await cache.stop()
        if storage is not None:
            await storage.close()
        if etcd is not None:
            await etcd.stop()
        os.close(lock_fd)


async def run_until_signalled(config: ServerConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with serving(config) as server:
        print(f"Canopy API server listening on {server.url}", flush=True)
        print(f"  export KUBECONFIG={server.kubeconfig}", flush=True)
        await stop.wait()
        print("stopping", flush=True)
