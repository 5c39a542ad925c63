"""Theme rows of `export_report`: distinct respondents per theme, parents over their subtree.

The small ORM poll (tests/factories.py): Q4 is free text answered by R_1 "Time.",
R_2 "Caseloads are too high" and R_3; Q3 is multi choice (X, Y, Z), answered by
five respondents. The codebook here:

    Barriers
    ├── Time
    └── Caseloads
        └── Caseload size
    Other
    Never used
"""

from __future__ import annotations

import csv

import pytest
from django.core.management import CommandError

from coding import services
from coding.models import Coding, ThemePath
from polls.models import Answer, Respondent
from tests.factories import export_report


def _export(tmp_path, poll, *extra) -> dict[str, list[list[str]]]:
    export_report(poll, tmp_path, *extra)
    tables = {}
    for path in tmp_path.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as f:
            tables[path.stem] = list(csv.reader(f))[1:]
    return tables


def _themes(rows: list[list[str]]) -> list[list[str]]:
    return [r for r in rows if r[1] == "theme"]


def test_each_theme_is_recorded_under_itself_and_every_ancestor(codebook):
    paths = ThemePath.objects.filter(descendant=codebook["Caseload size"])
    assert set(paths.values_list("ancestor__name", "depth")) == {
        ("Caseload size", 0),
        ("Caseloads", 1),
        ("Barriers", 2),
    }


def test_a_parent_counts_each_respondent_of_its_subtree_once(tmp_path, poll, coded):
    # Barriers: R_1 itself and through Time, R_2 through three descendants, R_3 through one.
    assert _themes(_export(tmp_path, poll)["Q4"]) == [
        ["Q4", "theme", "Barriers", "", "3", "100.0", "3"],
        ["Q4", "theme", "Caseloads", "Barriers", "2", "66.7", "3"],
        ["Q4", "theme", "Time", "Barriers", "2", "66.7", "3"],
        ["Q4", "theme", "Caseload size", "Caseloads", "1", "33.3", "3"],
        ["Q4", "theme", "Other", "", "1", "33.3", "3"],
    ]


def test_free_text_has_only_theme_rows_most_frequent_first(tmp_path, poll, coded):
    rows = _export(tmp_path, poll)["Q4"]
    counts = [int(r[4]) for r in rows]
    assert counts == sorted(counts, reverse=True)
    assert {r[1] for r in rows} == {"theme"}  # free text has no option rows


def test_a_theme_never_applied_has_no_row(tmp_path, poll, coded):
    names = [r[2] for r in _themes(_export(tmp_path, poll)["Q4"])]
    assert "Never used" not in names


def test_a_parent_with_no_coded_descendant_and_no_codings_has_no_row(
    tmp_path, poll, q4, codebook, bob
):
    services.apply_theme(q4["R_1"], codebook["Other"], bob)
    assert [r[2] for r in _themes(_export(tmp_path, poll)["Q4"])] == ["Other"]


def test_one_coder_or_the_consensus(tmp_path, poll, q4, coded, codebook, alice):
    """alice codes R_1 {Other} (bob: Barriers, Time) and R_3 {Other} (bob: Caseloads, Other).

    The consensus keeps what both agree on where they disagree and nobody has
    settled it: Other on R_3, nothing on R_1; R_2 is bob's alone.
    """
    services.apply_theme(q4["R_1"], codebook["Other"], alice)
    services.apply_theme(q4["R_3"], codebook["Other"], alice)
    consensus = {r[2]: r[4] for r in _themes(_export(tmp_path / "all", poll)["Q4"])}
    bobs = {
        r[2]: r[4] for r in _themes(_export(tmp_path / "bob", poll, "--source", "coder:bob")["Q4"])
    }
    alices = _themes(_export(tmp_path / "alice", poll, "--source", "coder:alice")["Q4"])
    assert consensus == {"Barriers": "1", "Time": "1", "Caseloads": "1", "Caseload size": "1",
                         "Other": "1"}  # fmt: skip
    assert bobs == {"Barriers": "3", "Time": "2", "Caseloads": "2", "Caseload size": "1",
                    "Other": "1"}  # fmt: skip
    assert alices == [["Q4", "theme", "Other", "", "2", "66.7", "3"]]


def test_an_unknown_coder_in_source_is_refused(tmp_path, poll):
    with pytest.raises(CommandError, match="--source: no user named 'nobody'"):
        _export(tmp_path, poll, "--source", "coder:nobody")


def test_other_texts_get_theme_rows_after_the_option_rows_on_the_questions_base(
    tmp_path, poll, codebook, bob
):
    q3 = poll.questions.get(export_id="Q3")
    people = poll.respondents.order_by("position")[:3]
    answers = [
        Answer.objects.create(question=q3, respondent=person, other_text=text)
        for person, text in zip(people, ["Money", "Time off", "Training"], strict=True)
    ]
    services.apply_theme(answers[0], codebook["Time"], bob)
    services.apply_theme(answers[1], codebook["Time"], bob)
    services.apply_theme(answers[1], codebook["Other"], bob)
    rows = _export(tmp_path, poll)["Q3"]
    assert [r[1] for r in rows] == ["option"] * 3 + ["theme"] * 3
    assert rows[0][6] == "5"
    # The contract's base: everyone who answered the question, not only the 3 "other" texts.
    assert _themes(rows) == [
        ["Q3", "theme", "Barriers", "", "2", "40.0", "5"],
        ["Q3", "theme", "Time", "Barriers", "2", "40.0", "5"],
        ["Q3", "theme", "Other", "", "1", "20.0", "5"],
    ]


def _many_codings(poll, codebook, coder, respondents: int, start: int = 0) -> None:
    """More respondents answering Q4, each coded with every theme but "Never used"."""
    q4 = poll.questions.get(export_id="Q4")
    people = Respondent.objects.bulk_create(
        Respondent(poll=poll, export_id=f"X_{i}", position=100 + i)
        for i in range(start, start + respondents)
    )
    answers = Answer.objects.bulk_create(
        Answer(question=q4, respondent=p, text=f"answer {p.export_id}") for p in people
    )
    themes = [t for name, t in codebook.items() if name != "Never used"]
    Coding.objects.bulk_create(
        Coding(answer=a, theme=t, coder=coder) for a in answers for t in themes
    )


# The whole report of the four-question poll: summaries, options, values and themes,
# and two a coded question to look up and keep its counts (coding.tallies).
QUERY_BUDGET = 23


def test_exporting_takes_a_fixed_number_of_queries_whatever_the_number_of_codings(
    tmp_path, poll, codebook, bob, django_assert_max_num_queries
):
    spent = []
    for added, coded_answers in [(1, 1), (300, 301)]:
        _many_codings(poll, codebook, bob, added, start=len(spent) * 1000)
        with django_assert_max_num_queries(QUERY_BUDGET) as queries:
            tables = _export(tmp_path / str(added), poll, "--source", "coder:bob")
        spent.append(len(queries.captured_queries))
        assert _themes(tables["Q4"])[0][2:5] == ["Barriers", "", str(coded_answers)]
    # Fewer the second time: the questions whose codings did not change keep their counts.
    assert spent[1] <= spent[0]
