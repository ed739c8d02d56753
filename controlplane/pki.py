"""The server's own PKI: a CA, the serving certificate it signs, and client certificates for users.

kubectl expects an API server to speak TLS and trusts it through the CA in its kubeconfig; kube-apiserver's x509
authenticator then takes a client certificate's CN as the user name and each O as a group. Canopy does the same, so
`canopy server` needs a CA of its own the first time it starts, and must keep it: every client certificate ever
issued is only as good as the CA that signed it. The files live under `DATA_DIR/pki/`:

    ca.crt, ca.key            the CA (created once, 10 years, then only read)
    serving.crt, serving.key  the API server's certificate, re-issued on start when it no longer fits

The serving certificate is checked on every start rather than created once, so that a new `--tls-san`, a new host
name or a replaced CA takes effect by restarting, and a certificate close to expiry is renewed before kubectl
starts refusing it.

Every key is ECDSA P-256: generating one takes microseconds (tests issue many), and Go's TLS stack, OpenSSL and
kubectl all accept it. A CA brought along from elsewhere (kubeadm's are RSA) still works: only the keys Canopy
generates are P-256. Files are written to a temporary name and renamed, so a crash never leaves half a key behind.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

CA_COMMON_NAME = "canopy-ca"
_CA_VALIDITY = datetime.timedelta(days=3650)
# notBefore lies this far in the past, so a client whose clock is a little behind still accepts a fresh certificate.
_CLOCK_SKEW = datetime.timedelta(minutes=5)
# A serving certificate with less than this left is renewed on start, long before clients would see it expire.
_RENEW_BEFORE = datetime.timedelta(days=30)
# RFC 5280's upper bound for a CommonName; `cryptography` refuses longer ones.
_MAX_COMMON_NAME = 64

CA_CERT_FILE = "ca.crt"
CA_KEY_FILE = "ca.key"
SERVING_CERT_FILE = "serving.crt"
SERVING_KEY_FILE = "serving.key"

_SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey


class PKIError(Exception):
    """The files under the PKI directory cannot be used; the message says which and what to do."""


def write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    """Write `data` to `path` with permissions `mode`, so that readers see the old file or the new one, never half.

    The temporary file is created with `mode` already set (and fchmod'ed past the umask), so a private key is never
    readable by others, not even for the instant between writing and renaming.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _public_key_der(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _signature_hash(key: _SigningKey) -> hashes.HashAlgorithm | None:
    # Ed25519/Ed448 sign the message itself; `cryptography` wants no hash for them.
    return None if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey) else hashes.SHA256()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _subject_alternative_names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA as its two PEM files; it signs the serving certificate and users' client certificates."""

    cert_pem: bytes
    key_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    def _signing_key(self) -> _SigningKey:
        key = serialization.load_pem_private_key(self.key_pem, password=None)
        if not isinstance(key, _SigningKey):
            raise PKIError(f"the CA key is a {type(key).__name__}, which cannot sign certificates; use an EC, RSA or"
                           " Ed25519 key")
        return key

    def issue_client_cert(self, user: str, groups: Sequence[str] = (), *, days: int = 365) -> tuple[bytes, bytes]:
        """A client certificate for `user` in `groups`, as (cert PEM, key PEM).

        kube-apiserver's x509 authenticator reads the user from the CN and one group from each O; so does
        `identity_from_peercert`.
        """
        if not user or len(user) > _MAX_COMMON_NAME:
            raise ValueError(f"user name {user!r} cannot be a certificate's CN: it must have 1 to {_MAX_COMMON_NAME}"
                             " characters")
        subject = x509.Name(
            [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
            + [x509.NameAttribute(NameOID.COMMON_NAME, user)]
        )
        return self._issue(subject, ExtendedKeyUsageOID.CLIENT_AUTH, sans=None, days=days)

    def issue_serving_cert(self, hosts: Sequence[str], *, days: int = 365) -> tuple[bytes, bytes]:
        """A serving certificate valid for every name and address in `hosts`, as (cert PEM, key PEM).

        Clients match the host they dialled against the SANs only (the CN has been ignored for that since Go 1.15),
        so every host goes into the SANs: IP addresses as IP entries, anything else as a DNS name. The CN is the
        first host, for people reading the certificate.
        """
        if not hosts:
            raise ValueError("a serving certificate needs at least one host name or IP address")
        common_name = hosts[0] if len(hosts[0]) <= _MAX_COMMON_NAME else "canopy-apiserver"
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        return self._issue(subject, ExtendedKeyUsageOID.SERVER_AUTH, sans=_subject_alternative_names(hosts),
                           days=days)

    def _issue(self, subject: x509.Name, usage: x509.ObjectIdentifier, *, sans: list[x509.GeneralName] | None,
               days: int) -> tuple[bytes, bytes]:
        ca_cert, ca_key = self.certificate, self._signing_key()
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        try:
            authority_key_id = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value)
        except x509.ExtensionNotFound:
            authority_key_id = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            # A certificate outliving its CA would only be refused later, with a more confusing error.
            .not_valid_after(min(now + datetime.timedelta(days=days), ca_cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
            ), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(authority_key_id, critical=False)
        )
        if sans is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(ca_key, _signature_hash(ca_key))
        return _cert_pem(cert), _private_key_pem(key)


def _create_ca() -> CertificateAuthority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME)])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + _CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(_cert_pem(cert), _private_key_pem(key))


def _ensure_private_dir(pki_dir: Path) -> None:
    pki_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(pki_dir, 0o700)


