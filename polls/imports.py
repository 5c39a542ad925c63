"""The import workflow shared by the upload pages and `import_poll`.

parse → preview (kinds corrected by the researcher or a schema) → load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from polls import importers
from polls.importers.types import ImportProblem, ParsedAnswer, QuestionSpec, RawSurvey
from polls.loading import PollFields, load_poll
from polls.models import PendingImport, Poll, Project, Question

SAMPLES = 3


@dataclass
class ImportResult:
    poll: Poll
    respondents: int
    questions: int
    skipped_previews: int

    def as_dict(self) -> dict:
        return {
            "poll": self.poll.pk,
            "respondents": self.respondents,
            "questions": self.questions,
            "skipped_previews": self.skipped_previews,
        }


def import_file(
    project: Project,
    data: bytes,
    filename: str,
    fields: PollFields,
    *,
    format: str = "auto",
    include_previews: bool = False,
    schema: dict | None = None,
    user=None,
) -> ImportResult:
    survey = importers.read_survey(data, filename, format=format, include_previews=include_previews)
    specs = importers.infer_specs(survey, schema)
    answers = importers.interpret(survey, specs)
    poll = load_poll(project, survey, specs, answers, fields, user)
    return ImportResult(poll, len(survey.respondents), len(specs), survey.skipped_previews)


@dataclass
class QuestionPreview:
    spec: QuestionSpec
    columns: list[str]
    answered: int | None
    other_texts: int | None
    samples: list[str] = field(default_factory=list)

    @property
    def kinds(self):
        return Question.Kind.choices

    @property
    def options_text(self) -> str:
        return "\n".join(o.text for o in self.spec.options)


@dataclass
class Preview:
    pending: PendingImport
    survey: RawSurvey
    questions: list[QuestionPreview]
    problem: ImportProblem | None

    @property
    def platform_label(self) -> str:
        return Poll.Platform(self.survey.platform).label

    @property
    def can_confirm(self) -> bool:
        return self.problem is None


def read_pending(pending: PendingImport) -> RawSurvey:
    options = pending.options
    return importers.read_survey(
        bytes(pending.data),
        pending.filename,
        format=options.get("format", "auto"),
        include_previews=options.get("include_previews", False),
    )


def _infer(survey: RawSurvey, pending: PendingImport):
    """Specs with the corrections so far, and the problem if they do not apply."""
    try:
        return importers.infer_specs(survey, pending.options.get("schema")), None
    except ImportProblem as e:
        return importers.infer_specs(survey, None), e


def current_specs(pending: PendingImport) -> list[QuestionSpec]:
    """The questions as the preview page shows them now."""
    return _infer(read_pending(pending), pending)[0]


def preview(pending: PendingImport) -> Preview:
    """Parse the staged file with the researcher's corrections so far.

    A correction that makes the data unreadable (a free-text column declared a
    scale) is shown as a problem on the page instead of being refused.
    """
    survey = read_pending(pending)
    specs, problem = _infer(survey, pending)
    try:
        answers = importers.interpret(survey, specs)
    except ImportProblem as e:
        problem = problem or e
        answers = [None] * len(specs)
    questions = [
        _question_preview(raw, spec, parsed)
        for raw, spec, parsed in zip(survey.questions, specs, answers, strict=True)
    ]
    return Preview(pending, survey, questions, problem)


def _question_preview(raw, spec: QuestionSpec, parsed: list[ParsedAnswer] | None):
    columns = [c.name for c in raw.columns]
    if parsed is None:
        return QuestionPreview(spec, columns, None, None)
    return QuestionPreview(
        spec,
        columns,
        answered=len(parsed),
        other_texts=sum(1 for a in parsed if a.other_text),
        samples=[_describe(a, spec) for a in parsed[:SAMPLES]],
    )


def _describe(answer: ParsedAnswer, spec: QuestionSpec) -> str:
    if answer.text:
        return answer.text
    parts = [spec.options[i].text for i in answer.options]
    if answer.other_text:
        parts.append(f"“{answer.other_text}”")
    if answer.value is not None:
        parts.append(f"{answer.value:g}")
    return "; ".join(parts)


def schema_from_form(post, shown: list[QuestionSpec]) -> dict:
    """Turn the preview form into a --schema style dict of corrections.

    When a question's kind changes, its options and scale ends are left to
    inference for the new kind: the old ones described something else.
    """
    questions = []
    for spec in shown:
        qid = spec.export_id
        kind = post.get(f"kind-{qid}", spec.kind)
        entry: dict = {"id": qid, "kind": kind}
        if kind == spec.kind:
            entry.update(_details_from_form(post, qid, kind))
        subsample = post.get(f"subsample-{qid}", "").strip()
        if subsample:
            entry["subsample"] = subsample
        questions.append(entry)
    return {"questions": questions}


def _details_from_form(post, qid: str, kind: str) -> dict:
    if kind in (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTI_CHOICE):
        lines = [line.strip() for line in post.get(f"options-{qid}", "").splitlines()]
        options = list(dict.fromkeys(line for line in lines if line))
        details: dict = {"options": options} if options else {}
        limit = post.get(f"maxchoices-{qid}", "").strip()
        if kind == Question.Kind.MULTI_CHOICE and limit.isdigit() and int(limit) > 0:
            details["max_choices"] = int(limit)
        return details
    if kind == Question.Kind.SCALE:
        details: dict = {}
        for key in ("min", "max"):
            value = post.get(f"{key}-{qid}", "").strip()
            if value.lstrip("-").isdigit():
                details[key] = int(value)
        labels = [post.get(f"minlabel-{qid}", "").strip(), post.get(f"maxlabel-{qid}", "").strip()]
        if any(labels):
            details["labels"] = labels
        return details
    return {}


def confirm(pending: PendingImport, user) -> ImportResult:
    options = pending.options
    result = import_file(
        pending.project,
        bytes(pending.data),
        pending.filename,
        PollFields(
            title=options["title"],
            opened=_date(options.get("opened")),
            closed=_date(options.get("closed")),
            invited=options.get("invited"),
            population=options.get("population", ""),
        ),
        format=options.get("format", "auto"),
        include_previews=options.get("include_previews", False),
        schema=options.get("schema"),
        user=user,
    )
    pending.delete()
    return result


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
