"""REFI-QDA exchange (QDA-XML 1.0): codebooks (.qdc) here, projects (.qdpx) beside it.

    write_qdc(project) -> bytes                 coding.refi
    read_qdc(data, filename) -> [CodebookRow]   coding.refi (no database)
    import_qdc(project, data, filename, user)   coding.refi, through merge_codebook
    write_qdpx(project, user=None) -> bytes     coding.refi_export
    import_qdpx(data, filename, name, user)     coding.refi_import

What Verbatim writes:
- The codebook is the project's active themes, nested as the theme tree
  (siblings in position order); archived themes are left out of a .qdc, and an
  active theme under an archived one sits under its nearest active ancestor.
  Every Code is codable; `color` is "#rrggbb".
- A theme's Description is its description, then its criteria as labelled
  paragraphs, each after a blank line: "Include: …" and "Exclude: …". Reading
  it back (`split_description`), a paragraph starting "Include:" or "Exclude:"
  (also "Inclusion:", "Exclusion criteria:", any case) starts that criterion,
  which runs to the next labelled paragraph; what comes before the first one
  is the description. A description whose own paragraph starts with such a
  label is therefore read as criteria.
- Names in a .qdc are read as written (only trimmed); a name used twice gets
  its parent's name in brackets, as theme names are unique in a project. A
  colour that is not #RGB/#RRGGBB is dropped. CRs in texts are written as
  &#13; so they survive parsing. Theme aliases, shortcuts and question scopes
  are not in the format.
- GUIDs are uuid5 names under GUID_NAMESPACE of stable identifiers (a theme's
  `code`, a poll's `code` and the export ids, a username), so exporting twice
  writes identical files.

Reading: defusedxml refuses any DTD (hence every entity and entity bomb);
files are size-limited; the namespace may be `urn:QDA-XML:codebook:1.0` or
`…:project:…` of any version (QualCoder has met "0:4") or missing. Faults are
ImportProblems naming the file and, as `row`, the XML line.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from bisect import bisect_left
from datetime import UTC, datetime
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from coding.codebook_io import NAME_MAX, CodebookRow, MergeReport, merge_file, normalise_colour
from polls.importers.types import ImportProblem

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
ORIGIN = "Verbatim"
GUID_NAMESPACE = uuid.UUID("1c3cad86-cd21-4bf8-b61a-93886bea5935")
MAX_QDC_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 100  # of nested Codes; Python's recursion has limits
ARCHIVED_NOTE = "Archived in Verbatim."  # last paragraph of an archived theme's Description

LABELS = re.compile(
    r"(?P<label>include|inclusion(?: criteria)?|exclude|exclusion(?: criteria)?)[ \t]*:[ \t]?",
    re.IGNORECASE,
)
# Characters XML 1.0 cannot carry at all, not even as references.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CR_MARK = "\x01"


# --- small shared pieces ----------------------------------------------------------


def guid(*parts) -> str:
    """A stable GUID (schema pattern 8-4-4-4-12) for the identifiers given."""
    return str(uuid.uuid5(GUID_NAMESPACE, ":".join(str(p) for p in parts)))


def xml_text(value) -> str:
    """Text XML can hold: characters it cannot are dropped.

    A CR is marked with CR_MARK (one of the dropped characters, so never text
    itself), which xml_bytes writes as &#13;: a parser keeps such a CR, where it
    turns a raw one into LF, so a description typed in a browser (CR LF) comes
    back as it was.
    """
    return NOT_XML.sub("", str(value)).replace("\r", CR_MARK)


def xml_datetime(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    """A child element; attributes whose value is None are left out."""
    element = ET.SubElement(
        parent, tag, {k: xml_text(v) for k, v in attrs.items() if v is not None}
    )
    if text is not None:
        element.text = xml_text(text)
    return element


def xml_bytes(root: ET.Element) -> bytes:
    """UTF-8 without BOM, LF line ends, indented."""
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode").replace(CR_MARK, "&#13;")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")


def join_description(description: str, inclusion: str = "", exclusion: str = "") -> str:
    paragraphs = [description] if description else []
    if inclusion:
        paragraphs.append("Include: " + inclusion)
    if exclusion:
        paragraphs.append("Exclude: " + exclusion)
    return "\n\n".join(paragraphs)


def split_description(text: str) -> tuple[str, str, str]:
    """A Description → (description, inclusion, exclusion); see the module doc."""
    parts: dict[str, list[str]] = {"description": [], "inclusion": [], "exclusion": []}
    current = "description"
    for paragraph in text.split("\n\n"):
        label = LABELS.match(paragraph)
        if label:
            current = "inclusion" if label["label"][:5].lower() == "inclu" else "exclusion"
            paragraph = paragraph[label.end() :]
        parts[current].append(paragraph)
    return tuple("\n\n".join(parts[key]) for key in ("description", "inclusion", "exclusion"))


def local(tag) -> str:
    """An element's name without its namespace ("" for comments and the like)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if local(child.tag) == name]


def child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if local(c.tag) == name), None)


