"""The `canopy` command."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click

from controlplane.etcd_embedded import EtcdStartError
from controlplane.server import ServerConfig, ServerError, run_until_signalled
from controlplane.storage.etcd import EtcdTLS


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
def server(
    data_dir: Path, port: int, bind_address: str, etcd_servers: str, watch_cache_size: int,
    etcd_compaction_interval: float, etcd_cafile: str | None, etcd_certfile: str | None, etcd_keyfile: str | None,
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
    )
    if (etcd_certfile or etcd_keyfile) and not etcd_cafile:
        raise click.UsageError("--etcd-certfile and --etcd-keyfile need --etcd-cafile (the CA that signed etcd's cert)")
    try:
        asyncio.run(run_until_signalled(config))
    except (ServerError, EtcdStartError) as exc:
        click.echo(f"canopy server: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
