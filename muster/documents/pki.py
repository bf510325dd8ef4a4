"""The demo certificate authority and the offices' signing certificates.

Everything lives under MUSTER_HOME/keys as PEM files made on first use and never
replaced: a PDF signed yesterday must still chain to the CA on disk today. A real
deployment swaps these files for certificates from an accredited CA.
"""

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from muster import keys

from .storage import write_once

CA_NAME = "muster demo CA"
CA_YEARS = 10
_CA_KEY, _CA_CERT = "demo-ca.key.pem", "demo-ca.cert.pem"
_OFFICE_CODE = re.compile(r"[A-Za-z0-9_-]{1,16}")
# Certificates start a little in the past so that a clock a few minutes behind still accepts them.
_BACKDATE = dt.timedelta(hours=1)


def office_common_name(office_code: str) -> str:
    return f"Recruitment office {office_code}"


def ensure_demo_ca() -> tuple[Path, Path]:
    """Create the CA key and self-signed certificate once; return their paths."""
    key_path, cert_path = keys.key_dir() / _CA_KEY, keys.key_dir() / _CA_CERT
    # The certificate is written after its key, so its presence means both are there.
    if cert_path.exists():
        return key_path, cert_path
    key = _ensure_key(key_path)
    now = dt.datetime.now(dt.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "muster"),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS + CA_YEARS // 4))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    # A concurrent first use may have won: its certificate is for the same key, so keep it.
    write_once(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def ca_certificate_pem() -> bytes:
    """The CA certificate to publish: whoever trusts it can verify muster's documents."""
    return ensure_demo_ca()[1].read_bytes()


def ca_certificate() -> asn1_x509.Certificate:
    """The CA certificate in the form pyHanko's validator takes as a trust root."""
    return _asn1_cert(ca_certificate_pem())


def office_signer(office_code: str, office_name: str) -> SimpleSigner:
    """A pyHanko signer holding the office's key and its certificate under the demo CA."""
    if not _OFFICE_CODE.fullmatch(office_code):
        raise ValueError(f"not an office code: {office_code!r}")
    folder = keys.key_dir() / "offices"
    folder.mkdir(mode=0o700, exist_ok=True)
    key_path, cert_path = folder / f"{office_code}.key.pem", folder / f"{office_code}.cert.pem"
    if not cert_path.exists():
        _issue_office_certificate(office_code, office_name, key_path, cert_path)
    return _signer(str(key_path), str(cert_path), ca_certificate_pem())


def _issue_office_certificate(code: str, name: str, key_path: Path, cert_path: Path) -> None:
    ca_key_path, ca_cert_path = ensure_demo_ca()
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
    # A key made by a concurrent first use wins; the certificate is then made for that key.
    public = _ensure_key(key_path).public_key()
    subject = [
        x509.NameAttribute(NameOID.COMMON_NAME, office_common_name(code)),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "muster"),
    ]
    if name:
        subject.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, name[:64]))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        # No renewal yet: an office certificate lives as long as the CA that issued it.
        .not_valid_after(ca_cert.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    write_once(cert_path, cert.public_bytes(serialization.Encoding.PEM))


def _ensure_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if not path.exists():
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_once(path, pem, mode=0o600)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _key_usage(**flags: bool) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{n: flags.get(n, False) for n in names})


def _asn1_cert(pem: bytes) -> asn1_x509.Certificate:
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


@lru_cache(maxsize=256)
def _signer(key_path: str, cert_path: str, ca_pem: bytes) -> SimpleSigner:
    # Key files are never replaced, so a signer loaded once stays right; the CA's PEM is in
    # the cache key so that another MUSTER_HOME (tests) never reuses a stale signer.
    key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    ca = _asn1_cert(ca_pem)
    return SimpleSigner(
        signing_cert=_asn1_cert(Path(cert_path).read_bytes()),
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs([ca]),
    )
