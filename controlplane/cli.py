"""The `canopy` command."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import click

from api.types import HEARTBEAT_THRESHOLD_SECONDS, UNHEALTHY_GRACE_SECONDS
from controlplane import admin
from controlplane.apiserver.requestinfo import valid_workspace
from controlplane.encryption import EncryptionError, rotate
from controlplane.etcd_embedded import EtcdStartError
from controlplane.kubectl_diagnose import main as diagnose_command
from controlplane.pki import write_atomically
from controlplane.registry import QuantityError, parse_quantity
from controlplane.server import ServerConfig, ServerError, run_until_signalled
from controlplane.storage.etcd import EtcdTLS
from simcluster.cluster import SimClusterConfig
from simcluster.cluster import run_until_signalled as run_simcluster
from syncer.syncer import run_until_signalled as run_syncer

T = TypeVar("T")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
def main(verbose: bool) -> None:
    """Canopy: a multi-tenant Kubernetes control plane."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where the embedded etcd and admin.kubeconfig live.")
@click.option("--port", type=click.IntRange(1, 65535), default=6443, show_default=True, help="API port.")
@click.option("--bind-address", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--etcd-servers", default="", help="Comma-separated etcd URLs; without it an embedded etcd starts.")
@click.option("--watch-cache-size", type=click.IntRange(1), default=10_000, show_default=True,
              help="Events of history kept for watches to resume from; older resourceVersions get 410 Expired.")
@click.option("--etcd-compaction-interval", type=click.FloatRange(0), default=300.0, show_default=True,
              help="Seconds between compactions of etcd's history (0: never compact).")
@click.option("--etcd-cafile", type=click.Path(dir_okay=False, exists=True), default=None,
              help="CA bundle to verify etcd's serving certificate (turns TLS to etcd on).")
@click.option("--etcd-certfile", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Client certificate for etcd (with --etcd-keyfile).")
@click.option("--etcd-keyfile", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Client key for etcd.")
@click.option("--tls-san", "tls_sans", multiple=True, metavar="HOST",
              help="Another DNS name or IP address for the serving certificate (repeatable); localhost, 127.0.0.1 "
                   "and this machine's hostname are always in it.")
@click.option("--encryption-provider-config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="kube-apiserver's EncryptionConfiguration for Secrets at rest; default "
                   "DATA_DIR/encryption-config.yaml, made with a new AES-GCM key on first start. Servers sharing "
                   "one etcd must share this file.")
@click.option("--cluster-heartbeat-threshold", type=click.FloatRange(min=0.1), default=HEARTBEAT_THRESHOLD_SECONDS,
              show_default=True, help="Seconds without a syncer heartbeat before a Cluster is HeartbeatHealthy=False.")
@click.option("--cluster-unhealthy-grace", type=click.FloatRange(min=0.0), default=UNHEALTHY_GRACE_SECONDS,
              show_default=True, help="Seconds a Cluster may be unhealthy before Placements move its share away.")
def server(
    data_dir: Path, port: int, bind_address: str, etcd_servers: str, watch_cache_size: int,
    etcd_compaction_interval: float, etcd_cafile: str | None, etcd_certfile: str | None, etcd_keyfile: str | None,
    tls_sans: tuple[str, ...], encryption_provider_config: Path | None, cluster_heartbeat_threshold: float,
    cluster_unhealthy_grace: float,
) -> None:
    """Run the API server (and an embedded etcd unless --etcd-servers is given)."""
    config = ServerConfig(
        data_dir=data_dir,
        port=port,
        bind_address=bind_address,
        etcd_servers=tuple(s for s in etcd_servers.split(",") if s.strip()),
        watch_cache_size=watch_cache_size,
        compaction_interval=etcd_compaction_interval,
        etcd_tls=EtcdTLS.from_files(etcd_cafile, etcd_certfile or "", etcd_keyfile or "") if etcd_cafile else None,
        tls_sans=tls_sans,
        encryption_config=encryption_provider_config,
        cluster_heartbeat_threshold=cluster_heartbeat_threshold,
        cluster_unhealthy_grace=cluster_unhealthy_grace,
    )
    if (etcd_certfile or etcd_keyfile) and not etcd_cafile:
        raise click.UsageError("--etcd-certfile and --etcd-keyfile need --etcd-cafile (the CA that signed etcd's cert)")
    try:
        asyncio.run(run_until_signalled(config))
    except (ServerError, EtcdStartError) as exc:
        click.echo(f"canopy server: {exc}", err=True)
        sys.exit(1)


_ADMIN_KUBECONFIG = click.option(
    "--kubeconfig", "admin_kubeconfig", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="The admin kubeconfig the server wrote (DATA_DIR/admin.kubeconfig).",
)


def _workspace_path(_: click.Context, __: click.Parameter, value: str) -> str:
    if not valid_workspace(value):
        raise click.BadParameter(f'"{value}" is not a workspace path: "root" followed by ":"-separated lowercase '
                                 "DNS labels, e.g. root:team-a")
    return value


@main.command()
@click.option("--name", required=True, help="The cluster's name (its nodes are NAME-server-0, NAME-agent-0, ...).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where its etcd, PKI and kubeconfig live.")
@click.option("--port", type=click.IntRange(1, 65535), default=6443, show_default=True, help="API port.")
@click.option("--bind-address", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--nodes", "node_count", type=click.IntRange(1, 5000), default=3, show_default=True,
              help="How many nodes.")
@click.option("--node-memory", default="8Gi", show_default=True, help="Memory of each node.")
@click.option("--node-cpu", default="4", show_default=True, help="CPUs of each node.")
@click.option("--time-scale", type=click.FloatRange(0.0001, 100), default=1.0, show_default=True,
              help="Multiplies every duration of the simulation (0.01 turns 10 s into 100 ms).")
@click.option("--etcd-servers", default="", help="Comma-separated etcd URLs; without it an embedded etcd starts.")
@click.option("--tls-san", "tls_sans", multiple=True, metavar="HOST", help="Another name for its certificate.")
def simcluster(name: str, data_dir: Path, port: int, bind_address: str, node_count: int, node_memory: str,
               node_cpu: str, time_scale: float, etcd_servers: str, tls_sans: tuple[str, ...]) -> None:
    """Run a simulated K3s cluster; its admin kubeconfig is DATA_DIR/kubeconfig."""
    for flag, value in (("--node-memory", node_memory), ("--node-cpu", node_cpu)):
        try:
            parse_quantity(value)
        except QuantityError as exc:
            raise click.BadParameter(f"{value!r} is not a quantity ({exc}); e.g. 8Gi, 4, 500m",
                                     param_hint=flag) from None
    config = SimClusterConfig(
        name=name, data_dir=data_dir, port=port, bind_address=bind_address, nodes=node_count,
        node_memory=node_memory, node_cpu=node_cpu, time_scale=time_scale,
        etcd_servers=tuple(s for s in etcd_servers.split(",") if s.strip()), tls_sans=tls_sans,
    )
    try:
        asyncio.run(run_simcluster(config))
    except (ServerError, EtcdStartError) as exc:
        click.echo(f"canopy simcluster: {exc}", err=True)
        sys.exit(1)


@main.group()
def workspace() -> None:
    """Create and delete workspaces (logical clusters)."""


@workspace.command("create")
@click.argument("name")
@click.option("--parent", default="root", show_default=True, callback=_workspace_path,
              help="The workspace to create it in.")
@click.option("--owner", required=True, help="The user bound to cluster-admin in the new workspace.")
@_ADMIN_KUBECONFIG
def workspace_create(name: str, parent: str, owner: str, admin_kubeconfig: Path) -> None:
    """Create workspace NAME in --parent, wait until it is Ready, and make --owner its cluster-admin."""
    if not valid_workspace(f"{parent}:{name}"):
        raise click.BadParameter(f'"{name}" is not a workspace name: use lowercase letters, digits and "-", starting '
                                 "and ending with a letter or digit, at most 63 characters", param_hint="NAME")
    url = _admin(lambda: admin.create_workspace(admin_kubeconfig, name, parent, owner))
    click.echo(f"workspace {parent}:{name} is ready at {url}; {owner} is its cluster-admin")


@workspace.command("delete")
@click.argument("workspace_path", metavar="WORKSPACE", callback=_workspace_path)
@_ADMIN_KUBECONFIG
def workspace_delete(workspace_path: str, admin_kubeconfig: Path) -> None:
    """Delete WORKSPACE (e.g. root:team-a), everything in it and every workspace below it."""
    _admin(lambda: admin.delete_workspace(admin_kubeconfig, workspace_path))
    click.echo(f"workspace {workspace_path} deleted")


@main.command("kubeconfig")
@_ADMIN_KUBECONFIG
@click.option("--workspace", "workspace_path", required=True, callback=_workspace_path,
              help="The workspace the kubeconfig points at, e.g. root:team-a.")
@click.option("--user", required=True, help="Who the new credential authenticates as.")
@click.option("--group", "groups", multiple=True, help="A group the user is in (repeatable).")
@click.option("--expires-in", type=click.IntRange(1), default=None, metavar="HOURS",
              help="Hours until the token stops working; without it, it works until its AccessToken is deleted.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the kubeconfig (mode 0600).")
def kubeconfig_command(admin_kubeconfig: Path, workspace_path: str, user: str, groups: tuple[str, ...],
                       expires_in: int | None, output: Path) -> None:
    """Mint a token for --user and write a kubeconfig for --workspace that uses it."""
    expiry = timedelta(hours=expires_in) if expires_in else None
    _admin(lambda: admin.mint_kubeconfig(admin_kubeconfig, workspace_path, user, output, groups=groups,
                                         expires_in=expiry))
    click.echo(f"wrote {output}: {user} in {workspace_path}; try: kubectl --kubeconfig {output} auth whoami")


@main.group()
def cluster() -> None:
    """Register physical clusters for syncers to link to the control plane."""


def _labels(_: click.Context, __: click.Parameter, value: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        key, eq, val = item.partition("=")
        if not eq or not key:
            raise click.BadParameter(f'"{item}" is not key=value; write e.g. --labels region=eu,tier=gold')
        labels[key] = val
    return labels


@cluster.command("register")
@click.argument("name")
@_ADMIN_KUBECONFIG
@click.option("--labels", default="", callback=_labels, help="Labels Placements select on: k=v,k2=v2.")
@click.option("--allow-workspace", "allowed", multiple=True, metavar="PATTERN",
              help="A workspace that may place workloads here: root:team-a, or root:* for every child of root "
                   "(repeatable; none by default).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the syncer's kubeconfig (mode 0600).")
def cluster_register(name: str, admin_kubeconfig: Path, labels: dict[str, str], allowed: tuple[str, ...],
                     output: Path) -> None:
    """Create Cluster NAME in root and write a kubeconfig for its syncer, allowed exactly what syncing it needs."""
    _admin(lambda: admin.register_cluster(admin_kubeconfig, name, output, labels=labels, allowed_workspaces=allowed))
    click.echo(f"cluster {name} registered; run its syncer:\n"
               f"  canopy syncer --cluster {name} --kubeconfig {output} --cluster-kubeconfig CLUSTER_KUBECONFIG")


@main.command("syncer")
@click.option("--cluster", "cluster_name", required=True, help="The Cluster (registered in root) this syncer serves.")
@click.option("--kubeconfig", "kubeconfig_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              required=True, help="The syncer's kubeconfig for the control plane, from `canopy cluster register`.")
@click.option("--cluster-kubeconfig", type=click.Path(dir_okay=False, exists=True, path_type=Path), required=True,
              help="The physical cluster's admin kubeconfig (K3s: /etc/rancher/k3s/k3s.yaml).")
@click.option("--heartbeat-seconds", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="How often the Cluster's status is refreshed.")
def syncer_command(cluster_name: str, kubeconfig_path: Path, cluster_kubeconfig: Path,
                   heartbeat_seconds: float) -> None:
    """Link one physical cluster to the control plane: push placed Deployments down, reflect what happens up."""
    asyncio.run(run_syncer(cluster_name, kubeconfig_path, cluster_kubeconfig, heartbeat_seconds=heartbeat_seconds))


main.add_command(diagnose_command)


@main.group()
def encryption() -> None:
    """Manage the keys that encrypt Secrets in etcd."""


@encryption.command("rotate")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), required=True,
              help="The EncryptionConfiguration (DATA_DIR/encryption-config.yaml, or --encryption-provider-config).")
def encryption_rotate(config_path: Path) -> None:
    """Add a new AES-GCM key in front of the old ones: new writes use it, the old keys still decrypt."""
    try:
        rotated = rotate(config_path.read_text())
    except EncryptionError as exc:
        click.echo(f"canopy: {config_path}: {exc}", err=True)
        sys.exit(1)
    write_atomically(config_path, rotated.encode(), mode=0o600)
    click.echo(
        f"{config_path}: added a new first key. Next: restart every server that uses this file (copy it to each "
        "first), then rewrite the Secrets so they move to the new key, in each workspace:\n"
        "  kubectl get secrets --all-namespaces -o json | kubectl replace -f -"
    )


def _admin(action: Callable[[], T]) -> T:
    try:
        return action()
    except admin.AdminError as exc:
        click.echo(f"canopy: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
