"""The interagency exchange protocol (docs/exchange-protocol.md): canonical form and signatures.

Shared by the registry and the peers, so it imports nothing from Django: a peer is its
own process that must not need the registry's settings or database.
"""

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class BadSignature(ValueError):
    """The envelope is not a message signed by the expected key."""


def canonical(message: dict) -> bytes:
    """The bytes that are signed: compact JSON with sorted keys, UTF-8.

    Both sides sign and verify what they hold as parsed JSON, so the key order and the
    whitespace of the transport do not matter.
    """
    return orjson.dumps(message, option=orjson.OPT_SORT_KEYS)


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict: the unpadded URL-safe alphabet only, so one signature has one spelling."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url without padding") from exc


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of sha256 of the raw key (as muster.keys.key_id)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_public_key_pem(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def load_private_key_pem(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def sign(private_key: Ed25519PrivateKey, message: dict) -> dict:
    """The signed envelope {"message", "signature", "key_id"}.

    The message in the envelope is the canonical form read back, so values that JSON
    spells differently from Python (dates, tuples) are sent exactly as they were signed.
    """
    data = canonical(message)
    return {
        "message": orjson.loads(data),
        "signature": b64url_encode(private_key.sign(data)),
        "key_id": key_id(private_key.public_key()),
    }


def verify(public_key: Ed25519PublicKey, envelope: dict) -> dict:
    """The message of an envelope signed by `public_key`; raises BadSignature otherwise."""
    if not isinstance(envelope, dict):
        raise BadSignature("the envelope is not a JSON object")
    message, signature = envelope.get("message"), envelope.get("signature")
    if not isinstance(message, dict):
        raise BadSignature("the envelope has no message object")
    # A key_id naming another key means another signer, even before the maths says so.
    if envelope.get("key_id") != key_id(public_key):
        raise BadSignature("signed with another key")
    try:
        raw = b64url_decode(signature)
        public_key.verify(raw, canonical(message))
    except (ValueError, TypeError, InvalidSignature, orjson.JSONEncodeError) as exc:
        raise BadSignature("the signature does not match the message") from exc
    return message


def digest(restriction_ids: Iterable[str]) -> str:
    """sha256 hex of the ids sorted by code point and joined by "\\n" (no trailing newline)."""
    return hashlib.sha256("\n".join(sorted(restriction_ids)).encode("utf-8")).hexdigest()
