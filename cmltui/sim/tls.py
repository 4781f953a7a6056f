"""Certificates for the simulated CML endpoints, made fresh at start with `cryptography`.

A small CA signs the server certificate (SAN IP:127.0.0.1, DNS:localhost); clients trust the
CA file. A second, unrelated self-signed certificate backs the TLS-failure fault: a client that
verifies against the CA rejects it during the handshake.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cmltui.clock import SystemClock


@dataclass(frozen=True)
class TlsMaterial:
    ca_file: Path
    server: ssl.SSLContext  # trusted chain
    untrusted: ssl.SSLContext  # self-signed, wrong name: for Fault.TLS_FAILURE


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cmltui simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _cert(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    signer: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    sans: list[x509.GeneralName],
) -> x509.Certificate:
    # Certificate validity is checked by OpenSSL against the wall clock, whatever the sim clock.
    now = SystemClock().now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    return builder.sign(signer, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _context(directory: Path, stem: str, chain: bytes, key: bytes) -> ssl.SSLContext:
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(chain)
    key_path.write_bytes(key)
    key_path.chmod(0o600)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_path, key_path)
    return ctx


def make_tls(directory: Path) -> TlsMaterial:
    """Write ca.pem (and the server keys) under `directory` and return server contexts."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("cmltui simulator CA")
    ca_cert = _cert(ca_name, ca_name, ca_key, ca_key, ca=True, sans=[])
    server_key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.DNSName("localhost"),
    ]
    server_cert = _cert(_name("localhost"), ca_name, server_key, ca_key, ca=False, sans=sans)
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    rogue_name = _name("untrusted.invalid")
    rogue_cert = _cert(
        rogue_name,
        rogue_name,
        rogue_key,
        rogue_key,
        ca=False,
        sans=[x509.DNSName("untrusted.invalid")],
    )
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(_pem(ca_cert))
    return TlsMaterial(
        ca_file=ca_file,
        server=_context(
            directory, "server", _pem(server_cert) + _pem(ca_cert), _key_pem(server_key)
        ),
        untrusted=_context(directory, "untrusted", _pem(rogue_cert), _key_pem(rogue_key)),
    )