def items(element: ET.Element, container: str, name: str) -> list[ET.Element]:
    """The <name> children of element's <container> child (none without one)."""
    found = child(element, container)
    return children(found, name) if found is not None else []


def child_text(element: ET.Element, name: str) -> str:
    found = child(element, name)
    return (found.text or "") if found is not None else ""


class _LineBuilder(ET.TreeBuilder):
    """A tree builder that notes the line each element starts on."""

    def __init__(self):
        super().__init__()
        self.lines: dict[int, int] = {}
        self.expat = None

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        self.lines[id(element)] = self.expat.CurrentLineNumber
        return element


class Parsed:
    """A parsed XML document: its root and the line of each element, for messages."""

    def __init__(self, root: ET.Element, lines: dict[int, int], filename: str):
        self.root, self._lines, self.filename = root, lines, filename

    def line(self, element: ET.Element) -> int | None:
        return self._lines.get(id(element))

    def problem(self, message: str, element: ET.Element | None = None) -> ImportProblem:
        row = self.line(element) if element is not None else None
        return ImportProblem(message, file=self.filename, row=row)


def parse_xml(data: bytes, filename: str, kind: str) -> Parsed:
    """Parse untrusted XML: no DTD (so no entities, no bombs), no external references.

    `kind` is "codebook" or "project": the root's namespace must be REFI-QDA's
    for it (any version) or absent.
    """
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.expat = parser.parser
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as e:
        raise ImportProblem(
            "refused: the XML declares a DTD or entities (<!DOCTYPE …>), which REFI-QDA files "
            f"never need and which can hide an XML bomb ({type(e).__name__})",
            file=filename,
        ) from None
    except ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        raise ImportProblem(f"this is not well-formed XML ({e})", file=filename, row=line) from None
    ns = namespace(root.tag)
    if ns and not ns.startswith("urn:QDA-XML:"):
        raise ImportProblem(
            f"the root element is in namespace {ns!r}, not REFI-QDA's urn:QDA-XML:{kind}:1.0",
            file=filename,
            row=1,
        )
    return Parsed(root, builder.lines, filename)


# --- line ends: files say LF only, answers may hold CRs ------------------------------


def lf_only(text: str) -> tuple[str, list[int], list[int]]:
    """The text with LF line ends only: CR LF → LF, a lone CR → LF.

    Also returns the indexes (in `text`) of the CRs dropped from CR LF pairs, and
    of the lone CRs replaced: with them `restore_crs` gives the text back, and
    `lf_position` maps positions. Positions count code points (Python str
    indexes), as REFI-QDA's character positions; NVivo appears to count UTF-16
    units instead, so text after an emoji lands one place later there per emoji.
    """
    if "\r" not in text:
        return text, [], []
    dropped, lone = [], []
    for match in re.finditer("\r\n?", text):
        (dropped if len(match.group()) == 2 else lone).append(match.start())
    return text.replace("\r\n", "\n").replace("\r", "\n"), dropped, lone


def lf_position(position: int, dropped: list[int]) -> int:
    """A position in the original text → the same place in lf_only's text."""
    return position - bisect_left(dropped, position)


def crlf_position(position: int, dropped: list[int]) -> int:
    """The inverse of lf_position; a place between CR and LF maps to before the CR."""
    moved = [index - k for k, index in enumerate(dropped)]  # where each dropped CR was
    return position + bisect_left(moved, position)


def restore_crs(text: str, dropped: list[int], lone: list[int]) -> str | None:
    """lf_only's text and lists → the original text; None if they do not fit together."""
    try:
        chars = list(text)
        for index in lone:
            at = lf_position(index, dropped)
            if not 0 <= at < len(chars) or chars[at] != "\n":
                return None
            chars[at] = "\r"
        for index in sorted(dropped):
            if not 0 <= index < len(chars) or chars[index] != "\n":
                return None
            chars.insert(index, "\r")
    except TypeError:  # not integers
        return None
    original = "".join(chars)
    return original if lf_only(original) == (text, sorted(dropped), sorted(lone)) else None


# --- the codebook, both ways --------------------------------------------------------


def theme_tree(themes: list, keep) -> dict:
    """parent id (None: top) → its kept children in order, skipping themes not kept.

    `themes` come in sibling order (position, name, id), as dicts or objects with
    id, parent_id; a kept theme under one not kept hangs under its nearest kept
    ancestor, or at the top.
    """
    by_id = {_get(t, "id"): t for t in themes}

    def shown_parent(theme):
        parent, seen = _get(theme, "parent_id"), {_get(theme, "id")}
        while parent is not None and not keep(by_id[parent]) and parent not in seen:
            seen.add(parent)
            parent = _get(by_id[parent], "parent_id")
        return parent if parent is not None and keep(by_id[parent]) else None

    tree: dict = {}
    for theme in themes:
        if keep(theme):
            tree.setdefault(shown_parent(theme), []).append(theme)
    return tree


def _get(item, name):
    return item[name] if isinstance(item, dict) else getattr(item, name)


