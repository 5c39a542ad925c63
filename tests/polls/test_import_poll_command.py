"""`import_poll`, exactly as the contract in design.md describes it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from polls import demo
from polls.models import Answer, Poll, Project, Respondent
from polls.summaries import summarise_poll

DATA = Path(__file__).resolve().parents[1] / "data"


def _import(path, *extra) -> str:
    out = io.StringIO()
    call_command(
        "import_poll",
        str(path),
        "--project",
        "Care Review polling",
        "--title",
        "Poll 3",
        *extra,
        stdout=out,
    )
    return out.getvalue()


@pytest.fixture
def poll3_export(tmp_path):
    path = tmp_path / "poll3_qualtrics.csv"
    path.write_bytes(demo.qualtrics_export(demo.load_seed("poll3")))
    return path


@pytest.mark.django_db
def test_seed_poll_3_gives_141_respondents_and_the_published_bases(poll3_export):
    counts = json.loads(_import(poll3_export, "--json"))
    poll = Poll.objects.get()
    assert counts == {"poll": poll.pk, "respondents": 141, "questions": 17, "skipped_previews": 3}
    shown = ["Q1", "Q4", "Q8", "Q12", "Q14", "Q16"]
    bases = {s.question.export_id: s.answered for s in summarise_poll(poll)}
    assert {q: bases[q] for q in shown} == {
        "Q1": 138, "Q4": 129, "Q8": 113, "Q12": 108, "Q14": 129, "Q16": 112
    }  # fmt: skip
    kinds = dict(poll.questions.values_list("export_id", "kind"))
    assert kinds["Q2"] == "scale" and kinds["Q4"] == "free_text"
    assert kinds["Q14"] == "multi_choice" and kinds["Q16"] == "single_choice"
    q2 = poll.questions.get(export_id="Q2")
    assert (q2.scale_min, q2.scale_max, q2.scale_min_label) == (1, 10, "not effective at all")


@pytest.mark.django_db
def test_previews_are_kept_when_asked(poll3_export):
    counts = json.loads(_import(poll3_export, "--json", "--include-previews"))
    assert (counts["respondents"], counts["skipped_previews"]) == (144, 0)


@pytest.mark.django_db
def test_a_file_whose_response_ids_are_known_is_refused_and_changes_nothing(poll3_export):
    _import(poll3_export)
    before = (Respondent.objects.count(), Answer.objects.count())
    with pytest.raises(CommandError, match=r"poll3_qualtrics.csv, row \d+, column ResponseId"):
        _import(poll3_export)
    assert (Respondent.objects.count(), Answer.objects.count()) == before


@pytest.mark.django_db
def test_a_schema_overrides_inference(poll3_export, tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps(
            {
                "questions": [
                    {"id": "Q2", "kind": "scale", "min": 0, "max": 10, "labels": ["none", "all"]},
                    {"id": "Q16b", "kind": "free_text"},
                ]
            }
        )
    )
    _import(poll3_export, "--schema", str(schema))
    q2 = Poll.objects.get().questions.get(export_id="Q2")
    assert (q2.scale_min, q2.scale_max, q2.scale_max_label) == (0, 10, "all")


@pytest.mark.django_db
def test_bad_input_names_file_row_and_column_and_writes_nothing(tmp_path):
    bad = tmp_path / "ragged.csv"
    bad.write_text("id,Q1,Q2\n1,a,b\n2,a,b,c,d\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"ragged.csv, row 3"):
        _import(bad)
    assert not Project.objects.exists()


@pytest.mark.django_db
def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CommandError, match="nope.csv"):
        _import(tmp_path / "nope.csv")
