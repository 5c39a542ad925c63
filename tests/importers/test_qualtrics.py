"""Qualtrics exports: the real samples, our numeric/label/XLSX/TSV files, bad ones."""

from __future__ import annotations

import pytest

from polls.importers import ImportProblem, infer_specs, interpret, read_survey
from tests.importers.helpers import SHARED_QUALTRICS, as_csv, data, names_the_cell, numeric_rows


def kinds(survey):
    return {s.export_id: s.kind for s in infer_specs(survey)}


# --- the real exports ---------------------------------------------------------


def test_it_reads_the_real_three_header_row_sample():
    survey = read_survey((SHARED_QUALTRICS / "qualtRics-sample.csv").read_bytes(), "sample.csv")
    assert survey.platform == "qualtrics"
    assert [(r.export_id, r.row) for r in survey.respondents] == [("R_2YPOQ602ER1jkf1", 4)]
    assert [q.export_id for q in survey.questions] == ["Q1", "Q2"]
    assert survey.questions[0].text == "This is a multiple choice question."
    assert survey.questions[1].is_text_entry
    assert survey.attribute_columns == ["Q2 - Topics"]  # Text iQ, empty here
    specs = infer_specs(survey)
    assert [s.kind for s in specs] == ["single_choice", "free_text"]
    answers = interpret(survey, specs)
    assert answers[0][0].options == [0] and specs[0].options[0].code == "2"
    assert answers[1][0].text == "Hello World!"


def test_it_reads_the_real_legacy_export_with_v_columns_and_a_trailing_comma():
    survey = read_survey((SHARED_QUALTRICS / "qualtRics-sample_legacy.csv").read_bytes(), "l.csv")
    assert [(r.export_id, r.row) for r in survey.respondents] == [("R_2YPOQ602ER1jkf1", 3)]
    assert [(q.export_id, q.text) for q in survey.questions] == [
        ("Q1", "This is a multiple choice question."),
        ("Q2", "This is a free text question."),
    ]
    assert survey.attribute_columns == []  # V1…V10 and Location* are metadata
    assert kinds(survey)["Q2"] == "free_text"


# --- layout -------------------------------------------------------------------


def test_it_skips_survey_previews_tests_and_spam():
    survey = read_survey(data("qualtrics_numeric.csv"), "numeric.csv")
    assert survey.skipped_previews == 3  # Status 1 (preview), 2 (test), 8 (spam)
    assert [r.row for r in survey.respondents] == [4, 5, 7, 9, 10]
    labels = read_survey(data("qualtrics_labels.tsv"), "labels.tsv")
    assert labels.skipped_previews == 2  # "Survey Preview", "Spam"


def test_it_keeps_previews_when_asked():
    survey = read_survey(data("qualtrics_numeric.csv"), "numeric.csv", include_previews=True)
    assert survey.skipped_previews == 0
    assert len(survey.respondents) == 8


def test_a_preview_distribution_channel_is_skipped_too():
    rows = numeric_rows()
    rows[5][2] = "0"  # row 6: Status now says a normal response, DistributionChannel "preview"
    survey = read_survey(as_csv(rows), "numeric.csv")
    assert survey.skipped_previews == 3
    assert 6 not in [r.row for r in survey.respondents]


def test_it_groups_breakout_columns_into_one_multi_choice_question():
    survey = read_survey(data("qualtrics_numeric.csv"), "numeric.csv")
    q14 = next(q for q in survey.questions if q.export_id == "Q14")
    assert q14.text == (
        "What are the top three barriers to reunification? Please select three only"
    )
    assert [(c.name, c.role, c.choice_code) for c in q14.columns] == [
        ("Q14_1", "choice", "1"),
        ("Q14_2", "choice", "2"),
        ("Q14_3", "choice", "3"),
        ("Q14_7", "choice", "7"),
        ("Q14_7_TEXT", "other", "7"),
    ]
    spec = next(s for s in infer_specs(survey) if s.export_id == "Q14")
    assert spec.kind == "multi_choice" and spec.max_choices == 3
    assert [(o.text, o.code, o.is_other) for o in spec.options] == [
        ("Ongoing risk factors", "1", False),
        ("Lack of time to reassess families", "2", False),
        ("Poverty, deprivation and housing", "3", False),
        ("Other (please specify)", "7", True),
    ]


