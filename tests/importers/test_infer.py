"""Kinds, options and scale ends as inferred from the cells and the question text."""

from __future__ import annotations

import pytest

from polls.importers import ImportProblem, infer_specs, read_survey
from polls.importers.infer import stated_max_choices
from polls.importers.options import order_options
from polls.importers.scales import stated_ends
from tests.importers.helpers import names_the_cell


def spec_of(header: str, cells: list[str]):
    """The inferred spec of a one-question plain table."""
    lines = [f'id,"{header}"'] + [f'{i},"{c}"' for i, c in enumerate(cells, start=1)]
    survey = read_survey("\n".join(lines).encode(), "t.csv")
    return infer_specs(survey)[0]


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        (
            "How effective is it? 1 = not effective at all 10 = very effective",
            (1, 10, "not effective at all", "very effective"),
        ),
        ("How aware is the workforce? (Rate from 0-10)", (0, 10, "", "")),
        (
            "Rate it on a scale of 0-10, with 0 being not effective at all and 10 being very "
            "effective",
            (0, 10, "not effective at all", "very effective"),
        ),
        ("How likely, on a scale from 1 to 5?", (1, 5, "", "")),
        ("Rate it (0 = Not at all, 10 = Completely).", (0, 10, "Not at all", "Completely")),
        ("Years? 1 = under two, 2 = two to five, 3 = over five", (1, 3, "under two", "over five")),
    ],
)
def test_scale_ends_come_from_the_question_text(text, ends):
    found = stated_ends(text)
    assert (found.low, found.high, found.low_label, found.high_label) == ends


def test_texts_without_a_scale_state_no_ends():
    assert stated_ends("What are the top 3 barriers to reunification?") is None
    assert stated_ends("Q1 = 3 items") is None


def test_a_stated_scale_wins_over_the_data():
    spec = spec_of("How effective? 1 = not effective at all 10 = very effective", ["4", "6"] * 3)
    assert (spec.kind, spec.scale_min, spec.scale_max) == ("scale", 1, 10)
    assert spec.scale_max_label == "very effective"


def test_scale_ends_come_from_the_data_when_the_text_states_none():
    spec = spec_of("Score", ["3", "7", "5", "4"])
    assert (spec.kind, spec.scale_min, spec.scale_max) == ("scale", 3, 7)


def test_labelled_scale_points_give_the_end_labels():
    spec = spec_of("Effectiveness", ["0 - not at all", "5", "3", "10 - completely", "7"])
    assert spec.kind == "scale"
    assert (spec.scale_min, spec.scale_max) == (0, 10)
    assert (spec.scale_min_label, spec.scale_max_label) == ("not at all", "completely")


def test_a_number_with_words_in_the_middle_of_the_range_is_not_a_scale_point():
    spec = spec_of("How often", ["1 time", "3 times a week", "7 - daily"] * 3)
    assert spec.kind == "single_choice"


def test_numbers_beyond_a_hundred_points_are_not_a_scale():
    assert spec_of("Year qualified", ["1975", "2019", "2020"] * 3).kind != "scale"


def test_frequency_options_follow_the_scale_order():
    spec = spec_of("How often?", ["Often", "Not sure", "Never", "Always", "Occasionally"] * 2)
    assert [o.text for o in spec.options] == [
        "Never", "Occasionally", "Often", "Always", "Not sure",
    ]  # fmt: skip


def test_likely_options_run_from_very_likely_to_very_unlikely():
    values = ["Unlikely", "Very likely", "Don't know", "Very unlikely", "Likely"]
    assert order_options(values) == [
        "Very likely", "Likely", "Unlikely", "Very unlikely", "Don't know",
    ]  # fmt: skip


def test_other_options_keep_first_appearance_order():
    assert order_options(["Team B", "Team A", "Other"]) == ["Team B", "Team A", "Other"]


def test_numeric_recodes_are_ordered_by_number():
    assert order_options(["10", "2", "1"]) == ["1", "2", "10"]


def test_an_option_starting_with_other_is_the_other_option():
    spec = spec_of("Team?", ["A", "B", "Other (please specify)", "A", "B", "A"])
    assert [(o.text, o.is_other) for o in spec.options][-1] == ("Other (please specify)", True)


def test_long_unique_answers_are_free_text():
    answers = [f"Answer number {i} about caseloads and supervision" for i in range(6)]
    assert spec_of("What helps?", answers).kind == "free_text"


def test_many_distinct_short_answers_are_free_text():
    assert spec_of("One word?", [f"w{i}" for i in range(40)]).kind == "free_text"


def test_a_few_repeated_answers_are_a_single_choice():
    assert (
        spec_of("Which team?", ["North", "South", "North", "North", "South"]).kind
        == "single_choice"
    )


def test_a_comma_in_a_single_answer_does_not_make_it_multi_choice():
    spec = spec_of("Sure?", ["Yes, definitely", "No", "Yes, definitely", "No", "Maybe"] * 2)
    assert spec.kind == "single_choice"
    assert [o.text for o in spec.options] == ["Yes, definitely", "No", "Maybe"]


def test_comma_joined_repeated_options_are_multi_choice():
    cells = ["Time,Money", "Money", "Time", "Staff,Time", "Money,Staff", "Time"]
    spec = spec_of("Barriers", cells)
    assert spec.kind == "multi_choice"
    assert [o.text for o in spec.options] == ["Time", "Money", "Staff"]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("What are the top three barriers to reunification? Please select three only", 3),
        ("Choose up to 2 services", 2),
        ("Tick no more than five", 5),
        ("Select all that apply", None),
        ("Which services did you use?", None),
    ],
)
def test_max_choices_comes_from_the_question_text(text, count):
    assert stated_max_choices(text) == count


def test_questions_nobody_answered_are_free_text_unless_the_text_states_a_scale():
    survey = read_survey(b"id,Why?,Rate 1 = bad 5 = good,x\n1,,,a\n2,,,b\n", "empty.csv")
    assert [s.kind for s in infer_specs(survey)][:2] == ["free_text", "scale"]


def test_an_answer_too_long_for_an_option_is_free_text_and_cannot_be_forced_to_a_choice():
    long = "word " * 300
    survey = read_survey(f'id,Q1\n1,Yes\n2,Yes\n3,Yes\n4,"{long}"\n'.encode(), "long.csv")
    assert infer_specs(survey)[0].kind == "free_text"
    with pytest.raises(ImportProblem) as caught:
        infer_specs(survey, {"questions": [{"id": "Q1", "kind": "single_choice"}]})
    names_the_cell(caught.value, "long.csv", row=None, column="B (Q1)")
