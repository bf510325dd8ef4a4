"""Signing keys under MUSTER_HOME/keys; made by `muster init`, never in the repository."""

import hashlib
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings


def key_dir() -> Path:
    path = Path(settings.MUSTER_HOME) / "keys"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def ensure_ed25519(name: str) -> Path:
    path = key_dir() / f"{name}.ed25519.pem"
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    return path


@cache
def load_ed25519(name: str) -> Ed25519PrivateKey:
    return serialization.load_pem_private_key(ensure_ed25519(name).read_bytes(), password=None)


def audit_key() -> Ed25519PrivateKey:
    return load_ed25519("audit")


def audit_public_key() -> Ed25519PublicKey:
    return audit_key().public_key()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def verify_signature(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def exchange_public_key_file() -> Path:
    """The registry's exchange public key, for peers to verify our messages with."""
    from cryptography.hazmat.primitives import serialization as ser

    path = key_dir() / "exchange.pub.pem"
    pem = load_ed25519("exchange").public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
    if not path.exists() or path.read_bytes() != pem:
        path.write_bytes(pem)
    return path
