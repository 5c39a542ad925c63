"""REFI-QDA exchange: .qdc codebooks and .qdpx projects, both ways.

The files Verbatim writes are validated against the REFI-QDA schemas kept in
shared/data/refi-qda (beside the repository). The round trip exports a coded
project and imports it as a new one; answers are compared by poll title,
question id and respondent id, so database ids play no part.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from lxml import etree

from coding import services
from coding.codebook_io import CodebookRow
from coding.models import Coding, Mark, Quote, Theme
from coding.refi import (
    import_qdc,
    join_description,
    read_qdc,
    split_description,
    write_qdc,
)
from coding.refi_export import write_qdpx
from coding.refi_import import import_qdpx
from polls.importers.types import ImportProblem
from polls.models import Answer, Membership, Option, Project, Question, Selection
from tests.factories import make_free_text

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SCHEMAS = SHARED / "data" / "refi-qda"
DATA = Path(__file__).resolve().parents[1] / "data" / "refi"

TEXTS = [
    "Too many cases 😀 and no time to visit families",
    "Line one\r\nLine two: the caseload <&> hours",
    "First\nSecond <b>&amp;</b> third",
]
BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<{root} xmlns="urn:QDA-XML:{kind}:1.0" name="x"><Codes>
<Code guid="a1000000-0000-4000-8000-000000000001" name="&lol3;" isCodable="true"/>
</Codes></{root}>
"""


@pytest.fixture(scope="module")
def schema():
    return {
        name: etree.XMLSchema(etree.parse(str(SCHEMAS / name)))
        for name in ("Codebook.xsd", "Project-mrt2019.xsd")
    }


def _theme(project, user, name, parent=None, colour="#8ecae6", **fields):
    theme = services.create_theme(project, name, user, parent=parent)
    theme.colour = colour
    for key, value in fields.items():
        setattr(theme, key, value)
    theme.save()
    return theme


@pytest.fixture
def coded(project, poll, alice, bob):
    """Poll 3 plus Q9 (emoji, CRLF, LF, <&>), an "other" text, themes, codings, quotes."""
    q9 = make_free_text(poll, TEXTS)
    a1, a2, a3 = Answer.objects.filter(question=q9).order_by("respondent__position")
    q1 = poll.questions.get(export_id="Q1")
    other = Option.objects.create(question=q1, position=4, text="Other", is_other=True)
    r8 = poll.respondents.get(export_id="R_8")
    r8.attributes = {"Role": "Manager", "Team": "North"}
    r8.save()
    other_answer = Answer.objects.create(question=q1, respondent=r8, other_text="Agency staff")
    Selection.objects.create(question=q1, respondent=r8, option=other)

    workload = _theme(
        project, alice, "Workload", colour="#e76f51",
        description="Pressure of work.\r\nFrom a browser.\n\nAny kind.",
        inclusion="Hours, caseloads.", exclusion="Pay.",
    )  # fmt: skip
    caseloads = _theme(project, alice, "Caseloads", workload, "#f4a261", inclusion="Numbers.")
    too_many = _theme(project, alice, "Too many cases", caseloads, "#2a9d8f")
    resources = _theme(project, alice, "Resources", description="Money & <staff>")
    retired = _theme(project, alice, "Retired idea")
    unused = _theme(project, alice, "Never used")

    for theme in (too_many, workload):
        services.apply_theme(a1, theme, alice)
    services.apply_theme(a2, caseloads, alice)
    services.apply_theme(other_answer, resources, alice)
    services.apply_theme(a1, resources, bob)
    services.apply_theme(a3, retired, bob)
    services.mark_no_theme(a2, bob)
    Theme.objects.filter(pk__in=[retired.pk, unused.pk]).update(archived=True)

    def quote(answer, coder, fragment, themes):
        start = answer.text.index(fragment)
        return services.save_quote(answer, coder, start, start + len(fragment), themes)

    quote(a1, alice, "and no time", [too_many])  # after the emoji
    quote(a2, bob, "Line two", [caseloads, workload])  # after the CRLF
    quote(a2, alice, "one\r\nLine", [workload])  # across it
    quote(a3, alice, "<b>&amp;</b>", [])  # no theme
    return poll


