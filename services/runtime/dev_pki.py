"""A certificate authority of this machine's own, so that `csd dev` runs the same mutual TLS as
production: a CA under var/tls/ and one certificate per part, made once and kept.

Production brings its own CA (CSD_TLS_CA, CSD_TLS_CERT, CSD_TLS_KEY per part); this is only the
way a laptop gets one without knowing openssl. Keys are ECDSA P-256 and written 0600. A
certificate is made again when it is missing, unreadable, not from this CA or within
`RENEW_WITHIN` of expiring.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.runtime.tls import PARTS, TlsFiles, TlsSettingsError, identity_name

CA_VALIDITY = datetime.timedelta(days=3650)
PART_VALIDITY = datetime.timedelta(days=365)
RENEW_WITHIN = datetime.timedelta(days=30)


@dataclass(frozen=True)
class DevPki:
    """The dev CA's folder; `files(part)` are that part's TLS settings."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    def files(self, part: str) -> TlsFiles:
        return TlsFiles(self.ca, self.folder / f"{part}.pem", self.folder / f"{part}-key.pem")

    def ready(self, part: str) -> TlsFiles | None:
        """`part`'s files once csd dev has written all three, else None (it is still starting,
        or has not made its CA yet)."""
        files = self.files(part)
        try:
            files.read()
        except TlsSettingsError:
            return None
        return files

    def env(self, part: str) -> dict[str, str]:
        files = self.files(part)
        return {
            "CSD_TLS_CA": str(files.ca),
            "CSD_TLS_CERT": str(files.cert),
            "CSD_TLS_KEY": str(files.key),
        }


def ensure_dev_pki(var_dir: Path, *, now: datetime.datetime | None = None) -> DevPki:
    """The dev CA and every part's certificate under `var_dir`/tls, made where needed."""
    moment = now or datetime.datetime.now(datetime.UTC)
    pki = DevPki(var_dir / "tls")
    pki.folder.mkdir(parents=True, exist_ok=True)
    os.chmod(pki.folder, 0o700)
    ca_key_path = pki.folder / "ca-key.pem"
    ca_cert = _loaded(pki.ca)
    if ca_cert is None or not ca_key_path.exists() or _expiring(ca_cert, moment):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _ca_certificate(ca_key, moment)
        _write_key(ca_key_path, ca_key)
        _write_atomically(pki.ca, ca_cert.public_bytes(serialization.Encoding.PEM))
    else:
        loaded = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        ca_key = loaded
    for part in PARTS:
        files = pki.files(part)
        cert = _loaded(files.cert)
        if (
            cert is None
            or not files.key.exists()
            or cert.issuer != ca_cert.subject
            or _expiring(cert, moment)
        ):
            key = ec.generate_private_key(ec.SECP256R1())
            _write_key(files.key, key)
            _write_atomically(
                files.cert,
                _part_certificate(part, key, ca_key, ca_cert, moment).public_bytes(
                    serialization.Encoding.PEM
                ),
            )
    return pki


def _loaded(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def _expiring(cert: x509.Certificate, now: datetime.datetime) -> bool:
    return cert.not_valid_after_utc - now < RENEW_WITHIN


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_atomically(path, pem, mode=0o600)


def _write_atomically(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Written beside, then renamed into place: a part starting meanwhile (or `csd status`)
    reads the old file or the new one, never half of one."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)  # a crashed run's, perhaps with other permissions
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(partial, path)


def _ca_certificate(key: ec.EllipticCurvePrivateKey, now: datetime.datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csd-ops dev CA")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
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
        .sign(key, hashes.SHA256())
    )


def _part_certificate(
    part: str,
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    now: datetime.datetime,
) -> x509.Certificate:
    # The part's name is its identity; localhost and 127.0.0.1 let grpcurl and other tools
    # reach a dev port by address with only the CA to trust.
    names: list[x509.GeneralName] = [
        x509.DNSName(identity_name(part)),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, identity_name(part))]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + PART_VALIDITY)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
