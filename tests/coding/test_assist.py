"""coding.assist: plain data in, plain data out, so no database here."""

from __future__ import annotations

import pytest
from django.utils.safestring import SafeString

from coding.assist import (
    Suggester,
    ThemeEntry,
    duplicate_groups,
    highlight,
    matches,
    near_duplicates,
    normalise,
    parse_query,
    search_themes,
    similar,
    suggest,
)

RESOURCES = ThemeEntry(
    1,
    "Lack of resources",
    "Underfunding of local authority services means support is not available.",
    ("money", "budget cuts"),
)
TIME = ThemeEntry(2, "Lack of time", "High caseloads leave too little time to build trust.")
PLACEMENTS = ThemeEntry(3, "Lack of placements", "Too few foster carers and suitable homes.")
FAMILY = ThemeEntry(4, "Wanting to be with family", "Children want to go back home.")
SPECIALIST = ThemeEntry(
    5, "Lack of specialist resources", "Specialist services for disabled children."
)
CODEBOOK = [TIME, PLACEMENTS, FAMILY, SPECIALIST, RESOURCES]


def names(results) -> list[str]:
    return [theme.name for theme, _ in results]


# --- normalise ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Time.", "time"),
        ("  Lack   of\tRESOURCES!! ", "lack of resources"),
        ("children's well-being", "childrens well being"),
        ("...", ""),
    ],
)
def test_normalise_casefolds_strips_punctuation_and_collapses_whitespace(text, expected):
    assert normalise(text) == expected


# --- search_themes -----------------------------------------------------------------------


def test_a_misspelt_word_still_ranks_its_theme_first():
    assert names(search_themes("resorces", CODEBOOK))[0] == "Lack of resources"


def test_a_prefix_finds_every_theme_that_starts_with_it():
    found = names(search_themes("lack", CODEBOOK))
    assert set(found) == {t.name for t in CODEBOOK if t.name.startswith("Lack")}


def test_a_half_typed_word_finds_its_theme():
    assert names(search_themes("placem", CODEBOOK))[0] == "Lack of placements"


def test_an_alias_finds_its_theme():
    assert names(search_themes("money", CODEBOOK)) == ["Lack of resources"]


def test_a_description_word_finds_its_theme():
    assert names(search_themes("underfunding", CODEBOOK)) == ["Lack of resources"]


def test_a_name_match_ranks_above_a_description_match():
    time = ThemeEntry(10, "Time", "")
    caseloads = ThemeEntry(11, "Caseloads", "Too many cases and too little time.")
    assert names(search_themes("time", [caseloads, time])) == ["Time", "Caseloads"]


def test_every_query_word_must_match():
    assert names(search_themes("lack placements", CODEBOOK)) == ["Lack of placements"]


def test_scores_are_between_0_and_100_best_first():
    scores = [score for _, score in search_themes("lack of res", CODEBOOK)]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= score <= 100 for score in scores)


def test_search_returns_at_most_limit_themes():
    assert len(search_themes("lack", CODEBOOK, limit=2)) == 2


@pytest.mark.parametrize("query", ["", "   ", "?!"])
def test_an_empty_query_finds_nothing(query):
    assert search_themes(query, CODEBOOK) == []


def test_nonsense_finds_nothing():
    assert search_themes("zzz", CODEBOOK) == []


# --- near_duplicates ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Lack of resource", "lack of Resources.", "LACK OF RESOURCES"])
def test_a_name_differing_by_a_plural_case_or_punctuation_is_a_near_duplicate(name):
    assert near_duplicates(name, CODEBOOK)[0] == RESOURCES


def test_a_name_close_to_an_alias_is_a_near_duplicate():
    assert near_duplicates("Budget cut", CODEBOOK) == [RESOURCES]


@pytest.mark.parametrize("name", ["Lack of time", "Lack of training", "Funding", ""])
def test_a_different_name_is_not_a_near_duplicate_of_lack_of_resources(name):
    assert RESOURCES not in near_duplicates(name, CODEBOOK)


# --- suggest -----------------------------------------------------------------------------

CODED = [
    ("There is no money for services and budgets keep being cut", frozenset({1})),
    ("Funding for support has been cut again", frozenset({1})),
    ("Services are underfunded and short of money", frozenset({1})),
    ("The council budget cannot pay for therapy", frozenset({1})),
    ("Caseloads are far too high to see children often", frozenset({2})),
    ("No time to visit the child, too many cases", frozenset({2})),
    ("Social workers are rushed and have no time", frozenset({2})),
    ("Visits are short because of huge caseloads", frozenset({2})),
    ("There are not enough foster carers", frozenset({3})),
    ("No suitable placement was available nearby", frozenset({3})),
    ("Children moved far away as there are no foster homes", frozenset({3})),
    ("A shortage of placements for teenagers", frozenset({3})),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The budget for services was cut so there is no money", 1),
        ("My caseload is so high I have no time for visits", 2),
        ("We could not find a foster placement for him", 3),
    ],
)
def test_suggest_ranks_the_plainly_right_theme_first(text, expected):
    assert suggest(text, CODED, CODEBOOK)[0][0] == expected


def test_suggest_uses_the_theme_texts_before_anything_is_coded():
    assert suggest("He wants to go back to his family", [], CODEBOOK)[0][0] == FAMILY.id


def test_suggest_returns_at_most_k_themes_best_first():
    found = suggest("no money and no time and no foster carers", CODED, CODEBOOK, k=2)
    assert len(found) == 2
    assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)


def test_suggest_never_returns_a_theme_missing_from_the_codebook():
    coded = [*CODED, ("money money money", frozenset({99}))]
    found = suggest("money", coded, [TIME, PLACEMENTS], k=5)
    assert {theme_id for theme_id, _ in found} <= {TIME.id, PLACEMENTS.id}


