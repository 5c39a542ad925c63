from __future__ import annotations

import csv

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from coding.reports import QUESTION_COLUMNS, SUMMARY_COLUMNS
from tests.factories import export_report


def _export(tmp_path, poll, *extra):
    export_report(poll, tmp_path, *extra)


def _rows(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_it_writes_the_contract_columns(tmp_path, poll):
    _export(tmp_path, poll)
    assert _rows(tmp_path / "summary.csv")[0] == SUMMARY_COLUMNS
    assert _rows(tmp_path / "Q1.csv")[0] == QUESTION_COLUMNS
    assert SUMMARY_COLUMNS == [
        "question",
        "kind",
        "text",
        "answered",
        "total",
        "mean",
        "median",
        "selections",
    ]
    assert QUESTION_COLUMNS == [
        "question",
        "row_kind",
        "category",
        "parent",
        "respondents",
        "percent",
        "base",
    ]


def test_option_rows_keep_the_question_order_and_zero_counts(tmp_path, poll):
    _export(tmp_path, poll)
    assert _rows(tmp_path / "Q1.csv")[1:] == [
        ["Q1", "option", "A", "", "4", "57.1", "7"],
        ["Q1", "option", "B", "", "3", "42.9", "7"],
        ["Q1", "option", "C", "", "0", "0.0", "7"],
    ]


def test_value_rows_cover_every_scale_point(tmp_path, poll):
    _export(tmp_path, poll)
    rows = _rows(tmp_path / "Q2.csv")[1:]
    assert [(r[1], r[2], r[4]) for r in rows] == [
        ("value", "1", "1"),
        ("value", "2", "2"),
        ("value", "3", "0"),
        ("value", "4", "1"),
        ("value", "5", "2"),
    ]


def test_summary_gives_bases_scale_statistics_and_selections(tmp_path, poll):
    _export(tmp_path, poll)
    rows = {r[0]: r for r in _rows(tmp_path / "summary.csv")[1:]}
    assert rows["Q1"] == ["Q1", "single_choice", "Question Q1?", "7", "10", "", "", ""]
    assert rows["Q2"] == ["Q2", "scale", "Question Q2?", "6", "10", "3.17", "3.0", ""]
    assert rows["Q3"][3:] == ["5", "10", "", "", "8"]
    assert rows["Q4"][1:5] == ["free_text", "Question Q4?", "3", "10"]


def test_no_cell_starts_a_formula(tmp_path, poll):
    option = poll.questions.get(export_id="Q1").options.get(text="A")
    option.text = '=HYPERLINK("http://evil","x")'
    option.save()
    _export(tmp_path, poll)
    cell = _rows(tmp_path / "Q1.csv")[1][2]
    assert cell == '\'=HYPERLINK("http://evil","x")'


def test_xlsx_has_one_sheet_per_table_with_string_cells(tmp_path, poll):
    option = poll.questions.get(export_id="Q1").options.get(text="B")
    option.text = "+1 234"
    option.save()
    _export(tmp_path, poll, "--format", "xlsx")
    book = load_workbook(tmp_path / "report.xlsx")
    assert book.sheetnames == ["summary", "Q1", "Q2", "Q3", "Q4"]
    cell = book["Q1"]["C3"]
    assert cell.value == "+1 234"
    assert cell.data_type == "s"
    assert [c.value for c in book["summary"][1]] == SUMMARY_COLUMNS


def test_it_names_a_missing_poll(tmp_path, poll):
    with pytest.raises(CommandError, match="no poll titled 'Nope'"):
        call_command(
            "export_report",
            "--project",
            poll.project.name,
            "--poll",
            "Nope",
            "--out",
            str(tmp_path),
        )
