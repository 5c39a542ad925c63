"""Reading a REFI-QDA project (.qdpx) into a new project, all or nothing.

The archive is checked before anything is read from it: at most MAX_MEMBERS
members, none named outside it (absolute, "..", a drive), none over
MAX_MEMBER_BYTES, MAX_TOTAL_BYTES in all, and none over RATIO_FROM bytes that
claims to compress better than MAX_RATIO:1 (zip bombs). Reads are bounded by
the declared sizes. The project.qde (or the one top-level .qde) is parsed with
coding.refi.parse_xml (no DTD); `sources/` is found whatever its case.

Sources Verbatim wrote (a {"verbatim": 1, …} Description, see coding.refi_export)
are rebuilt as they were: polls, free-text questions, respondents with their
positions and attributes (from Cases and their VariableValues), answers, the
coders' whole-answer codings (with "coded" marks) and "no theme applies"
marks, quotes at their exact positions with their themes; CRs the export took
out of the text are put back. A choice question's "other" texts come back as a
free-text question of the same id and text (the choices themselves are not in
the file); the summary says so.

Sources from other tools go, one answer each, to one free-text question Q1
"Imported sources" in one poll named as the file's project. Each source gets
a respondent: named as the Case that links it when that Case links only it
(survey-style: one case per respondent, one source per answer), else as the
source, with the attributes of the Cases linking it and of the source itself
("Cases:" in a variable's name is dropped). Every coded selection becomes a
quote with its themes and a coding of the answer by the user who created the
coding (else the selection's, the source's, the project's creator, else the
importing user); a Coding on a whole source is a coding only. Line breaks are
stored as LF and positions read as counting a CR LF as one character.

Themes come from the CodeBook through merge_codebook (so as from a .qdc);
users are matched by username = the User's name (made fit for a username) and
created if missing, with an unusable password, as coders of the new project.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from coding.codebook_io import merge_codebook
from coding.models import Coding, Mark, Quote, Theme
from coding.refi import (
    ARCHIVED_NOTE,
    Parsed,
    child,
    child_text,
    children,
    crlf_position,
    items,
    lf_only,
    local,
    normal_guid,
    parse_xml,
    read_codes,
    restore_crs,
)
from polls.bulk_sql import insert_rows
from polls.importers.types import ImportProblem
from polls.models import Answer, Membership, Poll, Project, Question, Respondent

MAX_MEMBERS = 250_000
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_RATIO = 100
RATIO_FROM = 1024 * 1024
FOREIGN_QUESTION = ("Q1", "Imported sources")
NOT_USERNAME = re.compile(r"[^\w.@+-]+")
VALUES = {"TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue"}


@dataclass
class _Selection:
    start: int
    end: int
    user: str  # creating user's guid, "" when none
    kind: str | None  # "coding" | "quote" (Verbatim's) | None (another tool's)
    codings: list[tuple[str, str]]  # (creating user's guid or "", code guid)


@dataclass
class _Source:
    guid: str
    name: str
    text: str
    meta: dict | None
    user: str
    selections: list[_Selection] = field(default_factory=list)
    codings: list[tuple[str, str]] = field(default_factory=list)  # on the whole source
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class _Case:
    name: str
    meta: dict | None
    attributes: dict[str, str]
    sources: list[str]


@dataclass
class QdpxContent:
    """What the file says, checked, before it meets the database."""

    filename: str
    name: str
    creator: str
    meta: dict | None  # the Project's Verbatim Description
    description: str  # the Project's Description when it is not Verbatim's
    users: dict[str, str]  # guid → name
    codes: list  # CodebookRows, parents first
    archived: set[str]  # names of codes marked "Archived in Verbatim."
    cases: list[_Case]
    sources: list[_Source]
    skipped: list[str]


@dataclass
class QdpxImport:
    project: Project
    polls: int = 0
    questions: int = 0
    respondents: int = 0
    answers: int = 0
    themes: int = 0
    codings: int = 0
    quotes: int = 0
    coders_created: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self, filename: str) -> str:
        created = (
            f" (new accounts: {', '.join(self.coders_created)})" if self.coders_created else ""
        )
        lines = [
            f"Imported {filename} as project {self.project.name}: {self.polls} polls, "
            f"{self.questions} questions, {self.respondents} respondents, {self.answers} "
            f"answers, {self.themes} themes, {self.codings} codings, {self.quotes} quotes"
            f"{created}."
        ]
        return "\n".join(lines + [f"  {note}" for note in self.notes])


def import_qdpx(data: bytes, filename: str, project_name: str, user) -> QdpxImport:
    """Read the file into a new project named `project_name`, led by `user`."""
    project_name = project_name.strip()
    if not project_name or len(project_name) > Project._meta.get_field("name").max_length:
        raise ImportProblem("a project name has 1 to 200 characters", file=filename)
    if Project.objects.filter(name=project_name).exists():
        raise ImportProblem(
            f"a project named {project_name!r} exists already; a .qdpx is imported into a "
            "new project",
            file=filename,
        )
    content = read_qdpx(data, filename)
    with transaction.atomic():
        return _Load(content, project_name, user).run()


# --- the archive ------------------------------------------------------------------


def read_qdpx(data: bytes, filename: str) -> QdpxContent:
    """The file's content, checked (no database)."""
    archive, members = _open(data, filename)
    qde = members.get("project.qde")
    if qde is None:
        found = [i for name, i in members.items() if "/" not in name and name.endswith(".qde")]
        if len(found) != 1:
            raise ImportProblem("the archive has no project.qde", file=filename)
        qde = found[0]
    parsed = parse_xml(_read(archive, qde, filename), f"{filename} ({qde.filename})", "project")
    return _Reader(parsed, archive, members, filename).read()


