"""The server's CA, serving certificate and client certificates, down to a real TLS handshake."""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime
import ipaddress
import socket
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from controlplane.pki import (
    CertificateAuthority,
    PKIError,
    default_hosts,
    ensure_serving_cert,
    identity_from_peercert,
    load_or_create_ca,
)

HOSTS = ["localhost", "127.0.0.1", "::1", "api.example.com"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _sans(cert: x509.Certificate) -> x509.SubjectAlternativeName:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value


def test_ca_is_created_once_then_reused(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    ca = load_or_create_ca(pki)

    assert load_or_create_ca(pki) == ca
    assert (pki / "ca.crt").read_bytes() == ca.cert_pem
    assert _mode(pki) == 0o700
    assert _mode(pki / "ca.key") == 0o600
    cert = ca.certificate
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "canopy-ca"
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and usage.digital_signature
    assert cert.not_valid_after_utc - cert.not_valid_before_utc > datetime.timedelta(days=3640)


def test_half_a_ca_is_refused_rather_than_replaced(tmp_path: Path) -> None:
    load_or_create_ca(tmp_path)
    (tmp_path / "ca.key").unlink()

    with pytest.raises(PKIError, match=r"ca\.key is missing"):
        load_or_create_ca(tmp_path)


def test_a_key_that_does_not_match_the_ca_is_refused(tmp_path: Path) -> None:
    load_or_create_ca(tmp_path / "a")
    other = load_or_create_ca(tmp_path / "b")
    (tmp_path / "a" / "ca.key").write_bytes(other.key_pem)

    with pytest.raises(PKIError, match="is not the key of"):
        load_or_create_ca(tmp_path / "a")


def test_serving_cert_names_every_host_and_is_signed_by_the_ca(tmp_path: Path) -> None:
    ca = load_or_create_ca(tmp_path)
    cert_path, key_path = ensure_serving_cert(tmp_path, ca, HOSTS)

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    cert.verify_directly_issued_by(ca.certificate)
    sans = _sans(cert)
    assert sans.get_values_for_type(x509.DNSName) == ["localhost", "api.example.com"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "localhost"
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert _mode(key_path) == 0o600


def test_serving_cert_is_reused_while_it_fits(tmp_path: Path) -> None:
    ca = load_or_create_ca(tmp_path)
    cert_path, key_path = ensure_serving_cert(tmp_path, ca, HOSTS)
    first = cert_path.read_bytes(), key_path.read_bytes()

    ensure_serving_cert(tmp_path, ca, HOSTS)
    ensure_serving_cert(tmp_path, ca, HOSTS[:2])

    assert (cert_path.read_bytes(), key_path.read_bytes()) == first


def test_a_new_tls_san_reissues_the_serving_cert(tmp_path: Path) -> None:
    ca = load_or_create_ca(tmp_path)
    cert_path, _ = ensure_serving_cert(tmp_path, ca, HOSTS)
    before = cert_path.read_bytes()

    ensure_serving_cert(tmp_path, ca, [*HOSTS, "10.0.0.7", "canopy.internal"])

    assert cert_path.read_bytes() != before
    sans = _sans(x509.load_pem_x509_certificate(cert_path.read_bytes()))
    assert "canopy.internal" in sans.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("10.0.0.7") in sans.get_values_for_type(x509.IPAddress)


def test_serving_cert_close_to_expiry_is_renewed(tmp_path: Path) -> None:
    ca = load_or_create_ca(tmp_path)
    cert_pem, key_pem = ca.issue_serving_cert(HOSTS, days=10)
    (tmp_path / "serving.crt").write_bytes(cert_pem)
    (tmp_path / "serving.key").write_bytes(key_pem)

    cert_path, _ = ensure_serving_cert(tmp_path, ca, HOSTS)

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > datetime.timedelta(days=300)


def test_serving_cert_from_a_replaced_ca_is_reissued(tmp_path: Path) -> None:
    old_ca = load_or_create_ca(tmp_path / "old")
    ensure_serving_cert(tmp_path / "new", old_ca, HOSTS)
    new_ca = load_or_create_ca(tmp_path / "new")

    cert_path, _ = ensure_serving_cert(tmp_path / "new", new_ca, HOSTS)

    x509.load_pem_x509_certificate(cert_path.read_bytes()).verify_directly_issued_by(new_ca.certificate)


def test_client_cert_carries_user_as_cn_and_groups_as_o(tmp_path: Path) -> None:
    ca = load_or_create_ca(tmp_path)
    cert_pem, key_pem = ca.issue_client_cert("alice", ["system:masters", "team-a"])

    cert = x509.load_pem_x509_certificate(cert_pem)
    cert.verify_directly_issued_by(ca.certificate)
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == ["alice"]
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
        "system:masters", "team-a"]
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH]
    assert b"PRIVATE KEY" in key_pem


def test_user_name_too_long_for_a_cn_is_refused(tmp_path: Path) -> None:
    ca = load_or_create_ca(tmp_path)

    with pytest.raises(ValueError, match="1 to 64 characters"):
        ca.issue_client_cert("u" * 65)


def test_default_hosts_cover_loopback_and_this_machine_then_extra_sans() -> None:
    hosts = default_hosts(["api.example.com", "localhost", "10.0.0.7"])

    assert hosts[:3] == ["localhost", "127.0.0.1", "::1"]
    assert socket.gethostname() in hosts
    assert hosts[-2:] == ["api.example.com", "10.0.0.7"]
    assert len(hosts) == len(set(hosts))


def test_identity_from_peercert_reads_cn_and_every_o() -> None:
    peercert = {
        "subject": ((("organizationName", "system:masters"),), (("organizationName", "team-a"),),
                    (("commonName", "alice"),)),
        "issuer": ((("commonName", "canopy-ca"),),),
        "version": 3,
        "serialNumber": "1A2B",
        "notBefore": "Jan  1 00:00:00 2025 GMT",
        "notAfter": "Jan  1 00:00:00 2026 GMT",
    }

    assert identity_from_peercert(peercert) == ("alice", ("system:masters", "team-a"))


def test_no_certificate_or_no_cn_is_no_identity() -> None:
    assert identity_from_peercert(None) is None
    assert identity_from_peercert({}) is None
    assert identity_from_peercert({"subject": ((("organizationName", "team-a"),),)}) is None


def _write_pair(directory: Path, name: str, pair: tuple[bytes, bytes]) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(pair[0])
    key_path.write_bytes(pair[1])
    return cert_path, key_path


def _server_context(pki: Path, ca: CertificateAuthority) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(cadata=ca.cert_pem.decode())
    context.load_cert_chain(*ensure_serving_cert(pki, ca, HOSTS))
    return context


def _client_context(ca: CertificateAuthority, client_cert: tuple[Path, Path] | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=ca.cert_pem.decode())
    if client_cert is not None:
        context.load_cert_chain(*client_cert)
    return context


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext, server_hostname: str) -> dict | None:
    """Connect `client` to `server` over a socket pair; the server's view of the client certificate."""
    server_sock, client_sock = socket.socketpair()
    server_sock.settimeout(10)
    client_sock.settimeout(10)

    def serve() -> dict | None:
        with server.wrap_socket(server_sock, server_side=True) as tls:
            peercert = tls.getpeercert()
            tls.sendall(b"ok")
            return peercert

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        served = pool.submit(serve)
        # A refusal reaches a TLS 1.3 client only after its side of the handshake; what counts is the server's view.
        with contextlib.suppress(OSError), client.wrap_socket(client_sock, server_hostname=server_hostname) as tls:
            tls.recv(2)
        return served.result(timeout=10)


