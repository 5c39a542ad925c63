"""SurveyMonkey "All individual responses": two header rows, questions Q1, Q2…"""

from __future__ import annotations

import pytest

from polls.importers import ImportProblem, infer_specs, interpret, read_survey
from tests.importers.helpers import data, names_the_cell


@pytest.fixture
def survey():
    return read_survey(data("surveymonkey.csv"), "surveymonkey.csv")


def test_it_reads_respondents_by_respondent_id(survey):
    assert survey.platform == "surveymonkey"
    assert [r.export_id for r in survey.respondents][:2] == ["114000000001", "114000000002"]
    assert survey.respondents[0].row == 3


def test_custom_data_becomes_an_attribute_and_personal_metadata_is_dropped(survey):
    assert survey.attribute_columns == ["Custom Data 1"]
    assert survey.respondents[0].attributes == {"Custom Data 1": "North"}
    assert survey.respondents[3].attributes == {}


def test_question_texts_are_carried_over_multi_column_questions(survey):
    specs = infer_specs(survey)
    assert [(s.export_id, s.kind) for s in specs] == [
        ("Q1", "single_choice"),
        ("Q2", "multi_choice"),
        ("Q3", "free_text"),
        ("Q4", "scale"),
        ("Q4_comment", "free_text"),
        ("Q5_1", "single_choice"),
        ("Q5_2", "single_choice"),
    ]
    assert specs[1].text == "Which barriers apply? (select all that apply)"
    assert specs[5].text == (
        "How well equipped do you feel to support these children? - "
        "Children from minority backgrounds"
    )


def test_checkbox_columns_and_the_other_text_make_one_question(survey):
    specs = infer_specs(survey)
    assert [(o.text, o.is_other) for o in specs[1].options] == [
        ("Early help", False),
        ("Housing, benefits and debt advice", False),
        ("Mental health services", False),
        ("Other (please specify)", True),
    ]
    answers = interpret(survey, specs)[1]
    assert [(a.respondent, a.options, a.other_text) for a in answers] == [
        (0, [0, 2], ""),
        (1, [1, 3], "Youth clubs closing"),
        (2, [0], ""),
        (3, [1, 2], ""),
    ]


def test_a_rating_takes_its_ends_from_the_question_text(survey):
    q4 = infer_specs(survey)[3]
    assert (q4.scale_min, q4.scale_max) == (1, 5)
    assert (q4.scale_min_label, q4.scale_max_label) == ("very poor", "very good")


def test_a_survey_monkey_file_without_respondent_ids_is_refused():
    text = data("surveymonkey.csv").decode().replace("Respondent ID", "Respondent", 1)
    with pytest.raises(ImportProblem) as caught:
        read_survey(text.encode(), "sm.csv", format="surveymonkey")
    names_the_cell(caught.value, "sm.csv", row=1)


def test_duplicate_respondent_ids_are_refused_naming_both_rows():
    text = data("surveymonkey.csv").decode().replace("114000000003", "114000000001")
    with pytest.raises(ImportProblem) as caught:
        read_survey(text.encode(), "sm.csv")
    names_the_cell(caught.value, "sm.csv", row=5, column="A (Respondent ID)")
    assert "rows 3 and 5" in str(caught.value)
