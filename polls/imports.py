"""The import workflow shared by the upload pages and `import_poll`.

parse → preview (kinds corrected by the researcher or a schema) → load.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import functools
import gc
import io
import os
import tempfile
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date

from django.core.signals import request_finished
from django.db import connection, transaction

from polls import import_drafts, importers, planner
from polls.importers.interpret import interpret_one
from polls.importers.types import (
    Answers,
    ImportProblem,
    OptionSpec,
    ParsedAnswer,
    QuestionSpec,
    RawSurvey,
)
from polls.loading import PollFields, load_poll
from polls.models import PendingImport, Poll, Project, Question

SAMPLES = 3
SAMPLE_CHARS = 500  # of a sample kept for the preview page, which shows 120


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
    """data: the file's bytes, or a binary file object."""
    with bulk_work(), _checkpoint_later():
        result = _import_file(
            project, data, filename, fields, format, include_previews, schema, user
        )
    if not connection.in_atomic_block:  # committed: plan for the tables' new sizes
        planner.refresh(connection)
    return result


def _import_file(project, data, filename, fields, format, include_previews, schema, user):
    survey = importers.read_survey(data, filename, format=format, include_previews=include_previews)
    specs = importers.infer_specs(survey, schema)
    poll = load_poll(project, survey, specs, _answers(survey, specs), fields, user)
    return ImportResult(poll, len(survey.respondents), len(specs), survey.skipped_previews)


def _answers(survey: RawSurvey, specs: list[QuestionSpec]) -> Iterator[Answers]:
    """Each question's answers when the loader asks for them; its cells are let go of then."""
    for question, spec in zip(survey.questions, specs, strict=True):
        answers = interpret_one(survey, question, spec)
        for column in question.columns:
            column.cells = []
        yield answers