def _open(data: bytes, filename: str) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    def problem(message: str) -> ImportProblem:
        return ImportProblem(message, file=filename)

    if len(data) > settings.VERBATIM_MAX_UPLOAD_BYTES:
        raise problem(f"{len(data)} bytes is over the upload limit")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise problem(
            "this is not a complete zip archive, which a .qdpx is: the file may be cut "
            "short (truncated) or not a .qdpx at all"
        ) from None
    if len(infos) > MAX_MEMBERS:
        raise problem(f"the archive holds {len(infos)} files, more than the {MAX_MEMBERS} allowed")
    total, members = 0, {}
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or ".." in parts or re.match(r"[A-Za-z]:", name):
            raise problem(f"refused: the archive holds {name!r}, a path outside it")
        if info.file_size > MAX_MEMBER_BYTES:
            raise problem(
                f"refused: {name} claims {info.file_size} bytes unpacked, over the "
                f"{MAX_MEMBER_BYTES} allowed (a zip bomb?)"
            )
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise problem(
                f"refused: {name} would unpack {info.file_size // max(info.compress_size, 1)} "
                f"times larger than it is packed (a zip bomb?)"
            )
        total += info.file_size
        members[name.replace("\\", "/").lower()] = info
    if total > MAX_TOTAL_BYTES:
        raise problem(
            f"refused: the archive unpacks to {total} bytes, over the {MAX_TOTAL_BYTES} allowed"
        )
    return archive, members


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, filename: str) -> bytes:
    try:
        with archive.open(info) as member:
            data = member.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError):
        raise ImportProblem(
            f"{info.filename} in the archive is damaged or encrypted; the file may be truncated",
            file=filename,
        ) from None
    if len(data) > info.file_size:
        raise ImportProblem(f"{info.filename} is larger than the archive says", file=filename)
    return data


def _decode(data: bytes, name: str, filename: str) -> str:
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportProblem(f"{name} is not UTF-8 text", file=filename) from None
    if "\x00" in text:
        raise ImportProblem(f"{name} holds NUL characters; it is not plain text", file=filename)
    return text


