"""A coder's queue over one question's answers: filters, neighbours, progress.

The queue is the question's answers that carry text, in import order (answer
id), narrowed by the filters in the page's query string. Neighbours and counts
are single indexed queries, so moving through 100,000 answers costs the same as
moving through 100.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q, QuerySet

from coding.models import Assignment, Coding, Mark
from polls.models import Answer, Question
from polls.sql import fetch_one

STATUSES = [
    ("", "All answers"),
    ("uncoded", "Not coded by me"),
    ("coded", "Coded by me"),
    ("no_theme", "No theme applies"),
    ("unclear", "Flagged unclear"),
    ("discuss", "Flagged to discuss"),
]


@dataclass(frozen=True)
class Filters:
    status: str = ""
    theme: int | None = None
    attribute: str = ""  # "Role=Social Worker"
    text: str = ""
    scope: str = ""  # "mine": answers dealt to me; "all"; "": mine if any were dealt to me

    @classmethod
    def from_query(cls, query) -> Filters:
        theme = query.get("theme", "")
        return cls(
            status=query.get("status", "") if query.get("status") in dict(STATUSES) else "",
            theme=int(theme) if theme.isdigit() else None,
            attribute=query.get("attr", "").strip(),
            text=query.get("q", "").strip(),
            scope=query.get("scope", "") if query.get("scope") in ("mine", "all") else "",
        )

    def as_query(self, **extra) -> str:
        params = {
            "status": self.status,
            "theme": self.theme or "",
            "attr": self.attribute,
            "q": self.text,
            "scope": self.scope,
            **extra,
        }
        return urlencode({k: v for k, v in params.items() if v not in ("", None)})

    @property
    def active(self) -> bool:
        return bool(self.status or self.theme or self.attribute or self.text)


class Place(NamedTuple):
    answer: int
    previous: int | None
    following: int | None
    next_uncoded: int | None


@dataclass
class Queue:
    question: Question
    coder: object
    filters: Filters = field(default_factory=Filters)

    def all(self) -> QuerySet:
        return Answer.objects.filter(question=self.question).with_text()

    @cached_property
    def dealt(self) -> bool:
        """Has any round dealt answers of this question to this coder?"""
        return Assignment.objects.dealt_any(self.question.pk, self.coder.pk)

    @property
    def only_mine(self) -> bool:
        scope = self.filters.scope
        return scope == "mine" or (scope == "" and self.dealt)

    def answers(self) -> QuerySet:
        return _answers(self.question.pk, self.coder.pk, self.filters, self.only_mine)

    def first(self) -> Answer | None:
        return self.answers().first()

    def place(self, wanted: int | None) -> Place | None:
        """Where the coder stands: `wanted` if the queue has it, else its first answer;
        its neighbours, and the next answer I have not coded after it, wrapping round
        to the start. None for an empty queue.

        One statement: the queue's query and the unfinished one are built once and
        nested, each lookup an index seek. Building a query through the ORM costs
        more than running it, and the panel used to build five.
        """
        question, coder = self.question.pk, self.coder.pk
        ids, params = _ids(question, coder, self.filters, self.only_mine)
        todo, todo_params = _ids(question, coder, Filters("uncoded"), self.only_mine)
        before = f"SELECT q.id FROM ({ids}) q WHERE q.id < here.id ORDER BY q.id DESC LIMIT 1"
        after = f"SELECT q.id FROM ({ids}) q WHERE q.id > here.id ORDER BY q.id LIMIT 1"
        todo_after = f"SELECT u.id FROM ({todo}) u WHERE u.id > here.id ORDER BY u.id LIMIT 1"
        todo_first = f"SELECT u.id FROM ({todo}) u WHERE u.id <> here.id ORDER BY u.id LIMIT 1"
        wanted_sql = f"SELECT q.id FROM ({ids}) q WHERE q.id = %s"
        first = f"SELECT q.id FROM ({ids}) q ORDER BY q.id LIMIT 1"
        sql = (
            f"SELECT here.id, ({before}), ({after}), COALESCE(({todo_after}), ({todo_first}))"
            f" FROM (SELECT COALESCE(({wanted_sql}), ({first})) AS id) here"
        )
        values = [*params, *params, *todo_params, *todo_params, *params, wanted or 0, *params]
        row = fetch_one(sql, values)
        return Place(*row) if row and row[0] is not None else None

    def position(self, answer: Answer) -> int:
        return self.answers().filter(pk__lte=answer.pk).count()

    def progress(self) -> dict:
        answers = self.all()
        coded = Mark.objects.filter(answer__in=answers).exclude(status=Mark.Status.UNCODED)
        progress = {
            "total": answers.count(),
            "mine": coded.filter(coder=self.coder).count(),
            "anyone": coded.values("answer").distinct().count(),
        }
        if self.dealt:
            dealt = Assignment.objects.filter(round__question=self.question, coder=self.coder)
            progress["dealt"] = dealt.count()
            progress["dealt_done"] = coded.filter(
                coder=self.coder, answer__in=dealt.values("answer")
            ).count()
        return progress


class _Probe(Exists):
    """EXISTS checked answer by answer on PostgreSQL too.

    As a semi-join (PostgreSQL turns EXISTS into one unless its subquery has an
    OFFSET), the neighbour an answer away with LIMIT 1 was a merge join that
    read a coder's 78,000 assignments from the far end of their index: 6-10 ms
    of the panel's 15. SQLite checks row by row anyway.
    """

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "EXISTS(%(subquery)s OFFSET 0)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def _answers(question_id: int, coder, filters: Filters, only_mine: bool, exists=Exists) -> QuerySet:
    answers = Answer.objects.filter(question=question_id).with_text()
    f = filters
    if only_mine:
        dealt = Assignment.objects.filter(answer=OuterRef("pk"), coder=coder)
        answers = answers.filter(exists(dealt))
    mine = Mark.objects.filter(answer=OuterRef("pk"), coder=coder)
    if f.status == "uncoded":
        answers = answers.exclude(exists(mine.exclude(status=Mark.Status.UNCODED)))
    elif f.status == "coded":
        answers = answers.filter(exists(mine.filter(status=Mark.Status.CODED)))
    elif f.status == "no_theme":
        answers = answers.filter(exists(mine.filter(status=Mark.Status.NO_THEME)))
    elif f.status in ("unclear", "discuss"):
        answers = answers.filter(exists(mine.filter(flag=f.status)))
    if f.theme:
        coded = Coding.objects.filter(answer=OuterRef("pk"), coder=coder, theme=f.theme)
        answers = answers.filter(exists(coded))
    if "=" in f.attribute:
        key, value = f.attribute.split("=", 1)
        answers = answers.filter(**{f"respondent__attributes__{key.strip()}": value.strip()})
    if f.text:
        answers = answers.filter(Q(text__icontains=f.text) | Q(other_text__icontains=f.text))
    return answers.order_by("pk")


@functools.lru_cache(maxsize=1024)
def _ids(question_id: int, coder_id: int, filters: Filters, only_mine: bool) -> tuple[str, tuple]:
    """The queue's answer ids as SQL (column "id") and its parameters, to nest.

    The same for every answer a coder moves to, and building it costs more than
    running it: built once per worker.
    """
    answers = _answers(question_id, coder_id, filters, only_mine, exists=_Probe)
    return answers.order_by().values_list("id").query.sql_with_params()
