"""Seed 004 end to end: build its area → theme tree, code, merge, split; counts follow."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from django.core.management import call_command

from coding import codebook, services
from coding.codebook_io import merge_codebook, read_csv
from coding.models import Quote, Theme
from polls import demo
from polls.imports import import_file
from polls.loading import PollFields

NOTES = list(
    csv.DictReader(
        io.StringIO((demo.SEEDS / "engagement" / "notes.csv").read_text(encoding="utf-8"))
    )
)


@pytest.fixture
def coded(project, alice, bob):
    """The engagement notes, seed 004's codebook, and every note coded by its reference theme."""
    result = import_file(
        project, demo.engagement_export(), "notes.csv", PollFields(title="Engagement"), format="csv"
    )
    question = result.poll.questions.get()
    rows = read_csv((demo.SEEDS / "engagement" / "codebook.csv").read_bytes(), "codebook.csv")
    merge_codebook(project, rows, alice)
    answers = {a.respondent.export_id: a for a in question.answers.select_related("respondent")}
    themes = {t.name: t for t in project.themes.all()}
    for note in NOTES:
        services.apply_theme(
            answers[note["note_id"]], themes[note["subtheme"] or note["theme"]], bob
        )
    return question, answers, themes


def _report(tmp_path, question) -> dict[str, tuple[int, str]]:
    call_command(
        "export_report",
        "--project",
        question.poll.project.name,
        "--poll",
        question.poll.title,
        "--out",
        str(tmp_path),
        stdout=io.StringIO(),
    )
    with (tmp_path / f"{question.export_id}.csv").open(encoding="utf-8") as f:
        return {r["category"]: (int(r["respondents"]), r["parent"]) for r in csv.DictReader(f)}


def _reference() -> Counter:
    counts = Counter()
    for note in NOTES:
        counts.update(
            {note["area"], note["theme"], *([note["subtheme"]] if note["subtheme"] else [])}
        )
    return counts


def test_the_tree_is_built_and_counts_roll_up_to_areas(coded, tmp_path):
    question, _, themes = coded
    assert Theme.objects.filter(parent=None).count() == 5
    report = _report(tmp_path, question)
    assert {name: n for name, (n, _) in report.items()} == dict(_reference())
    assert report["Thresholds"][1] == "Multi-agency working"
    assert report["Working in the system"] == (67, "")


def test_merge_and_split_carry_codings_quotes_and_counts(coded, tmp_path, alice):
    question, answers, themes = coded
    stigma, inspection = themes["Stigma"], themes["Inspection and risk aversion"]
    stigma_notes = [n["note_id"] for n in NOTES if n["theme"] == "Stigma"]
    quote = services.save_quote(answers[stigma_notes[0]], alice, 0, 5, [stigma])
    before = _report(tmp_path, question)

    codebook.merge(stigma, inspection, alice)
    after = _report(tmp_path, question)
    assert "Stigma" not in after
    assert after["Inspection and risk aversion"][0] == (
        before["Inspection and risk aversion"][0] + before["Stigma"][0]
    )
    assert after["Working in the system"] == before["Working in the system"]
    assert list(Quote.objects.get(pk=quote.pk).themes.all()) == [inspection]

    funding = themes["Funding"]
    funding_notes = [answers[n["note_id"]] for n in NOTES if n["theme"] == "Funding"]
    streams = services.create_theme(question.poll.project, "Funding streams", alice, parent=funding)
    codebook.split(funding, funding_notes[:2], streams, alice)
    split = _report(tmp_path, question)
    assert split["Funding streams"] == (2, "Funding")
    assert split["Funding"][0] == before["Funding"][0]  # the parent still counts them
    assert split["Working in the system"] == before["Working in the system"]
