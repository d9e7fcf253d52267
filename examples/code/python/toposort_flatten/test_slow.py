import pytest

from slow import CircularDependencyError, toposort_flatten


def test_documented_example():
    data = {2: {11}, 9: {11, 8}, 10: {11, 3}, 11: {7, 5}, 8: {7, 3}}
    assert toposort_flatten(data) == [3, 5, 7, 8, 11, 2, 9, 10]


def test_empty_and_self_dependency():
    assert toposort_flatten({}) == []
    assert toposort_flatten({"a": {"a"}}) == ["a"]


def test_chain_and_missing_keys():
    assert toposort_flatten({"c": {"b"}, "b": {"a"}}) == ["a", "b", "c"]
    assert toposort_flatten({"x": set(), "y": {"x", "z"}}) == ["x", "z", "y"]


def test_unsorted_keeps_the_levels():
    result = toposort_flatten({1: {2, 3}, 2: {3}}, sort=False)
    assert result == [3, 2, 1]
    levels = toposort_flatten({"b": {"a"}, "c": {"a"}}, sort=False)
    assert levels[0] == "a" and set(levels[1:]) == {"b", "c"}


def test_input_is_not_modified():
    data = {1: {2}, 2: {2, 3}}
    toposort_flatten(data)
    assert data == {1: {2}, 2: {2, 3}}


def test_cycle_raises():
    with pytest.raises(CircularDependencyError) as raised:
        toposort_flatten({1: {2}, 2: {3}, 3: {1}, 0: set()})
    assert isinstance(raised.value, ValueError) and raised.value.data == {1: {2}, 2: {3}, 3: {1}}