def test_it_attaches_other_texts_to_their_choice():
    survey = read_survey(data("qualtrics_numeric.csv"), "numeric.csv")
    specs = infer_specs(survey)
    answers = dict(zip([s.export_id for s in specs], interpret(survey, specs), strict=True))
    q14 = {a.respondent: a for a in answers["Q14"]}
    assert q14[1].options == [1, 3] and q14[1].other_text == "Poverty in the area"
    q5 = next(s for s in specs if s.export_id == "Q5")
    assert [(o.text, o.is_other) for o in q5.options] == [("1", False), ("2", False), ("4", True)]
    assert {a.respondent: (a.options, a.other_text) for a in answers["Q5"]}[1] == (
        [2],
        "We cover two areas",
    )


def test_derived_and_embedded_data_columns_become_attributes():
    survey = read_survey(data("qualtrics_numeric.csv"), "numeric.csv")
    assert survey.attribute_columns == ["Q3.13_NPS_GROUP", "Role", "Q4 - Topics"]
    assert survey.respondents[0].attributes == {
        "Q3.13_NPS_GROUP": "3",
        "Role": "Social worker",
        "Q4 - Topics": "Resources",
    }
    assert survey.respondents[3].attributes == {"Role": "Social worker"}  # "" left out
    assert "Q_RecaptchaScore" not in survey.attribute_columns  # metadata


def test_it_strips_html_from_question_texts():
    survey = read_survey(data("qualtrics_numeric.csv"), "numeric.csv")
    q2 = next(q for q in survey.questions if q.export_id == "Q2")
    assert q2.text == (
        "In your experience, how effective is the children's social care system at acting "
        "on the voices of children? 1 = not effective at all 10 = very effective"
    )


def test_it_reads_a_utf16_tab_separated_label_export():
    survey = read_survey(data("qualtrics_labels.tsv"), "labels.tsv")
    assert kinds(survey) == {
        "Q1": "single_choice",
        "Q2": "scale",
        "Q4": "free_text",
        "Q14": "multi_choice",
        "Q5": "single_choice",
        "Q6": "multi_choice",
        "Q3.13": "scale",
    }
    q4 = next(q for q in survey.questions if q.export_id == "Q4")
    assert q4.columns[0].cells[0] == "Lack of resources.\nCase loads are very high 🤷🏻‍♀️."


def test_it_splits_comma_joined_choices_against_options_that_hold_commas():
    survey = read_survey(data("qualtrics_labels.tsv"), "labels.tsv")
    specs = infer_specs(survey)
    q6 = next(s for s in specs if s.export_id == "Q6")
    assert [o.text for o in q6.options] == [
        "Early help",
        "Housing, benefits and debt advice",
        "Mental health services",
    ]
    answers = interpret(survey, specs)[[s.export_id for s in specs].index("Q6")]
    assert [sorted(a.options) for a in answers] == [[0, 1], [1], [0, 2], [1, 2], [2]]


def test_labelled_breakout_columns_hold_the_choice_text():
    survey = read_survey(data("qualtrics_labels.tsv"), "labels.tsv")
    specs = infer_specs(survey)
    answers = interpret(survey, specs)[[s.export_id for s in specs].index("Q14")]
    assert [(a.options, a.other_text) for a in answers] == [
        ([0, 2], ""),
        ([1, 3], "Immigration status"),
        ([0, 1], ""),
    ]


def test_it_reads_a_qualtrics_workbook(qualtrics_xlsx):
    from_xlsx = read_survey(qualtrics_xlsx, "qualtrics.xlsx")
    from_csv = read_survey(data("qualtrics_numeric.csv"), "qualtrics_numeric.csv")
    assert from_xlsx.platform == "qualtrics"
    assert from_xlsx.skipped_previews == 3
    assert [q.columns for q in from_xlsx.questions] == [q.columns for q in from_csv.questions]
    assert [r.attributes for r in from_xlsx.respondents] == [
        r.attributes for r in from_csv.respondents
    ]


