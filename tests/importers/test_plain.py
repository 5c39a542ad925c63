"""Plain one-header-row tables: ids, attributes and question ids."""

from __future__ import annotations

import pytest

from polls.importers import ImportProblem, infer_specs, interpret, read_survey
from polls.importers.plain import is_attribute
from tests.importers.helpers import data, names_the_cell, workbook_bytes


def test_it_reads_a_semicolon_separated_windows_1252_table():
    survey = read_survey(data("plain_semicolon_cp1252.csv"), "plain_semicolon_cp1252.csv")
    assert survey.platform == "spreadsheet"
    assert [r.export_id for r in survey.respondents] == ["1001", "1002", "1003", "1004", "1005"]
    assert survey.attribute_columns == ["Region"]
    specs = infer_specs(survey)
    assert [(s.export_id, s.kind) for s in specs] == [
        ("Q1", "scale"),
        ("Q2", "free_text"),
        ("Q3", "single_choice"),
    ]
    assert (specs[0].scale_min, specs[0].scale_max) == (1, 10)
    assert interpret(survey, specs)[1][0].text == "Too many cases; not enough time"


def test_it_reads_a_utf8_bom_table_with_ids_in_the_headers():
    survey = read_survey(data("plain_bom.csv"), "plain_bom.csv")
    assert [(q.export_id, q.text) for q in survey.questions] == [
        ("Q1", "How often do processes align with your judgement?"),
        ("Q2", "What are the biggest barriers to acting on children's wishes?"),
        ("Q3", "How effective? (Rate from 0-10)"),
    ]
    assert survey.respondents[0].export_id == "S01"  # the "Respondent ID" column
    assert survey.respondents[0].attributes == {"Role": "Social worker"}
    specs = infer_specs(survey)
    assert [o.text for o in specs[0].options] == ["Occasionally", "Often", "Always"]
    assert interpret(survey, specs)[1][0].text == "Lack of resources.\nCase loads are very high."


def test_it_names_respondents_by_row_without_an_id_column():
    survey = read_survey(b"What helps?,Score\nTime,3\nMoney,4\n", "noid.csv")
    assert [r.export_id for r in survey.respondents] == ["R2", "R3"]


def test_an_id_like_header_is_the_question_id():
    survey = read_survey(b"ResponseId,q1.2,Q7\nA,yes,3\nB,no,5\n", "ids.csv")
    assert [q.export_id for q in survey.questions] == ["q1.2", "Q7"]


def test_headers_that_are_not_ids_give_positional_ids():
    survey = read_survey(b"id,How often?,Q2\n1,Often,3\n2,Never,5\n", "mixed.csv")
    assert [(q.export_id, q.text) for q in survey.questions] == [
        ("Q1", "How often?"),
        ("Q2", "Q2"),
    ]


def test_a_header_ending_with_a_question_mark_is_always_a_question():
    cells = ["North", "South"] * 10
    assert is_attribute("Region", cells)
    assert not is_attribute("Region?", cells)
    assert not is_attribute("Which region?", cells)


def test_few_short_categories_under_a_short_header_make_an_attribute():
    assert is_attribute("Local office", ["Leeds", "York", "Hull"] * 5)
    assert not is_attribute("Local office", ["Leeds", "York"])  # too few rows to tell
    assert not is_attribute("Caseload", [str(n) for n in range(15)])  # numbers
    assert not is_attribute("Q4", ["yes", "no"] * 10)  # a question id
    assert not is_attribute("How often do processes align", ["Often", "Never"] * 10)


def test_answer_scale_values_are_a_question_not_an_attribute():
    assert not is_attribute("Satisfaction", ["Very satisfied", "Satisfied", "Dissatisfied"] * 5)


def test_it_reads_a_plain_workbook():
    book = workbook_bytes([["id", "Team", "Score"], [1, "A", 3], [2, "B", 7]])
    survey = read_survey(book, "table.xlsx", format="xlsx")
    assert survey.attribute_columns == ["Team"]
    assert survey.questions[0].columns[0].cells == ["3", "7"]


def test_the_csv_format_reads_even_a_qualtrics_file_as_a_plain_table():
    survey = read_survey(data("qualtrics_numeric.csv"), "q.csv", format="csv")
    assert survey.platform == "spreadsheet"
    assert survey.respondents[0].export_id == "Response ID"  # row 2 read as a response


def test_duplicate_ids_in_a_plain_table_are_refused():
    with pytest.raises(ImportProblem) as caught:
        read_survey(b"id,Q1\n7,yes\n8,no\n7,maybe\n", "ids.csv")
    names_the_cell(caught.value, "ids.csv", row=4, column="A (id)")
    assert "rows 2 and 4" in str(caught.value)


def test_duplicate_headers_differing_in_case_are_refused():
    with pytest.raises(ImportProblem) as caught:
        read_survey(b"id,Q1,q1\n7,yes,no\n", "case.csv")
    names_the_cell(caught.value, "case.csv", row=1, column="C (q1)")
