import pytest

from slow import factor_counts


def test_small_numbers():
    assert factor_counts([1, 2, 3, 4, 6, 12]) == [(0, 1), (1, 2), (1, 2), (2, 3), (2, 4), (3, 6)]


def test_primes_and_powers():
    assert factor_counts([19997, 1024, 3 ** 7]) == [(1, 2), (10, 11), (7, 8)]


def test_composites():
    assert factor_counts([360, 9991, 19998]) == [(6, 24), (2, 4), (5, 24)]


def test_empty():
    assert factor_counts([]) == []


def test_rejects_non_positive():
    with pytest.raises(ValueError):
        factor_counts([5, 0])