def test_it_matches_metadata_by_name_not_position():
    rows = numeric_rows()
    order = [7, 2, 11, 12, 0, 1, 13, 24, 8] + [
        i for i in range(26) if i not in (7, 2, 11, 12, 0, 1, 13, 24, 8)
    ]
    shuffled = [[row[i] for i in order] for row in rows]
    survey = read_survey(as_csv(shuffled), "shuffled.csv")
    assert [r.export_id for r in survey.respondents][:2] == ["R_001abcdEFGH", "R_002abcdEFGH"]
    assert survey.skipped_previews == 3
    assert [q.export_id for q in survey.questions][:3] == ["Q1", "Q2", "Q4"]


def test_an_export_without_the_import_id_row_is_still_qualtrics():
    rows = numeric_rows()
    del rows[2]
    survey = read_survey(as_csv(rows), "two_rows.csv")
    assert survey.platform == "qualtrics"
    assert [q.export_id for q in survey.questions] == [
        "Q1", "Q2", "Q4", "Q14", "Q5", "Q6", "Q3.13",
    ]  # fmt: skip
    q14 = survey.questions[3]
    assert [c.choice for c in q14.columns if c.role == "choice"][:2] == [
        "Ongoing risk factors",
        "Lack of time to reassess families",
    ]


# --- bad input ----------------------------------------------------------------


def test_it_refuses_duplicate_response_ids_naming_both_rows():
    rows = numeric_rows()
    rows[6][7] = rows[3][7]  # row 7 repeats row 4's ResponseId
    with pytest.raises(ImportProblem) as caught:
        read_survey(as_csv(rows), "dupes.csv")
    names_the_cell(caught.value, "dupes.csv", row=7, column="H (ResponseId)")
    assert "in rows 4 and 7" in str(caught.value)


def test_it_refuses_an_export_without_response_ids():
    rows = [[c for i, c in enumerate(row) if i != 7] for row in numeric_rows()]
    with pytest.raises(ImportProblem) as caught:
        read_survey(as_csv(rows), "noid.csv")
    names_the_cell(caught.value, "noid.csv", row=1)
    assert "ResponseId" in str(caught.value)


def test_it_refuses_a_response_without_an_id():
    rows = numeric_rows()
    rows[4][7] = ""
    with pytest.raises(ImportProblem) as caught:
        read_survey(as_csv(rows), "blank.csv")
    names_the_cell(caught.value, "blank.csv", row=5, column="H (ResponseId)")


def test_it_refuses_duplicate_export_tags():
    rows = numeric_rows()
    rows[0][12] = "Q1"
    with pytest.raises(ImportProblem) as caught:
        read_survey(as_csv(rows), "tags.csv")
    names_the_cell(caught.value, "tags.csv", row=1, column="M (Q1)")
    assert "columns L and M" in str(caught.value)


def test_a_qualtrics_file_with_headers_only_is_refused():
    with pytest.raises(ImportProblem) as caught:
        read_survey(as_csv(numeric_rows()[:3]), "headers.csv")
    names_the_cell(caught.value, "headers.csv", row=4)


def test_a_file_of_previews_only_says_so():
    rows = numeric_rows()
    with pytest.raises(ImportProblem) as caught:
        read_survey(as_csv(rows[:3] + [rows[5], rows[7]]), "previews.csv")
    assert "all 2 responses are survey previews" in str(caught.value)


def test_forcing_the_qualtrics_format_on_another_table_is_refused():
    with pytest.raises(ImportProblem) as caught:
        read_survey(b"id,Q1\n1,yes\n2,no\n", "plain.csv", format="qualtrics")
    names_the_cell(caught.value, "plain.csv", row=3)
    assert "not a Qualtrics export" in str(caught.value)


def test_an_export_whose_label_rows_were_deleted_still_reads():
    rows = numeric_rows()
    survey = read_survey(as_csv([rows[0]] + rows[3:]), "one_row.csv")
    assert survey.platform == "qualtrics"
    assert survey.respondents[0].row == 2
    assert [q.export_id for q in survey.questions][:3] == ["Q1", "Q2", "Q4"]
    assert "Role" in survey.attribute_columns
