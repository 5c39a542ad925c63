"""Large exports are read as a stream and kept by column: the same survey as before.

A file object reads like its bytes; tiny chunk sizes put every chunk boundary
in an awkward place (inside a character, a line break, a quoted answer, a
combining accent); files that the stream cannot judge fall back to reading
the whole text, with the same result and the same messages.
"""

from __future__ import annotations

import codecs
import io

import pytest

from polls.importers import ImportProblem, decode, infer_specs, interpret, read_survey, table
from polls.importers.types import Answers, ParsedAnswer
from tests.importers.big_export import make_export
from tests.importers.helpers import data, names_the_cell

PLAIN = "id,Role,What helps?,Score\n"


def _survey_facts(survey):
    specs = infer_specs(survey)
    answers = interpret(survey, specs)
    return (
        survey.platform,
        [(r.export_id, r.row, r.attributes) for r in survey.respondents],
        [
            (q.export_id, [(c.name, list(c.cells), c.role) for c in q.columns])
            for q in survey.questions
        ],
        [repr(s) for s in specs],
        [[(a.respondent, a.value, a.text, a.other_text, a.options) for a in q] for q in answers],
    )


@pytest.fixture
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(decode, "CHUNK", 7)
    monkeypatch.setattr(table, "CHUNK_ROWS", 2)


CASES = {
    "big.csv": make_export(300),
    "qualtrics_numeric.csv": data("qualtrics_numeric.csv"),
    "surveymonkey.csv": data("surveymonkey.csv"),
    "google_forms.csv": data("google_forms.csv"),
    "bom.csv": codecs.BOM_UTF8 + (PLAIN + "1,Social worker,Time,3\n").encode(),
    "crlf.csv": (PLAIN + '1,a,"two\r\nlines",3\r\n2,b,"x",4\r\n').encode(),
    "cr.csv": (PLAIN + '1,a,"two\rlines",3\r2,b,x,4\r').encode(),
    "blank.csv": (PLAIN + "\n1,a,b,3\n\n , ,\n2,c,d,4\n\n").encode(),
    "accent.csv": (PLAIN + "1,x," + "e" * 40 + "\u0301,3\n2,y,cafe\u0301,4\n").encode(),
    "emoji.csv": (PLAIN + "1,a,\U0001f937\U0001f3fb\u200d\u2640\ufe0f fine,3\n").encode(),
    "cp1252.csv": (PLAIN + "1,café,“quoted” €5,3\n").encode("cp1252"),
    "utf16.csv": (PLAIN + "1,a,b,3\n").encode("utf-16"),
    "control.csv": (PLAIN + "1,a\x01b,c,3\n").encode(),
    "sep.csv": ("sep=;\n" + PLAIN.replace(",", ";") + "1;a,b;c;3\n").encode(),
}


@pytest.mark.parametrize("name", CASES)
def test_a_file_object_reads_as_its_bytes(name):
    content = CASES[name]
    from_bytes = _survey_facts(read_survey(content, name))
    assert _survey_facts(read_survey(io.BytesIO(content), name)) == from_bytes


@pytest.mark.parametrize("name", CASES)
def test_chunk_boundaries_change_nothing(name, tiny_chunks):
    content = CASES[name]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(decode, "CHUNK", 1 << 20)
        m.setattr(table, "CHUNK_ROWS", 1024)
        expected = _survey_facts(read_survey(content, name))
    assert _survey_facts(read_survey(io.BytesIO(content), name)) == expected


@pytest.mark.parametrize("pad", range(7))  # decode.CHUNK is 7: each place in a chunk
def test_an_accent_split_from_its_letter_is_still_normalised(tiny_chunks, pad):
    content = (PLAIN + "1,x," + "e" * pad + "cafe\u0301,3\n").encode()
    survey = read_survey(io.BytesIO(content), "accent.csv")
    assert survey.questions[0].columns[0].cells == ["e" * pad + "café"]  # é composed (NFC)


def test_a_late_byte_that_is_not_utf8_reads_the_whole_file_as_cp1252(tiny_chunks):
    rows = "".join(f"{i},a,b,3\n" for i in range(1, 31))
    content = (PLAIN + rows + "31,x,café,4\n").encode("cp1252")
    survey = read_survey(io.BytesIO(content), "late.csv")
    assert survey.questions[0].columns[0].cells[-1] == "café"


def test_a_late_nul_byte_is_refused_by_line(tiny_chunks):
    content = (PLAIN + "1,a,b,3\n" * 5 + "2,a\x00b,c,4\n").encode()
    with pytest.raises(ImportProblem) as caught:
        read_survey(io.BytesIO(content), "nul.csv")
    names_the_cell(caught.value, "nul.csv", row=7)
    assert "binary data" in str(caught.value)


def test_a_ragged_row_in_a_later_chunk_is_named(tiny_chunks):
    content = (PLAIN + "".join(f"{i},a,b,3\n" for i in range(1, 9)) + "9,a,b,3,extra\n").encode()
    with pytest.raises(ImportProblem) as caught:
        read_survey(io.BytesIO(content), "ragged.csv")
    names_the_cell(caught.value, "ragged.csv", row=10, column="E")


def test_a_long_repeated_value_in_a_later_chunk_is_named(tiny_chunks, monkeypatch):
    monkeypatch.setattr(table, "MAX_CELL", 20)
    rows = [f"{i},Social worker,x,3" for i in range(1, 7)] + ["7," + "y" * 21 + ",x,3"]
    with pytest.raises(ImportProblem) as caught:
        read_survey(("\n".join([PLAIN.strip(), *rows]) + "\n").encode(), "long.csv")
    names_the_cell(caught.value, "long.csv", row=8, column="B")


def test_a_csv_error_after_a_long_cell_names_the_long_cell_first(monkeypatch):
    monkeypatch.setattr(table, "MAX_CELL", 20)
    monkeypatch.setattr(table, "CHUNK_ROWS", 1024)
    content = PLAIN + "1,a," + "z" * 21 + ",3\n"
    with pytest.raises(ImportProblem) as caught:
        read_survey(content.encode(), "order.csv")
    names_the_cell(caught.value, "order.csv", row=2, column="C")


def test_repeated_cells_share_one_string():
    survey = read_survey(make_export(300), "big.csv")
    role = survey.respondents.attributes[0][1]
    assert len({id(cell) for cell in role}) == len(set(role))


def test_answers_read_as_parsed_answers_and_share_choices():
    survey = read_survey(make_export(300), "big.csv")
    specs = infer_specs(survey)
    answers = interpret(survey, specs)
    often = answers[0]
    assert isinstance(often, Answers) and isinstance(often[0], ParsedAnswer)
    assert len({id(picked) for picked in often.options}) == len(set(often.options))
    assert often[0] == ParsedAnswer(often.respondents[0], options=list(often.options[0]))
    assert [a.respondent for a in often[:3]] == list(often.respondents[:3])
    assert often.values is None and often.texts is None


def test_the_first_bad_row_is_named_whatever_the_order_of_distinct_values():
    rows = ["1,3", "2,seven", "3,4", "4,eight", "5,seven"]
    survey = read_survey(("id,Score?\n" + "\n".join(rows) + "\n").encode(), "bad.csv")
    from polls.importers.types import QuestionSpec

    spec = QuestionSpec("Q1", "Score?", "scale", scale_min=1, scale_max=10)
    with pytest.raises(ImportProblem) as caught:
        interpret(survey, [spec])
    names_the_cell(caught.value, "bad.csv", row=3, column="B (Score?)")
    assert "seven" in str(caught.value)
