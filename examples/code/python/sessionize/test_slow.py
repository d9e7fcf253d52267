from slow import session_stats


def test_empty():
    assert session_stats([]) == {}


def test_one_session_per_user():
    events = [("a", 100, "/"), ("b", 150, "/help"), ("a", 200, "/cart"), ("a", 300, "/")]
    assert session_stats(events) == {
        "a": {"sessions": 1, "clicks": 3, "longest_s": 200, "pages": ["/", "/cart"], "landing": ["/"]},
        "b": {"sessions": 1, "clicks": 1, "longest_s": 0, "pages": ["/help"], "landing": ["/help"]},
    }


def test_gap_splits_sessions_at_exactly_30_minutes():
    events = [("a", 0, "/"), ("a", 1800, "/x"), ("a", 3601, "/y"), ("a", 3700, "/z")]
    stats = session_stats(events)["a"]
    assert stats["sessions"] == 2 and stats["landing"] == ["/", "/y"] and stats["longest_s"] == 1800


def test_out_of_order_events_are_sorted_stably():
    events = [("a", 5000, "/late"), ("a", 10, "/first"), ("a", 10, "/second"), ("b", 1, "/b")]
    stats = session_stats(events)
    assert list(stats) == ["a", "b"]
    assert stats["a"]["landing"] == ["/first", "/late"] and stats["a"]["clicks"] == 3
