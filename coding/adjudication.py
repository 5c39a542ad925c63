"""Disagreements between coders, the lead's settlements, and the consensus they make.

An answer is a disagreement when two or more coders finished it with different
theme sets. The lead settles it by taking one coder's themes, the union, or an
edited set, with a note; the coders' own codings stay as they were.

The consensus coding of an answer is:
- its settlement, if the lead settled it;
- otherwise the themes every coder who finished it applied: for an answer coded by
  one coder, or by coders who agree, that is simply their themes; for an
  unsettled disagreement it keeps only what they agree on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from coding.agreement_data import FINISHED, coded_sets
from coding.models import Adjudication, Coding, Event, Mark, Theme
from polls.models import Answer, Question


@dataclass
class Disagreement:
    answer_id: int
    sets: dict[int, frozenset]  # coder id → theme ids

    @property
    def union(self) -> frozenset:
        return frozenset().union(*self.sets.values())


def disagreements(question: Question, coders, answers=None, sets=None) -> list[Disagreement]:
    """Answers at least two of the coders finished with different themes, by answer id.

    `sets` is coding.agreement_data.coded_sets' result when the caller already has it.
    """
    if sets is None:
        sets = coded_sets(question, coders, answers)
    found = []
    for answer_id, by_coder in sets.items():
        if len(by_coder) >= 2 and len(set(by_coder.values())) > 1:
            found.append(Disagreement(answer_id, by_coder))
    return found


def _ids(themes: Iterable[Theme]) -> list[int]:
    return sorted(t.pk for t in themes)


@transaction.atomic
def settle(
    answer: Answer,
    by,
    method: str,
    themes: Iterable[Theme],
    note: str = "",
    taken_from=None,
) -> Adjudication:
    """Record (or replace) the consensus themes of an answer."""
    themes = list(themes)
    existing = Adjudication.objects.filter(answer=answer).first()
    before = _state(existing) if existing else {}
    adjudication, _ = Adjudication.objects.update_or_create(
        answer=answer,
        defaults={"method": method, "taken_from": taken_from, "note": note, "settled_by": by},
    )
    adjudication.themes.set(themes)
    after = {"method": method, "themes": _ids(themes), "note": note}
    if taken_from is not None:
        after["taken_from"] = taken_from.get_username()
    _log(answer, by, Event.Action.SETTLE, before, after)
    return adjudication


@transaction.atomic
def unsettle(answer: Answer, by) -> bool:
    existing = Adjudication.objects.filter(answer=answer).first()
    if existing is None:
        return False
    _log(answer, by, Event.Action.UNSETTLE, _state(existing), {})
    existing.delete()
    return True


def _state(adjudication: Adjudication) -> dict:
    return {
        "method": adjudication.method,
        "themes": _ids(adjudication.themes.all()),
        "note": adjudication.note,
    }


def _log(answer: Answer, by, action, before: dict, after: dict) -> None:
    # question stays empty: settlements are not on a coder's undo stack.
    Event.objects.create(
        project_id=answer.question.poll.project_id,
        user=by,
        action=action,
        answer=answer,
        before=before,
        after=after,
    )


def _count(queryset, field: str = "pk"):
    """A correlated subquery: how many rows `queryset` has (0 when none)."""
    counted = queryset.order_by().values(field).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def consensus_parts(question: Question) -> list[tuple]:
    """The rows carrying the question's consensus themes, each with its path to the answer.

    Settled answers' settlement themes, and the agreed codings of the others:
    coding.reports.Source counts, splits and lists answers from them.
    """
    settled = Adjudication.themes.through.objects.filter(adjudication__answer__question=question)
    return [(settled, "adjudication__answer"), (agreed_codings(question), "answer")]


def agreed_codings(question: Question):
    """Codings of unsettled answers that every coder who finished the answer shares.

    Codings of a coder who has not finished the answer do not count, and
    "no theme applies" counts as finishing it without that theme. Written as
    "no finished coder dissents" (NOT EXISTS) so that an answer only one coder
    finished, most of them, costs two index probes rather than two counts.
    """
    lacks = ~Exists(
        Coding.objects.filter(
            answer=OuterRef(OuterRef("answer")),
            theme=OuterRef(OuterRef("theme")),
            coder=OuterRef("coder"),
        )
    )
    dissent = (
        Mark.objects.filter(answer=OuterRef("answer"), status__in=FINISHED)
        .exclude(coder=OuterRef("coder"))
        .filter(Q(status=Mark.Status.NO_THEME) | lacks)
    )
    coded = Mark.objects.filter(
        answer=OuterRef("answer"), coder=OuterRef("coder"), status=Mark.Status.CODED
    )
    settled = Adjudication.objects.filter(answer=OuterRef("answer"))
    return Coding.objects.filter(
        ~Exists(settled), Exists(coded), ~Exists(dissent), answer__question=question
    )
