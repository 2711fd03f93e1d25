"""Search folding for Turkish, Serbian and Persian."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vefa.common.text import fold


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("istanbul", "İSTANBUL"),
        ("isparta", "ISPARTA"),
        ("isik", "ışık"),
        ("seker", "Şeker"),
        ("gul", "Gül"),
        ("djordje cacak", "Đorđe Čačak"),
        ("djordje", "Ђорђе"),
        ("ljubomir", "Љубомир"),
        ("zivkovic", "Živković"),
        ("علی", "علي"),
        ("کریم", "كريم"),
        ("123", "۱۲۳"),
        ("45", "٤٥"),
        ("محمد", "مُحَمَّد"),
        ("میخواهم", "می\u200cخواهم"),
    ],
)
def test_fold_matches_the_ways_people_type_a_word(typed, stored):
    assert fold(typed) == fold(stored)


@given(st.text(max_size=200))
def test_fold_is_idempotent(text):
    assert fold(fold(text)) == fold(text)


def test_fold_of_empty_is_empty():
    assert fold(None) == ""
    assert fold("   ") == ""


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_the_ascii_short_cut_folds_exactly_like_the_general_rules(text):
    from vefa.common.text import _fold_any

    assert fold(text) == _fold_any(text)
