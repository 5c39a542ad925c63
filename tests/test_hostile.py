"""Hostile input (issue 7): the corpus in tests/data/hostile/, each file an attack or a mess.

Every file is either imported, coded, shown and exported safely (markup escaped,
no spreadsheet formula anywhere, documents that open) or refused with a message
naming the file and, where there is one, the row and column, with the database
exactly as it was. Files too large to commit (a zip bomb, an oversized upload,
an over-long cell) are made at test time in tmp_path.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from coding import services
from coding.models import Coding, Quote, Theme
from polls.models import Answer, PendingImport, Poll, Project, Question, Respondent
from tests.conftest import login
from tests.factories import export_report

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DDE = "=cmd|' /C calc'!A0"
HYPERLINK = '=HYPERLINK("http://evil.example","x")'
LONG_ANSWER = "word " * 19_999 + "end!!"  # exactly table.MAX_CELL characters


def _db_state() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Project, Poll, Question, Respondent, Answer, Theme, PendingImport)
    )


def _import_poll(path: Path, project: str = "Care Review polling", fmt: str = "csv") -> str:
    out = io.StringIO()
    call_command(
        "import_poll", str(path), "--project", project, "--title", "Hostile poll",
        "--format", fmt, stdout=out,
    )  # fmt: skip
    return out.getvalue()


def _is_formula(cell: str) -> bool:
    return cell.lstrip(" ").startswith(FORMULA_STARTS)


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


# --- 1. answers.csv: imported, coded, shown escaped, exported inert ---------------------


@pytest.fixture
def hostile_poll(project, alice) -> Poll:
    _import_poll(HOSTILE / "answers.csv")
    return Poll.objects.get(title="Hostile poll")


@pytest.fixture
def answers(hostile_poll) -> dict[str, Answer]:
    question = hostile_poll.questions.get()
    return {a.respondent.export_id: a for a in question.answers.select_related("respondent")}


@pytest.fixture
def coded(project, alice, bob, answers) -> dict[str, Theme]:
    """bob codes every answer with the DDE theme and quotes each hostile answer whole."""
    themes = {
        name: services.create_theme(project, name, alice)
        for name in [DDE, "<script>alert(2)</script>", "-minus theme", "@at theme", "Long"]
    }
    quoted = {
        DDE: ["R_hyperlink", "R_dde"],
        "<script>alert(2)</script>": ["R_script", "R_img"],
        "-minus theme": ["R_minus", "R_at"],
        "@at theme": ["R_control", "R_rtl"],
        "Long": ["R_long", "R_crlf"],
    }
    for answer in answers.values():
        services.apply_theme(answer, themes[DDE], bob)
    for name, ids in quoted.items():
        for response in ids:
            answer = answers[response]
            services.apply_theme(answer, themes[name], bob)
            services.save_quote(answer, bob, 0, len(answer.text), [themes[name]])
    return themes


def test_the_hostile_answers_are_imported_as_written(hostile_poll, answers):
    question = hostile_poll.questions.get()
    assert question.kind == Question.Kind.FREE_TEXT
    assert question.text == "=1+1 What would help?"  # stored as written, made inert on export
    texts = {k: a.text for k, a in answers.items()}
    assert texts["R_script"] == "<script>alert(1)</script>"
    assert texts["R_img"] == "<img src=x onerror=alert(1)>"
    assert texts["R_hyperlink"] == HYPERLINK
    assert texts["R_dde"] == "+cmd|' /C calc'!A0"
    assert texts["R_minus"] == "-2+3"
    assert texts["R_at"] == "@SUM(A1)"
    assert texts["R_rtl"] == "مرحبا \u202egnp.exe\u202c שלום"
    assert "👩\u200d👩\u200d👧\u200d👦" in texts["R_emoji"] and "🏳️\u200d🌈" in texts["R_emoji"]
    assert texts["R_control"] == "bell\x01here\x0bvertical tab"
    assert texts["R_crlf"] == "first line\nsecond line\nthird line"  # CRLF stored as LF
    assert texts["R_long"] == LONG_ANSWER
    roles = dict(hostile_poll.respondents.values_list("export_id", "attributes__Role"))
    assert roles["R_hyperlink"] == "@Coder" and roles["R_rtl"] == "<b>Lead</b>"


def test_the_queue_shows_every_hostile_answer_escaped(client, bob, hostile_poll, answers, coded):
    login(client, bob)
    url = reverse("queue", args=[hostile_poll.questions.get().pk])
    pages = {}
    for response, answer in answers.items():
        result = client.get(url, {"answer": answer.pk})
        assert result.status_code == 200, response
        pages[response] = result.content.decode()
    for html in pages.values():
        assert "<script>alert(" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html  # the theme name, escaped
        assert "<b>Lead</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["R_script"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages["R_img"]
    assert "\u202egnp.exe\u202c" in pages["R_rtl"]
    assert "👩\u200d👩\u200d👧\u200d👦" in pages["R_emoji"]
    assert "end!!" in pages["R_long"]


def test_the_report_page_shows_the_quotes_escaped(client, alice, hostile_poll, coded):
    html = login(client, alice).get(reverse("report", args=[hostile_poll.code])).content.decode()
    assert "<script>alert(" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>Lead</b>" not in html


def test_export_report_writes_no_formula(tmp_path, hostile_poll, coded):
    export_report(hostile_poll, tmp_path)
    files = sorted(tmp_path.rglob("*.csv"))
    assert files
    cells = [c for path in files for c in _csv_cells(path.read_text(encoding="utf-8"))]
    assert not [c for c in cells if _is_formula(c)]
    assert "'" + DDE in cells  # the theme name is there, quoted
    assert "'=1+1 What would help?" in cells  # so is the question text


def _download(client, poll, name):
    response = client.get(reverse("report-download", args=[poll.code, name]))
    assert response.status_code == 200, name
    return response.content


def test_the_xlsx_download_has_no_formula_cell(client, alice, hostile_poll, coded):
    data = _download(login(client, alice), hostile_poll, "report.xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    workbook = load_workbook(io.BytesIO(data))
    values = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                values.append(cell.value)
    assert DDE in values  # kept as text, typed as a string


def test_the_quotes_csv_has_no_formula(client, alice, hostile_poll, coded):
    text = _download(login(client, alice), hostile_poll, "quotes.csv").decode("utf-8")
    cells = _csv_cells(text)
    assert not [c for c in cells if _is_formula(c)]
    for quoted in ["'" + HYPERLINK, "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "'" + DDE]:
        assert quoted in cells
    assert "<script>alert(1)</script>" in cells  # CSV is data: markup kept as written


def test_the_markdown_draft_has_no_formula_and_no_live_html(client, alice, hostile_poll, coded):
    text = _download(login(client, alice), hostile_poll, "draft.md").decode("utf-8")
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    for line in text.splitlines():
        assert not _is_formula(line), line
        if line.startswith("|") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            assert not [c for c in cells if _is_formula(c)], line
    assert f"“'{HYPERLINK}”" in text


def test_the_docx_draft_opens_with_the_quotes_inert(client, alice, hostile_poll, coded):
    data = _download(login(client, alice), hostile_poll, "draft.docx")
    document = Document(io.BytesIO(data))
    quotes = [p.text for p in document.paragraphs if p.style.name == "Quote"]
    assert any("alert(1)" in q for q in quotes)
    assert any(f"“'{HYPERLINK}”" in q for q in quotes)
    assert any("bellhere\nvertical tab" in q for q in quotes)  # \x01 dropped, VT a line break
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert not [c for c in cells if _is_formula(c)]


# --- 2. refused imports: file, row and column named; nothing written ---------------------

REFUSED = [
    ("empty.csv", "csv", r"^empty\.csv: the file is empty"),
    ("header_only.csv", "csv", r"^header_only\.csv, row 2: .*no responses"),
    (
        "duplicate_columns.csv",
        "csv",
        r'^duplicate_columns\.csv, row 1, column C \(comment\): the column name "comment" '
        r"appears twice",
    ),
    (
        "duplicate_ids.csv",
        "csv",
        r"^duplicate_ids\.csv, row 4, column A \(ResponseId\): response id 'R_1' appears twice",
    ),
    ("ragged.csv", "csv", r"^ragged\.csv, row 3, column C: this row has a value beyond"),
    ("truncated.xlsx", "xlsx", r"^truncated\.xlsx: this is not a readable \.xlsx workbook"),
    ("truncated.xlsx", "auto", r"^truncated\.xlsx: this is not a readable \.xlsx workbook"),
    (
        "garbage.csv",
        "csv",
        r"^garbage\.csv, row 3: this is binary data.* at character 71 of line 3",
    ),
]


@pytest.mark.parametrize(("name", "fmt", "message"), REFUSED)
def test_the_import_command_refuses_and_writes_nothing(name, fmt, message, project, alice):
    before = _db_state()
    with pytest.raises(CommandError) as refused:
        _import_poll(HOSTILE / name, project="A new project", fmt=fmt)
    assert re.search(message, str(refused.value)), str(refused.value)
    assert _db_state() == before


@pytest.mark.parametrize(("name", "fmt", "message"), [r for r in REFUSED if r[0] != "empty.csv"])
def test_the_upload_page_refuses_and_writes_nothing(client, project, alice, name, fmt, message):
    before = _db_state()
    form = {"title": "Hostile poll", "format": fmt, "population": "", "file": _upload(name)}
    response = login(client, alice).post(f"/projects/{project.code}/import/", form)
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(message.lstrip("^").replace("'", "&#x27;").replace('"', "&quot;"), html)
    assert _db_state() == before


def _upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    data = (HOSTILE / name).read_bytes() if data is None else data
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_an_empty_upload_is_refused_by_name(client, project, alice):
    before = _db_state()
    form = {"title": "Hostile poll", "format": "csv", "file": _upload("empty.csv")}
    html = login(client, alice).post(f"/projects/{project.code}/import/", form).content.decode()
    assert _db_state() == before
    assert "empty.csv is empty." in html


def test_a_cell_one_character_too_long_is_refused_by_cell(tmp_path, project, alice):
    path = tmp_path / "long_cell.csv"
    path.write_text(f"ResponseId,What would help?\nR_1,ok\nR_2,{LONG_ANSWER}x\n", encoding="utf-8")
    before = _db_state()
    with pytest.raises(CommandError, match=r"^long_cell\.csv, row 3, column B: .*100,001"):
        _import_poll(path)
    assert _db_state() == before


def test_cp1252_bytes_are_read_as_cp1252(project, alice):
    assert (HOSTILE / "cp1252.csv").read_bytes().find(b"Caf\xe9") > 0  # not UTF-8
    _import_poll(HOSTILE / "cp1252.csv")
    answer = Answer.objects.get(question__poll__title="Hostile poll")
    assert answer.text == "Café “quoted” €5 — naïve"


# --- 3. REFI-QDA: entity bomb, path traversal, zip bomb ----------------------------------


def _refi_state() -> tuple[int, ...]:
    return (*_db_state(), Coding.objects.count(), Quote.objects.count())


def test_an_entity_bomb_codebook_is_refused(project, alice):
    before = _refi_state()
    with pytest.raises(CommandError, match=r"^billion_laughs\.qdc: refused: .*DTD"):
        call_command(
            "import_qdc", str(HOSTILE / "billion_laughs.qdc"), "--project", project.name,
            "--user", "alice", stdout=io.StringIO(),
        )  # fmt: skip
    assert _refi_state() == before


def _import_qdpx(path: Path) -> None:
    call_command(
        "import_qdpx", str(path), "--project", "From REFI", "--user", "alice",
        stdout=io.StringIO(),
    )  # fmt: skip


def test_a_path_traversal_archive_is_refused(tmp_path, alice, monkeypatch):
    monkeypatch.chdir(tmp_path)  # were the member written out, it would land beside tmp_path
    before = _refi_state()
    with pytest.raises(CommandError, match=r"^traversal\.qdpx: refused: .*'\.\./evil\.txt'"):
        _import_qdpx(HOSTILE / "traversal.qdpx")
    assert _refi_state() == before
    assert not (tmp_path.parent / "evil.txt").exists()


def test_a_zip_bomb_is_refused(tmp_path, alice):
    bomb = tmp_path / "bomb.qdpx"
    chunk = b"\0" * (1024 * 1024)
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("project.qde", "w", force_zip64=True) as member,
    ):
        for _ in range(200):
            member.write(chunk)
    assert bomb.stat().st_size < 1024 * 1024
    before = _refi_state()
    with pytest.raises(CommandError, match=r"^bomb\.qdpx: refused: project\.qde .*zip bomb"):
        _import_qdpx(bomb)
    assert _refi_state() == before


# --- 4. an oversized upload -----------------------------------------------------------


def test_an_oversized_upload_is_refused_by_name_and_size(client, project, alice, settings):
    settings.VERBATIM_MAX_UPLOAD_BYTES = 1000
    data = b"ResponseId,What would help?\n" + b"R_1,a\n" * 329  # 2,002 bytes, a valid CSV
    before = _db_state()
    form = {"title": "Hostile poll", "format": "csv", "file": _upload("big.csv", data)}
    response = login(client, alice).post(f"/projects/{project.code}/import/", form)
    html = response.content.decode()
    assert "big.csv is 2.0\xa0KB; the limit is 1000\xa0bytes." in html
    assert _db_state() == before
