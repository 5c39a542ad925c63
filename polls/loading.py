"""Write a parsed survey into the database, all or nothing.

The importers (polls.importers) are pure; this is the only module that turns
their output into rows. Everything happens in one transaction with batched
bulk inserts (bulk_sql.insert_many), so a failure halfway leaves the database
as it was. Answers are written question by question from their columns, and
may be handed over one question at a time, so that the cells of a question
already written can be let go of.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import chain, repeat

from django.db import transaction

from polls.bulk_sql import Inserter, chunks, next_ids
from polls.importers.types import Answers, ImportProblem, OptionSpec, QuestionSpec, RawSurvey
from polls.models import Answer, Option, Poll, Project, Question, Rating, Respondent, Selection


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
    answers: Iterable[Answers],
    fields: PollFields,
    user=None,
) -> Poll:
    """Create the poll (or add respondents to the poll of that title) with its answers.

    answers: one Answers per spec, in order; a generator may make each when asked.
    """
    poll = Poll.objects.filter(project=project, title=fields.title).first()
    if poll is None:
        poll = _create_poll(project, survey, fields, user)
        questions = _create_questions(poll, specs)
    else:
        _refuse_known_respondents(poll, survey)
        questions = _match_questions(poll, survey, specs)
    options: dict[int, list[Option]] = {q.pk: [] for q in questions}
    for option in Option.objects.filter(question__in=questions).order_by("position"):
        options[option.question_id].append(option)
    # Keys chosen here where the database lets us (SQLite): inside the Inserter
    # block nothing but the INSERTs may use the connection.
    start = poll.respondents.count()
    respondent_ids = next_ids(Respondent, len(survey.respondents))
    with Inserter() as insert:
        respondents = _create_respondents(insert, poll, survey, start, respondent_ids)
        for question, spec, parsed in zip(questions, specs, answers, strict=True):
            option_for = _option_mapping(spec, options[question.pk])
            _create_answers(insert, question, parsed, respondents, option_for)
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
        Question(poll=poll, position=position, **_question_fields(spec))
        for position, spec in enumerate(specs, start=1)
    )
    _create_options(questions, specs)
    return questions


def _question_fields(spec: QuestionSpec) -> dict:
    fields = ["export_id", "text", "kind", "scale_min", "scale_max", "scale_min_label"]
    fields += ["scale_max_label", "max_choices", "subsample"]
    return {name: getattr(spec, name) for name in fields}


def _create_options(questions: list[Question], specs: list[QuestionSpec]) -> None:
    Option.objects.bulk_create(
        Option(question=q, position=i, text=o.text, code=o.code, is_other=o.is_other)
        for q, spec in zip(questions, specs, strict=True)
        for i, o in enumerate(spec.options, start=1)
    )


@transaction.atomic
def reload_questions(poll: Poll, specs: list[QuestionSpec], answers: Iterable[Answers]) -> None:
    """Write again the questions of a poll nobody has coded (a draft) whose spec
    changed, with their answers; `answers` holds one per spec, in order, every one
    of them asked for."""
    questions = list(poll.questions.order_by("position").prefetch_related("options"))
    if [q.export_id for q in questions] != [spec.export_id for spec in specs]:
        raise ValueError(f"{poll} does not ask these questions")
    respondents = list(poll.respondents.order_by("position").values_list("pk", flat=True))
    for question, spec, parsed in zip(questions, specs, answers, strict=True):
        was = _spec_of(question)
        if was == spec:
            continue
        Question.objects.filter(pk=question.pk).update(**_question_fields(spec))
        if replace(was, **_WORDING) == replace(spec, **_WORDING):
            continue  # what it says changed, not how its answers read
        Rating.objects.filter(question=question).delete()
        Selection.objects.filter(question=question).delete()
        Answer.objects.filter(question=question).delete_at_once()
        question.options.all().delete()
        _create_options([question], [spec])
        option_for = _option_mapping(spec, list(question.options.order_by("position")))
        with Inserter() as insert:
            _create_answers(insert, question, parsed, respondents, option_for)


# A question's fields that do not change how its cells read.
_WORDING = {"subsample": "", "scale_min_label": "", "scale_max_label": ""}


def _spec_of(question: Question) -> QuestionSpec:
    options = [OptionSpec(o.text, o.code, o.is_other) for o in question.options.all()]
    fields = _question_fields(question)
    return QuestionSpec(options=options, **fields)


def _refuse_known_respondents(poll: Poll, survey: RawSurvey) -> None:
    ids = survey.respondents.ids
    known = set()
    for chunk in chunks(ids, 900):  # SQLite limits the parameters of one query
        known.update(
            poll.respondents.filter(export_id__in=chunk).values_list("export_id", flat=True)
        )
    if known:
        first = next(i for i, export_id in enumerate(ids) if export_id in known)
        raise ImportProblem(
            f"response id {ids[first]!r} is already in poll {poll.title!r} "
            f"({len(known)} of this file's responses are); this file was not imported",
            file=survey.filename,
            row=survey.respondents.rows[first],
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


def _create_respondents(
    insert: Inserter, poll: Poll, survey: RawSurvey, start: int, ids: range | None
) -> Sequence[int]:
    """Insert respondents after the `start` already in the poll; their keys in file order."""
    respondents = survey.respondents
    count = len(respondents)
    columns = [
        respondents.ids,
        range(start + 1, start + count + 1),
        _attributes_json(respondents.attributes, count),
    ]
    fields = ["export_id", "position", "attributes"]
    if ids is not None:
        columns.insert(0, ids)
        fields.insert(0, "id")
    insert(Respondent, [*fields, "poll"], zip(*columns, repeat(poll.pk, count), strict=True))
    if ids is not None:
        return ids
    added = poll.respondents.filter(position__gt=start).order_by("position")
    return list(added.values_list("pk", flat=True))


def _attributes_json(attributes: list[tuple[str, list[str]]], count: int) -> Iterable[str]:
    """Each respondent's attributes as the JSON text Django's JSONField would store.

    Attribute values repeat (roles, regions), so each combination is encoded once.
    """
    field = Respondent._meta.get_field("attributes")
    if not attributes:
        return repeat(json.dumps({}, cls=field.encoder), count)
    names = [name for name, _ in attributes]

    class Encoded(dict):
        def __missing__(self, values: tuple) -> str:
            found = {name: value for name, value in zip(names, values, strict=True) if value}
            text = self[values] = json.dumps(found, cls=field.encoder)
            return text

    return map(Encoded().__getitem__, zip(*(cells for _, cells in attributes), strict=True))


def _option_mapping(spec: QuestionSpec, options: list[Option]) -> list[int]:
    """Spec option index → Option pk."""
    by_text = {o.text: o.pk for o in options}
    return [by_text[o.text] for o in spec.options]


def _create_answers(
    insert: Inserter,
    question: Question,
    parsed: Answers,
    respondents: Sequence[int],
    option_for: list[int],
) -> None:
    """Insert a question's answers by kind: the points chosen on a scale (Rating),
    the options ticked (Selection) and what was written (Answer)."""
    who = list(map(respondents.__getitem__, parsed.respondents))
    same = {"question": question.pk}
    if parsed.values is not None:
        insert(Rating, ["respondent", "value"], zip(who, parsed.values, strict=True), same)
    if parsed.options is not None and any(parsed.options):

        class Picked(dict):  # option indexes → Option pks, once per distinct choice
            def __missing__(self, indexes: tuple[int, ...]) -> tuple[int, ...]:
                pks = self[indexes] = tuple(option_for[i] for i in indexes)
                return pks

        picked = list(map(Picked().__getitem__, parsed.options))
        chooser = chain.from_iterable(map(repeat, who, map(len, picked)))
        rows = zip(chooser, chain.from_iterable(picked), strict=True)
        insert(Selection, ["respondent", "option"], rows, same)
    if parsed.texts is not None or parsed.other_texts is not None:
        texts = parsed.texts if parsed.texts is not None else repeat("", len(who))
        others = parsed.other_texts if parsed.other_texts is not None else repeat("", len(who))
        written = (row for row in zip(who, texts, others, strict=True) if row[1] or row[2])
        insert(Answer, ["respondent", "text", "other_text"], written, same)
