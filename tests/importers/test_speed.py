"""A few thousand rows of a Qualtrics export, read end to end (tests.importers.big_export)."""

from __future__ import annotations

import time

import pytest

from polls.importers import ImportProblem, infer_specs, interpret, read_survey
from tests.importers.big_export import SERVICES, make_export


def test_a_large_export_reads_quickly_and_completely():
    data = make_export(5000)
    start = time.perf_counter()
    survey = read_survey(data, "big.csv")
    specs = infer_specs(survey)
    answers = interpret(survey, specs)
    elapsed = time.perf_counter() - start
    assert len(survey.respondents) == 4990 and survey.skipped_previews == 10
    assert [s.kind for s in specs] == [
        "single_choice", "scale", "free_text", "scale", "multi_choice", "multi_choice", "free_text",
    ]  # fmt: skip
    assert sorted(o.text for o in specs[5].options) == sorted(SERVICES)
    assert len(answers[1]) == 4990
    assert elapsed < 5  # about 0.15 s here; 100,000 rows take about 2.5 s


def test_the_million_row_cap_applies_to_responses(monkeypatch):
    from polls.importers import table

    monkeypatch.setattr(table, "MAX_ROWS", 1000)
    with pytest.raises(ImportProblem) as caught:
        read_survey(make_export(1200), "big.csv")
    assert "more than 1,000 rows" in str(caught.value)