def verbatim_meta(text: str) -> dict | None:
    """A Description Verbatim wrote ({"verbatim": 1, …}) → its dict; else None."""
    text = text.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) and value.get("verbatim") == 1 else None


class _Reader:
    def __init__(self, parsed: Parsed, archive, members, filename: str):
        self.parsed, self.archive, self.members, self.filename = parsed, archive, members, filename
        self.skipped: dict[str, int] = defaultdict(int)
        self.source_guids: set[str] = set()

    def read(self) -> QdpxContent:
        root = self.parsed.root
        if local(root.tag) != "Project":
            raise self.parsed.problem(
                f"the root element is <{local(root.tag)}>; a REFI-QDA project starts with "
                "<Project>",
                root,
            )
        description = child_text(root, "Description")
        meta = verbatim_meta(description)
        users = {}
        for user in items(root, "Users", "User"):
            users[normal_guid(user.get("guid"))] = user.get("name") or user.get("id") or ""
        codes, archived = [], set()
        codebook = child(root, "CodeBook")
        if codebook is not None and child(codebook, "Codes") is not None:
            codes = read_codes(self.parsed, child(codebook, "Codes"))
            archived = {row.name for row in codes if _unarchive(row)}
        self.code_guids = {row.guid for row in codes}
        self.variables = {}
        for variable in items(root, "Variables", "Variable"):
            name = variable.get("name") or ""
            if meta is None and name.startswith("Cases:"):
                name = name[len("Cases:") :]
            self.variables[normal_guid(variable.get("guid"))] = name.strip() or "Variable"
        cases = [self._case(case) for case in items(root, "Cases", "Case")]
        sources = []
        container = child(root, "Sources")
        for element in container if container is not None else []:
            kind = local(element.tag)
            if kind != "TextSource":
                self.skipped[f"{kind} (only text sources are read)"] += 1
                continue
            source = self._source(element)
            if source is not None:
                sources.append(source)
        skipped = [f"Skipped {count} {what}." for what, count in self.skipped.items()]
        return QdpxContent(
            filename=self.filename,
            name=(root.get("name") or "").strip(),
            creator=normal_guid(root.get("creatingUserGUID")),
            meta=meta,
            description="" if meta else description,
            users=users,
            codes=codes,
            archived=archived,
            cases=cases,
            sources=sources,
            skipped=skipped,
        )

    def _case(self, element) -> _Case:
        attributes = self._values(element)
        refs = [normal_guid(ref.get("targetGUID")) for ref in children(element, "SourceRef")]
        meta = verbatim_meta(child_text(element, "Description"))
        return _Case((element.get("name") or "").strip(), meta, attributes, refs)

    def _values(self, element) -> dict[str, str]:
        values = {}
        for pair in children(element, "VariableValue"):
            ref = child(pair, "VariableRef")
            if ref is None:
                raise self.parsed.problem("a <VariableValue> has no <VariableRef>", pair)
            name = self.variables.get(normal_guid(ref.get("targetGUID")))
            if name is None:
                raise self.parsed.problem(
                    f"a <VariableValue> refers to variable {ref.get('targetGUID')!r}, which "
                    "<Variables> lacks",
                    pair,
                )
            value = next((v.text or "" for v in pair if local(v.tag) in VALUES), "")
            values[name] = value
        return values

    def _source(self, element) -> _Source | None:
        name = (element.get("name") or "").strip()
        meta = verbatim_meta(child_text(element, "Description"))
        if meta is not None and not all(
            isinstance(meta.get(k), str) for k in ("poll", "respondent")
        ):
            meta = None  # not one Verbatim wrote for an answer
        text = self._text(element)
        if text is None:
            return None
        dropped, lone = [], []
        if meta is not None:
            dropped, lone = meta.get("crlf") or [], meta.get("cr") or []
            original = restore_crs(text, dropped, lone) if (dropped or lone) else text
            if original is None:
                dropped, lone = [], []
            else:
                text = original
        else:
            text = lf_only(text)[0]
        guid = normal_guid(element.get("guid"))
        if not guid or guid in self.source_guids:
            raise self.parsed.problem(
                f"a <TextSource> has no guid, or one used before ({guid!r})", element
            )
        self.source_guids.add(guid)
        source = _Source(
            guid=guid,
            name=name,
            text=text,
            meta=meta,
            user=normal_guid(element.get("creatingUser")),
            attributes=self._values(element),
        )
        for selection in children(element, "PlainTextSelection"):
            source.selections.append(self._selection(selection, source, dropped))
        source.codings = self._codings(element)
        return source

    def _text(self, element) -> str | None:
        path = element.get("plainTextPath")
        if path is None:
            content = child(element, "PlainTextContent")
            if content is not None:
                return content.text or ""
            self.skipped["text sources with neither plainTextPath nor PlainTextContent"] += 1
            return None
        if not path.startswith("internal://"):
            self.skipped["text sources whose text is outside the file (not internal://)"] += 1
            return None
        wanted = path[len("internal://") :].lstrip("/").replace("\\", "/").lower()
        info = self.members.get(f"sources/{wanted}") or self.members.get(wanted)
        if info is None:
            raise self.parsed.problem(f"the archive has no sources/{wanted} ({path})", element)
        return _decode(_read(self.archive, info, self.filename), info.filename, self.filename)

    def _codings(self, element) -> list[tuple[str, str]]:
        found = []
        for coding in children(element, "Coding"):
            ref = child(coding, "CodeRef")
            code = normal_guid(ref.get("targetGUID")) if ref is not None else ""
            if code not in self.code_guids:
                raise self.parsed.problem(
                    f"a <Coding> refers to code {code!r}, which the CodeBook lacks", coding
                )
            found.append((normal_guid(coding.get("creatingUser")), code))
        return found

    def _selection(self, element, source: _Source, dropped: list[int]) -> _Selection:
        try:
            start, end = int(element.get("startPosition")), int(element.get("endPosition"))
        except (TypeError, ValueError):
            raise self.parsed.problem(
                "a <PlainTextSelection> needs whole-number startPosition and endPosition", element
            ) from None
        meta = verbatim_meta(child_text(element, "Description"))
        if dropped:
            start, end = crlf_position(start, dropped), crlf_position(end, dropped)
        if not 0 <= start <= end <= len(source.text):
            raise self.parsed.problem(
                f"a selection from {start} to {end} is not inside the {len(source.text)} "
                f"characters of source {source.name or source.guid!r}",
                element,
            )
        kind = meta.get("kind") if meta and source.meta is not None else None
        return _Selection(
            start, end, normal_guid(element.get("creatingUser")), kind, self._codings(element)
        )


