"""Microsoft Forms workbooks and Google Forms CSV downloads."""

from __future__ import annotations

import pytest

from polls.importers import ImportProblem, infer_specs, interpret, read_survey
from tests.importers.helpers import data, names_the_cell, workbook_bytes


def test_it_reads_a_microsoft_forms_workbook(ms_forms_xlsx):
    survey = read_survey(ms_forms_xlsx, "ms_forms.xlsx")
    assert survey.platform == "microsoft_forms"
    assert [r.export_id for r in survey.respondents] == ["1", "2", "3", "4", "5"]
    assert [(q.export_id, q.text) for q in survey.questions] == [
        ("Q1", "Which barriers apply to you?"),
        ("Q2", "How effective is supervision? 1 = not effective at all 10 = very effective"),
        ("Q3", "What would help you most?"),
    ]
    assert survey.attribute_columns == []  # email and name are not kept


def test_it_ignores_quiz_points_and_feedback_columns(ms_forms_xlsx):
    survey = read_survey(ms_forms_xlsx, "ms_forms.xlsx")
    names = [c.name for q in survey.questions for c in q.columns]
    assert not any(n.startswith(("Points - ", "Feedback - ", "Total points")) for n in names)


def test_microsoft_multi_select_cells_end_with_a_semicolon(ms_forms_xlsx):
    survey = read_survey(ms_forms_xlsx, "ms_forms.xlsx")
    specs = infer_specs(survey)
    assert [s.kind for s in specs] == ["multi_choice", "scale", "free_text"]
    assert [o.text for o in specs[0].options] == [
        "Time",
        "Money, staff and training",
        "Court delays",
    ]
    answers = interpret(survey, specs)
    assert [a.options for a in answers[0]] == [[0, 1], [0], [1, 2], [2, 0]]
    assert [a.value for a in answers[1]] == [7, 4, 10, 2]
    assert answers[2][1].text == "Smaller caseloads\nand better pay"


def test_it_reads_a_google_forms_export_with_an_inline_other_text():
    survey = read_survey(data("google_forms.csv"), "google_forms.csv")
    assert survey.platform == "google_forms"
    specs = infer_specs(survey)
    assert [s.kind for s in specs] == ["single_choice", "multi_choice", "scale", "free_text"]
    assert [(o.text, o.is_other) for o in specs[1].options] == [
        ("Early help", False),
        ("Housing, benefits and debt advice", False),
        ("Mental health services", False),
        ("Other", True),
    ]
    answers = interpret(survey, specs)[1]
    assert (answers[2].options, answers[2].other_text) == (
        [0, 3],
        "Youth clubs, if there were any left",
    )
    assert (specs[2].scale_min, specs[2].scale_max) == (0, 10)


def test_google_respondents_are_named_by_their_spreadsheet_row():
    survey = read_survey(data("google_forms.csv"), "google_forms.csv")
    assert [r.export_id for r in survey.respondents] == ["R2", "R3", "R4", "R5", "R6", "R7"]
    assert "Email Address" not in [c.name for q in survey.questions for c in q.columns]


def test_the_forms_format_tells_microsoft_from_google(ms_forms_xlsx):
    assert read_survey(ms_forms_xlsx, "f.xlsx", format="forms").platform == "microsoft_forms"
    google = read_survey(data("google_forms.csv"), "g.csv", format="forms")
    assert google.platform == "google_forms"


def test_the_forms_format_refuses_another_table():
    with pytest.raises(ImportProblem) as caught:
        read_survey(b"id,Q1\n1,yes\n", "plain.csv", format="forms")
    names_the_cell(caught.value, "plain.csv", row=1, column="A")


def test_microsoft_ids_must_be_unique():
    header = ["ID", "Start time", "Completion time", "Email", "Name", "Q?"]
    book = workbook_bytes([header, [1, None, None, "a", "", "x"], [1, None, None, "b", "", "y"]])
    with pytest.raises(ImportProblem) as caught:
        read_survey(book, "ms.xlsx")
    names_the_cell(caught.value, "ms.xlsx", row=3, column="A (ID)")
