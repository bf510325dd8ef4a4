import copy
import datetime as dt
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from muster.exchange import protocol


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


def message(**overrides):
    return {
        "id": "border:1",
        "peer": "border",
        "seq": 1,
        "type": "restriction.add",
        "sent_at": "2026-06-01T10:00:00+00:00",
        "body": {
            "restriction_id": "M1",
            "national_id": "0101",
            "surname": "Иванов",
            "kind": "exit",
            "start": "2026-06-01",
            "basis": "S-1",
            "patronymic": None,
        },
        **overrides,
    }


def test_sign_verify_round_trip(key):
    envelope = protocol.sign(key, message())
    assert set(envelope) == {"message", "signature", "key_id"}
    assert protocol.verify(key.public_key(), envelope) == message()
    assert envelope["key_id"] == protocol.key_id(key.public_key())
    assert len(envelope["key_id"]) == 16
    assert "=" not in envelope["signature"]
    assert len(protocol.b64url_decode(envelope["signature"])) == 64


def test_envelope_carries_what_was_signed(key):
    # A date is signed as its JSON spelling, and the envelope holds that spelling.
    body = {"restriction_id": "M1", "start": dt.date(2026, 6, 1)}
    envelope = protocol.sign(key, message(body=body))
    assert envelope["message"]["body"]["start"] == "2026-06-01"
    assert protocol.verify(key.public_key(), envelope)["body"]["start"] == "2026-06-01"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("seq",), 2),
        (("id",), "border:2"),
        (("body", "kind"), "driving"),
        (("body", "national_id"), "0102"),
        (("body", "extra"), "x"),
    ],
)
def test_tampered_message_fails(key, path, value):
    envelope = protocol.sign(key, message())
    tampered = copy.deepcopy(envelope)
    target = tampered["message"]
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(protocol.BadSignature):
        protocol.verify(key.public_key(), tampered)


def test_tampered_signature_fails(key):
    envelope = protocol.sign(key, message())
    raw = bytearray(protocol.b64url_decode(envelope["signature"]))
    raw[0] ^= 1
    for signature in (
        protocol.b64url_encode(bytes(raw)),
        envelope["signature"] + "==",
        "",
        "!!",
        None,
        17,
        envelope["signature"][:-2],
    ):
        with pytest.raises(protocol.BadSignature):
            protocol.verify(key.public_key(), {**envelope, "signature": signature})


def test_wrong_key_fails(key):
    other = Ed25519PrivateKey.generate()
    envelope = protocol.sign(other, message())
    with pytest.raises(protocol.BadSignature):
        protocol.verify(key.public_key(), envelope)
    # Claiming the expected key id does not help a signature by another key.
    with pytest.raises(protocol.BadSignature):
        protocol.verify(key.public_key(), {**envelope, "key_id": protocol.key_id(key.public_key())})
    # Nor does a genuine signature travel under another key id.
    genuine = protocol.sign(key, message())
    with pytest.raises(protocol.BadSignature):
        protocol.verify(key.public_key(), {**genuine, "key_id": "0" * 16})


@pytest.mark.parametrize("envelope", [None, [], "x", {}, {"message": [], "signature": "", "key_id": ""}])
def test_not_an_envelope_fails(key, envelope):
    with pytest.raises(protocol.BadSignature):
        protocol.verify(key.public_key(), envelope)


def test_canonical_form_is_key_order_independent(key):
    a = message()
    b = dict(reversed(list(a.items())))
    b["body"] = dict(reversed(list(a["body"].items())))
    assert list(a) != list(b)
    assert protocol.canonical(a) == protocol.canonical(b)
    assert protocol.canonical(a).startswith(b'{"body":{"basis":"S-1"')
    assert b" " not in protocol.canonical({"a": 1, "b": [1, 2]})
    # So a signature made over one order verifies over the other.
    envelope = protocol.sign(key, a)
    assert protocol.verify(key.public_key(), {**envelope, "message": b}) == a


def test_keys_as_pem(key):
    pem = protocol.public_key_pem(key)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    public = protocol.load_public_key_pem(pem)
    assert protocol.key_id(public) == protocol.key_id(key.public_key())
    again = protocol.load_private_key_pem(protocol.private_key_pem(key))
    assert protocol.public_key_pem(again) == pem
    with pytest.raises(ValueError, match=r"PEM|Ed25519|Could not"):
        protocol.load_public_key_pem(b"not a key")


def test_digest_sorts_and_joins_ids():
    expected = hashlib.sha256(b"M10\nM2\nM9").hexdigest()
    assert protocol.digest(["M9", "M10", "M2"]) == expected
    assert protocol.digest({"M2", "M9", "M10"}) == expected
    assert protocol.digest([]) == hashlib.sha256(b"").hexdigest()