def _unarchive(row) -> bool:
    """Take "Archived in Verbatim." off the row's last text; whether it was there."""
    for name in ("exclusion", "inclusion", "description"):
        value = getattr(row, name)
        if not value:
            continue
        if value == ARCHIVED_NOTE or value.endswith("\n\n" + ARCHIVED_NOTE):
            setattr(row, name, value[: -len(ARCHIVED_NOTE)].removesuffix("\n\n"))
            return True
        return False
    return False


# --- meeting the database ---------------------------------------------------------


def _now(model, field_name: str):
    return model._meta.get_field(field_name).get_db_prep_save(timezone.now(), connection)


def _text(value, limit: int, default: str = "") -> str:
    return value[:limit] if isinstance(value, str) else default


class _Load:
    def __init__(self, content: QdpxContent, project_name: str, user):
        self.content, self.user = content, user
        about = (content.meta or {}).get("project")
        description = about.get("description") if isinstance(about, dict) else None
        self.project = Project.objects.create(
            name=project_name,
            description=description if isinstance(description, str) else content.description,
        )
        Membership.objects.create(project=self.project, user=user, role=Membership.Role.LEAD)
        self.result = QdpxImport(project=self.project, notes=list(content.skipped))
        self.users: dict[str, object] = {}  # username → user

    def run(self) -> QdpxImport:
        self._themes()
        answers = self._polls()
        self._codings(answers)
        return self.result

    def _themes(self) -> None:
        rows = self.content.codes
        self.theme_of: dict[str, int] = {}
        if not rows:
            return
        try:
            merge_codebook(self.project, rows, self.user)
        except ImportProblem as e:
            e.file = e.file or self.content.filename
            raise
        by_name = dict(self.project.themes.values_list("name", "pk"))
        self.theme_of = {row.guid: by_name[row.name] for row in rows}
        archived = [by_name[name] for name in self.content.archived]
        Theme.objects.filter(pk__in=archived).update(archived=True)
        self.result.themes = len(rows)

    # users -----------------------------------------------------------------------

    def user_named(self, name: str):
        User = get_user_model()
        max_length = User._meta.get_field(User.USERNAME_FIELD).max_length
        username = NOT_USERNAME.sub("_", name.strip()).strip("_")[:max_length] or "coder"
        if username not in self.users:
            user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
            if user is None:
                user = User.objects.create_user(username)  # no password: an unusable one
                self.result.coders_created.append(username)
            Membership.objects.get_or_create(
                project=self.project, user=user, defaults={"role": Membership.Role.CODER}
            )
            self.users[username] = user
        return self.users[username]

    def user_of(self, *guids: str):
        """The first guid given → its user; none at all → the importing user."""
        for value in guids:
            if value:
                return self.user_named(self.content.users.get(value) or f"user-{value[:8]}")
        return self.user

    # polls -----------------------------------------------------------------------

    def _polls(self) -> dict[str, tuple[int, _Source]]:
        """Create polls, questions, respondents, answers; source guid → (answer id, source)."""
        plan = _Plan(self.content, self.result)
        answers: dict[str, tuple[int, _Source]] = {}
        for title, poll_plan in plan.polls.items():
            fields = poll_plan["fields"]
            poll = Poll.objects.create(
                project=self.project, title=title, created_by=self.user, **fields
            )
            questions = Question.objects.bulk_create(
                Question(
                    poll=poll,
                    export_id=qid,
                    position=position,
                    text=text,
                    kind=Question.Kind.FREE_TEXT,
                )
                for qid, (position, text) in poll_plan["questions"].items()
            )
            question_pk = {q.export_id: q.pk for q in questions}
            respondents = Respondent.objects.bulk_create(
                Respondent(poll=poll, export_id=rid, position=position, attributes=attributes)
                for rid, (position, attributes) in poll_plan["respondents"].items()
            )
            respondent_pk = {r.export_id: r.pk for r in respondents}
            keyed = list(poll_plan["answers"].items())
            created = Answer.objects.bulk_create(
                Answer(
                    question_id=question_pk[qid], respondent_id=respondent_pk[rid], text=source.text
                )
                for (qid, rid), source in keyed
            )
            for answer, (_, source) in zip(created, keyed, strict=True):
                answers[source.guid] = (answer.pk, source)
            self.result.polls += 1
            self.result.questions += len(questions)
            self.result.respondents += len(respondents)
            self.result.answers += len(created)
        return answers

    # codings and quotes ------------------------------------------------------------

    def _codings(self, answers: dict[str, tuple[int, _Source]]) -> None:
        creator = self.content.creator
        codings: set[tuple[int, int, int]] = set()  # (answer, theme, user)
        quotes: dict[tuple[int, int, int, int], set[int]] = {}  # (answer, user, start, end)
        no_theme: set[tuple[int, int]] = set()
        texts: dict[int, str] = {}
        for answer, source in answers.values():
            texts[answer] = source.text
            for user_guid, code in source.codings:
                user = self.user_of(user_guid, source.user, creator)
                codings.add((answer, self.theme_of[code], user.pk))
            for selection in source.selections:
                self._selection(answer, source, selection, codings, quotes)
            for name in (source.meta or {}).get("no_theme") or []:
                if isinstance(name, str):
                    no_theme.add((answer, self.user_named(name).pk))
        now = _now(Coding, "created_at")
        insert_rows(
            Coding, ["answer", "theme", "coder", "created_at"],
            ((a, t, u, now) for a, t, u in sorted(codings)),
        )  # fmt: skip
        coded = {(a, u) for a, _, u in codings}
        now = _now(Mark, "updated_at")
        insert_rows(
            Mark, ["answer", "coder", "status", "flag", "memo", "updated_at"],
            [(a, u, Mark.Status.CODED, "", "", now) for a, u in sorted(coded)]
            + [(a, u, Mark.Status.NO_THEME, "", "", now) for a, u in sorted(no_theme - coded)],
        )  # fmt: skip
        made = Quote.objects.bulk_create(
            Quote(answer_id=a, coder_id=u, start=s, end=e, text=texts[a][s:e])
            for (a, u, s, e) in quotes
        )
        Quote.themes.through.objects.bulk_create(
            Quote.themes.through(quote_id=quote.pk, theme_id=theme)
            for quote, themes in zip(made, quotes.values(), strict=True)
            for theme in sorted(themes)
        )
        self.result.codings, self.result.quotes = len(codings), len(made)

    def _selection(self, answer, source, selection: _Selection, codings, quotes) -> None:
        fallback = (selection.user, source.user, self.content.creator)
        if selection.kind == "coding":
            for user_guid, code in selection.codings:
                user = self.user_of(user_guid, *fallback)
                codings.add((answer, self.theme_of[code], user.pk))
            return
        by_user: dict[int, set[int]] = defaultdict(set)
        if selection.kind == "quote":  # Verbatim's: one coder, maybe no theme
            user = self.user_of(*fallback, *(u for u, _ in selection.codings))
            by_user[user.pk] |= {self.theme_of[code] for _, code in selection.codings}
        else:
            for user_guid, code in selection.codings:
                user = self.user_of(user_guid, *fallback)
                by_user[user.pk].add(self.theme_of[code])
                codings.add((answer, self.theme_of[code], user.pk))
        if selection.end > selection.start:
            for user, themes in by_user.items():
                quotes.setdefault((answer, user, selection.start, selection.end), set()).update(
                    themes
                )