def code_elements(parent: ET.Element, tree: dict, key=None, archived: bool = False) -> None:
    """Nested <Code>s for the themes under `key` in `tree` (from theme_tree)."""
    for theme in tree.get(key, []):
        description = join_description(theme.description, theme.inclusion, theme.exclusion)
        if archived and theme.archived:
            description = "\n\n".join(p for p in (description, ARCHIVED_NOTE) if p)
        code = sub(
            parent,
            "Code",
            guid=guid("theme", theme.code),
            name=theme.name,
            isCodable="true",
            color=normalise_colour(theme.colour) or None,
        )
        if description:
            sub(code, "Description", description)
        code_elements(code, tree, theme.pk, archived)


def write_qdc(project) -> bytes:
    """The project's active themes as a REFI-QDA codebook (see the module doc).

    A project without active themes gets an empty <Codes/>: well-formed, and
    read as "no codes" by importers, but the schema wants at least one Code.
    """
    themes = list(project.themes.order_by("position", "name", "id"))
    tree = theme_tree(themes, keep=lambda t: not t.archived)
    root = ET.Element("CodeBook", {"xmlns": CODEBOOK_NS, "origin": ORIGIN})
    codes = sub(root, "Codes")
    code_elements(codes, tree)
    return xml_bytes(root)


def read_codes(parsed: Parsed, codes: ET.Element) -> list[CodebookRow]:
    """The nested <Code>s under `codes` → rows, parents first, with their guids.

    A name used twice (whatever its case) gets its parent's name in brackets,
    then a number, as Verbatim's names are unique in a project; a colour that is
    not #RGB or #RRGGBB is dropped.
    """
    rows: list[CodebookRow] = []
    taken: set[str] = set()

    def walk(element: ET.Element, parent: str, depth: int = 1) -> None:
        for code in children(element, "Code"):
            if depth > MAX_DEPTH:
                raise parsed.problem(f"codes are nested more than {MAX_DEPTH} deep", code)
            name = (code.get("name") or "").strip()
            if not name:
                raise parsed.problem("a <Code> has no name", code)
            if not code.get("guid"):
                raise parsed.problem(f"the <Code> {name!r} has no guid", code)
            unique = name
            if unique.casefold() in taken and parent:
                unique = f"{name} ({parent})"
            number = 2
            while unique.casefold() in taken:
                unique, number = f"{name} ({number})", number + 1
            if len(unique) > NAME_MAX:
                raise parsed.problem(
                    f"a theme name is at most {NAME_MAX} characters; {name[:40]!r}… has "
                    f"{len(unique)}",
                    code,
                )
            taken.add(unique.casefold())
            description, inclusion, exclusion = split_description(child_text(code, "Description"))
            rows.append(
                CodebookRow(
                    name=unique,
                    parent=parent,
                    description=description,
                    inclusion=inclusion,
                    exclusion=exclusion,
                    colour=normalise_colour(code.get("color") or "") or "",
                    guid=normal_guid(code.get("guid")),
                    row=parsed.line(code),
                )
            )
            walk(code, unique, depth + 1)

    walk(codes, "")
    return rows


def normal_guid(value: str | None) -> str:
    """GUIDs compare without braces, whatever their case."""
    return (value or "").strip().strip("{}").lower()


def read_qdc(data: bytes, filename: str) -> list[CodebookRow]:
    """A .qdc's codes as CodebookRows, parents before children (no database).

    Also takes a project.qde (its CodeBook). Refuses files over MAX_QDC_BYTES,
    DTDs and entities, another root, a code without a name, a codebook without codes.
    """
    if len(data) > MAX_QDC_BYTES:
        raise ImportProblem(
            f"{len(data)} bytes is over the limit of {MAX_QDC_BYTES} for a codebook",
            file=filename,
        )
    if not data.strip():
        raise ImportProblem("the file is empty", file=filename)
    parsed = parse_xml(data, filename, "codebook")
    root = parsed.root
    if local(root.tag) == "Project":
        codebook = child(root, "CodeBook")
        if codebook is None:
            raise parsed.problem("this REFI-QDA project has no <CodeBook>", root)
    elif local(root.tag) == "CodeBook":
        codebook = root
    else:
        raise parsed.problem(
            f"the root element is <{local(root.tag)}>; a REFI-QDA codebook starts with <CodeBook>",
            root,
        )
    codes = child(codebook, "Codes")
    rows = read_codes(parsed, codes) if codes is not None else []
    if not rows:
        raise parsed.problem("the codebook has no <Code>", codes if codes is not None else root)
    return rows


def import_qdc(project, data: bytes, filename: str, user) -> MergeReport:
    """Merge a .qdc into the project's themes by name, as a CSV codebook would be."""
    return merge_file(project, read_qdc(data, filename), filename, user)


def merge_summary(filename: str, project, report: MergeReport) -> str:
    lines = [
        f"Imported {filename} into {project.name}: {len(report.created)} themes created, "
        f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.conflicts)} conflicts."
    ]
    lines += [f"  {conflict}" for conflict in report.conflicts]
    return "\n".join(lines)
