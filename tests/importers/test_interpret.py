"""Cells to answers: values, options, other texts, and the cells that are refused."""

from __future__ import annotations

import pytest

from polls.importers import ImportProblem, infer_specs, interpret, read_survey
from polls.importers.types import OptionSpec, QuestionSpec
from tests.importers.helpers import as_csv, data, names_the_cell, numeric_rows


def table(*lines: str, name: str = "t.csv"):
    return read_survey("\n".join(lines).encode(), name)


def answers_of(survey, specs=None):
    specs = specs or infer_specs(survey)
    return interpret(survey, specs)


def test_only_non_empty_answers_are_produced():
    survey = table("id,Score,Why?", "1,3,", "2,,Because", "3,5,  ")
    specs = [
        QuestionSpec("Q1", "Score", "scale", scale_min=0, scale_max=10),
        QuestionSpec("Q2", "Why?", "free_text"),
    ]
    scores, reasons = answers_of(survey, specs)
    assert [(a.respondent, a.value) for a in scores] == [(0, 3.0), (2, 5.0)]
    assert [(a.respondent, a.text) for a in reasons] == [(1, "Because")]


def test_free_text_keeps_inner_line_breaks_and_drops_outer_space():
    survey = table("id,Why?", '1,"  First line.\r\n\r\nSecond line.  "', "2,x")
    specs = [QuestionSpec("Q1", "Why?", "free_text")]
    assert answers_of(survey, specs)[0][0].text == "First line.\n\nSecond line."


def test_a_bad_scale_value_is_refused_naming_row_and_column():
    survey = table("id,Name,Score", "1,a,3", "2,b,about five", "3,c,4", name="bad.csv")
    spec = QuestionSpec("Q1", "Score", "scale", scale_min=1, scale_max=10)
    with pytest.raises(ImportProblem) as caught:
        interpret(survey, [QuestionSpec("Q1", "Name", "free_text"), spec])
    names_the_cell(caught.value, "bad.csv", row=3, column="C (Score)")
    assert "“about five” is not a point of the scale (1–10)" in str(caught.value)


def test_an_out_of_range_scale_value_is_refused_naming_row_and_column():
    text = "How effective? 1 = not effective at all 10 = very effective"
    survey = table(f"id,{text}", "1,3", "2,10", "3,11", "4,0", name="range.csv")
    with pytest.raises(ImportProblem) as caught:
        answers_of(survey)
    names_the_cell(caught.value, "range.csv", row=4, column="B")
    assert "outside the scale (1–10)" in str(caught.value)


def test_scale_cells_may_carry_their_labels_or_be_only_an_end_label():
    survey = table("id,Effect?", "1,1 = not at all", "2,7", "3,very much", "4,10 = very much")
    spec = QuestionSpec(
        "Q1", "Effect?", "scale", scale_min=1, scale_max=10, scale_max_label="Very much"
    )
    assert [a.value for a in answers_of(survey, [spec])[0]] == [1, 7, 10, 10]


def test_single_choice_matches_text_case_and_spacing_insensitively_or_by_code():
    survey = table("id,Team?", "1,team  a", "2,2", "3,TEAM B")
    spec = QuestionSpec(
        "Q1",
        "Team?",
        "single_choice",
        options=[OptionSpec("Team A", "1"), OptionSpec("Team B", "2")],
    )
    assert [a.options for a in answers_of(survey, [spec])[0]] == [[0], [1], [1]]


def test_an_unknown_choice_is_refused_naming_row_and_column():
    survey = table("id,Team?", "1,Team A", "2,Team C", name="choice.csv")
    spec = QuestionSpec("Q1", "Team?", "single_choice", options=[OptionSpec("Team A")])
    with pytest.raises(ImportProblem) as caught:
        answers_of(survey, [spec])
    names_the_cell(caught.value, "choice.csv", row=3, column="B (Team?)")
    assert "“Team C” is not among its options (Team A)" in str(caught.value)


def test_numbers_name_options_in_order_when_a_schema_lists_only_texts():
    survey = table("id,Q1", "1,1", "2,3", "3,2")
    spec = QuestionSpec(
        "Q1",
        "How often?",
        "single_choice",
        options=[OptionSpec("Never"), OptionSpec("Often"), OptionSpec("Always")],
    )
    assert [a.options for a in answers_of(survey, [spec])[0]] == [[0], [2], [1]]


def test_more_choices_than_allowed_is_not_an_error():
    survey = read_survey(data("qualtrics_numeric.csv"), "numeric.csv")
    specs = infer_specs(survey)
    q14 = [s.export_id for s in specs].index("Q14")
    assert specs[q14].max_choices == 3
    picks = [len(a.options) for a in interpret(survey, specs)[q14]]
    assert max(picks) == 3
    specs[q14].max_choices = 2
    assert [len(a.options) for a in interpret(survey, specs)[q14]] == picks


def test_an_other_text_alone_selects_the_other_option():
    survey = table(
        "Respondent ID,Collector ID,Which team?,",
        ",,Response,Other (please specify)",
        "1,9,Team A,",
        "2,9,,Both teams",
        "3,9,Team B,",
    )
    specs = infer_specs(survey)
    assert [(o.text, o.is_other) for o in specs[0].options] == [
        ("Team A", False),
        ("Team B", False),
        ("Other (please specify)", True),
    ]
    answers = interpret(survey, specs)[0]
    assert [(a.options, a.other_text) for a in answers] == [
        ([0], ""),
        ([2], "Both teams"),
        ([1], ""),
    ]


def test_several_ticks_in_a_single_choice_question_are_refused():
    survey = read_survey(data("qualtrics_numeric.csv"), "numeric.csv")
    specs = infer_specs(survey)
    q14 = [s.export_id for s in specs].index("Q14")
    specs[q14].kind = "single_choice"
    with pytest.raises(ImportProblem) as caught:
        interpret(survey, specs)
    names_the_cell(caught.value, "numeric.csv", row=4, column="O (Q14_1)")
    assert "declare it multi_choice" in str(caught.value)


def test_a_scale_cannot_be_read_from_breakout_columns():
    survey = read_survey(data("qualtrics_numeric.csv"), "numeric.csv")
    specs = infer_specs(survey)
    q14 = [s.export_id for s in specs].index("Q14")
    specs[q14].kind = "scale"
    with pytest.raises(ImportProblem) as caught:
        interpret(survey, specs)
    names_the_cell(caught.value, "numeric.csv", row=4, column="O (Q14_1)")


def test_an_unknown_choice_with_an_other_text_chooses_the_other_option():
    rows = numeric_rows()
    rows[4][19] = "99"  # row 5 answered Q5 with an unknown code, and wrote an other text
    survey = read_survey(as_csv(rows), "numeric.csv")
    specs = infer_specs(survey, {"questions": [{"id": "Q5", "options": [
        {"text": "Children in care", "code": "1"}, {"text": "Front door", "code": "2"},
        {"text": "Other", "code": "4"}]}]})  # fmt: skip
    q5 = [s.export_id for s in specs].index("Q5")
    answer = interpret(survey, specs)[q5][1]
    assert (answer.options, answer.other_text) == ([2], "We cover two areas")
    rows[3][19] = "98"  # row 4: an unknown code and no other text
    survey = read_survey(as_csv(rows), "numeric.csv")
    with pytest.raises(ImportProblem) as caught:
        interpret(survey, specs)
    names_the_cell(caught.value, "numeric.csv", row=4, column="T (Q5)")
