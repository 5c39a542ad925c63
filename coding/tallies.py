"""A question's theme counts, kept between reports until something they rest on changes.

Counting distinct respondents per theme and ancestor over a question's codings
takes a third of a second at 170,000 codings (the consensus, coding.adjudication),
and a report or export asks again for every question. So the counts are kept in
ThemeTally with the question's version when they were counted. The version is
bumped by database triggers (migration 0005) in the same transaction as any
change to a coding, a mark, a settlement or the hierarchy, whichever code path
(or raw SQL) makes it: kept counts are never used after such a change.

Read the version before counting: counts then are at least as new as the
version they are kept under, even when a change commits meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import JSONField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from coding.models import QuestionVersion, ThemeTally
from polls.models import Question


def kept(question, coder, count: Callable[[], dict[int, int]]) -> dict[int, int]:
    """Theme id → respondents for the source (`coder`, None for the consensus)."""
    source = coder.pk if coder is not None else ThemeTally.CONSENSUS
    version, stored = _lookup(question, source)
    if stored is not None:
        return dict(stored)
    counts = count()
    tally = ThemeTally(
        question_id=question.pk, source=source, version=version, counts=sorted(counts.items())
    )
    ThemeTally.objects.bulk_create(
        [tally],
        update_conflicts=True,
        unique_fields=["question_id", "source"],
        update_fields=["version", "counts"],
    )
    return counts


def _lookup(question, source: int) -> tuple[int, list | None]:
    """(the question's version, the counts kept at that version or None): one query."""
    version = QuestionVersion.objects.filter(question_id=OuterRef("pk")).values("n")
    version = Coalesce(Subquery(version), 0)
    current = ThemeTally.objects.filter(
        question_id=OuterRef("pk"), source=source, version=OuterRef("version")
    ).values("counts")
    found = (
        Question.objects.filter(pk=question.pk)
        .annotate(version=version)
        .values_list("version", Subquery(current, output_field=JSONField()))
    )
    return found.get()


def version_of(question_id: int) -> int:
    """The question's version now: read it before counting anything kept under it."""
    found = QuestionVersion.objects.filter(question_id=question_id).values_list("n", flat=True)
    return found.first() or 0
