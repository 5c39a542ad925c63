"""Seed poll 3 end to end through files and commands, as a report author would run it.

Its Qualtrics export goes in with `import_poll`, a coder's long file of the
reference themes of Q4 with `import_codings`, and `export_report` must then
give exactly the counts those two files imply: every option and scale point as
the seed's counts (the report leaves one "other" count unstated), and every
theme as the number of answers the file tags with it (distinct respondents,
over the 129 who answered).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest
from django.core.management import call_command

from polls import demo
from polls.models import Project, Respondent

pytestmark = pytest.mark.django_db

SEED = demo.load_seed("poll3")
TITLE = "Seed poll 3"


def _read(path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def exported(tmp_path):
    Project.objects.create(name="Care Review polling")
    export = tmp_path / "poll3_qualtrics.csv"
    export.write_bytes(demo.qualtrics_export(SEED))
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(demo.schema(SEED)), encoding="utf-8")
    project = ["--project", "Care Review polling", "--title", TITLE]
    call_command(
        "import_poll", str(export), *project, "--schema", str(schema), stdout=io.StringIO()
    )
    # The coder's file: response id and theme, one row per theme, from the fixture's texts.
    fixture = _read(demo.SEEDS / "poll3" / "Q4.csv")
    by_text = dict(
        Respondent.objects.filter(poll__title=TITLE, answers__question__export_id="Q4").values_list(
            "answers__text", "export_id"
        )
    )
    coder_file = tmp_path / "maria-Q4.csv"
    with coder_file.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["response_id", "theme"])
        for row in fixture:
            for name in row["themes"].split(";") or [""]:
                writer.writerow([by_text[row["text"]], name.strip()])
    call_command(
        "import_codings", str(coder_file), "--project", "Care Review polling", "--poll", TITLE,
        "--question", "Q4", "--coder", "maria", "--create-themes", stdout=io.StringIO(),
    )  # fmt: skip
    out = tmp_path / "report"
    call_command(
        "export_report", "--project", "Care Review polling", "--poll", TITLE, "--out", str(out),
        stdout=io.StringIO(),
    )  # fmt: skip
    return out, fixture


def test_every_closed_question_has_the_seed_counts(exported):
    out, _ = exported
    for question in SEED.questions:
        if "counts" not in question:
            continue
        rows = _read(out / f"{question['id']}.csv")
        counts = [int(r["respondents"]) for r in rows if r["row_kind"] != "theme"]
        known = [
            (n, seed)
            for n, seed in zip(counts, question["counts"], strict=True)
            if seed is not None
        ]
        assert [n for n, _ in known] == [seed for _, seed in known], question["id"]


def test_theme_counts_are_what_the_coders_file_implies(exported):
    out, fixture = exported
    implied = Counter(
        name.strip() for row in fixture for name in row["themes"].split(";") if name.strip()
    )
    rows = [r for r in _read(out / "Q4.csv") if r["row_kind"] == "theme"]
    assert {r["category"]: int(r["respondents"]) for r in rows} == dict(implied)
    assert {r["base"] for r in rows} == {"129"}
    # The published headline of seed 000: a lack of resources, 27%.
    top = rows[0]
    assert (top["category"], round(float(top["percent"]))) == ("Lack of resources", 27)
