"""One coder's codings of one question, read from a CSV and written all or nothing.

Two shapes (design.md, `import_codings`):

    wide   ResponseId,Lack of time,Lack of resources      one row per response,
           R_1,1,                                         a non-empty cell other
           R_2,,x                                         than 0/false/no applies
                                                          the column's theme
    long   response_id,theme                              one row per applied
           R_1,Lack of time                               theme; an empty theme
           R_3,                                           means "coded, no theme"

The file is read and checked completely before anything is written (pure, see
`read_codings`); then, in one transaction, the coder's codings on every answer
in the file become exactly the file's set, by set differences and bulk
statements rather than one query per row. Other coders and the coder's other
answers are untouched, and importing the same file twice changes nothing.

No Event is logged for the codings themselves (the undo stack and history are
for work done in the browser); themes made by --create-themes go through
coding.services.create_theme like any other new theme.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from coding import services
from coding.models import Coding, Event, Mark, Theme
from polls.bulk_sql import chunks, insert_rows
from polls.importers.table import column_ref, read_table
from polls.importers.types import ImportProblem
from polls.models import Answer, Membership, Poll, Project, Question, Respondent

ID_HEADERS = ("responseid", "response_id")
THEME_HEADER = "theme"
NOT_APPLIED = {"", "0", "false", "no"}
THEME_NAME_MAX = Theme._meta.get_field("name").max_length


class CodingsLookupError(Exception):
    """A project, poll, question or coder named on the command line that will not do."""


@dataclass
class ThemeRef:
    """A theme as the file names it, and where it first does (for messages)."""

    name: str
    row: int
    column: str


@dataclass
class CodingsFile:
    """What the file says, before it meets the database."""

    filename: str
    shape: str  # "wide" | "long"
    id_column: str  # "A (ResponseId)"
    # response id → (row it first appears on, casefolded names of its themes), file order
    responses: dict[str, tuple[int, set[str]]] = field(default_factory=dict)
    themes: dict[str, ThemeRef] = field(default_factory=dict)  # casefolded name → first mention


@dataclass
class CodingsImportResult:
    question: Question
    coder: object
    answers: int
    codings: int
    themes_created: list[str]
    added: int
    removed: int
    coder_created: bool

    def summary(self, filename: str) -> str:
        account = " (new account)" if self.coder_created else ""
        return (
            f"Imported {filename} for {self.question.export_id} by "
            f"{self.coder.get_username()}{account}: {self.answers} answers, "
            f"{self.codings} codings, {len(self.themes_created)} themes created "
            f"({self.added} codings added, {self.removed} removed)."
        )


# --- the command line's names ---------------------------------------------------


def find_question(project_name: str, poll_title: str, question_id: str) -> Question:
    project = Project.objects.filter(name=project_name).first()
    if project is None:
        raise CodingsLookupError(f"--project: no project named {project_name!r}")
    poll = Poll.objects.filter(project=project, title=poll_title).first()
    if poll is None:
        raise CodingsLookupError(
            f"--poll: no poll titled {poll_title!r} in project {project_name!r}"
        )
    question = poll.questions.select_related("poll__project").filter(export_id=question_id).first()
    if question is None:
        known = ", ".join(poll.questions.values_list("export_id", flat=True)[:20])
        raise CodingsLookupError(
            f"--question: poll {poll_title!r} has no question {question_id!r} (it has {known})"
        )
    if not question.has_text:
        raise CodingsLookupError(
            f"--question: {question_id} is a {question.get_kind_display().lower()} question "
            "with no text to code"
        )
    return question


def read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > settings.VERBATIM_MAX_UPLOAD_BYTES:
            raise ImportProblem(
                f"{size} bytes is over the limit of {settings.VERBATIM_MAX_UPLOAD_BYTES} "
                "(set VERBATIM_MAX_UPLOAD_MB)",
                file=path.name,
            )
        return path.read_bytes()
    except OSError as e:
        raise ImportProblem(f"cannot read the file ({e.strerror})", file=str(path)) from e


# --- reading the file (no database) ---------------------------------------------


def read_codings(data: bytes, filename: str) -> CodingsFile:
    """Parse either shape; ImportProblem names the file, row and column of what is wrong."""
    rows = read_table(data, filename)  # decoding, delimiters, `sep=`; refuses an empty file
    start = next(i for i, row in enumerate(rows) if any(row))
    header, body = rows[start], rows[start + 1 :]
    header_row = start + 1
    names = [cell.casefold() for cell in header]
    ids = [i for i, name in enumerate(names) if name in ID_HEADERS]
    if not ids:
        raise ImportProblem(
            "this is neither a wide codings file (a ResponseId or response_id column, then "
            "one column per theme) nor a long one (columns response_id,theme)",
            file=filename,
            row=header_row,
        )
    if len(ids) > 1:
        raise ImportProblem(
            f"two response id columns ({column_ref(ids[0], header[ids[0]])} and "
            f"{column_ref(ids[1], header[ids[1]])}); keep one",
            file=filename,
            row=header_row,
            column=column_ref(ids[1], header[ids[1]]),
        )
    id_index = ids[0]
    codings = CodingsFile(filename, "", column_ref(id_index, header[id_index]))
    if THEME_HEADER in names:
        codings.shape = "long"
        _read_long(codings, header, body, header_row, id_index, names.index(THEME_HEADER))
    else:
        codings.shape = "wide"
        _read_wide(codings, header, body, header_row, id_index)
    if not codings.responses:
        raise ImportProblem(
            "the file has a header but no responses below it", file=filename, row=header_row + 1
        )
    return codings


def _numbered(body: list[list[str]], header_row: int) -> Iterator[tuple[int, list[str]]]:
    for number, row in enumerate(body, start=header_row + 1):
        if any(row):
            yield number, row


def _response_id(codings: CodingsFile, row: list[str], number: int, id_index: int) -> str:
    value = row[id_index] if id_index < len(row) else ""
    if not value:
        raise ImportProblem(
            "this row has no response id",
            file=codings.filename,
            row=number,
            column=codings.id_column,
        )
    return value


def _refuse_cells_beyond(
    codings: CodingsFile, header: list[str], row: list[str], number: int, why: str
) -> None:
    for index in range(len(header), len(row)):
        if row[index]:
            raise ImportProblem(
                f"this cell has no column header ({why})",
                file=codings.filename,
                row=number,
                column=column_ref(index),
            )


def _theme_name(codings: CodingsFile, name: str, row: int, column: str) -> str:
    if len(name) > THEME_NAME_MAX:
        raise ImportProblem(
            f"a theme name is at most {THEME_NAME_MAX} characters; this one has {len(name)}",
            file=codings.filename,
            row=row,
            column=column,
        )
    key = name.casefold()
    codings.themes.setdefault(key, ThemeRef(name, row, column))
    return key


def _read_wide(codings, header, body, header_row, id_index) -> None:
    columns: dict[int, str] = {}  # column index → theme key
    for index, name in enumerate(header):
        if index == id_index:
            continue
        where = column_ref(index, name)
        if not name:
            if any(index < len(row) and row[index] for row in body):
                raise ImportProblem(
                    "this column has values but no theme name in its header",
                    file=codings.filename,
                    row=header_row,
                    column=where,
                )
            continue
        key = name.casefold()
        if key in codings.themes:
            first = codings.themes[key]
            raise ImportProblem(
                f"two columns name the theme {name!r} ({first.column} and {where})",
                file=codings.filename,
                row=header_row,
                column=where,
            )
        columns[index] = _theme_name(codings, name, header_row, where)
    for number, row in _numbered(body, header_row):
        response = _response_id(codings, row, number, id_index)
        if response in codings.responses:
            raise ImportProblem(
                f"response id {response!r} appears twice, in rows "
                f"{codings.responses[response][0]} and {number}; a wide file has one row "
                "per response",
                file=codings.filename,
                row=number,
                column=codings.id_column,
            )
        _refuse_cells_beyond(codings, header, row, number, "one column per theme")
        applied = {
            key
            for index, key in columns.items()
            if index < len(row) and row[index].casefold() not in NOT_APPLIED
        }
        codings.responses[response] = (number, applied)


def _read_long(codings, header, body, header_row, id_index, theme_index) -> None:
    for index, name in enumerate(header):
        if index not in (id_index, theme_index) and (
            name or any(index < len(row) and row[index] for row in body)
        ):
            raise ImportProblem(
                "a long codings file has exactly two columns, response_id and theme; "
                "a wide one has no theme column",
                file=codings.filename,
                row=header_row,
                column=column_ref(index, name),
            )
    theme_column = column_ref(theme_index, header[theme_index])
    for number, row in _numbered(body, header_row):
        response = _response_id(codings, row, number, id_index)
        _refuse_cells_beyond(codings, header, row, number, "response_id,theme")
        _, themes = codings.responses.setdefault(response, (number, set()))
        name = row[theme_index] if theme_index < len(row) else ""
        if name:
            themes.add(_theme_name(codings, name, number, theme_column))


# --- meeting the database -----------------------------------------------------


def import_codings(
    question: Question,
    data: bytes,
    filename: str,
    coder_username: str,
    *,
    create_themes: bool = False,
) -> CodingsImportResult:
    """Make `coder_username`'s codings of the file's answers exactly the file's."""
    codings = read_codings(data, filename)
    answers = _answers(question, codings)
    project = question.poll.project
    with transaction.atomic():
        codebook = _Codebook(project, codings)
        if not create_themes:
            codebook.refuse_unknown(filename)
        coder, coder_created = _coder(project, coder_username)
        codebook.create_unknown(coder)
        wanted = {
            (answers[response], codebook.ids[key])
            for response, (_, keys) in codings.responses.items()
            for key in keys
        }
        before = _themes_by_answer(question, coder, set(answers.values()))
        added, removed = _write_codings(question, coder, set(answers.values()), wanted)
        _write_marks(question, coder, codings, answers)
        _log_changes(project, coder, before, wanted, filename)
    return CodingsImportResult(
        question=question,
        coder=coder,
        answers=len(answers),
        codings=len(wanted),
        themes_created=codebook.created,
        added=added,
        removed=removed,
        coder_created=coder_created,
    )


