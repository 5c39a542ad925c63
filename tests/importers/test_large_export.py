"""A few thousand rows of a Qualtrics export, read end to end.

Speed is measured by bench/import_speed.py, not here."""

from __future__ import annotations

import pytest

from polls.importers import ImportProblem, infer_specs, interpret, read_survey
from tests.importers.big_export import SERVICES, make_export


def test_a_large_export_reads_completely():
    data = make_export(5000)
    survey = read_survey(data, "big.csv")
    specs = infer_specs(survey)
    answers = interpret(survey, specs)
    assert len(survey.respondents) == 4990 and survey.skipped_previews == 10
    assert [s.kind for s in specs] == [
        "single_choice", "scale", "free_text", "scale", "multi_choice", "multi_choice", "free_text",
    ]  # fmt: skip
    assert sorted(o.text for o in specs[5].options) == sorted(SERVICES)
    assert len(answers[1]) == 4990


def test_the_million_row_cap_applies_to_responses(monkeypatch):
    from polls.importers import table

    monkeypatch.setattr(table, "MAX_ROWS", 1000)
    with pytest.raises(ImportProblem) as caught:
        read_survey(make_export(1200), "big.csv")
    assert "more than 1,000 rows" in str(caught.value)
