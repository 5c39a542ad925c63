"""A project as a REFI-QDA project file (.qdpx): a zip of project.qde and sources/.

Mapping (the GUIDs, the codebook and its Descriptions as in coding.refi):
- Users: every coder with codings, quotes or "no theme applies" marks, and the
  exporting user (by default the project's first lead); name = username.
- CodeBook: the active themes, plus archived ones still used by codings or
  quotes (so no coding is lost), whose Description ends "Archived in Verbatim."
- Variables: one Text variable per respondent attribute key, named as the key
  (no "Cases:" prefix; the importer drops one when it reads a file that has it).
- Cases: one per respondent of every poll, named "<poll title> · <respondent id>",
  with a VariableValue per attribute and a SourceRef per answer it wrote.
- Sources: one TextSource per answer with text (free text, else its "other"
  text), named "<poll title> · <question id> · <respondent id>", its text in
  sources/<GUID>.txt (UTF-8, no BOM, LF only: CR LF and lone CRs become LF and
  positions are mapped onto that text). A coder's codings of the answer are one
  PlainTextSelection over the whole text with a Coding per theme; each quote is
  a PlainTextSelection at its place with a Coding per theme, both created by
  their coder. Positions count code points (NVivo counts UTF-16 units).
- Verbatim's own structure travels as JSON objects {"verbatim": 1, …} in
  Descriptions, which other tools show as memos and a Verbatim import reads:
  the Project's (project description; each poll's title, platform, dates,
  invited, population, and its questions with text: id, text, kind, position),
  each Case's (poll, respondent id, position), each TextSource's (poll, question
  id, question text and kind, respondent id, "text" or "other_text", the CRs
  taken out, the coders who marked it "no theme applies") and each
  PlainTextSelection's ("coding" for a whole-answer coding, "quote").
- Not carried: answers to closed questions, flags, memos, theme aliases,
  shortcuts and question scopes, the event history.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict

from django.contrib.auth import get_user_model

from coding.models import Coding, Mark, Quote
from coding.refi import (
    ORIGIN,
    PROJECT_NS,
    code_elements,
    guid,
    lf_only,
    lf_position,
    sub,
    theme_tree,
    xml_bytes,
    xml_datetime,
)
from polls.models import Answer, Membership, Question, Respondent

NAME_CHARS = 50  # of a selection's text, as its name


def verbatim_json(**values) -> str:
    return json.dumps({"verbatim": 1, **values}, ensure_ascii=False)


def short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= NAME_CHARS else text[: NAME_CHARS - 1] + "…"


def write_qdpx(project, user=None) -> bytes:
    """The project as .qdpx bytes; the same project gives the same bytes."""
    export = _Export(project, user)
    files = [("project.qde", export.project_xml())]
    files += [(f"sources/{name}.txt", text.encode("utf-8")) for name, text in export.texts]
    stamp = project.created_at.timetuple()[:6] if project.created_at else (1980, 1, 1, 0, 0, 0)
    stamp = max(stamp, (1980, 1, 1, 0, 0, 0))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


class _Export:
    def __init__(self, project, user):
        self.project = project
        if user is None:
            lead = project.memberships.filter(role=Membership.Role.LEAD).order_by("id").first()
            user = lead.user if lead else None
        self.user = user
        self.texts: list[tuple[str, str]] = []  # (source guid, exported text)
        in_project = {"answer__question__poll__project": project}
        self.codings = defaultdict(lambda: defaultdict(list))  # answer → coder → [(theme, at)]
        for answer, theme, coder, at in (
            Coding.objects.filter(**in_project)
            .order_by("answer", "coder", "theme")
            .values_list("answer", "theme", "coder", "created_at")
        ):
            self.codings[answer][coder].append((theme, at))
        self.quotes = defaultdict(list)
        for quote in (
            Quote.objects.filter(**in_project)
            .order_by("answer", "start", "end", "coder", "id")
            .values("id", "code", "answer", "coder", "start", "end", "created_at")
        ):
            self.quotes[quote["answer"]].append(quote)
        self.quote_themes = defaultdict(list)
        for quote, theme in Quote.themes.through.objects.filter(
            quote__answer__question__poll__project=project
        ).values_list("quote", "theme"):
            self.quote_themes[quote].append(theme)
        self.no_theme = defaultdict(list)
        for answer, coder in Mark.objects.filter(
            **in_project, status=Mark.Status.NO_THEME
        ).values_list("answer", "coder"):
            self.no_theme[answer].append(coder)
        coders = {c for by in self.codings.values() for c in by}
        coders |= {q["coder"] for quotes in self.quotes.values() for q in quotes}
        coders |= {c for marks in self.no_theme.values() for c in marks}
        if user is not None:
            coders.add(user.pk)
        User = get_user_model()
        self.usernames = dict(
            User.objects.filter(pk__in=coders).values_list("pk", User.USERNAME_FIELD)
        )
        self.user_guid = {pk: guid("user", name) for pk, name in self.usernames.items()}
        self._themes()

    def _themes(self) -> None:
        themes = list(self.project.themes.order_by("position", "name", "id"))
        used = {t for by in self.codings.values() for ts in by.values() for t, _ in ts}
        used |= {t for ts in self.quote_themes.values() for t in ts}
        self.tree = theme_tree(themes, keep=lambda t: not t.archived or t.pk in used)
        order, stack = [], list(reversed(self.tree.get(None, [])))
        while stack:
            theme = stack.pop()
            order.append(theme)
            stack.extend(reversed(self.tree.get(theme.pk, [])))
        self.theme_order = {t.pk: i for i, t in enumerate(order)}
        self.theme_guid = {t.pk: guid("theme", t.code) for t in order}

    # --- the document ---------------------------------------------------------------

    def project_xml(self) -> bytes:
        project, lead = self.project, self.user
        root = ET.Element("Project", {"xmlns": PROJECT_NS, "name": project.name, "origin": ORIGIN})
        if lead is not None:
            root.set("creatingUserGUID", self.user_guid[lead.pk])
        if project.created_at:
            root.set("creationDateTime", xml_datetime(project.created_at))
        if self.usernames:
            users = sub(root, "Users")
            for pk, name in sorted(self.usernames.items(), key=lambda item: item[1]):
                sub(users, "User", guid=self.user_guid[pk], name=name)
        if self.theme_guid:
            code_elements(sub(sub(root, "CodeBook"), "Codes"), self.tree, archived=True)
        polls = list(self.project.polls.order_by("opened", "title", "id"))
        respondents = list(
            Respondent.objects.filter(poll__project=project)
            .order_by("poll", "position", "id")
            .values("id", "poll", "export_id", "position", "attributes")
        )
        sources = self._sources(polls)  # built before it is placed: Cases refer to it
        self._variables_and_cases(root, polls, respondents)
        if len(sources):
            root.append(sources)
        described = [self._poll_meta(poll) for poll in polls]
        sub(
            root,
            "Description",
            verbatim_json(project={"description": project.description}, polls=described),
        )
        return xml_bytes(root)

    def _poll_meta(self, poll) -> dict:
        return {
            "title": poll.title,
            "platform": poll.platform,
            "population": poll.population,
            "opened": poll.opened.isoformat() if poll.opened else None,
            "closed": poll.closed.isoformat() if poll.closed else None,
            "invited": poll.invited,
            "source_file": poll.source_file,
            "questions": [
                {"id": q.export_id, "text": q.text, "kind": q.kind, "position": q.position}
                for q in self.questions_with_text.get(poll.pk, [])
            ],
        }

    def _variables_and_cases(self, root, polls, respondents) -> None:
        keys: dict[str, str] = {}  # attribute key → variable guid, first seen first
        for respondent in respondents:
            for key in respondent["attributes"] or {}:
                keys.setdefault(key, guid("variable", self.project.code, key))
        if keys:
            variables = sub(root, "Variables")
            for key, variable in keys.items():
                sub(variables, "Variable", guid=variable, name=key, typeOfVariable="Text")
        if not respondents:
            return
        poll_of = {poll.pk: poll for poll in polls}
        cases = sub(root, "Cases")
        for respondent in respondents:
            poll = poll_of[respondent["poll"]]
            case = sub(
                cases,
                "Case",
                guid=guid("case", poll.code, respondent["export_id"]),
                name=f"{poll.title} · {respondent['export_id']}",
            )
            sub(
                case,
                "Description",
                verbatim_json(
                    poll=poll.title,
                    respondent=respondent["export_id"],
                    position=respondent["position"],
                ),
            )
            for key, value in (respondent["attributes"] or {}).items():
                if value is None:
                    continue
                if not isinstance(value, str):
                    value = json.dumps(value, ensure_ascii=False)
                pair = sub(case, "VariableValue")
                sub(pair, "VariableRef", targetGUID=keys[key])
                sub(pair, "TextValue", value)
            for source in self.sources_of.get(respondent["id"], []):
                sub(case, "SourceRef", targetGUID=source)

    def _sources(self, polls) -> ET.Element:
        sources = ET.Element("Sources")
        self.sources_of = defaultdict(list)  # respondent id → its sources' guids
        self.questions_with_text = defaultdict(list)
        poll_of = {poll.pk: poll for poll in polls}
        questions = {
            q.pk: q for q in Question.objects.filter(poll__project=self.project).order_by("id")
        }
        respondent_ids = dict(
            Respondent.objects.filter(poll__project=self.project).values_list("id", "export_id")
        )
        answers = (
            Answer.objects.filter(question__poll__project=self.project)
            .with_text()
            .order_by("question__poll", "question__position", "respondent__position", "id")
            .values("id", "question", "respondent", "text", "other_text")
        )
        seen: set[int] = set()
        for answer in answers:
            question = questions[answer["question"]]
            poll = poll_of[question.poll_id]
            if question.pk not in seen:
                seen.add(question.pk)
                self.questions_with_text[poll.pk].append(question)
            self._source(sources, answer, question, poll, respondent_ids[answer["respondent"]])
        return sources

    def _source(self, sources, answer, question, poll, respondent: str) -> None:
        stored = answer["text"] or answer["other_text"]
        text, dropped, lone = lf_only(stored)
        source_guid = guid("source", poll.code, question.export_id, respondent)
        self.texts.append((source_guid, text))
        self.sources_of[answer["respondent"]].append(source_guid)
        meta = {
            "poll": poll.title,
            "question": question.export_id,
            "question_text": question.text,
            "kind": question.kind,
            "respondent": respondent,
            "field": "text" if answer["text"] else "other_text",
        }
        if dropped:
            meta["crlf"] = dropped
        if lone:
            meta["cr"] = lone
        no_theme = sorted(self.usernames[c] for c in self.no_theme.get(answer["id"], []))
        if no_theme:
            meta["no_theme"] = no_theme
        element = sub(
            sources,
            "TextSource",
            guid=source_guid,
            name=f"{poll.title} · {question.export_id} · {respondent}",
            plainTextPath=f"internal://{source_guid}.txt",
            creatingUser=self.user_guid[self.user.pk] if self.user is not None else None,
            creationDateTime=xml_datetime(poll.created_at),
        )
        sub(element, "Description", verbatim_json(**meta))
        by_coder = self.codings.get(answer["id"], {})
        for coder in sorted(by_coder, key=self.usernames.get):
            themes = [(t, at) for t, at in by_coder[coder] if t in self.theme_guid]
            if not themes:
                continue
            selection_guid = guid("codings", source_guid, self.usernames[coder])
            self._selection(
                element, selection_guid, "coding", 0, len(text), text, coder, themes,
                min(at for _, at in themes),
            )  # fmt: skip
        for quote in self.quotes.get(answer["id"], []):
            start, end = lf_position(quote["start"], dropped), lf_position(quote["end"], dropped)
            themes = [
                (t, quote["created_at"])
                for t in self.quote_themes.get(quote["id"], [])
                if t in self.theme_guid
            ]
            self._selection(
                element, guid("quote", quote["code"]), "quote", start, end, text,
                quote["coder"], themes, quote["created_at"],
            )  # fmt: skip

    def _selection(self, source, selection_guid, kind, start, end, text, coder, themes, at):
        user = self.user_guid[coder]
        selection = sub(
            source,
            "PlainTextSelection",
            guid=selection_guid,
            name=short(text[start:end]),
            startPosition=str(start),
            endPosition=str(end),
            creatingUser=user,
            creationDateTime=xml_datetime(at),
        )
        sub(selection, "Description", verbatim_json(kind=kind))
        for theme, created in sorted(themes, key=lambda pair: self.theme_order[pair[0]]):
            theme_guid = self.theme_guid[theme]
            coding = sub(
                selection,
                "Coding",
                guid=guid("coding", selection_guid, theme_guid),
                creatingUser=user,
                creationDateTime=xml_datetime(created),
            )
            sub(coding, "CodeRef", targetGUID=theme_guid)