def _answers(question: Question, codings: CodingsFile) -> dict[str, int]:
    """Response id → the id of its answer to the question (that carries text to code)."""
    respondents = dict(
        Respondent.objects.filter(poll=question.poll_id).values_list("export_id", "id")
    )
    answer_of = dict(
        Answer.objects.for_question(question).with_text().values_list("respondent_id", "id")
    )
    found: dict[str, int] = {}
    for response, (number, _) in codings.responses.items():
        respondent = respondents.get(response)
        if respondent is None:
            raise ImportProblem(
                f"response id {response!r} is not in poll {question.poll.title!r}",
                file=codings.filename,
                row=number,
                column=codings.id_column,
            )
        answer = answer_of.get(respondent)
        if answer is None:
            what = (
                "did not answer"
                if question.kind == Question.Kind.FREE_TEXT
                else 'wrote no "other" text for'
            )
            raise ImportProblem(
                f"respondent {response!r} {what} {question.export_id}, so there is nothing to code",
                file=codings.filename,
                row=number,
                column=codings.id_column,
            )
        found[response] = answer
    return found


class _Codebook:
    """The file's theme names → the project's themes, and the themes this import creates."""

    def __init__(self, project: Project, codings: CodingsFile):
        self.project = project
        self.created: list[str] = []
        folded: dict[str, int] = {}
        exact: dict[str, int] = {}
        for pk, name in project.themes.values_list("pk", "name"):
            folded.setdefault(name.casefold(), pk)
            exact[name] = pk
        # An exact spelling wins over a case-insensitive match (SQLite's lower()
        # folds ASCII only, so "Équipe" and "équipe" can both exist there).
        self.ids: dict[str, int] = {}
        for key, ref in codings.themes.items():
            pk = exact.get(ref.name, folded.get(key))
            if pk is not None:
                self.ids[key] = pk
        self.unknown = [ref for key, ref in codings.themes.items() if key not in self.ids]

    def refuse_unknown(self, filename: str) -> None:
        if not self.unknown:
            return
        ref = min(self.unknown, key=lambda r: r.row)  # the first row naming one
        more = f" (and {len(self.unknown) - 1} more)" if len(self.unknown) > 1 else ""
        raise ImportProblem(
            f"project {self.project.name!r} has no theme {ref.name!r}{more}; "
            "add it to the codebook or pass --create-themes",
            file=filename,
            row=ref.row,
            column=ref.column,
        )

    def create_unknown(self, coder) -> None:
        for ref in self.unknown:
            theme = services.create_theme(self.project, ref.name, coder)
            self.ids[ref.name.casefold()] = theme.pk
            self.created.append(theme.name)
        self.unknown = []