def test_suggest_returns_nothing_without_themes():
    assert suggest("no money", CODED, []) == []


def test_an_answer_sharing_no_word_with_any_theme_gets_the_most_frequent_themes():
    coded = [*CODED, ("More placements needed", frozenset({3}))]
    found = suggest("qwerty", coded, CODEBOOK)
    assert found[0][0] == PLACEMENTS.id
    assert all(score < 0.0001 for _, score in found)


def test_a_suggester_gives_the_same_answers_as_suggest():
    suggester = Suggester(CODED, CODEBOOK)
    text = "Caseloads are high"
    assert suggester.suggest(text, 3) == suggest(text, CODED, CODEBOOK, 3)


def test_a_misspelt_word_still_counts_towards_its_theme():
    # "placment" shares no stem with any profile; read as "placement" it points to one.
    assert suggest("no placment anywhere", CODED, CODEBOOK)[0][0] == PLACEMENTS.id


# --- similar -----------------------------------------------------------------------------

ANSWERS = [
    (1, "Caseloads are too high"),
    (2, "Caseloads high, not enough time to see families"),
    (3, "Our caseloads are far too high and still rising"),
    (4, "Not enough foster carers"),
    (5, "The weather"),
]


def test_similar_finds_answers_saying_the_same_thing_best_first():
    found = similar("caseloads are too HIGH!", ANSWERS)
    assert [answer_id for answer_id, _ in found] == [1, 3, 2]
    assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)


def test_similar_drops_answers_below_the_threshold():
    assert [answer_id for answer_id, _ in similar("caseloads are too high", ANSWERS, 40)] == [
        1,
        3,
        2,
        4,
    ]
    found = similar("caseloads are too high", ANSWERS, threshold=90)
    assert [answer_id for answer_id, _ in found] == [1, 3]
    assert all(score >= 90 for _, score in found)


def test_similar_returns_at_most_limit_answers():
    assert len(similar("caseloads are too high", ANSWERS, threshold=0, limit=2)) == 2


def test_similar_to_nothing_is_nothing():
    assert similar("  ", ANSWERS) == []
    assert similar("caseloads", []) == []


# --- duplicate_groups --------------------------------------------------------------------


def test_exact_duplicates_after_normalising_form_one_group():
    groups = duplicate_groups([(1, "Time"), (2, "time."), (3, " TIME "), (4, "Money")])
    assert groups == [[1, 2, 3]]


def test_short_answers_spelt_nearly_alike_form_one_group():
    assert duplicate_groups([(1, "Caseloads"), (2, "caseload")]) == [[1, 2]]


def test_different_short_answers_do_not_group():
    assert duplicate_groups([(1, "Time"), (2, "Money")]) == []


def test_groups_come_largest_first_and_each_id_once():
    answers = [(1, "Money"), (2, "Time"), (3, "money"), (4, "time"), (5, "TIME"), (6, "Staff")]
    groups = duplicate_groups(answers)
    assert groups == [[2, 4, 5], [1, 3]]
    ids = [answer_id for group in groups for answer_id in group]
    assert len(ids) == len(set(ids))


def test_blank_answers_are_not_duplicates():
    assert duplicate_groups([(1, ""), (2, "..."), (3, "  ")]) == []


def test_long_answers_group_only_when_identical_after_normalising():
    long = "Caseloads are far too high for anyone to build a relationship with a child"
    answers = [(1, long), (2, long.upper() + "!"), (3, long.replace("child", "family"))]
    assert duplicate_groups(answers) == [[1, 2]]


# --- parse_query, matches, highlight -----------------------------------------------------


def test_a_query_splits_into_lowercased_words_and_quoted_phrases():
    assert parse_query('Funding "Lack of  TIME" courts') == ["funding", "lack of time", "courts"]


def test_empty_terms_and_repeats_are_dropped():
    assert parse_query('  "" funding   FUNDING " " ') == ["funding"]


def test_an_unclosed_quote_runs_to_the_end():
    assert parse_query('money "lack of') == ["money", "lack of"]


def test_matches_needs_every_term_case_insensitively():
    assert matches("Lack of FUNDING for Courts", ["funding", "courts"])
    assert not matches("Lack of funding", ["funding", "courts"])


def test_matches_accepts_a_word_prefix():
    assert matches("Underfunded, no funding at all", ["fund"])
    assert matches("Caseloads are high", ["case"])


def test_matches_does_not_find_a_term_inside_a_word():
    assert not matches("a refund", ["fund"])


def test_matches_finds_a_phrase_across_any_whitespace():
    assert matches("there is a lack\nof time", ["lack of time"])
    assert not matches("time is lacking", ["lack of time"])


def test_no_terms_match_everything():
    assert matches("anything", [])


def test_highlight_escapes_html_and_marks_terms_case_insensitively():
    html = highlight("<script>alert('Funding')</script> funding", ["funding"])
    assert isinstance(html, SafeString)
    assert "<script>" not in html
    assert html.startswith("&lt;script&gt;")
    assert html.count("<mark>") == 2
    assert "<mark>Funding</mark>" in html and "<mark>funding</mark>" in html


def test_highlight_never_matches_inside_an_entity():
    html = highlight("Tom & Jerry", ["amp"])
    assert html == "Tom &amp; Jerry"


def test_highlight_marks_a_prefix_and_merges_overlaps():
    html = highlight("Underfunding and funding", ["fund", "funding"])
    assert html == "Underfunding and <mark>funding</mark>"


def test_highlight_escapes_the_marked_text_too():
    assert highlight("R&D budget", ["r&d"]) == "<mark>R&amp;D</mark> budget"


def test_highlight_without_terms_only_escapes():
    assert highlight("a < b", []) == "a &lt; b"
