"""Text and workbooks to rows: delimiters, quoted line breaks, ragged rows, XLSX cells."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest

from polls.importers import ImportProblem, read_survey, table
from polls.importers.table import column_letter, read_table
from tests.importers.helpers import names_the_cell, workbook_bytes

PLAIN = "response_id,Role,What helps?\n"


def test_it_sniffs_semicolons_even_when_the_headers_hold_commas():
    text = "id;Well, how are you?;Why, then?\n1;Fine;Because\n2;Good;No idea, really\n"
    rows = read_table(text.encode(), "semi.csv")
    assert rows[0] == ["id", "Well, how are you?", "Why, then?"]
    assert rows[2] == ["2", "Good", "No idea, really"]


def test_it_reads_tab_separated_text():
    assert read_table(b"id\tQ1\n1\ta, b\n", "a.tsv") == [["id", "Q1"], ["1", "a, b"]]


def test_it_honours_an_excel_sep_line_and_does_not_count_it_as_a_row():
    rows = read_table(b"sep=;\nid;Q1,x\n1;yes\n", "sep.csv")
    assert rows == [["id", "Q1,x"], ["1", "yes"]]


def test_it_keeps_line_breaks_inside_quoted_answers_and_counts_rows_as_excel_does():
    text = (
        PLAIN
        + '1,Social worker,"Time.\r\nAnd money."\r\n2,Team manager,x\r\n3,Team,"a\n\nb"\n4,,z\n'
    )
    rows = read_table(text.encode(), "breaks.csv")
    assert rows[1][2] == "Time.\nAnd money."
    assert rows[3][2] == "a\n\nb"
    with pytest.raises(ImportProblem) as caught:
        read_survey((text + '5,x,y,"surplus"\n').encode(), "breaks.csv")
    names_the_cell(caught.value, "breaks.csv", row=6, column="D")


def test_it_refuses_a_ragged_row_naming_row_and_column():
    text = PLAIN + "1,Social worker,Time\n2,Team manager,Money, and staff\n"
    with pytest.raises(ImportProblem) as caught:
        read_survey(text.encode(), "ragged.csv")
    names_the_cell(caught.value, "ragged.csv", row=3, column="D")
    assert "beyond the header's last column (C)" in str(caught.value)


def test_it_accepts_trailing_empty_cells_and_pads_short_rows():
    text = PLAIN + "1,Social worker,Time,,\n2\n"
    survey = read_survey(text.encode(), "short.csv")
    assert [r.export_id for r in survey.respondents] == ["1", "2"]
    assert survey.questions[0].columns[0].cells == ["Time", ""]


def test_it_refuses_duplicate_column_names_naming_both_columns():
    text = "id,Role,Q1,role\n1,a,b,c\n"
    with pytest.raises(ImportProblem) as caught:
        read_survey(text.encode(), "dupes.csv")
    names_the_cell(caught.value, "dupes.csv", row=1, column="D (role)")
    assert "columns B and D" in str(caught.value)


def test_it_refuses_a_header_without_responses():
    with pytest.raises(ImportProblem) as caught:
        read_survey(PLAIN.encode() + b"\n,,\n", "header.csv")
    names_the_cell(caught.value, "header.csv", row=2)
    assert "no responses" in str(caught.value)


def test_it_refuses_an_overlong_cell_naming_it(monkeypatch):
    monkeypatch.setattr(table, "MAX_CELL", 50)
    text = PLAIN + "1,Social worker," + "x" * 51 + "\n"
    with pytest.raises(ImportProblem) as caught:
        read_survey(text.encode(), "long.csv")
    names_the_cell(caught.value, "long.csv", row=2, column="C")


def test_an_unclosed_quote_is_caught_by_the_cell_cap(monkeypatch):
    monkeypatch.setattr(table, "MAX_CELL", 100)
    text = PLAIN + '1,Social worker,"never closed\n' + "2,Team,more text here\n" * 20
    with pytest.raises(ImportProblem) as caught:
        read_survey(text.encode(), "quote.csv")
    names_the_cell(caught.value, "quote.csv", row=2, column="C")
    assert "unclosed quote" in str(caught.value)


def test_it_caps_the_number_of_rows(monkeypatch):
    monkeypatch.setattr(table, "MAX_ROWS", 3)
    with pytest.raises(ImportProblem) as caught:
        read_survey((PLAIN + "1,a,b\n" * 5).encode(), "many.csv")
    names_the_cell(caught.value, "many.csv", row=4)


def test_it_reads_xlsx_cells_as_a_person_sees_them():
    book = workbook_bytes(
        [
            ["id", "count", "ratio", "when", "day", "flag", None],
            [1, 7.0, 0.25, datetime(2021, 9, 13, 9, 30), datetime(2021, 9, 13), True, None],
            [2, None, 1e-3, date(2021, 9, 14), " padded ", False],
        ]
    )
    rows = read_table(book, "cells.xlsx")
    assert rows[1] == ["1", "7", "0.25", "2021-09-13 09:30:00", "2021-09-13", "TRUE"]
    assert rows[2] == ["2", "", "0.001", "2021-09-14", "padded", "FALSE"]


def test_it_detects_a_workbook_by_its_bytes_whatever_its_name():
    book = workbook_bytes([["id", "Q1"], [1, "yes"]])
    assert read_table(book, "download") == [["id", "Q1"], ["1", "yes"]]


def test_it_refuses_a_file_named_xlsx_that_is_not_a_workbook():
    with pytest.raises(ImportProblem) as caught:
        read_survey(b"id,Q1\n1,yes\n", "fake.xlsx")
    names_the_cell(caught.value, "fake.xlsx", row=None)
    assert "not a readable .xlsx workbook" in str(caught.value)


def test_it_refuses_a_truncated_workbook():
    book = workbook_bytes([["id", "Q1"]] + [[i, "yes"] for i in range(2000)])
    with pytest.raises(ImportProblem) as caught:
        read_survey(book[: len(book) // 2], "cut.xlsx")
    names_the_cell(caught.value, "cut.xlsx", row=None)
    assert ".xlsx" in str(caught.value)


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ")])
def test_columns_are_named_by_their_spreadsheet_letter(index, letter):
    assert column_letter(index) == letter


def test_it_refuses_a_workbook_whose_sheet_is_damaged():
    book = workbook_bytes([["id", "Q1"]] + [[i, "yes"] for i in range(2000)])
    source = zipfile.ZipFile(io.BytesIO(book))
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                body = body[: len(body) // 2]
            target.writestr(item, body)
    with pytest.raises(ImportProblem) as caught:
        read_survey(damaged.getvalue(), "damaged.xlsx")
    names_the_cell(caught.value, "damaged.xlsx", row=None)
    assert "not a readable .xlsx workbook" in str(caught.value)