def _coder(project: Project, username: str):
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
    created = user is None
    if created:
        field_ = User._meta.get_field(User.USERNAME_FIELD)
        try:
            field_.clean(username, None)
        except ValidationError as e:
            raise CodingsLookupError(f"--coder: {username!r}: {' '.join(e.messages)}") from None
        user = User.objects.create_user(username)  # no password: an unusable one
    Membership.objects.get_or_create(
        project=project, user=user, defaults={"role": Membership.Role.CODER}
    )
    return user, created


def _now(model, field_name: str):
    return model._meta.get_field(field_name).get_db_prep_save(timezone.now(), connection)


def _themes_by_answer(question, coder, answers: set[int]) -> dict[int, set[int]]:
    themes: dict[int, set[int]] = {answer: set() for answer in answers}
    rows = Coding.objects.by(coder).for_question(question).values_list("answer", "theme")
    for answer, theme in rows.order_by():
        if answer in themes:
            themes[answer].add(theme)
    return themes


def _log_changes(project, coder, before: dict[int, set[int]], wanted, filename: str) -> None:
    """One history event per answer whose themes the file changed, in bulk.

    They carry no question, so they stay off the workbench's undo stack: a
    coder's "u" must not unpick a whole import.
    """
    after: dict[int, set[int]] = {answer: set() for answer in before}
    for answer, theme in wanted:
        after[answer].add(theme)
    field = Event._meta.get_field
    batch = field("batch").get_db_prep_save(uuid.uuid4(), connection)
    now = _now(Event, "created_at")
    json = field("before")
    insert_rows(
        Event,
        ["project", "user", "action", "answer", "before", "after", "batch", "created_at"],
        (
            (
                project.pk,
                coder.pk,
                Event.Action.IMPORT_CODINGS,
                answer,
                json.get_db_prep_save({"themes": sorted(old)}, connection),
                json.get_db_prep_save(
                    {"themes": sorted(after[answer]), "file": filename}, connection
                ),
                batch,
                now,
            )
            for answer, old in before.items()
            if old != after[answer]
        ),
    )


