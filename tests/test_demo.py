"""The demo reproduces the seed reports: every published base, percentage and mean.

The published figures live beside the counts in fixtures/seeds/*/poll.json and
are checked here through what a report author touches: `export_report`.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from coding.adjudication import disagreements
from coding.models import Adjudication
from polls import demo
from polls.models import Poll
from polls.stats import percent

SEED_POLLS = [demo.load_seed(slug) for slug in demo.POLLS]


def _export(tmp_path: Path, title: str) -> dict[str, list[dict]]:
    call_command(
        "export_report",
        "--project",
        "Care Review polling",
        "--poll",
        title,
        "--out",
        str(tmp_path),
        stdout=io.StringIO(),
    )
    tables = {}
    for path in tmp_path.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as f:
            tables[path.stem] = list(csv.DictReader(f))
    return tables


def _band(counts: dict[str, int], band: str) -> int:
    """Respondents in "6-10" (scale points) or "Likely + Very likely" (options)."""
    if " + " in band:
        return sum(counts[option] for option in band.split(" + "))
    low, high = (float(x) for x in band.split("-"))
    return sum(n for point, n in counts.items() if low <= float(point) <= high)


def _places(figure) -> int:
    return 0 if float(figure).is_integer() else len(str(figure).split(".")[1])


@pytest.mark.django_db
def test_poll_3_has_141_respondents_and_the_published_bases(demo_db, tmp_path):
    summary = {r["question"]: r for r in _export(tmp_path, SEED_POLLS[0].meta["title"])["summary"]}
    assert {r["total"] for r in summary.values()} == {"141"}
    bases = {qid: int(summary[qid]["answered"]) for qid in ("Q1", "Q4", "Q8", "Q12", "Q14", "Q16")}
    assert bases == {"Q1": 138, "Q4": 129, "Q8": 113, "Q12": 108, "Q14": 129, "Q16": 112}


@pytest.mark.django_db
@pytest.mark.parametrize("seed", SEED_POLLS, ids=lambda s: s.slug)
def test_every_published_figure_is_reproduced(demo_db, tmp_path, seed):
    tables = _export(tmp_path, seed.meta["title"])
    summary = {r["question"]: r for r in tables["summary"]}
    for q in seed.questions:
        published, rows, row = q.get("published", {}), tables[q["id"]], summary[q["id"]]
        if "answered" in published:
            assert int(row["answered"]) == published["answered"], q["id"]
        counts = {r["category"]: int(r["respondents"]) for r in rows}
        base = int(row["answered"])
        for category, figure in published.get("percent", {}).items():
            assert percent(counts[category], base, _places(figure)) == figure, (q["id"], category)
        for band, figure in published.get("bands", {}).items():
            n = _band(counts, band)
            assert percent(n, base, _places(figure)) == figure, (q["id"], band)
        if "mean" in published:
            assert round(float(row["mean"]), 1) == published["mean"], q["id"]
        if "selections" in published:
            assert int(row["selections"]) == published["selections"], q["id"]


def _published_themes(seed) -> list[tuple[str, str, float, int | None]]:
    """(question, theme, published percent, its base when not the question's: "other" texts)."""
    found = []
    for path in sorted((demo.SEEDS / seed.slug).glob("*.themes.csv")):
        name = path.name.removesuffix(".themes.csv")
        base = None
        if name.endswith("_other"):  # published as a share of the "other" texts
            base = len(seed.texts.get(name, [])) or _rows(path.with_name(f"{name}.csv"))
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if row["published_percent"]:
                    figure = float(row["published_percent"])
                    found.append((name.removesuffix("_other"), row["name"], figure, base))
    return found


def _rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


@pytest.mark.django_db
@pytest.mark.parametrize("seed", SEED_POLLS, ids=lambda s: s.slug)
def test_the_demo_codings_reproduce_the_published_theme_percentages(demo_db, tmp_path, seed):
    """The consensus of the demo's codings, through export_report's theme rows."""
    tables = _export(tmp_path, seed.meta["title"])
    published = _published_themes(seed)
    for qid, name, figure, base in published:
        row = next(r for r in tables[qid] if r["row_kind"] == "theme" and r["category"] == name)
        shown = percent(int(row["respondents"]), base or int(row["base"]), _places(figure))
        assert shown == figure, (qid, name)
    assert len(published) >= {"poll3": 20}.get(seed.slug, 0)


@pytest.mark.django_db
def test_one_question_is_double_coded_blind_with_disagreements_left_to_settle(demo_db):
    question = Poll.objects.get(title=SEED_POLLS[-1].meta["title"]).questions.get(export_id="Q4")
    round_ = question.rounds.get()
    assert round_.is_hidden
    coders = list(round_.coders.all())
    found = disagreements(
        question, coders, round_.assignments.filter(overlap=True).values("answer")
    )
    settled = Adjudication.objects.filter(answer__question=question).count()
    assert 0 < settled < len(found)


@pytest.mark.django_db
def test_it_is_idempotent_and_logs_in_every_role(demo_db):
    before = Poll.objects.count()
    call_command("demo", stdout=io.StringIO())
    assert Poll.objects.count() == before == len(demo.POLLS) + 1
    for username in ("lead", "coder", "coder2", "viewer"):
        assert authenticate(username=username, password="verbatim-demo") is not None


@pytest.mark.django_db
def test_engagement_notes_carry_their_role(demo_db):
    poll = Poll.objects.get(project__name="Workforce engagement summary")
    notes = poll.respondents.all()
    assert notes.count() > 100
    assert all(n.attributes.get("Role") for n in notes)
    question = poll.questions.get()
    assert question.kind == "free_text"
    assert question.answers.count() == notes.count()


def test_free_text_files_match_their_published_bases():
    for seed in SEED_POLLS:
        for q in seed.questions:
            if q["kind"] == "free_text" and "answered" in q.get("published", {}):
                assert len(seed.texts[q["id"]]) == q["published"]["answered"], (seed.slug, q["id"])


def test_seed_json_files_are_well_formed():
    for slug in demo.POLLS:
        json.loads((demo.SEEDS / slug / "poll.json").read_text(encoding="utf-8"))


def test_the_seed_counts_agree_with_every_statement_of_the_reports():
    """Rankings, ratios and "less than 5%" claims, checked by fixtures/seeds/check_counts.py."""
    result = subprocess.run(
        [sys.executable, str(demo.SEEDS / "check_counts.py")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
    assert " 0 failed" in result.stdout
