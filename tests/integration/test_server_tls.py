"""The server's own PKI: made on first start, reused on the next, with the names asked for in its certificate."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import yaml
from cryptography import x509

from controlplane.pki import load_or_create_ca
from tests.conftest import Etcd, Kubectl, client_tls, start_apiserver, stop_apiserver
from tests.integration.support import http


def sans(cert_file: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(v) for v in names.get_values_for_type(x509.DNSName)} | {
        str(v) for v in names.get_values_for_type(x509.IPAddress)
    }


def certificate_names_seen_as(url: str, ca_file: Path, server_name: str) -> set[str]:
    """The DNS names of the server's certificate, as a client that verifies it against `server_name` sees them
    (the handshake raises when the certificate does not cover that name)."""
    host, port = url.removeprefix("https://").split(":")
    context = client_tls(ca_file)
    with socket.create_connection((host, int(port)), timeout=10) as sock, \
            context.wrap_socket(sock, server_hostname=server_name) as tls:
        peer = tls.getpeercert()
    return {value for kind, value in peer.get("subjectAltName", ()) if kind == "DNS"}


def test_serving_certificate_names_tls_sans_and_survives_a_restart(etcd: Etcd, tmp_path: Path) -> None:
    data_dir = tmp_path / "canopy"
    server = start_apiserver(data_dir, etcd.url, "--tls-san", "canopy.example.com", "--tls-san", "10.1.2.3")
    try:
        names = sans(data_dir / "pki" / "serving.crt")
        assert {"localhost", "127.0.0.1", "canopy.example.com", "10.1.2.3", socket.gethostname()} <= names
        # verified against the name, not the IP
        assert "canopy.example.com" in certificate_names_seen_as(server.url, server.ca_file, "canopy.example.com")
        ca_before = server.ca_file.read_bytes()
        kubeconfig_before = server.admin_kubeconfig.read_bytes()
    finally:
        stop_apiserver(server)

    again = start_apiserver(data_dir, etcd.url, "--tls-san", "canopy.example.com", "--tls-san", "10.1.2.3")
    try:
        assert again.ca_file.read_bytes() == ca_before
        # The admin's certificate is kept: kubeconfigs copied from the first start keep working.
        assert yaml.safe_load(again.admin_kubeconfig.read_text())["users"] == yaml.safe_load(kubeconfig_before)["users"]
        status, body, _ = http("GET", f"{again.url}/api/v1/namespaces")
        assert status == 200, body
    finally:
        stop_apiserver(again)


def test_anything_but_tls_is_refused(etcd: Etcd, tmp_path: Path) -> None:
    server = start_apiserver(tmp_path / "canopy", etcd.url)
    try:
        host, port = server.url.removeprefix("https://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = sock.recv(4096)
        assert not answer.startswith(b"HTTP/1.1 200")
        status, _, _ = http("GET", f"{server.url}/version", tls=client_tls(server.ca_file))
        assert status == 200
    finally:
        stop_apiserver(server)


def test_kubectl_with_a_certificate_from_another_ca_is_told_so(etcd: Etcd, tmp_path: Path) -> None:
    server = start_apiserver(tmp_path / "canopy", etcd.url)
    try:
        stranger = load_or_create_ca(tmp_path / "other-ca")
        cert, key = stranger.issue_client_cert("admin", ["system:masters"])
        config = yaml.safe_load(server.admin_kubeconfig.read_text())
        config["users"][0]["user"] = {"client-certificate-data": base64.b64encode(cert).decode(),
                                      "client-key-data": base64.b64encode(key).decode()}
        (tmp_path / "stranger.kubeconfig").write_text(yaml.safe_dump(config))
        result = Kubectl(tmp_path / "stranger.kubeconfig", "root").run("get", "ns", check=False)
        assert result.returncode == 1
        assert "remote error: tls: unknown certificate authority" in result.stderr
        status, _, _ = http("GET", f"{server.url}/api/v1/namespaces")
        assert status == 200  # and the server keeps serving
    finally:
        stop_apiserver(server)
