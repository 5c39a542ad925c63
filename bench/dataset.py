"""The national-consultation scene: a 300-theme codebook, 4 coders, ~500,000 codings.

Built straight into the database after the measured import (this is set-up,
not a measurement): themes through the codebook service, rounds through the
real dealing code, codings and marks with plain bulk INSERTs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from coding import assignments, services
from coding.models import Assignment, Coding, Mark, Theme
from polls import planner
from polls.bulk_sql import insert_rows
from polls.models import Membership, Poll, Project, Question

PASSWORD = "bench-password-1"
CODERS = ["coder1", "coder2", "coder3", "coder4"]
PARENTS, CHILDREN = 30, 9  # 30 top-level themes with 9 children each: 300 themes
AGREEMENT_DOUBLE_CODED = 20_000
OVERLAP_PERCENT = 20
UNCODED_SHARE = 0.1  # of answers dealt to one coder, left for the queue to move through
THEMES_PER_ANSWER = (1, 2, 3), (0.4, 0.45, 0.15)  # 1.75 on average
SAME_AS_FIRST_CODER = 0.65


@dataclass
class Scene:
    project: Project
    lead: object
    coders: list


def people() -> Scene:
    User = get_user_model()
    lead = User.objects.create_user("lead", password=PASSWORD)
    project = Project.objects.create(name="National consultation")
    Membership.objects.create(project=project, user=lead, role=Membership.Role.LEAD)
    coders = []
    for name in CODERS:
        coder = User.objects.create_user(name, password=PASSWORD)
        Membership.objects.create(project=project, user=coder, role=Membership.Role.CODER)
        coders.append(coder)
    return Scene(project, lead, coders)


def codebook(scene: Scene, words: list[str]) -> list[Theme]:
    """Leaf themes, named from the answers' vocabulary so suggestions have something to find."""
    rng = random.Random(3)
    leaves = []
    for p in range(PARENTS):
        parent = services.create_theme(
            scene.project, f"Topic {p + 1}: {words[p % len(words)]}", scene.lead
        )
        for c in range(CHILDREN):
            name = " ".join(rng.sample(words, 2)).capitalize() + f" ({p + 1}.{c + 1})"
            leaves.append(services.create_theme(scene.project, name, scene.lead, parent=parent))
    return leaves


def deal_and_code(scene: Scene, poll: Poll, leaves: list[Theme]) -> dict:
    """Deal every free-text question among the coders and code what was dealt."""
    rng = random.Random(5)
    weights = [1 / (rank + 1) for rank in range(len(leaves))]  # a few themes are common
    theme_ids = [t.pk for t in leaves]
    counts = {"codings": 0, "marks": 0, "double_coded": 0}
    for n, question in enumerate(
        poll.questions.filter(kind=Question.Kind.FREE_TEXT).order_by("position")
    ):
        answers = assignments.undealt(question).count()
        percent = OVERLAP_PERCENT
        if n == 0:  # the agreement question: enough overlap for 20,000 double-coded answers
            percent = min(50, -(-AGREEMENT_DOUBLE_CODED * 100 // answers))
        round_ = assignments.create_round(
            question, scene.coders, percent, seed=n + 1, blind=False, by=scene.lead
        )
        _code(round_, rng, theme_ids, weights, counts)
        if n == 0:
            counts["double_coded"] = round_.assignments.filter(overlap=True).count() // 2
            counts["agreement_question"] = question.pk
    return counts


def _code(round_, rng, theme_ids, weights, counts) -> None:
    now = timezone.now()
    codings, marks, first = [], [], {}
    dealt = Assignment.objects.filter(round=round_).values_list("answer", "coder", "overlap")
    for answer, coder, overlap in dealt.order_by("answer", "coder").iterator(chunk_size=10_000):
        if not overlap and rng.random() < UNCODED_SHARE:
            continue
        if answer in first and rng.random() < SAME_AS_FIRST_CODER:
            themes = first[answer]
        else:
            k = rng.choices(*THEMES_PER_ANSWER)[0]
            themes = set(rng.choices(theme_ids, weights, k=k))
        first.setdefault(answer, themes)
        codings += [(answer, theme, coder, now) for theme in themes]
        marks.append((answer, coder, Mark.Status.CODED, "", "", now))
    insert_rows(Coding, ["answer", "theme", "coder", "created_at"], codings)
    insert_rows(Mark, ["answer", "coder", "status", "flag", "memo", "updated_at"], marks)
    counts["codings"] += len(codings)
    counts["marks"] += len(marks)


def analyze() -> None:
    """Planner statistics after half a million rows, as the database would have them
    by the time anybody reads a report: PostgreSQL's autovacuum within minutes
    (with the visibility map that lets index-only scans skip the table), SQLite's
    whenever a connection opens (polls/planner.py; the bench renews the workers)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        planner.refresh(connection)
