"""Certificates made for one test: a CA, a server certificate it signs, a client certificate it signs.

The TLS tests of the Redis client need a ``redis-server`` listening with a
certificate the client can verify (or, for the failure cases, cannot). They
make their own with the ``cryptography`` package (a ``dev`` extra), so no
key or certificate lives in the repository and none expires under CI's feet:

    pki = make_pki(tmp_path)                     # PEM files in tmp_path
    pki.ca_file, pki.server_cert, pki.server_key, pki.client_cert, pki.client_key

Every certificate is valid from an hour ago for a day; the server's names
``localhost`` and ``127.0.0.1`` (so hostname checking works on the loopback
address the test server binds).
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALID_FOR = datetime.timedelta(days=1)


@attrs.frozen
class PKI:
    """Paths of the PEM files :func:`make_pki` wrote."""

    ca_file: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str


@attrs.frozen
class _Issuer:
    name: x509.Name
    key: ec.EllipticCurvePrivateKey


def make_pki(directory: Path, *, prefix: str = "") -> PKI:
    """A fresh CA with a server and a client certificate, written under ``directory``.

    Two calls with different ``prefix`` make two unrelated CAs: a client that
    trusts one does not trust the other's server (the untrusted-CA test).
    """
    ca = _make_ca(f"{prefix}trio-otp test CA")
    write = _Writer(directory, prefix)
    server_key, server_cert = _issue(ca, "localhost", server=True)
    client_key, client_cert = _issue(ca, "trio-otp test client", server=False)
    return PKI(
        ca_file=write.cert("ca.crt", _self_signed(ca)),
        server_cert=write.cert("server.crt", server_cert),
        server_key=write.key("server.key", server_key),
        client_cert=write.cert("client.crt", client_cert),
        client_key=write.key("client.key", client_key),
    )


def _make_ca(common_name: str) -> _Issuer:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return _Issuer(name, ec.generate_private_key(ec.SECP256R1()))


def _self_signed(ca: _Issuer) -> x509.Certificate:
    builder = _builder(ca, ca.name, ca.key.public_key())
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    builder = builder.add_extension(_key_usage(cert_sign=True), critical=True)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(ca.key.public_key()), critical=False)
    return builder.sign(ca.key, hashes.SHA256())


def _issue(ca: _Issuer, common_name: str, *, server: bool) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = _builder(ca, subject, key.public_key())
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    builder = builder.add_extension(_key_usage(cert_sign=False), critical=True)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    issuer_key = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
    builder = builder.add_extension(issuer_key, critical=False)
    if server:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return key, builder.sign(ca.key, hashes.SHA256())


def _builder(ca: _Issuer, subject: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))  # a clock a little behind still accepts it
        .not_valid_after(now + _VALID_FOR)
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False, decipher_only=False,
    )


@attrs.frozen
class _Writer:
    directory: Path
    prefix: str

    def cert(self, name: str, cert: x509.Certificate) -> str:
        return self._write(name, cert.public_bytes(serialization.Encoding.PEM))

    def key(self, name: str, key: ec.EllipticCurvePrivateKey) -> str:
        encoding, key_format = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
        pem = key.private_bytes(encoding, key_format, serialization.NoEncryption())
        return self._write(name, pem)

    def _write(self, name: str, data: bytes) -> str:
        path = self.directory / f"{self.prefix}{name}"
        path.write_bytes(data)
        return str(path)
