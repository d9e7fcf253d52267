import pytest

from slow import count_decodings


def test_classic_cases():
    assert count_decodings(["12", "226", "06", "10", "27"]) == [2, 3, 0, 1, 1]


def test_empty_message_and_list():
    assert count_decodings([""]) == [1]
    assert count_decodings([]) == []


def test_zeros():
    assert count_decodings(["100", "101", "2101", "30", "1201234"]) == [0, 1, 1, 0, 3]


def test_fibonacci_growth():
    assert count_decodings(["1" * n for n in range(1, 11)]) == [1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
    assert count_decodings(["1" * 25]) == [121393]


def test_rejects_non_digits():
    with pytest.raises(ValueError):
        count_decodings(["12", "1a"])
    with pytest.raises(ValueError):
        count_decodings(["-1"])