@contextmanager
def bulk_work():
    """Pause the cyclic garbage collector while an import builds millions of objects,
    and give the memory back to the system afterwards.

    None of the objects form cycles, yet every collection would walk the
    growing column lists again: a third of the time of reading a large file.
    Once they are freed, C's allocator would keep their memory for reuse, and
    an app server's worker that read a large file would stay that large; so
    the work should leave its large objects behind inside the block.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        release_memory()


def release_memory() -> None:
    """Return freed heap memory to the system (glibc's malloc_trim; elsewhere nothing)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def release_memory_after_response() -> None:
    """release_memory once more when this request is done: its own objects (the
    upload, the response) are only freed after the view returns. The database
    connection is closed too (the next request opens another): after a file
    went through it, the driver's buffers and statement cache would keep that
    size for as long as the connection lives."""

    def release(**kwargs) -> None:
        request_finished.disconnect(release)
        if not connection.in_atomic_block:
            connection.close()
        gc.collect()
        release_memory()

    request_finished.connect(release, weak=False)


# An import commits more than this much WAL (bytes) on SQLite: its checkpoint is deferred.
BIG_COMMIT = 32 * 1024 * 1024


@contextmanager
def _checkpoint_later():
    """On SQLite, copy a large import from the write-ahead log into the database
    file after the request rather than in it.

    SQLite does that copy (a checkpoint) in the COMMIT that makes the log
    longer than wal_autocheckpoint pages: for 100,000 respondents, a third of
    a second of the confirmation. Here automatic checkpoints are paused for
    the import's own COMMIT and a thread runs the checkpoint on a connection
    of its own; readers and writers carry on meanwhile, as with any
    checkpoint. Within an enclosing transaction (the import_poll command)
    nothing changes: the commit happens later, elsewhere.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    path = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        (pages,) = cursor.fetchone()
        cursor.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
        if pages > 0 and _wal_size(path) > BIG_COMMIT:
            threading.Thread(target=_checkpoint, args=(path,), daemon=True).start()


def _wal_size(path) -> int:
    try:
        return os.path.getsize(f"{path}-wal")
    except (OSError, TypeError):
        return 0


def _checkpoint(path) -> None:
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True)) as db:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error:
        pass  # the next commit past wal_autocheckpoint pages does it then


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


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
class SurveySummary:
    """What the preview page says of the file as a whole."""

    platform: str
    respondents: range  # one per respondent: the page shows its length
    attribute_columns: list[str]
    skipped_previews: int


@dataclass
class Preview:
    pending: PendingImport
    survey: SurveySummary
    questions: list[QuestionPreview]
    problem: ImportProblem | None

    @property
    def platform_label(self) -> str:
        return Poll.Platform(self.survey.platform).label

    @property
    def can_confirm(self) -> bool:
        return self.problem is None


def stage(pending: PendingImport, upload) -> None:
    """Read an uploaded file once: refuse it (ImportProblem) if it cannot be read, else
    save it, gzip-compressed, with its preview and, where it can, imported as a draft
    (polls.import_drafts). One transaction, opened once the file is read.

    The file is compressed in a thread while this one reads it: zlib works
    without holding the interpreter's lock, so on two cores it costs no time.
    """
    with _checkpoint_later(), _Packer(upload) as packer, bulk_work():
        read = _read(pending, upload)
        with transaction.atomic():
            pending.compressed = True
            pending.save()  # first: the draft's project refers to it
            pending.preview = _work_out(pending, *read)
            del read
            pending.data = packer.finish()
            save_staged(pending)
    _plan_for_new_rows(pending)


def _plan_for_new_rows(pending: PendingImport) -> None:
    """A draft was committed: SQLite's planner learns the tables' new sizes."""
    if not connection.in_atomic_block and pending.preview and pending.preview.get("drafted"):
        planner.refresh(connection)


class _Packer:
    """gzip-compresses a file (an UploadedFile) in a thread into a temporary file.

    The thread reads a file on disk through a handle of its own; a file held
    in memory is copied first, as the request's thread reads it at the same time.
    """

    LEVEL = 1  # fastest: text exports still shrink about fourfold

    def __init__(self, upload):
        path = getattr(upload, "temporary_file_path", None)
        self.path = path() if path is not None else None
        self.memory = _whole(upload) if self.path is None else b""
        self.target = tempfile.TemporaryFile()  # noqa: SIM115 — closed by packed() or __exit__
        self.stop = threading.Event()
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="pack-upload", daemon=True)

    def __enter__(self) -> _Packer:
        self.thread.start()
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if error is not None:
            self.stop.set()
        self.thread.join()
        self.target.close()

    def finish(self) -> bytes:
        """The compressed file, once the thread is done."""
        self.thread.join()
        if self.failed is not None:
            raise self.failed
        with self.target:
            self.target.seek(0)
            return self.target.read()

    def _run(self) -> None:
        try:
            packer = zlib.compressobj(self.LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            with self._open() as source:
                while not self.stop.is_set() and (chunk := source.read(1 << 20)):
                    self.target.write(packer.compress(chunk))
            self.target.write(packer.flush())
        except BaseException as e:  # noqa: BLE001 — handed to the request's thread
            self.failed = e

    def _open(self):
        return open(self.path, "rb") if self.path is not None else io.BytesIO(self.memory)


def _whole(upload) -> bytes:
    upload.seek(0)
    return upload.read()


def save_staged(pending: PendingImport) -> None:
    """Save an upload with its file (what `stage` does last).

    The file does not go through Django's query: on SQLite a copy of it would
    stay with the driver's cached statement for as long as the connection
    lives, so it goes in through SQLite's blob API; on PostgreSQL Django would
    write it into the SQL text as hexadecimal (several copies, each twice its
    size), so it goes as a binary parameter.
    """
    if connection.vendor not in ("sqlite", "postgresql"):
        pending.save()
        return
    packed = pending.data
    table = PendingImport._meta.db_table
    with transaction.atomic():
        pending.data = b""
        pending.save()
        if connection.vendor == "sqlite":
            _write_blob(table, pending.pk, packed)
        else:
            _write_bytea(table, pending.pk, packed)
    pending.data = packed


def _write_blob(table: str, pk: int, packed) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(table)} SET data = zeroblob(%s) WHERE id = %s",
            [len(packed), pk],
        )
    view = memoryview(packed)
    with connection.connection.blobopen(table, "data", pk, readonly=False) as blob:
        for start in range(0, len(view), _Inflating.STEP):
            blob.write(view[start : start + _Inflating.STEP])


def _write_bytea(table: str, pk: int, packed) -> None:
    import psycopg

    query = f"UPDATE {connection.ops.quote_name(table)} SET data = %b WHERE id = %s"
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(query, [bytes(packed), pk])


def stored_file(pending: PendingImport):
    """The staged file, to read: bytes, or a file object that inflates it as it is read.

    A compressed file not loaded yet is read from the database a piece at a
    time (SQLite's blob API, PostgreSQL's substring) rather than loaded whole.
    """
    if not pending.compressed:
        return bytes(pending.data)
    if "data" in pending.get_deferred_fields() and connection.vendor in ("sqlite", "postgresql"):
        pieces = _blob_pieces if connection.vendor == "sqlite" else _bytea_pieces
        return _Inflating(lambda: pieces(pending.pk))
    data = memoryview(pending.data)
    return _Inflating(
        lambda: (data[i : i + _Inflating.STEP] for i in range(0, len(data), _Inflating.STEP))
    )


def _blob_pieces(pk: int) -> Iterator[bytes]:
    connection.ensure_connection()
    with connection.connection.blobopen(PendingImport._meta.db_table, "data", pk) as blob:
        while piece := blob.read(_Inflating.STEP):
            yield piece


def _bytea_pieces(pk: int) -> Iterator[bytes]:
    import psycopg

    table = connection.ops.quote_name(PendingImport._meta.db_table)
    query = f"SELECT substring(data FROM %s FOR %s) FROM {table} WHERE id = %s"
    start = 1
    connection.ensure_connection()
    # Binary results (bytea as its bytes, not as text twice as long) need the
    # driver's server-side binding cursor; Django's binds on the client.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        while True:
            cursor.execute(query, [start, _Inflating.STEP, pk], binary=True)
            piece = cursor.fetchone()[0]
            if not piece:
                return
            yield bytes(piece)
            start += len(piece)


class _Inflating(io.RawIOBase):
    """A gzip file, inflated a megabyte at a time as it is read.

    Seeking goes back to the start only, which is all that the importers do.
    (Inflating in a thread of its own was tried: handing the pieces over cost
    the parsing thread more than zlib's work.)
    """

    STEP = 1 << 20

    def __init__(self, pieces):
        self.pieces = pieces  # makes an iterator of the compressed bytes, from the start
        self.seek(0)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if offset != 0 or whence != io.SEEK_SET:
            raise io.UnsupportedOperation("only back to the start")
        self.source = self.pieces()
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.input = b""
        self.output = memoryview(b"")
        return 0

    def readinto(self, buffer) -> int:
        while not self.output:
            if not self.input:
                self.input = next(self.source, b"")
                if not self.input:
                    if not self.inflater.eof:
                        raise EOFError("the stored file ends before its gzip stream does")
                    return 0
            piece = self.inflater.decompress(self.input, self.STEP)  # a megabyte at most
            self.input = self.inflater.unconsumed_tail
            self.output = memoryview(piece)
        size = min(len(buffer), len(self.output))
        buffer[:size] = self.output[:size]
        self.output = self.output[size:]
        return size

    def readall(self) -> bytes:
        parts = []
        while part := self.read(self.STEP):
            parts.append(part)
        return b"".join(parts)


def _infer(survey: RawSurvey, pending: PendingImport):
    """Specs with the corrections so far, and the problem if they do not apply."""
    try:
        return importers.infer_specs(survey, pending.options.get("schema")), None
    except ImportProblem as e:
        return importers.infer_specs(survey, None), e


def current_specs(pending: PendingImport) -> list[QuestionSpec]:
    """The questions as the preview page shows them now."""
    return _shown(_current_preview(pending))


def _shown(found: dict) -> list[QuestionSpec]:
    return [_spec(q["spec"]) for q in found["questions"]]


def _problem(found: dict) -> ImportProblem | None:
    """The problem a worked-out preview names, if any (`found` is a copy)."""
    problem = found["problem"]
    return ImportProblem(problem.pop("message"), **problem) if problem else None


def preview(pending: PendingImport) -> Preview:
    """The staged file with the researcher's corrections so far, read again only when
    the corrections changed since it was last worked out.

    A correction that makes the data unreadable (a free-text column declared a
    scale) is shown as a problem on the page instead of being refused.
    """
    found = _current_preview(pending)
    return Preview(
        pending,
        SurveySummary(
            found["platform"],
            range(found["respondents"]),
            found["attribute_columns"],
            found["skipped_previews"],
        ),
        [
            QuestionPreview(
                _spec(q["spec"]), q["columns"], q["answered"], q["other_texts"], q["samples"]
            )
            for q in found["questions"]
        ],
        _problem(found),
    )


def _current_preview(pending: PendingImport) -> dict:
    """The preview as last worked out; worked out again, and the draft brought up to
    date with it, if the corrections changed since."""
    found = pending.preview
    wanted = pending.options.get("schema")
    if found is not None and found.get("schema") != wanted and wanted == _as_shown(found):
        found["schema"] = wanted  # the form sent back as the page showed it: no change
        if pending.pk is not None:
            pending.save(update_fields=["preview"])
    if found is None or found.get("schema") != wanted:
        with _checkpoint_later(), bulk_work():
            read = _read(pending, stored_file(pending))
            with transaction.atomic():
                found = pending.preview = _work_out(pending, *read)
                del read
                if pending.pk is not None:
                    pending.save(update_fields=["preview"])
        _plan_for_new_rows(pending)
    return copy.deepcopy(found)


def _as_shown(found: dict) -> dict:
    """The corrections the preview's form makes when sent back unchanged."""
    return schema_from_form({}, _shown(found))


def _read(pending: PendingImport, source) -> tuple[RawSurvey, list[QuestionSpec], ImportProblem]:
    """The file read, its questions' specs with the corrections so far, and the problem
    those corrections make, if any."""
    options = pending.options
    survey = importers.read_survey(
        source,
        pending.filename,
        format=options.get("format", "auto"),
        include_previews=options.get("include_previews", False),
    )
    return survey, *_infer(survey, pending)


def _work_out(pending: PendingImport, survey, specs, problem) -> dict:
    """What the preview page shows, as JSON; the poll imported as a draft meanwhile,
    where it can be (interpreting each question serves both)."""
    questions = [
        {"spec": asdict(spec), "columns": [c.name for c in question.columns]}
        | {"answered": None, "other_texts": None, "samples": []}
        for question, spec in zip(survey.questions, specs, strict=True)
    ]

    def interpreted() -> Iterator[Answers]:
        for entry, spec, answers in zip(questions, specs, _answers(survey, specs), strict=True):
            entry.update(
                answered=len(answers),
                other_texts=answers.with_other_text(),
                samples=[_describe(a, spec)[:SAMPLE_CHARS] for a in answers[:SAMPLES]],
            )
            yield answers

    drafted = False
    try:
        if problem is None:
            fields = poll_fields(pending)
            drafted = import_drafts.make(pending, survey, specs, interpreted(), fields)
        if not drafted:
            for _ in interpreted():
                pass
    except ImportProblem as refused:  # no counts for any question then
        for entry in questions:
            entry.update(answered=None, other_texts=None, samples=[])
        problem = problem or refused
    return {
        "schema": pending.options.get("schema"),
        "drafted": drafted,
        "platform": survey.platform,
        "respondents": len(survey.respondents),
        "attribute_columns": survey.attribute_columns,
        "skipped_previews": survey.skipped_previews,
        "questions": questions,
        "problem": None
        if problem is None
        else {
            "message": problem.message,
            "file": problem.file,
            "row": problem.row,
            "column": problem.column,
        },
    }


def _spec(data: dict) -> QuestionSpec:
    fields = dict(data)
    fields["options"] = [OptionSpec(**o) for o in fields["options"]]
    return QuestionSpec(**fields)


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
    """Turn the preview form into a --schema style dict of corrections; a field the
    form does not send keeps what the page shows.

    When a question's kind changes, its options and scale ends are left to
    inference for the new kind: the old ones described something else.
    """
    post = form_as_shown(shown) | dict(post.items())
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


def form_as_shown(shown: list[QuestionSpec]) -> dict[str, str]:
    """The preview form's fields as the page fills them in (templates/polls/import_preview)."""
    post: dict[str, str] = {}
    for spec in shown:
        qid = spec.export_id
        post[f"kind-{qid}"] = spec.kind
        post[f"subsample-{qid}"] = spec.subsample
        if spec.kind == Question.Kind.SCALE:
            for key, value in (("min", spec.scale_min), ("max", spec.scale_max)):
                post[f"{key}-{qid}"] = "" if value is None else str(value)
            post[f"minlabel-{qid}"] = spec.scale_min_label
            post[f"maxlabel-{qid}"] = spec.scale_max_label
        elif spec.kind in (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTI_CHOICE):
            post[f"options-{qid}"] = "\n".join(o.text for o in spec.options)
            post[f"maxchoices-{qid}"] = "" if spec.max_choices is None else str(spec.max_choices)
    return post


def confirm(pending: PendingImport, user) -> ImportResult:
    """Publish the draft, brought up to date with the corrections sent with the
    confirmation; without one (responses added to a poll of that title), import now."""
    if pending.preview and pending.preview.get("drafted"):
        found = _current_preview(pending)
        if (problem := _problem(found)) is not None:
            raise problem
        poll = import_drafts.publish(pending, user)
        if poll is not None:
            count, skipped = found["respondents"], found["skipped_previews"]
            return ImportResult(poll, count, len(found["questions"]), skipped)
    import_drafts.discard_draft(pending)  # a poll of that title appeared: add to it
    options = pending.options
    result = import_file(
        pending.project,
        stored_file(pending),
        pending.filename,
        poll_fields(pending),
        format=options.get("format", "auto"),
        include_previews=options.get("include_previews", False),
        schema=options.get("schema"),
        user=user,
    )
    pending.delete()
    return result


def poll_fields(pending: PendingImport) -> PollFields:
    options = pending.options
    return PollFields(
        title=options["title"],
        opened=_date(options.get("opened")),
        closed=_date(options.get("closed")),
        invited=options.get("invited"),
        population=options.get("population", ""),
    )


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
