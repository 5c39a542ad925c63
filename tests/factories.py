"""A small poll built straight in the ORM, independent of the importers."""

from __future__ import annotations

import io

from django.core.management import call_command

from polls.models import Answer, Option, Poll, Question, Rating, Respondent, Selection


def make_poll(project, title="Poll 3", respondents=10) -> Poll:
    """Ten respondents; Q1 single choice, Q2 scale 1-5, Q3 multi choice, Q4 free text.

    Q1: A×4, B×3, C×0 (7 answered)       Q2: 1, 2, 2, 4, 5, 5 (6 answered)
    Q3: 5 answered, X×4, Y×3, Z×1 (8 selections)   Q4: 3 written answers
    """
    poll = Poll.objects.create(
        project=project, title=title, platform=Poll.Platform.QUALTRICS, population="Social Workers"
    )
    people = Respondent.objects.bulk_create(
        Respondent(poll=poll, export_id=f"R_{i}", position=i, attributes={"Role": "Social Worker"})
        for i in range(1, respondents + 1)
    )
    q1 = _question(poll, "Q1", 1, Question.Kind.SINGLE_CHOICE, ["A", "B", "C"])
    q2 = _question(
        poll,
        "Q2",
        2,
        Question.Kind.SCALE,
        [],
        scale_min=1,
        scale_max=5,
        scale_min_label="not at all",
        scale_max_label="very",
    )
    q3 = _question(poll, "Q3", 3, Question.Kind.MULTI_CHOICE, ["X", "Y", "Z"], max_choices=3)
    q4 = _question(poll, "Q4", 4, Question.Kind.FREE_TEXT, [])
    _choices(q1, people, ["A", "A", "A", "A", "B", "B", "B"])
    for person, value in zip(people, [1, 2, 2, 4, 5, 5], strict=False):
        Rating.objects.create(question=q2, respondent=person, value=value)
    _choices(q3, people, [{"X", "Y"}, {"X"}, {"X", "Y", "Z"}, {"X"}, {"Y"}])
    for person, text in zip(
        people, ["Time.", "Caseloads are too high", "=cmd|' /C calc'!A0"], strict=False
    ):
        Answer.objects.create(question=q4, respondent=person, text=text)
    return poll


def _question(poll, qid, position, kind, options, **fields) -> Question:
    question = Question.objects.create(
        poll=poll, export_id=qid, position=position, text=f"Question {qid}?", kind=kind, **fields
    )
    Option.objects.bulk_create(
        Option(question=question, position=i, text=t) for i, t in enumerate(options, start=1)
    )
    return question


def _choices(question, people, picks) -> None:
    options = {o.text: o for o in question.options.all()}
    for person, pick in zip(people, picks, strict=False):
        chosen = pick if isinstance(pick, set) else {pick}
        Selection.objects.bulk_create(
            Selection(question=question, respondent=person, option=options[t]) for t in chosen
        )


def make_free_text(poll, texts: list[str], qid: str = "Q9") -> Question:
    """A free-text question answered by the poll's first len(texts) respondents, in order."""
    question = _question(poll, qid, poll.questions.count() + 1, Question.Kind.FREE_TEXT, [])
    people = poll.respondents.order_by("position")[: len(texts)]
    Answer.objects.bulk_create(
        Answer(question=question, respondent=person, text=text)
        for person, text in zip(people, texts, strict=True)
    )
    return question


def export_report(poll, out, *extra) -> None:
    """Run `export_report` for the poll into the folder `out`, quietly."""
    call_command(
        "export_report", "--project", poll.project.name, "--poll", poll.title, "--out", str(out),
        *extra, stdout=io.StringIO(),
    )  # fmt: skip
