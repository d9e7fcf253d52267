import pytest

from slow import RIPPLE_ALPHABET, b58encode


def test_known_vectors():
    assert b58encode(b"hello world") == b"StV1DL6CwTryKyV"
    assert b58encode(b"\x00\x00hello world") == b"11StV1DL6CwTryKyV"
    assert b58encode(b"hello world", alphabet=RIPPLE_ALPHABET) == b"StVrDLaUATiyKyV"


def test_empty_and_zero_bytes():
    assert b58encode(b"") == b""
    assert b58encode(b"\x00") == b"1"
    assert b58encode(b"\x00\x00\x01") == b"112"


def test_str_is_ascii_encoded():
    assert b58encode("hello world") == b"StV1DL6CwTryKyV"
    with pytest.raises(UnicodeEncodeError):
        b58encode("héllo")


def test_round_trip_through_integers():
    data = bytes(range(1, 256)) * 3
    encoded = b58encode(data)
    alphabet = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    value = 0
    for char in encoded:
        value = value * 58 + alphabet.index(char)
    assert value.to_bytes(len(data), "big") == data
