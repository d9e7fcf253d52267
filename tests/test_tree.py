"""Tree logic: speed estimates that enter with a node, model-aware UCT, selection (pure Python, milliseconds)."""

import math

import pytest

from litecoop.search.tree import Node, estimate, select, small_model_bonus, uct_score


def chain(*keys):
    """root -> keys[0] -> keys[1] ...; returns [root, nodes...]."""
    nodes = [Node(None, "root")]
    for key in keys:
        nodes.append(nodes[-1].add_child(Node(None, key)))
    return nodes


def test_small_model_bonus_falls_with_size():
    assert small_model_bonus(270e6, 270e6, 1.5e9) == 1.0
    assert small_model_bonus(1.5e9, 270e6, 1.5e9) == 0.0
    assert 0 < small_model_bonus(494e6, 270e6, 1.5e9) < 1


def test_a_node_is_valued_when_it_enters_and_its_measurement_replaces_the_prediction():
    root, child, leaf = chain("c", "l")
    estimate(child, 500.0)      # predicted: 2 ms
    estimate(leaf, 250.0)       # predicted: 4 ms
    assert (root.visits, child.visits, leaf.visits) == (2, 2, 1)
    assert root.speed_sum == pytest.approx(750.0)
    estimate(leaf, 1000.0)      # measured: 1 ms replaces the 4 ms prediction, no extra visit
    assert (root.visits, child.visits, leaf.visits) == (2, 2, 1)
    assert child.speed_sum == pytest.approx(1500.0)
    assert child.value(best_speed=1000.0) == pytest.approx(0.75)
    assert leaf.path() == [child, leaf]


def test_values_do_not_depend_on_when_nodes_were_measured():
    """A node measured early (when it was the best) and one measured late (after a faster trace was found, and
    after entering with a prediction that its measurement replaced) are worth the same when their latencies are
    equal, both read relative to the best now; siblings rank by latency, not by the order they were measured in."""
    parent = Node(None, "p")
    early, late, later = (parent.add_child(Node(None, key)) for key in ("early", "late", "later"))
    estimate(early, 1 / 4e-3)        # measured first: 4 ms, the best so far
    assert early.value(best_speed=1 / 4e-3) == pytest.approx(1.0)
    estimate(late, 1 / 0.5e-3)       # enters predicted at 0.5 ms ...
    estimate(later, 1 / 8e-3)        # ... this one at 8 ms
    best_speed = 1 / 1e-3            # then a 1 ms trace is measured elsewhere
    estimate(late, 1 / 4e-3)         # measured: 4 ms, like early
    estimate(later, 1 / 2e-3)        # measured: 2 ms, slower than the best, faster than early
    assert early.value(best_speed) == pytest.approx(late.value(best_speed)) == pytest.approx(0.25)
    assert later.value(best_speed) == pytest.approx(0.5)
    assert parent.value(best_speed) == pytest.approx((0.25 + 0.25 + 0.5) / 3)
    assert select(parent, 0.0, 0.0, lambda n: 0.0, max_children=4, best_speed=best_speed) is later


def test_estimated_children_are_compared_not_taken_blindly():
    """A child without an estimate scores +inf, but a valued child competes on its value: selection goes to
    the better predicted subtree instead of the first unmeasured one."""
    parent = Node(None, "p")
    assert uct_score(parent.add_child(Node(None, "fresh")), 10, 1.0, 0.2, 0.0, 1.0) == math.inf
    parent.children.clear()
    weak, strong = parent.add_child(Node(None, "w")), parent.add_child(Node(None, "s"))
    estimate(weak, 100.0)
    estimate(strong, 900.0)
    assert select(parent, 0.1, 0.0, lambda n: 0.0, max_children=4, best_speed=1000.0) is strong


def test_small_model_bias_decides_between_equal_values():
    small, large = Node(None, "s"), Node(None, "l")
    for node in (small, large):
        estimate(node, 500.0)
    assert uct_score(small, 10, 1.0, 0.2, 1.0, 1000.0) > uct_score(large, 10, 1.0, 0.2, 0.0, 1000.0)


def test_select_descends_through_full_nodes_to_an_open_one():
    root = Node(None, "root")
    good, bad = root.add_child(Node(None, "g")), root.add_child(Node(None, "b"))
    estimate(good, 1000.0)
    estimate(bad, 100.0)
    for i in range(2):
        estimate(good.add_child(Node(None, f"g{i}")), 800.0)
    assert select(root, 0.1, 0.0, lambda n: 0.0, max_children=4, best_speed=1000.0) is good
    assert select(root, 0.1, 0.0, lambda n: 0.0, max_children=2, best_speed=1000.0).parent is good
