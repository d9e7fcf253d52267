from slow import hash as murmur3


def test_known_vectors():
    assert murmur3("", 0) == 0
    assert murmur3("", 1) == 0x514E28B7
    assert murmur3("", 0xFFFFFFFF) & 0xFFFFFFFF == 0x81F16F39
    assert murmur3(b"\x00\x00\x00\x00", 0) == 0x2362F9DE
    assert murmur3("aaaa", 0x9747B28C) == 0x5A97808A
    assert murmur3("Hello, world!", 0x9747B28C) == 0x24884CBA
    assert murmur3("The quick brown fox jumps over the lazy dog", 0x9747B28C) == 0x2FA826CD


def test_signed_like_mmh3():
    assert murmur3("foo") == -156908512
    assert murmur3("", 0xFFFFFFFF) == -2114883783


def test_every_tail_length():
    values = {murmur3(b"abcdefg"[:n], 42) for n in range(8)}
    assert len(values) == 8


def test_str_bytes_and_bytearray_agree():
    assert murmur3("héllo", 7) == murmur3("héllo".encode(), 7) == murmur3(bytearray("héllo".encode()), 7)
