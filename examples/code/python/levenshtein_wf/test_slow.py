from slow import wf_levenshtein


def test_classic_cases():
    assert wf_levenshtein("kitten", "sitting") == 3
    assert wf_levenshtein("flaw", "lawn") == 2
    assert wf_levenshtein("intention", "execution") == 5


def test_empty_strings():
    assert wf_levenshtein("", "") == 0
    assert wf_levenshtein("", "abc") == 3
    assert wf_levenshtein("abcd", "") == 4


def test_identical_and_symmetric():
    assert wf_levenshtein("same", "same") == 0
    assert wf_levenshtein("abcdef", "azced") == wf_levenshtein("azced", "abcdef") == 3


def test_no_transpositions():
    assert wf_levenshtein("ab", "ba") == 2


def test_unicode_and_case():
    assert wf_levenshtein("café", "cafe") == 1
    assert wf_levenshtein("ABC", "abc") == 3


def test_lists_of_tokens():
    assert wf_levenshtein(["the", "cat", "sat"], ["the", "dog", "sat", "down"]) == 2
