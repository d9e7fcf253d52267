from inputs import SETUPS
from slow import _encode


def encode(setup, *values):
    salt, min_length, alphabet, separators, guards = SETUPS[setup]
    return _encode(values, salt, min_length, alphabet, separators, guards)


def test_documented_examples():
    assert encode(1, 1, 2, 3) == "laHquq"
    assert encode(0, 1, 2, 3) == "o2fXhV"
    assert encode(0, 683, 94108, 123, 5) == "vJvi7On9cXGtD"


def test_other_salts():
    assert encode(1, 683, 94108, 123, 5) == "aBMswoO2UB3Sj"
    assert encode(3, 1, 2, 3) == "ARcOC8"
    assert encode(3, 683, 94108, 123, 5) == "8dlTQonDuDNFX"


def test_min_length_pads_with_guards():
    assert encode(2, 1, 2, 3) == "vzrSyfPv"
    assert encode(2, 683, 94108, 123, 5) == "9EOU1ga9IlnF8"
    assert len(encode(2, 0)) == 8


def test_single_zero_and_huge_values():
    assert len(encode(0, 0)) == 2
    assert encode(1, 10 ** 30) != encode(1, 10 ** 30 + 1)


def test_ids_differ_with_order():
    assert encode(1, 1, 2) != encode(1, 2, 1)