# --- what the database holds, by names ------------------------------------------------


def _tree(project) -> dict:
    return {
        t.name: (
            t.parent.name if t.parent else "",
            t.colour,
            t.description,
            t.inclusion,
            t.exclusion,
            t.archived,
        )
        for t in project.themes.select_related("parent")
    }


def _where(answer) -> tuple:
    return (answer.question.poll.title, answer.question.export_id, answer.respondent.export_id)


def _codings(project) -> set:
    rows = Coding.objects.filter(answer__question__poll__project=project).select_related(
        "answer__question__poll", "answer__respondent", "theme", "coder"
    )
    return {(*_where(c.answer), c.theme.name, c.coder.username) for c in rows}


def _marks(project) -> set:
    rows = Mark.objects.filter(answer__question__poll__project=project).select_related(
        "answer__question__poll", "answer__respondent", "coder"
    )
    return {(*_where(m.answer), m.coder.username, m.status) for m in rows}


def _quotes(project) -> set:
    rows = Quote.objects.filter(answer__question__poll__project=project).select_related(
        "answer__question__poll", "answer__respondent", "coder"
    )
    return {
        (
            *_where(q.answer),
            q.coder.username,
            q.start,
            q.end,
            q.text,
            frozenset(q.themes.values_list("name", flat=True)),
        )
        for q in rows
    }


def _answers(project) -> dict:
    rows = (
        Answer.objects.filter(question__poll__project=project)
        .with_text()
        .select_related("question__poll", "respondent")
    )
    return {_where(a): services.answer_text(a) for a in rows}


def _respondents(project) -> dict:
    return {
        (r.poll.title, r.export_id): (r.position, r.attributes)
        for poll in project.polls.all()
        for r in poll.respondents.select_related("poll")
    }


