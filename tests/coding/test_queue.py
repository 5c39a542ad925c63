"""Queue.place, one statement, against the queue's own list of answers worked out in Python."""

from __future__ import annotations

import random

import pytest

from coding import assignments, services
from coding.models import Mark
from coding.queue import Filters, Queue
from polls.models import Respondent
from tests.factories import make_free_text

TEXTS = [f"answer {i} about {'time' if i % 3 else 'money'}" for i in range(40)]
FILTERS = [
    Filters(),
    Filters(status="uncoded"),
    Filters(status="coded"),
    Filters(status="no_theme"),
    Filters(status="unclear"),
    Filters(text="money"),
    Filters(scope="all"),
    Filters(scope="mine", status="uncoded"),
]


@pytest.fixture
def scene(poll, project, alice, bob):
    Respondent.objects.bulk_create(
        Respondent(poll=poll, export_id=f"X_{i}", position=100 + i) for i in range(30)
    )
    question = make_free_text(poll, TEXTS)
    answers = list(question.answers.order_by("pk"))
    theme = services.create_theme(project, "Time", alice)
    assignments.create_round(question, [alice, bob], 20, seed=3, blind=False, by=alice)
    rng = random.Random(5)
    for answer in rng.sample(answers, 15):
        services.apply_theme(answer, theme, bob)
    for answer in rng.sample(answers, 5):
        services.mark_no_theme(answer, bob)
    for answer in rng.sample(answers, 4):
        services.set_flag(answer, bob, Mark.Flag.UNCLEAR)
    return question, answers


def _expected(queue: Queue, wanted):
    ids = list(queue.answers().values_list("pk", flat=True))
    if not ids:
        return None
    here = wanted if wanted in ids else ids[0]
    i = ids.index(here)
    todo_queue = Queue(queue.question, queue.coder, Filters("uncoded", scope=queue.filters.scope))
    todo = list(todo_queue.answers().values_list("pk", flat=True))
    after = [a for a in todo if a > here]
    others = [a for a in todo if a != here]
    return (
        here,
        ids[i - 1] if i > 0 else None,
        ids[i + 1] if i + 1 < len(ids) else None,
        after[0] if after else (others[0] if others else None),
    )


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f.as_query() or "none")
def test_the_place_in_the_queue_is_what_its_list_of_answers_says(scene, bob, filters):
    question, answers = scene
    queue = Queue(question, bob, filters)
    for wanted in [None, answers[0].pk, answers[17].pk, answers[-1].pk, 10**9]:
        found = queue.place(wanted)
        expected = _expected(queue, wanted)
        assert (tuple(found) if found else None) == expected, wanted


def test_an_empty_queue_has_no_place(scene, bob):
    question, _ = scene
    assert Queue(question, bob, Filters(text="nobody wrote this")).place(None) is None
