"""Tree logic: model-aware UCT, selection and backpropagation."""

import math

from litecoop.tree import Node, backpropagate, select, small_model_bonus, uct_score


def test_small_model_bonus_falls_with_size():
    assert small_model_bonus(270e6, 270e6, 1.5e9) == 1.0
    assert small_model_bonus(1.5e9, 270e6, 1.5e9) == 0.0
    assert 0 < small_model_bonus(494e6, 270e6, 1.5e9) < 1


def test_unvisited_child_first_then_bias_decides_ties():
    fresh, small, large = Node(None, "a"), Node(None, "b"), Node(None, "c")
    assert uct_score(fresh, 10, 1.0, 0.2, 0.0) == math.inf
    for node in (small, large):
        node.visits, node.reward_sum = 2, 1.0
    assert uct_score(small, 10, 1.0, 0.2, 1.0) > uct_score(large, 10, 1.0, 0.2, 0.0)


def test_backpropagate_reaches_root():
    root = Node(None, "root")
    child = root.add_child(Node(None, "c"))
    leaf = child.add_child(Node(None, "l"))
    backpropagate(leaf, 0.5)
    assert (root.visits, child.visits, leaf.visits) == (1, 1, 1)
    assert root.reward_sum == 0.5
    assert leaf.path() == [child, leaf]


def test_select_descends_to_best_full_node():
    root = Node(None, "root")
    good, bad = root.add_child(Node(None, "g")), root.add_child(Node(None, "b"))
    backpropagate(good, 1.0)
    backpropagate(bad, 0.1)
    for i in range(2):
        good.add_child(Node(None, f"g{i}"))
    assert select(root, 0.1, 0.0, lambda n: 0.0, max_children=4) is good
    assert select(root, 0.1, 0.0, lambda n: 0.0, max_children=2).parent is good
