import pytest

from slow import parse_csv


def test_types_and_rows():
    assert parse_csv("a,1,2.5\nb,-3,x\n") == [["a", 1, 2.5], ["b", -3, "x"]]


def test_empty_text_and_fields():
    assert parse_csv("") == []
    assert parse_csv("a,,b") == [["a", "", "b"]]
    assert parse_csv("a,\nb") == [["a", ""], ["b"]]
    assert parse_csv("\n") == [[""]]


def test_quoting():
    assert parse_csv('"a,b","say ""hi""","7"\n') == [["a,b", 'say "hi"', "7"]]
    assert parse_csv('"line\nbreak",2') == [["line\nbreak", 2]]
    assert parse_csv('""') == [[""]]


def test_crlf_and_no_final_newline():
    assert parse_csv("1,2\r\n3,4") == [[1, 2], [3, 4]]
    assert parse_csv("x\ry\r\n") == [["x"], ["y"]]


def test_errors():
    with pytest.raises(ValueError, match="unterminated"):
        parse_csv('"open,1\n')
    with pytest.raises(ValueError, match="unexpected"):
        parse_csv('"a"b,1')