def load_or_create_ca(pki_dir: Path) -> CertificateAuthority:
    """The CA in `pki_dir`, created (self-signed, CN canopy-ca, 10 years) the first time.

    Half a CA is an error, not a reason to make a new one: replacing the CA would silently invalidate every client
    certificate and kubeconfig handed out so far.
    """
    cert_path, key_path = pki_dir / CA_CERT_FILE, pki_dir / CA_KEY_FILE
    if not cert_path.exists() and not key_path.exists():
        ca = _create_ca()
        _ensure_private_dir(pki_dir)
        write_atomically(key_path, ca.key_pem, mode=0o600)
        write_atomically(cert_path, ca.cert_pem, mode=0o644)
        log.info("created CA %s in %s", CA_COMMON_NAME, pki_dir)
        return ca
    missing = [path for path in (cert_path, key_path) if not path.exists()]
    if missing:
        raise PKIError(f"{missing[0]} is missing but {pki_dir} holds the rest of the CA; restore it, or remove both"
                       f" {CA_CERT_FILE} and {CA_KEY_FILE} to create a new CA (every issued client certificate and"
                       " kubeconfig then stops working)")
    ca = CertificateAuthority(cert_path.read_bytes(), key_path.read_bytes())
    try:
        cert, key = ca.certificate, ca._signing_key()
    except (ValueError, TypeError) as e:
        raise PKIError(f"cannot read the CA in {pki_dir}: {e}; {CA_CERT_FILE} and {CA_KEY_FILE} must be PEM files"
                       " (the key unencrypted)") from e
    if _public_key_der(cert.public_key()) != _public_key_der(key.public_key()):
        raise PKIError(f"{key_path} is not the key of {cert_path}; put the matching pair back")
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise PKIError(f"{cert_path} is not a CA certificate (basicConstraints CA:TRUE is missing), so clients would"
                       " reject what it signs")
    return ca


def _covers(cert: x509.Certificate, hosts: Sequence[str]) -> bool:
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    dns_names = {name.lower() for name in sans.get_values_for_type(x509.DNSName)}
    addresses = set(sans.get_values_for_type(x509.IPAddress))
    for host in hosts:
        try:
            if ipaddress.ip_address(host) not in addresses:
                return False
        except ValueError:
            if host.lower() not in dns_names:
                return False
    return True


def _serving_cert_problem(cert_path: Path, key_path: Path, ca: CertificateAuthority,
                          hosts: Sequence[str]) -> str | None:
    """Why the serving certificate on disk cannot be kept, or None when it can."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except FileNotFoundError:
        return "there is none yet"
    except (OSError, ValueError) as e:
        return f"it cannot be read ({e})"
    try:
        cert.verify_directly_issued_by(ca.certificate)
    except (ValueError, TypeError, InvalidSignature):
        return "it is not signed by the current CA"
    if _public_key_der(cert.public_key()) != _public_key_der(key.public_key()):
        return f"{key_path.name} is not its key"
    if not _covers(cert, hosts):
        return "it does not cover every requested host"
    now = _now()
    if cert.not_valid_before_utc > now or cert.not_valid_after_utc - now <= _RENEW_BEFORE:
        return f"it is valid from {cert.not_valid_before_utc} to {cert.not_valid_after_utc}"
    return None


def ensure_serving_cert(pki_dir: Path, ca: CertificateAuthority, hosts: Sequence[str]) -> tuple[Path, Path]:
    """The serving certificate and key files for `hosts`, re-issued unless the existing ones still fit.

    "Fit" means signed by `ca`, holding every host in its SANs, and valid for more than 30 more days.
    """
    cert_path, key_path = pki_dir / SERVING_CERT_FILE, pki_dir / SERVING_KEY_FILE
    problem = _serving_cert_problem(cert_path, key_path, ca, hosts)
    if problem is None:
        return cert_path, key_path
    log.info("issuing a serving certificate for %s: %s", ", ".join(hosts), problem)
    cert_pem, key_pem = ca.issue_serving_cert(hosts)
    _ensure_private_dir(pki_dir)
    # Key first: a crash between the two renames leaves a mismatched pair, which the next start re-issues.
    write_atomically(key_path, key_pem, mode=0o600)
    write_atomically(cert_path, cert_pem, mode=0o644)
    return cert_path, key_path


def default_hosts(extra_sans: Sequence[str] = ()) -> list[str]:
    """The names a local client may dial (loopback, this machine's host name) followed by `--tls-san` values."""
    hosts = ["localhost", "127.0.0.1", "::1", socket.gethostname(), *extra_sans]
    return list(dict.fromkeys(host.strip() for host in hosts if host.strip()))


def identity_from_peercert(peercert: Mapping[str, Any] | None) -> tuple[str, tuple[str, ...]] | None:
    """(user, groups) from a verified client certificate, as `ssl.SSLSocket.getpeercert()` returns it.

    The subject there is a tuple of RDNs, each a tuple of (attribute, value) pairs. As in kube-apiserver, the CN is
    the user (Go keeps the last CN when there are several, and so does this) and every O is a group. None when the
    client sent no certificate (`getpeercert()` gives None or {}) or the certificate has no CN.
    """
    if not peercert:
        return None
    user: str | None = None
    groups: list[str] = []
    for rdn in peercert.get("subject", ()):
        for attribute, value in rdn:
            if attribute == "commonName":
                user = value
            elif attribute == "organizationName":
                groups.append(value)
    if not user:
        return None
    return user, tuple(groups)
