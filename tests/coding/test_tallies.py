"""Kept theme counts (coding.tallies) are never used after a change they rest on.

Each step below changes codings, marks, settlements or the hierarchy through a
different path (services, adjudication, codebook, undo, bulk and raw SQL
writes); after each, the kept counts must equal a fresh count, for the
consensus and for each coder. The triggers that make this so are in
migration coding/0005, one set for SQLite and one for PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coding import adjudication, services
from coding import codebook as hierarchy
from coding.models import Adjudication, Coding, Mark, QuestionVersion, ThemeTally
from coding.reports import Source
from polls.models import Membership, Question
from tests.factories import make_free_text


@pytest.fixture
def dana(project):
    user = get_user_model().objects.create_user("dana")
    Membership.objects.create(project=project, user=user, role=Membership.Role.CODER)
    return user


def _question(q4) -> Question:
    return next(iter(q4.values())).question


def _assert_kept_counts_are_fresh(question, coders):
    for source in [Source(), *(Source(c) for c in coders)]:
        kept = source.theme_counts(question)
        assert kept == source._count(question, None), source
        assert source.theme_counts(question) == kept  # now from the kept tally


def _raw_coding(answer, theme, coder):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO coding_coding (answer_id, theme_id, coder_id, created_at)"
            " VALUES (%s, %s, %s, CURRENT_TIMESTAMP)",
            [answer.pk, theme.pk, coder.pk],
        )


def test_every_kind_of_change_is_seen(q4, codebook, coded, alice, bob, dana):
    question = _question(q4)
    r1, r2, r3 = q4["R_1"], q4["R_2"], q4["R_3"]
    steps = [
        lambda: services.apply_theme(r1, codebook["Other"], bob),
        lambda: services.remove_theme(r2, codebook["Time"], bob),
        lambda: services.apply_theme(r1, codebook["Time"], dana),  # dana dissents on R_1
        lambda: services.mark_no_theme(r3, dana),
        lambda: services.undo_last(dana, question),
        lambda: adjudication.settle(r1, alice, Adjudication.Method.UNION, [codebook["Other"]]),
        lambda: Adjudication.objects.get(answer=r1).themes.add(codebook["Time"]),
        lambda: adjudication.unsettle(r1, alice),
        lambda: Mark.objects.filter(answer=r2, coder=bob).update(status=Mark.Status.UNCODED),
        lambda: Mark.objects.filter(answer=r2, coder=bob).update(status=Mark.Status.CODED),
        lambda: codebook_move(codebook["Caseload size"], codebook["Other"], alice),
        lambda: hierarchy.merge(codebook["Time"], codebook["Caseloads"], alice),
        lambda: Coding.objects.bulk_create(
            [Coding(answer=r3, theme=codebook["Never used"], coder=bob)]
        ),
        lambda: _raw_coding(r2, codebook["Other"], bob),
        lambda: Coding.objects.filter(answer=r3, coder=bob, theme=codebook["Never used"]).update(
            theme=codebook["Barriers"]
        ),
        lambda: codebook["Caseload size"].delete(),
    ]
    _assert_kept_counts_are_fresh(question, [bob, dana])
    for number, step in enumerate(steps, 1):
        step()
        try:
            _assert_kept_counts_are_fresh(question, [bob, dana])
        except AssertionError as error:
            raise AssertionError(f"step {number}") from error


def codebook_move(theme, parent, user):
    assert hierarchy.move_theme(theme, parent, user)


def test_unchanged_counts_are_not_counted_again(q4, coded):
    question = _question(q4)
    first = Source().theme_counts(question)
    with CaptureQueriesContext(connection) as queries:
        assert Source().theme_counts(question) == first
    assert len(queries) == 1
    assert "coding_themepath" not in queries[0]["sql"]


def test_a_change_to_another_question_keeps_this_ones(poll, q4, codebook, coded, bob):
    question = _question(q4)
    Source().theme_counts(question)
    kept = ThemeTally.objects.get(question_id=question.pk)
    other = make_free_text(poll, ["Elsewhere"]).answers.get()
    services.apply_theme(other, codebook["Time"], bob)
    assert QuestionVersion.objects.get(question_id=question.pk).n == kept.version


def test_deleting_the_poll_forgets_its_questions_tallies(poll, q4, coded):
    Source().theme_counts(_question(q4))
    assert ThemeTally.objects.exists() and QuestionVersion.objects.exists()
    poll.delete()
    assert not ThemeTally.objects.exists()
    assert not QuestionVersion.objects.exists()


def test_a_subsample_is_counted_not_kept(q4, coded):
    question = _question(q4)
    respondents = [q4["R_1"].respondent_id]
    assert Source().theme_counts(question, respondents) == Source()._count(question, respondents)
    assert not ThemeTally.objects.exists()
