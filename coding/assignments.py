"""Rounds: dealing a question's answers among coders, with an overlap sample.

A round deals every answer of the question not dealt before (so answers
imported later go to the next round). The overlap sample, drawn at random,
goes to two coders each (or more, as the lead chooses); the rest to one. Each
answer goes to the least-loaded coders, ties broken at random, so loads
differ by at most one and every pair of coders shares answers. The same seed, answers and
coders always give the same deal.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from coding.models import Assignment, Event, Round
from polls.models import Answer, Membership, Question

# Research note (O'Connor & Joffe 2020): double-code 10–25% of the answers,
# with a floor of about 50 where the question has them.
OVERLAP_PERCENT = 20
OVERLAP_FLOOR = 50


class RoundError(ValueError):
    pass


def default_overlap_percent(answers: int) -> int:
    """20%, raised so the sample reaches 50 answers where the question has them."""
    if not answers:
        return OVERLAP_PERCENT
    return min(100, max(OVERLAP_PERCENT, math.ceil(100 * OVERLAP_FLOOR / answers)))


def overlap_size(answers: int, percent: int) -> int:
    return math.floor(answers * percent / 100 + 0.5)


def deal(
    answer_ids: Sequence[int], coders: Sequence[int], overlap: int, seed: int, per_overlap: int = 2
) -> list[tuple[int, int, bool]]:
    """(answer, coder, in the overlap sample) for every answer; pure and reproducible."""
    rng = random.Random(seed)
    answers = sorted(answer_ids)
    rng.shuffle(answers)
    load = dict.fromkeys(sorted(coders), 0)
    dealt = []
    for i, answer in enumerate(answers):
        shared = i < overlap
        # Least loaded first; ties drawn afresh each time, so every pair meets.
        chosen = sorted(load, key=lambda c: (load[c], rng.random()))
        for coder in chosen[: per_overlap if shared else 1]:
            load[coder] += 1
            dealt.append((answer, coder, shared))
    return sorted(dealt)


def undealt(question: Question):
    """The question's answers to code that no round has dealt yet."""
    return (
        Answer.objects.filter(question=question)
        .with_text()
        .exclude(assignments__isnull=False)
        .order_by("pk")
    )


@transaction.atomic
def create_round(
    question: Question, coders, percent: int, seed: int, blind: bool, by, per_overlap: int = 2
) -> Round:
    coders = sorted(coders, key=lambda u: u.pk)
    answer_ids = list(undealt(question).values_list("pk", flat=True))
    if not answer_ids:
        raise RoundError("Every answer of this question has been dealt already.")
    if not coders:
        raise RoundError("Choose at least one coder.")
    overlap = overlap_size(len(answer_ids), percent)
    if overlap and not 2 <= per_overlap <= len(coders):
        raise RoundError(
            f"Each overlap answer needs between 2 and {len(coders)} of the chosen coders."
            if len(coders) >= 2
            else "An overlap sample needs at least two coders."
        )
    number = (question.rounds.aggregate(n=Max("number"))["n"] or 0) + 1
    round_ = Round.objects.create(
        question=question,
        number=number,
        overlap_percent=percent,
        overlap_coders=per_overlap,
        seed=seed,
        blind=blind,
        created_by=by,
    )
    round_.coders.set(coders)
    Assignment.objects.bulk_create(
        Assignment(round=round_, answer_id=a, coder_id=c, overlap=shared)
        for a, c, shared in deal(answer_ids, [u.pk for u in coders], overlap, seed, per_overlap)
    )
    _log(round_, by, Event.Action.ASSIGN, after=_summary(round_, len(answer_ids), overlap))
    return round_


def _summary(round_: Round, answers: int, overlap: int) -> dict:
    return {
        "round": round_.number,
        "coders": sorted(u.get_username() for u in round_.coders.all()),
        "answers": answers,
        "overlap": overlap,
        "overlap_percent": round_.overlap_percent,
        "overlap_coders": round_.overlap_coders,
        "seed": round_.seed,
        "blind": round_.blind,
    }


def _log(round_: Round, user, action, before=None, after=None) -> None:
    Event.objects.create(
        project_id=round_.question.poll.project_id,
        user=user,
        action=action,
        question=None,  # not an undo-stack event
        before=before or {},
        after=after or {},
    )


@transaction.atomic
def reveal(round_: Round, by) -> bool:
    if not round_.is_hidden:
        return False
    round_.revealed_at = timezone.now()
    round_.save(update_fields=["revealed_at"])
    _log(round_, by, Event.Action.REVEAL, after={"round": round_.number})
    return True


@transaction.atomic
def withdraw(round_: Round, by) -> None:
    """Take back the latest round's assignments; codings already made stay."""
    latest = round_.question.rounds.order_by("-number").first()
    if latest != round_:
        raise RoundError(f"Only the latest round (round {latest.number}) can be withdrawn.")
    counts = round_.assignments.aggregate(
        answers=Count("answer", distinct=True),
        overlap=Count("answer", distinct=True, filter=Q(overlap=True)),
    )
    before = _summary(round_, counts["answers"], counts["overlap"])
    _log(round_, by, Event.Action.UNASSIGN, before=before)
    round_.delete()


def hidden_question_ids(project) -> set[int]:
    """Questions with a blind round not yet revealed: coders see only their own codings."""
    rounds = Round.objects.hidden().filter(question__poll__project=project)
    return set(rounds.values_list("question_id", flat=True))


def sees_others(role: str, question: Question) -> bool:
    """Leads always see every coder's codings; others once no blind round hides them."""
    if role == Membership.Role.LEAD:
        return True
    return not Round.objects.hides(question.pk)
