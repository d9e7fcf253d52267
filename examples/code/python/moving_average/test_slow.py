import pytest

from slow import moving_average


def test_empty():
    assert moving_average([], 3) == []


def test_window_larger_than_input():
    assert moving_average([1, 2], 3) == [1.0, 1.5]


def test_window_one():
    assert moving_average([5, -2, 7], 1) == [5.0, -2.0, 7.0]


def test_basic():
    assert moving_average([1, 2, 3, 4, 10], 2) == [1.0, 1.5, 2.5, 3.5, 7.0]
    assert moving_average([3, 3, 6, 0, 4], 4) == [3.0, 3.0, 4.0, 3.0, 3.25]


def test_invalid_window():
    with pytest.raises(ValueError):
        moving_average([1, 2, 3], 0)
