"""A coder's queue over one question's answers: filters, neighbours, progress.

The queue is the question's answers that carry text, in import order (answer
id), narrowed by the filters in the page's query string. Neighbours and counts
are single indexed queries, so moving through 100,000 answers costs the same as
moving through 100.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q, QuerySet

from coding.models import Assignment, Coding, Mark
from polls.models import Answer, Question

STATUSES = [
    ("", "All answers"),
    ("uncoded", "Not coded by me"),
    ("coded", "Coded by me"),
    ("no_theme", "No theme applies"),
    ("unclear", "Flagged unclear"),
    ("discuss", "Flagged to discuss"),
]


@dataclass
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
        return Assignment.objects.filter(round__question=self.question, coder=self.coder).exists()

    @property
    def only_mine(self) -> bool:
        scope = self.filters.scope
        return scope == "mine" or (scope == "" and self.dealt)

    def answers(self) -> QuerySet:
        answers = self.all()
        f = self.filters
        if self.only_mine:
            dealt = Assignment.objects.filter(answer=OuterRef("pk"), coder=self.coder)
            answers = answers.filter(Exists(dealt))
        mine = Mark.objects.filter(answer=OuterRef("pk"), coder=self.coder)
        if f.status == "uncoded":
            answers = answers.exclude(Exists(mine.exclude(status=Mark.Status.UNCODED)))
        elif f.status == "coded":
            answers = answers.filter(Exists(mine.filter(status=Mark.Status.CODED)))
        elif f.status == "no_theme":
            answers = answers.filter(Exists(mine.filter(status=Mark.Status.NO_THEME)))
        elif f.status in ("unclear", "discuss"):
            answers = answers.filter(Exists(mine.filter(flag=f.status)))
        if f.theme:
            coded = Coding.objects.filter(answer=OuterRef("pk"), coder=self.coder, theme=f.theme)
            answers = answers.filter(Exists(coded))
        if "=" in f.attribute:
            key, value = f.attribute.split("=", 1)
            answers = answers.filter(**{f"respondent__attributes__{key.strip()}": value.strip()})
        if f.text:
            answers = answers.filter(Q(text__icontains=f.text) | Q(other_text__icontains=f.text))
        return answers.order_by("pk")

    def first(self) -> Answer | None:
        return self.answers().first()

    def neighbours(self, answer: Answer) -> tuple[int | None, int | None]:
        answers = self.answers().values_list("pk", flat=True)
        previous = answers.filter(pk__lt=answer.pk).order_by("-pk").first()
        following = answers.filter(pk__gt=answer.pk).first()
        return previous, following

    def next_uncoded(self, answer: Answer | None) -> int | None:
        """The next answer I have not coded, after this one, wrapping round to the start."""
        unfinished = Filters(status="uncoded", scope=self.filters.scope)
        queue = Queue(self.question, self.coder, unfinished)
        queue.dealt = self.dealt  # one lookup per request
        uncoded = queue.answers()
        uncoded = uncoded.values_list("pk", flat=True)
        after = uncoded.filter(pk__gt=answer.pk).first() if answer else None
        return after or uncoded.exclude(pk=answer.pk if answer else None).first()

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
