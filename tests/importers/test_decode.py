"""Bytes to text: byte-order marks, UTF-16, the Windows-1252 fallback, junk."""

from __future__ import annotations

import codecs
import random
import unicodedata

import pytest

from polls.importers import ImportProblem, read_survey
from polls.importers.decode import decode
from tests.importers.helpers import data, names_the_cell


def test_it_strips_a_utf8_byte_order_mark():
    text = decode(codecs.BOM_UTF8 + b"Role,Q1\nSocial worker,Often\n", "a.csv")
    assert text.startswith("Role,")


def test_it_reads_utf16_with_a_byte_order_mark():
    assert decode("Q1\tQ2\nÉté\t7\n".encode("utf-16"), "a.tsv") == "Q1\tQ2\nÉté\t7\n"


def test_it_reads_utf16_without_a_byte_order_mark():
    assert decode("Q1,Q2\nyes,7\n".encode("utf-16-le"), "a.csv") == "Q1,Q2\nyes,7\n"


def test_it_falls_back_to_windows_1252_for_excel_csv_files():
    text = decode("It’s 5 € – café\n".encode("cp1252"), "a.csv")
    assert text == "It’s 5 € – café\n"


def test_it_normalises_text_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Île-de-France,café\n")
    assert decode(decomposed.encode(), "a.csv") == "Île-de-France,café\n"


@pytest.mark.parametrize(
    "content",
    [b"", b"   \r\n\r\n", codecs.BOM_UTF8, codecs.BOM_UTF16_LE + "\r\n".encode("utf-16-le")],
)
def test_it_refuses_an_empty_file(content):
    with pytest.raises(ImportProblem) as caught:
        read_survey(content, "empty.csv")
    assert str(caught.value) == "empty.csv: the file is empty"


def test_it_refuses_binary_junk_naming_the_line():
    junk = b"Q1,Q2\nyes,no\n" + random.Random(1).randbytes(64) + b"\x00\x01\x02" * 50
    with pytest.raises(ImportProblem) as caught:
        read_survey(junk, "junk.csv")
    names_the_cell(caught.value, "junk.csv", row=None)
    assert "binary data" in str(caught.value)
    assert caught.value.row >= 3


def test_it_refuses_a_nul_byte_in_utf8_text_naming_its_line_and_place():
    with pytest.raises(ImportProblem) as caught:
        read_survey(b"Q1,Q2\nyes,n\x00o\n", "nul.csv")
    names_the_cell(caught.value, "nul.csv", row=2)
    assert "character 6 of line 2" in str(caught.value)


def test_it_says_when_a_csv_is_really_a_workbook():
    workbook = b"PK\x03\x04" + random.Random(2).randbytes(200) + b"\x00" * 100
    with pytest.raises(ImportProblem) as caught:
        read_survey(workbook, "results.csv", format="csv")
    assert "XLSX workbook" in str(caught.value)


def test_it_refuses_an_old_xls_workbook():
    with pytest.raises(ImportProblem) as caught:
        read_survey(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old.xls")
    assert ".xls" in str(caught.value) and str(caught.value).startswith("old.xls")


def test_it_refuses_utf16_cut_in_the_middle_of_a_character_naming_the_line():
    cut = "Q1\tQ2\nyes\tno\n".encode("utf-16")[:-1]
    with pytest.raises(ImportProblem) as caught:
        read_survey(cut, "cut.tsv")
    names_the_cell(caught.value, "cut.tsv", row=2)


def test_the_windows_1252_export_reads_with_its_accents():
    survey = read_survey(data("plain_semicolon_cp1252.csv"), "plain_semicolon_cp1252.csv")
    assert survey.respondents[0].attributes == {"Region": "Île-de-France"}
    assert survey.questions[0].text.startswith("How effective is your team’s supervision?")