def _write_codings(question, coder, answers: set[int], wanted: set[tuple[int, int]]):
    existing = Coding.objects.by(coder).for_question(question).values_list("pk", "answer", "theme")
    have: set[tuple[int, int]] = set()
    stale: list[int] = []
    for pk, answer, theme in existing.order_by():
        if answer not in answers:
            continue  # an answer the file does not mention keeps its codings
        if (answer, theme) in wanted:
            have.add((answer, theme))
        else:
            stale.append(pk)
    for chunk in chunks(stale):
        Coding.objects.filter(pk__in=chunk).delete()
    new = sorted(wanted - have)
    now = _now(Coding, "created_at")
    insert_rows(
        Coding,
        ["answer", "theme", "coder", "created_at"],
        ((answer, theme, coder.pk, now) for answer, theme in new),
        ignore_conflicts=True,  # a coding another request saved meanwhile stays once
    )
    return len(new), len(stale)


def _write_marks(question, coder, codings: CodingsFile, answers: dict[str, int]) -> None:
    """Coded when the file gives the answer a theme, "no theme" when it gives none.

    Only the status changes: a flag or memo the coder left stays.
    """
    status_of = {
        answers[response]: Mark.Status.CODED if themes else Mark.Status.NO_THEME
        for response, (_, themes) in codings.responses.items()
    }
    marks = Mark.objects.filter(coder=coder, answer__question=question)
    change: dict[str, list[int]] = {}
    for pk, answer, status in marks.values_list("pk", "answer", "status").order_by():
        wanted = status_of.pop(answer, None)
        if wanted is not None and status != wanted:
            change.setdefault(wanted, []).append(pk)
    now = timezone.now()
    for status, pks in change.items():
        for chunk in chunks(pks):
            Mark.objects.filter(pk__in=chunk).update(status=status, updated_at=now)
    now = _now(Mark, "updated_at")
    insert_rows(
        Mark,
        ["answer", "coder", "status", "flag", "memo", "updated_at"],
        ((answer, coder.pk, status, "", "", now) for answer, status in status_of.items()),
        ignore_conflicts=True,
    )
