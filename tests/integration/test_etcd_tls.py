"""An external etcd that serves TLS and requires client certificates, as production etcd clusters do."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from controlplane.etcd_embedded import EmbeddedEtcd, ServerTLS, free_port
from tests.certs import CertificateAuthority
from tests.conftest import KUBECTL, start_apiserver, stop_apiserver


def test_server_uses_an_etcd_that_requires_tls_client_certificates(tmp_path: Path) -> None:
    ca = CertificateAuthority(tmp_path / "pki")
    server_cert, server_key = ca.issue("etcd-server", server=True)
    client_cert, client_key = ca.issue("canopy", server=False)
    etcd = EmbeddedEtcd(tmp_path / "etcd", tls=ServerTLS(server_cert, server_key, ca.cert_file))
    asyncio.run(etcd.start())
    try:
        url = f"https://localhost:{etcd.client_port}"
        server = start_apiserver(tmp_path / "canopy", url, "--etcd-cafile", str(ca.cert_file),
                                 "--etcd-certfile", str(client_cert), "--etcd-keyfile", str(client_key))
        try:
            config = str(server.admin_kubeconfig)
            created = subprocess.run([KUBECTL, "--kubeconfig", config, "create", "configmap", "over-tls",
                                      "--from-literal=a=b"], capture_output=True, text=True, timeout=60)
            assert created.stdout == "configmap/over-tls created\n", created.stderr
            listed = subprocess.run([KUBECTL, "--kubeconfig", config, "get", "cm", "over-tls", "-o", "name"],
                                    capture_output=True, text=True, timeout=60)
            assert listed.stdout == "configmap/over-tls\n"
        finally:
            stop_apiserver(server)

        # Without a client certificate etcd refuses the connection, and the server says what to check.
        refused = subprocess.run(
            [sys.executable, "-m", "controlplane.cli", "server", "--data-dir", str(tmp_path / "other"),
             "--port", str(free_port()), "--etcd-servers", url, "--etcd-cafile", str(ca.cert_file)],
            capture_output=True, text=True, timeout=120,
        )
        assert refused.returncode == 1
        assert "cannot read from etcd" in refused.stderr and "--etcd-servers" in refused.stderr
    finally:
        asyncio.run(etcd.stop())