class _Plan:
    """Polls → questions, respondents and answers to create, from metadata and sources."""

    def __init__(self, content: QdpxContent, result: QdpxImport):
        self.content, self.result = content, result
        self.polls: dict[str, dict] = {}
        for poll in (content.meta or {}).get("polls") or []:
            if isinstance(poll, dict) and isinstance(poll.get("title"), str):
                self._poll(poll["title"], poll)
        for case in content.cases:
            if case.meta and isinstance(case.meta.get("poll"), str):
                self._respondent(case.meta["poll"], case.meta.get("respondent"), case)
        foreign = [s for s in content.sources if not self._verbatim(s)]
        if foreign:
            self._foreign(foreign)

    def _poll(self, title: str, meta: dict | None = None) -> dict:
        title = title.strip()[:200] or "Imported poll"
        if title not in self.polls:
            meta = meta or {}
            platform = meta.get("platform")
            if platform not in Poll.Platform.values:
                platform = Poll.Platform.SPREADSHEET
            self.polls[title] = {
                "fields": {
                    "platform": platform,
                    "population": _text(meta.get("population"), 100),
                    "opened": _date(meta.get("opened")),
                    "closed": _date(meta.get("closed")),
                    "invited": _count(meta.get("invited")),
                    "source_file": _text(meta.get("source_file"), 255, self.content.filename[:255]),
                },
                "questions": {},  # export id → (position, text)
                "kinds": {},
                "respondents": {},  # export id → (position, attributes)
                "answers": {},  # (question id, respondent id) → source
            }
            for question in meta.get("questions") or []:
                if isinstance(question, dict):
                    self._question(self.polls[title], question)
        return self.polls[title]

    def _question(self, poll: dict, meta: dict) -> str:
        qid = _text(meta.get("id"), 100).strip() or "Q"
        if qid not in poll["questions"]:
            taken = {p for p, _ in poll["questions"].values()}
            position = _count(meta.get("position"))
            if not position or position in taken:
                position = max(taken, default=0) + 1
            poll["questions"][qid] = (position, _text(meta.get("text"), 100_000, qid))
            poll["kinds"][qid] = meta.get("kind")
        return qid

    def _respondent(self, title: str, rid, case: _Case | None = None) -> str:
        poll = self._poll(title)
        rid = _text(rid, 100).strip() or "R"
        if rid not in poll["respondents"]:
            position = _count((case.meta or {}).get("position")) if case else None
            if position is None:
                position = len(poll["respondents"]) + 1
            poll["respondents"][rid] = (position, case.attributes if case else {})
        return rid

    def _verbatim(self, source: _Source) -> bool:
        meta = source.meta
        if meta is None:
            return False
        poll = self._poll(meta["poll"])
        qid = self._question(
            poll,
            {
                "id": meta.get("question"),
                "text": meta.get("question_text"),
                "kind": meta.get("kind"),
            },
        )
        rid = self._respondent(meta["poll"], meta["respondent"])
        if (qid, rid) in poll["answers"]:
            raise ImportProblem(
                f"two sources are the answer of {rid} to {qid} in poll {meta['poll']!r}",
                file=self.content.filename,
            )
        poll["answers"][(qid, rid)] = source
        kind = poll["kinds"].get(qid)
        if kind and kind != Question.Kind.FREE_TEXT:
            note = (
                f"{qid} of {meta['poll']} was a {str(kind).replace('_', ' ')} question: its "
                '"other" texts come back as a free-text question.'
            )
            if note not in self.result.notes:
                self.result.notes.append(note)
        return True

    def _foreign(self, sources: list[_Source]) -> None:
        title = self.content.name or PurePosixPath(self.content.filename).stem or "Imported sources"
        base, number = title[:180], 2
        while title in self.polls:
            title, number = f"{base} ({number})", number + 1
        poll = self._poll(title)
        qid = self._question(poll, {"id": FOREIGN_QUESTION[0], "text": FOREIGN_QUESTION[1]})
        linking: dict[str, list[_Case]] = defaultdict(list)
        for case in self.content.cases:
            for guid in case.sources:
                linking[guid].append(case)
        for number, source in enumerate(sources, start=1):
            cases = linking.get(source.guid, [])
            named = [c.name for c in cases if c.name]
            own = len(cases) == 1 and named and cases[0].sources == [source.guid]
            rid = (named[0] if own else source.name) or f"Source {number}"
            rid = _unique(rid[:100], poll["respondents"])
            attributes: dict[str, str] = {}
            for case in cases:
                attributes.update(case.attributes)
            attributes.update(source.attributes)
            if named and not own:
                attributes["Case"] = ", ".join(named)
            poll["respondents"][rid] = (len(poll["respondents"]) + 1, attributes)
            poll["answers"][(qid, rid)] = source


def _unique(name: str, taken) -> str:
    candidate, number = name, 2
    while candidate in taken:
        suffix = f" ({number})"
        candidate, number = name[: 100 - len(suffix)] + suffix, number + 1
    return candidate


def _count(value) -> int | None:
    """A whole number a PositiveIntegerField takes, else None."""
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
    return value if ok else None


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