@pytest.mark.parametrize("server_hostname", ["localhost", "127.0.0.1"])
def test_tls_handshake_yields_the_client_identity(tmp_path: Path, server_hostname: str) -> None:
    ca = load_or_create_ca(tmp_path / "pki")
    alice = _write_pair(tmp_path, "alice", ca.issue_client_cert("alice", ["team-a"]))

    peercert = _handshake(_server_context(tmp_path / "pki", ca), _client_context(ca, alice), server_hostname)

    assert identity_from_peercert(peercert) == ("alice", ("team-a",))


def test_tls_client_without_certificate_is_anonymous(tmp_path: Path) -> None:
    ca = load_or_create_ca(tmp_path / "pki")

    peercert = _handshake(_server_context(tmp_path / "pki", ca), _client_context(ca, None), "localhost")

    assert identity_from_peercert(peercert) is None


def test_tls_client_cert_from_another_ca_fails_the_handshake(tmp_path: Path) -> None:
    ca = load_or_create_ca(tmp_path / "pki")
    other_ca = load_or_create_ca(tmp_path / "other")
    mallory = _write_pair(tmp_path, "mallory", other_ca.issue_client_cert("admin", ["system:masters"]))

    with pytest.raises(ssl.SSLError, match="certificate"):
        _handshake(_server_context(tmp_path / "pki", ca), _client_context(ca, mallory), "localhost")
