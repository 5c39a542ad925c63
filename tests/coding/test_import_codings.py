"""`import_codings`, exactly as the contract in design.md describes it.

Most tests use the small ORM poll (tests/factories.py): Q4 is free text answered
by R_1 "Time.", R_2 "Caseloads are too high" and R_3; R_4 wrote nothing there.
The last ones import seed poll 3 and check its published Q4 theme table.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from coding import codings_import, services
from coding.models import Coding, Event, Mark, Theme, ThemePath
from polls import demo
from polls.imports import import_file
from polls.loading import PollFields
from polls.models import Answer, Membership

DATA = Path(__file__).resolve().parents[1] / "data" / "codings"


def _import(path, poll, coder="bob", *extra, question="Q4") -> str:
    out = io.StringIO()
    call_command(
        "import_codings",
        str(path),
        "--project",
        poll.project.name,
        "--poll",
        poll.title,
        "--question",
        question,
        "--coder",
        coder,
        *extra,
        stdout=out,
    )
    return out.getvalue()


def _file(tmp_path, text: str, name: str = "codings.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _coded(poll, coder: str, question: str = "Q4") -> dict[str, set[str]]:
    """Response id → names of the themes the coder applied to its answer."""
    found: dict[str, set[str]] = {}
    codings = Coding.objects.filter(
        coder__username=coder, answer__question__poll=poll, answer__question__export_id=question
    )
    for response, theme in codings.values_list("answer__respondent__export_id", "theme__name"):
        found.setdefault(response, set()).add(theme)
    return found


def _marks(poll, coder: str) -> dict[str, str]:
    marks = Mark.objects.filter(coder__username=coder, answer__question__poll=poll)
    return dict(marks.values_list("answer__respondent__export_id", "status"))


def _counts() -> dict[str, int]:
    models = [Coding, Mark, Theme, ThemePath, Event, Membership, get_user_model()]
    return {m.__name__: m.objects.count() for m in models}


def _raises(*parts: str):
    """CommandError whose one-line message holds these parts, in this order."""
    return pytest.raises(CommandError, match=".*".join(re.escape(p) for p in parts))


@pytest.fixture
def themes(project, alice):
    return {
        name: services.create_theme(project, name, alice)
        for name in ["Time pressure", "Caseloads", "Bureaucracy"]
    }


# --- the two shapes -------------------------------------------------------------


@pytest.mark.parametrize("name", ["wide.csv", "long.csv"])
def test_both_shapes_give_the_coder_the_files_themes_and_marks(name, poll, themes, bob):
    _import(DATA / name, poll)
    assert _coded(poll, "bob") == {"R_1": {"Time pressure"}, "R_2": {"Time pressure", "Caseloads"}}
    assert _marks(poll, "bob") == {"R_1": "coded", "R_2": "coded", "R_3": "no_theme"}


def test_the_summary_is_one_line_of_answers_codings_and_themes_created(poll, themes, bob):
    out = _import(DATA / "wide.csv", poll)
    assert out.count("\n") == 1
    assert "3 answers, 3 codings, 0 themes created" in out


def test_a_wide_cell_of_0_false_no_or_nothing_applies_no_theme(tmp_path, poll, themes, bob):
    path = _file(tmp_path, "ResponseId,Bureaucracy\nR_1, No \nR_2,fAlSe\nR_3,0\n")
    _import(path, poll)
    assert _coded(poll, "bob") == {}
    assert set(_marks(poll, "bob").values()) == {"no_theme"}


def test_an_excel_csv_in_cp1252_with_semicolons_is_read(poll, bob, alice):
    services.create_theme(poll.project, "Caseloads – too high", alice)
    services.create_theme(poll.project, "Time pressure", alice)
    _import(DATA / "excel_wide_cp1252.csv", poll)
    assert _coded(poll, "bob") == {
        "R_1": {"Caseloads – too high"},
        "R_2": {"Caseloads – too high", "Time pressure"},
    }
    assert _marks(poll, "bob")["R_3"] == "no_theme"


def test_a_utf8_file_with_a_bom_and_sep_line_is_read(tmp_path, poll, themes, bob):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffsep=;\nRESPONSEID;Caseloads\nR_2;1\n".encode())
    _import(path, poll)
    assert _coded(poll, "bob") == {"R_2": {"Caseloads"}}


def test_the_response_id_column_need_not_come_first(tmp_path, poll, themes, bob):
    _import(_file(tmp_path, "Caseloads,response_id\n1,R_2\n"), poll)
    assert _coded(poll, "bob") == {"R_2": {"Caseloads"}}


def test_create_themes_adds_the_missing_themes_to_the_codebook(tmp_path, poll, themes, bob):
    path = _file(tmp_path, "response_id,theme\nR_1,Workload\nR_2,workload\nR_2,caseloads\n")
    out = _import(path, poll, "bob", "--create-themes")
    assert "1 themes created" in out
    workload = Theme.objects.get(name="Workload")
    assert (workload.project, workload.parent, workload.created_by) == (poll.project, None, bob)
    assert ThemePath.objects.filter(ancestor=workload, descendant=workload, depth=0).exists()
    assert Theme.objects.count() == 4  # "caseloads" is the existing "Caseloads"
    assert _coded(poll, "bob") == {"R_1": {"Workload"}, "R_2": {"Workload", "Caseloads"}}


def test_each_answer_the_import_changes_gets_a_history_event(poll, themes, bob):
    _import(DATA / "long.csv", poll)
    events = Event.objects.filter(action="import_codings")
    coded = _coded(poll, "bob")
    assert events.count() == sum(1 for themes in coded.values() if themes)
    assert events.values("batch").distinct().count() == 1
    event = events.first()
    assert event.before == {"themes": []} and event.after["file"] == "long.csv"
    assert event.question is None  # history only: the coder's undo key leaves imports alone
    _import(DATA / "long.csv", poll)
    assert Event.objects.filter(action="import_codings").count() == events.count()


def test_codings_of_other_texts_of_a_choice_question(tmp_path, poll, themes, bob):
    q3 = poll.questions.get(export_id="Q3")
    q3.options.filter(text="Z").update(is_other=True)
    Answer.objects.create(
        question=q3, respondent=poll.respondents.get(export_id="R_1"), other_text="Money"
    )
    _import(_file(tmp_path, "response_id,theme\nR_1,Bureaucracy\n"), poll, question="Q3")
    assert _coded(poll, "bob", "Q3") == {"R_1": {"Bureaucracy"}}
    with _raises("codings.csv, row 2, column A (response_id)", "'R_2' wrote no \"other\" text"):
        _import(_file(tmp_path, "response_id,theme\nR_2,Bureaucracy\n"), poll, question="Q3")


# --- bad input: one line naming file, row and column; nothing written ------------


def test_an_unknown_theme_is_refused_naming_its_column(tmp_path, poll, themes, bob):
    path = _file(tmp_path, "ResponseId,Caseloads,Nope\nR_1,1,1\n")
    with _raises("codings.csv, row 1, column C (Nope): project 'Care Review polling' has no theme"):
        _import(path, poll)


def test_an_unknown_theme_in_a_long_file_is_refused_naming_its_row_and_column(
    tmp_path, poll, themes, bob
):
    path = _file(tmp_path, "response_id,theme\nR_1,Caseloads\nR_2,Nope\nR_3,Nope either\n")
    with _raises("codings.csv, row 3, column B (theme)", "'Nope' (and 1 more)", "--create-themes"):
        _import(path, poll)


def test_an_unknown_response_id_is_refused_naming_its_row_and_column(tmp_path, poll, themes, bob):
    path = _file(tmp_path, "Caseloads,ResponseId\n1,R_1\n1,R_99\n")
    with _raises("codings.csv, row 3, column B (ResponseId): response id 'R_99' is not in poll"):
        _import(path, poll)


def test_a_respondent_who_did_not_answer_the_question_is_refused(tmp_path, poll, themes, bob):
    path = _file(tmp_path, "response_id,theme\nR_1,Caseloads\n\nR_4,Caseloads\n")
    with _raises("codings.csv, row 4, column A (response_id): respondent 'R_4' did not answer Q4"):
        _import(path, poll)


def test_a_response_id_twice_in_a_wide_file_is_refused(tmp_path, poll, themes, bob):
    path = _file(tmp_path, "ResponseId,Caseloads\nR_1,1\nR_2,\nR_1,\n")
    with _raises("codings.csv, row 4, column A (ResponseId)", "appears twice, in rows 2 and 4"):
        _import(path, poll)


def test_a_file_of_neither_shape_is_refused(tmp_path, poll, themes, bob):
    path = _file(tmp_path, "Respondent,Caseloads\nR_1,1\n")
    with _raises("codings.csv, row 1: this is neither a wide codings file", "nor a long one"):
        _import(path, poll)


def test_a_long_file_with_a_third_column_is_refused(tmp_path, poll, themes, bob):
    path = _file(tmp_path, "response_id,theme,note\nR_1,Caseloads,sure\n")
    with _raises("codings.csv, row 1, column C (note): a long codings file has exactly two"):
        _import(path, poll)


@pytest.mark.parametrize(
    "text, where",
    [("", "codings.csv: the file is empty"), ("\ufeff\r\n\r\n", "codings.csv: the file is empty")],
)
def test_an_empty_file_is_refused(tmp_path, poll, bob, text, where):
    with _raises(where):
        _import(_file(tmp_path, text), poll)


def test_a_header_without_responses_is_refused(tmp_path, poll, bob):
    with _raises("codings.csv, row 2: the file has a header but no responses"):
        _import(_file(tmp_path, "response_id,theme\n"), poll)


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--project", "Nope", "--project: no project named 'Nope'"),
        ("--poll", "Nope", "--poll: no poll titled 'Nope' in project 'Care Review polling'"),
        ("--question", "Q9", "--question: poll 'Poll 3' has no question 'Q9' (it has Q1, Q2"),
        ("--question", "Q2", "--question: Q2 is a scale question with no text to code"),
    ],
)
def test_unknown_or_uncodable_names_on_the_command_line_are_refused(poll, option, value, message):
    names = {"--project": poll.project.name, "--poll": poll.title, "--question": "Q4"}
    names[option] = value
    args = [arg for pair in names.items() for arg in pair]
    with _raises(message):
        call_command("import_codings", str(DATA / "long.csv"), "--coder", "bob", *args)


def test_a_missing_file_is_named(tmp_path, poll):
    with _raises(str(tmp_path / "gone.csv"), "cannot read the file (No such file or directory)"):
        _import(tmp_path / "gone.csv", poll)


BAD_FILES = {
    "unknown theme": "ResponseId,Caseloads,Nope\nR_1,1,1\n",
    "unknown response": "response_id,theme\nR_1,Brand new\nR_99,Caseloads\n",
    "did not answer": "response_id,theme\nR_1,Brand new\nR_4,Caseloads\n",
    "twice": "ResponseId,Caseloads,Brand new\nR_1,1,1\nR_1,,\n",
    "neither shape": "Respondent,Caseloads\nR_1,1\n",
    "empty": "",
    "no responses": "ResponseId,Brand new\n",
    "no response id": "response_id,theme\nR_1,Brand new\n,Caseloads\n",
    "headerless values": "ResponseId,Caseloads\nR_1,1,1\n",
}


@pytest.mark.parametrize("create", [False, True], ids=["", "create-themes"])
@pytest.mark.parametrize("text", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_refused_file_changes_nothing(tmp_path, poll, themes, alice, text, create):
    services.apply_theme(
        poll.questions.get(export_id="Q4").answers.first(), themes["Caseloads"], alice
    )
    before = _counts()
    extra = ["--create-themes"] if create and "Nope" not in text else []
    with pytest.raises(CommandError) as refused:
        _import(_file(tmp_path, text), poll, "newcomer", *extra)
    assert "\n" not in str(refused.value)
    assert _counts() == before
    assert not get_user_model().objects.filter(username="newcomer").exists()


def test_a_failure_while_writing_leaves_nothing_behind(tmp_path, poll, themes, monkeypatch):
    def fail(*args):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(codings_import, "_write_marks", fail)
    before = _counts()
    path = _file(tmp_path, "response_id,theme\nR_1,Brand new\nR_2,Caseloads\n")
    with pytest.raises(RuntimeError):
        _import(path, poll, "newcomer", "--create-themes")
    assert _counts() == before


# --- importing again --------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(poll, themes, bob):
    _import(DATA / "long.csv", poll)
    codings = set(Coding.objects.values_list("pk", "answer", "theme", "coder", "created_at"))
    marks = set(Mark.objects.values_list("pk", "answer", "coder", "status", "updated_at"))
    out = _import(DATA / "wide.csv", poll)
    assert "(0 codings added, 0 removed)" in out
    assert (
        set(Coding.objects.values_list("pk", "answer", "theme", "coder", "created_at")) == codings
    )
    assert set(Mark.objects.values_list("pk", "answer", "coder", "status", "updated_at")) == marks


def test_a_corrected_file_replaces_the_coders_codings_on_its_answers_only(
    tmp_path, poll, themes, bob
):
    _import(DATA / "wide.csv", poll)
    corrected = _file(tmp_path, "response_id,theme\nR_1,Caseloads\nR_2,\nR_3,Bureaucracy\n")
    out = _import(corrected, poll)
    assert "(2 codings added, 3 removed)" in out
    assert _coded(poll, "bob") == {"R_1": {"Caseloads"}, "R_3": {"Bureaucracy"}}
    assert _marks(poll, "bob") == {"R_1": "coded", "R_2": "no_theme", "R_3": "coded"}
    _import(_file(tmp_path, "response_id,theme\nR_2,Time pressure\n", "again.csv"), poll)
    assert _coded(poll, "bob") == {
        "R_1": {"Caseloads"},
        "R_2": {"Time pressure"},
        "R_3": {"Bureaucracy"},
    }


def test_another_coders_codings_and_marks_are_untouched(poll, themes, alice, bob):
    q4 = poll.questions.get(export_id="Q4")
    r1, r3 = (
        q4.answers.get(respondent__export_id="R_1"),
        q4.answers.get(respondent__export_id="R_3"),
    )
    services.apply_theme(r1, themes["Bureaucracy"], alice)
    services.set_flag(r1, alice, Mark.Flag.DISCUSS)
    services.mark_no_theme(r3, alice)
    _import(DATA / "wide.csv", poll)
    assert _coded(poll, "alice") == {"R_1": {"Bureaucracy"}}
    assert _marks(poll, "alice") == {"R_1": "coded", "R_3": "no_theme"}
    assert Mark.objects.get(answer=r1, coder=alice).flag == Mark.Flag.DISCUSS


def test_a_coders_flag_and_memo_survive_an_import(poll, themes, bob):
    r3 = poll.questions.get(export_id="Q4").answers.get(respondent__export_id="R_3")
    services.set_memo(r3, bob, "ask the lead")
    _import(DATA / "wide.csv", poll)
    mark = Mark.objects.get(answer=r3, coder=bob)
    assert (mark.status, mark.memo) == ("no_theme", "ask the lead")


# --- the coder's account ----------------------------------------------------------


def test_a_new_coder_gets_an_account_with_an_unusable_password_and_a_coder_membership(poll, themes):
    out = _import(DATA / "long.csv", poll, "dana")
    dana = get_user_model().objects.get(username="dana")
    assert not dana.has_usable_password()
    assert Membership.objects.get(user=dana).project == poll.project
    assert poll.project.role_of(dana) == Membership.Role.CODER
    assert "dana (new account)" in out


def test_an_existing_lead_keeps_their_role(poll, themes, alice):
    _import(DATA / "long.csv", poll, "alice")
    assert poll.project.role_of(alice) == Membership.Role.LEAD
    assert alice.memberships.count() == 1


def test_a_username_django_would_refuse_is_refused(poll, themes):
    with _raises("--coder: 'no spaces please':"):
        _import(DATA / "long.csv", poll, "no spaces please")
    assert not get_user_model().objects.filter(username="no spaces please").exists()


# --- acceptance: seed poll 3, Q4 -------------------------------------------------


def _poll3_coding_file(tmp_path, project, shape: str) -> tuple[Path, list[list[str]]]:
    """Q4's reference themes (fixtures/seeds/poll3/Q4.csv) as a codings file of the import."""
    poll = import_file(
        project,
        demo.qualtrics_export(demo.load_seed("poll3")),
        "poll3.csv",
        PollFields(title="Poll 3"),
    ).poll
    q4 = poll.questions.get(export_id="Q4")
    response_of = dict(q4.answers.values_list("text", "respondent__export_id"))
    reference = demo.load_seed("poll3").texts["Q4"]
    coded = [(response_of[text], themes) for text, themes in reference]
    assert len(coded) == len(response_of) == 129
    names = list(dict.fromkeys(t for _, themes in coded for t in themes))
    if shape == "long":
        rows = [["response_id", "theme"]]
        rows += [[rid, theme] for rid, themes in coded for theme in themes or [""]]
    else:
        rows = [["ResponseId", *names]]
        rows += [[rid, *("1" if n in themes else "" for n in names)] for rid, themes in coded]
    path = tmp_path / f"poll3_Q4_{shape}.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path, [themes for _, themes in coded]


def _percent(n: int, base: int) -> str:
    return str((Decimal(100 * n) / base).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize("shape", ["long", "wide"])
def test_seed_poll_3_codings_reproduce_its_q4_theme_table(tmp_path, project, shape):
    path, reference = _poll3_coding_file(tmp_path, project, shape)
    out = _import(path, project.polls.get(), "maria", "--create-themes")
    assert "129 answers, 128 codings, 12 themes created" in out

    call_command(
        "export_report",
        "--project",
        project.name,
        "--poll",
        "Poll 3",
        "--out",
        str(tmp_path / "report"),
        "--source",
        "coder:maria",
        stdout=io.StringIO(),
    )
    with (tmp_path / "report" / "Q4.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.reader(f) if r[1] == "theme"]

    counts = Counter(t for themes in reference for t in themes)
    order = sorted(counts, key=lambda t: (-counts[t], t.casefold()))
    assert rows == [
        ["Q4", "theme", t, "", str(counts[t]), _percent(counts[t], 129), "129"] for t in order
    ]
    assert rows[0] == ["Q4", "theme", "Lack of resources", "", "35", "27.1", "129"]
    assert Counter(_marks(project.polls.get(), "maria").values()) == {"coded": 120, "no_theme": 9}
