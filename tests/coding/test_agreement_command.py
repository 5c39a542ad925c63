"""`agreement`, exactly as the contract in design.md describes it.

Acceptance: two coders' long codings files built from TV-7(b) of
shared/research/agreement.md (coders c1 and c2, answers r1…r10 = R_1…R_10;
c1 did not code R_8, so it is not a unit), imported with `import_codings
--create-themes`, then compared.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coding import services
from coding.agreement import cohen_kappa, gwet_ac1, krippendorff_alpha
from coding.agreement_data import double_coded
from coding.models import Mark
from tests.factories import make_free_text

DATA = Path(__file__).resolve().parents[1] / "data" / "agreement"
HEADER = "theme,units,coder_a,coder_b,percent_agreement,cohen_kappa,krippendorff_alpha,gwet_ac1"


@pytest.fixture
def question(poll):
    return make_free_text(poll, [f"answer {i}" for i in range(1, 11)])


@pytest.fixture
def coded(question):
    for coder in ("c1", "c2"):
        _import_codings(question, coder, DATA / f"{coder}.csv")
    return question


def _import_codings(question, coder, path):
    call_command(
        "import_codings",
        str(path),
        "--project",
        question.poll.project.name,
        "--poll",
        question.poll.title,
        "--question",
        question.export_id,
        "--coder",
        coder,
        "--create-themes",
        stdout=io.StringIO(),
    )


def _agreement(q, coders="c1,c2", *extra, **names) -> str:
    out = io.StringIO()
    args = {
        "--project": q.poll.project.name,
        "--poll": q.poll.title,
        "--question": q.export_id,
        "--coders": coders,
    }
    args.update({f"--{k}": v for k, v in names.items()})
    call_command("agreement", *[a for pair in args.items() for a in pair], *extra, stdout=out)
    return out.getvalue()


def _raises(*parts: str):
    return pytest.raises(CommandError, match=".*".join(re.escape(p) for p in parts))


EXPECTED = [
    HEADER,
    "A,9,4,4,100.00,1.0000,1.0000,1.0000",
    "B,9,3,1,77.78,0.4000,0.3929,0.6604",
    "C,9,3,3,77.78,0.5000,0.5278,0.6000",
    "D,9,2,2,77.78,0.3571,0.3929,0.6604",
    "ALL,9,8,7,44.44,,0.4896,",
]


def test_the_tv7_pair_c1_c2_gives_the_published_figures(tmp_path, coded):
    out = tmp_path / "agreement.csv"
    message = _agreement(coded, "c1,c2", out=str(out))
    assert str(out) in message
    assert out.read_text(encoding="utf-8").splitlines() == EXPECTED
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    # The note's pair table: κ per theme, α-MASI 0.4896, 9 answers.
    assert [(r["theme"], r["cohen_kappa"]) for r in rows[:4]] == [
        ("A", "1.0000"), ("B", "0.4000"), ("C", "0.5000"), ("D", "0.3571"),
    ]  # fmt: skip
    assert rows[-1]["krippendorff_alpha"] == "0.4896"
    assert {r["units"] for r in rows} == {"9"}


def _tv7_theme_lists(theme: str) -> tuple[list[int], list[int]]:
    """c1's and c2's 0/1 for the theme on the 9 answers both coded, from the files."""
    coded = {}
    for coder in ("c1", "c2"):
        with (DATA / f"{coder}.csv").open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                coded.setdefault(coder, {}).setdefault(row["response_id"], set()).update(
                    {row["theme"]} - {""}
                )
    both = [r for r in coded["c1"] if r in coded["c2"]]
    assert len(both) == 9
    return (
        [int(theme in coded["c1"][r]) for r in both],
        [int(theme in coded["c2"][r]) for r in both],
    )


@pytest.mark.parametrize("line", EXPECTED[1:5])
def test_each_theme_row_agrees_with_the_general_formulas(line):
    """Cross-check of the vectorised row against the coincidence-matrix α, κ and AC1."""
    theme, _, _, _, pa, kappa, alpha, ac1 = line.split(",")
    a, b = _tv7_theme_lists(theme)
    assert f"{100 * sum(x == y for x, y in zip(a, b, strict=True)) / 9:.2f}" == pa
    assert f"{cohen_kappa(a, b):.4f}" == kappa
    assert f"{krippendorff_alpha(list(zip(a, b, strict=True))):.4f}" == alpha
    assert f"{gwet_ac1(a, b, categories=[0, 1]):.4f}" == ac1
    # and α by hand from the 2×2 table: 1 − (2N − 1)·disagreements / (n1·n0)
    n1, disagree = sum(a) + sum(b), sum(x != y for x, y in zip(a, b, strict=True))
    assert f"{1 - 17 * disagree / (n1 * (18 - n1)):.4f}" == alpha


def test_without_out_the_csv_goes_to_stdout(coded):
    assert _agreement(coded).splitlines() == EXPECTED


def test_coders_in_the_other_order_swap_the_coder_columns(coded):
    lines = _agreement(coded, "c2,c1").splitlines()
    assert lines[2] == "B,9,1,3,77.78,0.4000,0.3929,0.6604"
    assert lines[-1] == "ALL,9,7,8,44.44,,0.4896,"


def test_double_coded_takes_a_fixed_number_of_queries(coded):
    users = get_user_model().objects.in_bulk(["c1", "c2"], field_name="username")
    with CaptureQueriesContext(connection) as queries:
        units, names = double_coded(coded, users["c1"], users["c2"])
    assert len(queries) == 3
    assert len(units) == 9
    assert sorted(names.values()) == ["A", "B", "C", "D"]
    assert sum(1 for a, b in units if not a and not b) == 1  # R_4: both "no theme"


def test_missing_is_not_no_theme(coded):
    """c1 did not code R_8 (missing, no unit); once c1 marks it "no theme" it is a unit of ∅."""
    c1 = get_user_model().objects.get(username="c1")
    r8 = coded.answers.get(respondent__export_id="R_8")
    services.mark_no_theme(r8, c1)
    assert Mark.objects.get(answer=r8, coder=c1).status == Mark.Status.NO_THEME
    lines = _agreement(coded).splitlines()
    assert lines[2].startswith("B,10,3,2,")
    assert lines[-1].startswith("ALL,10,8,8,")


def test_an_unfinished_answer_is_not_a_unit(coded):
    """Codings left on an answer whose mark went back to "not coded" do not count."""
    c2 = get_user_model().objects.get(username="c2")
    Mark.objects.filter(answer__respondent__export_id="R_1", coder=c2).update(status="")
    assert _agreement(coded).splitlines()[1].startswith("A,8,3,3,")


def test_a_theme_name_that_looks_like_a_formula_is_defused(tmp_path, question):
    path = tmp_path / "x.csv"
    path.write_text("response_id,theme\nR_1,=SUM(A1)\nR_2,\n", encoding="utf-8")
    _import_codings(question, "c1", path)
    _import_codings(question, "c2", path)
    lines = _agreement(question).splitlines()
    assert lines[1] == "'=SUM(A1),2,1,1,100.00,1.0000,1.0000,1.0000"
    assert lines[2] == "ALL,2,1,1,100.00,,1.0000,"


# --- bad input: one line, nothing written --------------------------------------------


@pytest.mark.parametrize(
    "names, message",
    [
        ({"project": "Nope"}, "--project: no project named 'Nope'"),
        ({"poll": "Nope"}, "--poll: no poll titled 'Nope'"),
        ({"question": "Q99"}, "--question: poll 'Poll 3' has no question 'Q99'"),
        ({"question": "Q2"}, "--question: Q2 is a scale question with no text to code"),
    ],
)
def test_unknown_names_are_refused(tmp_path, coded, names, message):
    out = tmp_path / "agreement.csv"
    with _raises(message) as refused:
        _agreement(coded, "c1,c2", out=str(out), **names)
    assert "\n" not in str(refused.value)
    assert not out.exists()


@pytest.mark.parametrize(
    "coders, message",
    [
        ("c1", "--coders: give two usernames separated by a comma, not 'c1'"),
        ("c1,c2,c3", "--coders: give two usernames separated by a comma"),
        ("c1,", "--coders: give two usernames separated by a comma"),
        ("c1,c1", "--coders: give two different coders, not 'c1' twice"),
        ("c1,nobody", "--coders: no user named 'nobody'"),
        ("c1,bob", "--coders: 'bob' has coded no answers of Q9"),
    ],
)
def test_bad_coders_are_refused(tmp_path, coded, bob, coders, message):
    out = tmp_path / "agreement.csv"
    with _raises(message) as refused:
        _agreement(coded, coders, out=str(out))
    assert "\n" not in str(refused.value)
    assert not out.exists()


def test_coders_with_no_answer_in_common_are_refused(tmp_path, coded):
    path = tmp_path / "c3.csv"
    path.write_text("response_id,theme\nR_8,B\n", encoding="utf-8")
    _import_codings(coded, "c3", path)
    with _raises("--coders: 'c1' and 'c3' have coded no answers of Q9 in common"):
        _agreement(coded, "c1,c3")


def test_an_unwritable_out_file_is_one_line(tmp_path, coded):
    with _raises(str(tmp_path / "no" / "such" / "dir.csv"), "cannot write the file") as refused:
        _agreement(coded, out=str(tmp_path / "no" / "such" / "dir.csv"))
    assert "\n" not in str(refused.value)
