"""Certificates made on the fly for https tests: a private CA and server certificates."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

x509 = pytest.importorskip("cryptography.x509")  # in the test extra; skip only outside it
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class Certificates:
    """PEM files: the CA's certificate (the bundle a client trusts) and a server's pair."""

    ca: Path
    cert: Path
    key: Path

    @property
    def pair(self) -> tuple[str, str]:
        """(certfile, keyfile) for ``Server(tls=...)``."""
        return str(self.cert), str(self.key)


def _name(common_name: str) -> Any:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool) -> Any:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                          content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        names = [x509.IPAddress(ipaddress.ip_address(HOSTS[0])), x509.DNSName(HOSTS[1])]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: Any, key: Optional[Any] = None) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    return path


def make_certificates(directory: Path, *, self_signed: bool = False) -> Certificates:
    """A CA and a server certificate for 127.0.0.1/localhost signed by it (or by itself)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    server_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate("chatmini test CA", ca_key, "chatmini test CA", ca_key, ca=True)
    if self_signed:
        server_cert = _certificate("localhost", server_key, "localhost", server_key, ca=False)
    else:
        server_cert = _certificate("localhost", server_key, "chatmini test CA", ca_key, ca=False)
    ca = _write(directory / "ca.pem", ca_cert)
    cert = _write(directory / "server.pem", server_cert, server_key)
    return Certificates(ca=ca, cert=cert, key=cert.with_suffix(".key"))
