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
    """The value of a node is read relative to the current best, so a node measured early (when the best was
    slow) is not worth more than the same latency measured late."""
    early, late = Node(None, "early"), Node(None, "late")
    estimate(early, 1 / 4e-3)   # measured first, when it was the best
    estimate(late, 1 / 4e-3)    # the same latency, measured after a 1 ms trace was found
    best_speed = 1 / 1e-3
    assert early.value(best_speed) == late.value(best_speed) == pytest.approx(0.25)


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