def _zip(members: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# --- codebooks ----------------------------------------------------------------------


def test_a_qdc_validates_against_the_codebook_schema_and_leaves_archived_themes_out(
    coded, project, schema
):
    data = write_qdc(project)
    document = etree.fromstring(data)
    schema["Codebook.xsd"].assertValid(document)
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
    names = [c.get("name") for c in document.iter("{urn:QDA-XML:codebook:1.0}Code")]
    assert names == ["Workload", "Caseloads", "Too many cases", "Resources"]
    assert {c.get("isCodable") for c in document.iter("{*}Code")} == {"true"}
    assert write_qdc(project) == data  # stable GUIDs: a re-export is the same file


def test_criteria_travel_as_labelled_paragraphs_of_the_description():
    text = join_description("Pressure.\n\nAny kind.", "Hours.", "Pay.\n\nBonuses.")
    assert text == "Pressure.\n\nAny kind.\n\nInclude: Hours.\n\nExclude: Pay.\n\nBonuses."
    assert split_description(text) == ("Pressure.\n\nAny kind.", "Hours.", "Pay.\n\nBonuses.")
    assert split_description("inclusion criteria:  x\n\nEXCLUSION: y") == ("", " x", "y")
    assert split_description("Only a description.") == ("Only a description.", "", "")


def test_a_qdc_round_trips_through_merge_codebook_into_an_empty_project(coded, project, alice):
    empty = Project.objects.create(name="Empty")
    report = import_qdc(empty, write_qdc(project), "care.qdc", alice)
    assert report.created == ["Workload", "Caseloads", "Too many cases", "Resources"]
    active = {k: v for k, v in _tree(project).items() if not v[-1]}
    assert _tree(empty) == active
    again = import_qdc(empty, write_qdc(project), "care.qdc", alice)
    assert again.created == [] and again.conflicts == []


def test_another_tools_qdc_reads_with_its_version_braces_categories_and_repeated_names():
    rows = read_qdc((DATA / "other_tool.qdc").read_bytes(), "other_tool.qdc")
    assert [(r.name, r.parent, r.colour) for r in rows] == [
        ("Barriers", "", "#ff0000"),
        ("Cost", "Barriers", "#eb7333"),
        ("Other", "Barriers", ""),
        ("Support", "", ""),
        ("Other (Support)", "Support", ""),
    ]
    barriers = rows[0]
    assert (barriers.description, barriers.inclusion, barriers.exclusion) == (
        "Things in the way.",
        "the respondent names an obstacle.",
        "wishes without an obstacle.",
    )
    assert barriers.guid == "6f1d3c2a-0b7e-4c8d-9e2f-1a2b3c4d5e6f" and barriers.row == 7
    assert isinstance(rows[-1], CodebookRow) and rows[-1].description == "Any other support."


def test_a_qdc_without_a_namespace_reads_too():
    data = b'<CodeBook><Codes><Code guid="a1000000-0000-4000-8000-000000000001" name="A" isCodable="true"/></Codes></CodeBook>'  # noqa: E501
    assert [r.name for r in read_qdc(data, "bare.qdc")] == ["A"]


@pytest.mark.parametrize(
    ("data", "words", "row"),
    [
        (b"<CodeBook><Codes>\n<Code name='A'>\n</CodeBook>", "not well-formed XML", 3),
        (b'<Codebook xmlns="urn:QDA-XML:codebook:1.0"/>', "root element is <Codebook>", 1),
        (
            b"<CodeBook><Codes>\n\n<Code guid='x' isCodable='true'/></Codes></CodeBook>",
            "no name",
            3,
        ),
        (b"<CodeBook><Codes/></CodeBook>", "has no <Code>", 1),
        (b'<CodeBook xmlns="urn:example:other"/>', "not REFI-QDA", 1),
        (b"", "empty", None),
        (
            b"<CodeBook><Codes>"
            + b"".join(
                b"<Code guid='a1000000-0000-4000-8000-000000000001' name='A%d' isCodable='1'>" % i
                for i in range(101)
            )
            + b"</Code>" * 101
            + b"</Codes></CodeBook>",
            "nested more than 100 deep",
            1,
        ),
    ],
)
def test_a_bad_qdc_is_refused_naming_the_file_and_line(data, words, row):
    with pytest.raises(ImportProblem) as caught:
        read_qdc(data, "bad.qdc")
    assert words in str(caught.value) and caught.value.file == "bad.qdc"
    assert caught.value.row == row


def test_an_entity_bomb_in_a_qdc_is_refused(db):
    data = BOMB.format(root="CodeBook", kind="codebook").encode()
    with pytest.raises(ImportProblem, match="DTD"):
        read_qdc(data, "bomb.qdc")


def test_a_qdc_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr("coding.refi.MAX_QDC_BYTES", 100)
    with pytest.raises(ImportProblem, match="over the limit"):
        read_qdc(b"<CodeBook>" + b" " * 100 + b"</CodeBook>", "big.qdc")


# --- projects: writing ---------------------------------------------------------------


def test_a_qdpx_holds_a_project_qde_valid_against_the_schema(coded, project, schema):
    members = _members(write_qdpx(project))
    document = etree.fromstring(members["project.qde"])
    schema["Project-mrt2019.xsd"].assertValid(document)
    ns = {"q": "urn:QDA-XML:project:1.0"}
    assert [u.get("name") for u in document.findall("q:Users/q:User", ns)] == ["alice", "bob"]
    assert len(document.findall("q:Cases/q:Case", ns)) == 10
    assert len(document.findall("q:Sources/q:TextSource", ns)) == 7  # Q4 ×3, Q9 ×3, other ×1
    variables = [v.get("name") for v in document.findall("q:Variables/q:Variable", ns)]
    assert variables == ["Role", "Team"]
    # the archived theme still used by a coding is there, and says it is archived
    retired = document.find("q:CodeBook/q:Codes/q:Code[@name='Retired idea']", ns)
    assert retired.find("q:Description", ns).text == "Archived in Verbatim."
    assert document.find(".//q:Code[@name='Never used']", ns) is None


def test_the_sources_are_lowercase_utf8_without_bom_lf_only_and_positions_match_them(
    coded, project
):
    data = write_qdpx(project)
    members = _members(data)
    names = list(members)  # in archive order
    assert names[0] == "project.qde" and all(n.startswith("sources/") for n in names[1:])
    for name, content in members.items():
        assert not content.startswith(b"\xef\xbb\xbf") and b"\r" not in content, name
        text = content.decode("utf-8")
        assert unicodedata.is_normalized("NFC", text)
    document = etree.fromstring(members["project.qde"])
    found = {}
    for source in document.iter("{*}TextSource"):
        path = source.get("plainTextPath")
        assert re.fullmatch(r"internal://[0-9a-f-]{36}\.txt", path)
        text = members["sources/" + path.removeprefix("internal://")].decode()
        for selection in source.iter("{*}PlainTextSelection"):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            found[text[start:end]] = selection.get("name")
    assert found["and no time"] == "and no time"  # code points: the emoji counts one
    assert found["Line two"] == "Line two"  # after CR LF, which the file has as LF
    assert "one\nLine" in found and "<b>&amp;</b>" in found
    assert write_qdpx(project) == data  # the same project gives the same bytes


# --- projects: the round trip ---------------------------------------------------------


def test_a_verbatim_qdpx_comes_back_as_the_same_project(coded, project, alice):
    result = import_qdpx(write_qdpx(project), "care.qdpx", "Care Review copy", alice)
    copy = result.project
    assert copy.name == "Care Review copy" and copy.role_of(alice) == Membership.Role.LEAD

    tree = _tree(project)
    del tree["Never used"]  # archived and unused: not exported
    assert _tree(copy) == tree
    assert _answers(copy) == _answers(project)
    assert _codings(copy) == _codings(project)
    assert _marks(copy) == _marks(project)
    assert ("Poll 3", "Q9", "R_2", "bob", Mark.Status.NO_THEME) in _marks(copy)
    assert _quotes(copy) == _quotes(project)
    assert _respondents(copy) == _respondents(project)

    poll = copy.polls.get()
    assert (poll.title, poll.platform, poll.population) == ("Poll 3", "qualtrics", "Social Workers")
    kinds = dict(poll.questions.values_list("export_id", "kind"))
    assert kinds == {"Q1": "free_text", "Q4": "free_text", "Q9": "free_text"}
    assert any("Q1 of Poll 3 was a single choice question" in note for note in result.notes)
    assert (result.answers, result.codings, result.quotes) == (7, 6, 4)
    assert copy.role_of(get_user_model().objects.get(username="bob")) == Membership.Role.CODER


def test_a_qdpx_goes_into_a_new_project_only(coded, project, alice):
    with pytest.raises(ImportProblem, match="exists already"):
        import_qdpx(write_qdpx(project), "care.qdpx", project.name, alice)


def test_another_tools_qdpx_becomes_one_question_of_imported_sources(db, alice):
    qde = (DATA / "foreign_project.qde").read_bytes()
    data = _zip(
        {
            "project.qde": qde,
            "Sources/d4000000-0000-4000-8000-000000000001.txt": "Hello 😀\r\nThe bus is far "
            "too expensive for us.".encode(),
            "Sources/d4000000-0000-4000-8000-000000000002.txt": b"\xef\xbb\xbfBen: mostly fine.",
        }
    )
    result = import_qdpx(data, "interviews.qdpx", "Interviews", alice)
    copy = result.project
    question = Question.objects.get(poll__project=copy)
    assert (question.poll.title, question.export_id, question.text, question.kind) == (
        "Interviews", "Q1", "Imported sources", "free_text",
    )  # fmt: skip
    assert _respondents(copy) == {
        ("Interviews", "Anna"): (1, {"Age group": "20-29"}),
        ("Interviews", "ben.txt"): (2, {}),
    }
    assert _answers(copy)[("Interviews", "Q1", "ben.txt")] == "Ben: mostly fine."
    tree = {name: values[:2] for name, values in _tree(copy).items()}
    assert tree == {"Barriers": ("", "#ff0000"), "Cost": ("Barriers", "#eb7333"),
                    "Support": ("", "#2a9d8f")}  # fmt: skip
    where = ("Interviews", "Q1", "Anna")
    assert _quotes(copy) == {
        (*where, "Colin_Curtain", 19, 36, "far too expensive", frozenset({"Cost"})),
        (*where, "dana", 19, 36, "far too expensive", frozenset({"Barriers"})),
    }
    assert _codings(copy) == {
        (*where, "Cost", "Colin_Curtain"),
        (*where, "Barriers", "dana"),
        ("Interviews", "Q1", "ben.txt", "Support", "dana"),
    }
    assert {status for *_, status in _marks(copy)} == {Mark.Status.CODED}
    colin = get_user_model().objects.get(username="Colin_Curtain")
    assert not colin.has_usable_password() and copy.role_of(colin) == Membership.Role.CODER
    assert sorted(result.coders_created) == ["Colin_Curtain", "dana"]
    assert result.notes == ["Skipped 1 PDFSource (only text sources are read)."]


def _project_zip(qde: str | bytes, **sources: str) -> bytes:
    return _zip({"project.qde": qde, **{f"sources/{k}": v for k, v in sources.items()}})


def test_an_entity_bomb_in_project_qde_is_refused(db, alice):
    data = _project_zip(BOMB.format(root="Project", kind="project"))
    with pytest.raises(ImportProblem, match="DTD") as caught:
        import_qdpx(data, "bomb.qdpx", "Bomb", alice)
    assert caught.value.file == "bomb.qdpx (project.qde)"
    assert not Project.objects.filter(name="Bomb").exists()


def test_a_member_that_would_unpack_far_larger_than_it_is_packed_is_refused(db, alice):
    data = _project_zip("<Project name='x'/>", **{"a.txt": "0" * (2 * 1024 * 1024)})
    with pytest.raises(ImportProblem, match="zip bomb"):
        import_qdpx(data, "bomb.qdpx", "Bomb", alice)


def test_a_member_claiming_a_huge_size_is_refused(db, alice):
    data = bytearray(_project_zip("<Project name='x'/>", **{"a.txt": "tiny"}))
    central = data.rfind(b"PK\x01\x02")  # the last member's central directory entry
    data[central + 24 : central + 28] = struct.pack("<I", 0xFFFFFFF0)  # uncompressed size
    with pytest.raises(ImportProblem, match="zip bomb"):
        import_qdpx(bytes(data), "bomb.qdpx", "Bomb", alice)


def test_a_member_named_outside_the_archive_is_refused(db, alice):
    data = _zip({"project.qde": "<Project name='x'/>", "../evil.txt": "boo"})
    with pytest.raises(ImportProblem, match=r"'\.\./evil\.txt', a path outside it"):
        import_qdpx(data, "evil.qdpx", "Evil", alice)


def test_a_truncated_qdpx_is_refused_with_a_clear_message(coded, project, alice):
    data = write_qdpx(project)
    with pytest.raises(ImportProblem) as caught:
        import_qdpx(data[: len(data) // 2], "cut.qdpx", "Cut", alice)
    assert str(caught.value).startswith("cut.qdpx: this is not a complete zip archive")
    assert "truncated" in str(caught.value)


@pytest.mark.parametrize(
    ("qde", "words"),
    [
        ("<Project name='x'><Sources><TextSource guid='d4000000-0000-4000-8000-000000000001' "
         "plainTextPath='internal://a.txt'>\n<PlainTextSelection guid='e5000000-0000-4000-8000-"
         "000000000001' startPosition='2' endPosition='9'/></TextSource></Sources></Project>",
         "row 2: a selection from 2 to 9 is not inside the 3 characters"),
        ("<Project name='x'><Sources><TextSource guid='d4000000-0000-4000-8000-000000000001' "
         "plainTextPath='internal://missing.txt'/></Sources></Project>",
         "the archive has no sources/missing.txt"),
        ("<Project name='x'><Sources><TextSource guid='d4000000-0000-4000-8000-000000000001' "
         "plainTextPath='internal://a.txt'><Coding guid='f6000000-0000-4000-8000-000000000001'>"
         "<CodeRef targetGUID='a1000000-0000-4000-8000-000000000009'/></Coding></TextSource>"
         "</Sources></Project>",
         "refers to code 'a1000000-0000-4000-8000-000000000009', which the CodeBook lacks"),
        ("<CodeBook/>", "a REFI-QDA project starts with <Project>"),
    ],
)  # fmt: skip
def test_a_malformed_project_qde_is_refused_and_nothing_is_written(db, alice, qde, words):
    with pytest.raises(ImportProblem, match=re.escape(words)):
        import_qdpx(_project_zip(qde, **{"a.txt": "abc"}), "bad.qdpx", "Bad", alice)
    assert not Project.objects.filter(name="Bad").exists()


# --- the commands ---------------------------------------------------------------------


def test_the_commands_export_and_import_both_formats(coded, project, alice, tmp_path):
    out = io.StringIO()
    call_command("export_qdpx", "--project", project.name, "--out", tmp_path / "p.qdpx", stdout=out)
    call_command(
        "import_qdpx", tmp_path / "p.qdpx", "--project", "Copy", "--user", "alice", stdout=out
    )
    assert "as project Copy: 1 polls, 3 questions, 10 respondents, 7 answers" in out.getvalue()
    call_command("export_qdc", "--project", project.name, "--out", tmp_path / "c.qdc", stdout=out)
    Project.objects.create(name="Fresh")
    call_command(
        "import_qdc", tmp_path / "c.qdc", "--project", "Fresh", "--user", "alice", stdout=out
    )
    assert "Imported c.qdc into Fresh: 4 themes created" in out.getvalue()
    assert _codings(Project.objects.get(name="Copy")) == _codings(project)


def test_the_commands_fail_with_one_line_on_bad_input(project, alice, tmp_path):
    bad = tmp_path / "bad.qdc"
    bad.write_bytes(b"<CodeBook><Codes>")
    cases = [
        ("import_qdc", bad, "--project", project.name, "--user", "alice"),
        ("import_qdc", bad, "--project", "Nope", "--user", "alice"),
        ("import_qdpx", tmp_path / "none.qdpx", "--project", "New", "--user", "alice"),
        ("import_qdpx", bad, "--project", "New", "--user", "nobody"),
        ("export_qdc", "--project", project.name, "--out", tmp_path / "x.qdc"),  # no themes
        ("export_qdpx", "--project", "Nope", "--out", tmp_path / "x.qdpx"),
    ]
    for args in cases:
        with pytest.raises(CommandError) as caught:
            call_command(*args)
        assert "\n" not in str(caught.value) and str(caught.value), args


def test_a_project_without_themes_still_gets_a_well_formed_qdc(project):
    document = etree.fromstring(write_qdc(project))
    assert document.find("{urn:QDA-XML:codebook:1.0}Codes") is not None
    assert len(document.find("{urn:QDA-XML:codebook:1.0}Codes")) == 0
