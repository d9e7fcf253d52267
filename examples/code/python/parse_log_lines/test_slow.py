import json

from slow import parse_log_lines

HEADER = json.dumps({
    "fields": [{"name": "service"}, {"name": "level"}, {"name": "message"}],
    "levels": {"info": ["info", "i"], "error": ["error", "err"]},
})


def test_empty():
    assert parse_log_lines(HEADER, []) == {}


def test_counts_per_service_and_level():
    lines = ["api\tinfo\tok\n", "api\tERR\tboom\n", "db\ti\tok\n", "api\tInfo\tok\n"]
    assert parse_log_lines(HEADER, lines) == {
        "api": {"info": 2, "error": 1},
        "db": {"info": 1},
    }


def test_unknown_level():
    assert parse_log_lines(HEADER, ["api\tweird\tx"]) == {"api": {"unknown": 1}}


def test_skips_malformed_lines():
    lines = ["api\tinfo\n", "api\tinfo\tok\textra\n", "", "db\terror\tfail\n"]
    assert parse_log_lines(HEADER, lines) == {"db": {"error": 1}}


def test_field_order_from_header():
    header = json.dumps({"fields": [{"name": "level"}, {"name": "service"}],
                         "levels": {"warning": ["warn"]}})
    assert parse_log_lines(header, ["WARN\tauth"]) == {"auth": {"warning": 1}}
