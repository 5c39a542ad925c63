"""Write a parsed survey into the database, all or nothing.

The importers (polls.importers) are pure; this is the only module that turns
their output into rows. Everything happens in one transaction with batched
bulk inserts, so a failure halfway leaves the database as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction

from polls.bulk_sql import chunks, insert_rows
from polls.importers.types import ImportProblem, ParsedAnswer, QuestionSpec, RawSurvey
from polls.models import Answer, Option, Poll, Project, Question, Respondent, Selection


@dataclass
class PollFields:
    title: str
    opened: date | None = None
    closed: date | None = None
    invited: int | None = None
    population: str = ""


@transaction.atomic
def load_poll(
    project: Project,
    survey: RawSurvey,
    specs: list[QuestionSpec],
    answers: list[list[ParsedAnswer]],
    fields: PollFields,
    user=None,
) -> Poll:
    """Create the poll (or add respondents to the poll of that title) with its answers."""
    poll = Poll.objects.filter(project=project, title=fields.title).first()
    if poll is None:
        poll = _create_poll(project, survey, fields, user)
        questions = _create_questions(poll, specs)
    else:
        _refuse_known_respondents(poll, survey)
        questions = _match_questions(poll, survey, specs)
    respondents = _create_respondents(poll, survey)
    for question, spec, parsed in zip(questions, specs, answers, strict=True):
        options = list(question.options.order_by("position"))
        option_for = _option_mapping(spec, options)
        _create_answers(question, parsed, respondents, option_for)
    return poll


def _create_poll(project, survey, fields: PollFields, user) -> Poll:
    return Poll.objects.create(
        project=project,
        title=fields.title,
        opened=fields.opened,
        closed=fields.closed,
        invited=fields.invited,
        population=fields.population,
        platform=survey.platform,
        source_file=survey.filename[:255],
        created_by=user,
    )


def _create_questions(poll: Poll, specs: list[QuestionSpec]) -> list[Question]:
    questions = Question.objects.bulk_create(
        Question(
            poll=poll,
            export_id=spec.export_id,
            position=position,
            text=spec.text,
            kind=spec.kind,
            scale_min=spec.scale_min,
            scale_max=spec.scale_max,
            scale_min_label=spec.scale_min_label,
            scale_max_label=spec.scale_max_label,
            max_choices=spec.max_choices,
            subsample=spec.subsample,
        )
        for position, spec in enumerate(specs, start=1)
    )
    Option.objects.bulk_create(
        Option(question=q, position=i, text=o.text, code=o.code, is_other=o.is_other)
        for q, spec in zip(questions, specs, strict=True)
        for i, o in enumerate(spec.options, start=1)
    )
    return questions


def _refuse_known_respondents(poll: Poll, survey: RawSurvey) -> None:
    ids = [r.export_id for r in survey.respondents]
    known = set()
    for chunk in chunks(ids, 900):  # SQLite limits the parameters of one query
        known.update(
            poll.respondents.filter(export_id__in=chunk).values_list("export_id", flat=True)
        )
    if known:
        first = next(r for r in survey.respondents if r.export_id in known)
        raise ImportProblem(
            f"response id {first.export_id!r} is already in poll {poll.title!r} "
            f"({len(known)} of this file's responses are); this file was not imported",
            file=survey.filename,
            row=first.row,
            column="ResponseId",
        )


def _match_questions(poll: Poll, survey: RawSurvey, specs: list[QuestionSpec]) -> list[Question]:
    """Adding responses to an existing poll: the file must ask the same questions."""
    existing = {q.export_id: q for q in poll.questions.all()}
    matched = []
    for spec in specs:
        question = existing.get(spec.export_id)
        if question is None or question.kind != spec.kind:
            raise ImportProblem(
                f"question {spec.export_id} does not match poll {poll.title!r}; "
                "import it as a new poll with another title",
                file=survey.filename,
                column=spec.export_id,
            )
        _add_missing_options(question, spec)
        matched.append(question)
    return matched


def _add_missing_options(question: Question, spec: QuestionSpec) -> None:
    known = set(question.options.values_list("text", flat=True))
    start = question.options.count()
    new = [o for o in spec.options if o.text not in known]
    Option.objects.bulk_create(
        Option(question=question, position=start + i, text=o.text, code=o.code, is_other=o.is_other)
        for i, o in enumerate(new, start=1)
    )


def _create_respondents(poll: Poll, survey: RawSurvey) -> list[int]:
    """Insert respondents; returns their primary keys in file order."""
    start = poll.respondents.count()
    attributes = Respondent._meta.get_field("attributes")
    insert_rows(
        Respondent,
        ["poll", "export_id", "position", "attributes"],
        (
            (poll.pk, r.export_id, start + i, attributes.get_db_prep_save(r.attributes, connection))
            for i, r in enumerate(survey.respondents, start=1)
        ),
    )
    pk_at = dict(
        poll.respondents.filter(position__gt=start).values_list("position", "pk").order_by()
    )
    return [pk_at[start + i] for i in range(1, len(survey.respondents) + 1)]


def _option_mapping(spec: QuestionSpec, options: list[Option]) -> list[int]:
    """Spec option index → Option pk."""
    by_text = {o.text: o.pk for o in options}
    return [by_text[o.text] for o in spec.options]


def _create_answers(question, parsed: list[ParsedAnswer], respondents, option_for) -> None:
    insert_rows(
        Answer,
        ["question", "respondent", "value", "text", "other_text"],
        ((question.pk, respondents[a.respondent], a.value, a.text, a.other_text) for a in parsed),
    )
    if not any(a.options for a in parsed):
        return
    answer_of = dict(
        Answer.objects.filter(question=question).values_list("respondent_id", "pk").order_by()
    )
    insert_rows(
        Selection,
        ["answer", "option"],
        (
            (answer_of[respondents[a.respondent]], option_for[i])
            for a in parsed
            for i in dict.fromkeys(a.options)  # a cell naming a choice twice counts once
        ),
    )
