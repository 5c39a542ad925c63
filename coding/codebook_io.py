"""Reading and writing codebooks, and merging one into a project by name.

CSV here; REFI-QDA .qdc and .qdpx in coding.refi. Both readers produce
CodebookRow lists and both importers go through merge_codebook, so a codebook
made elsewhere is merged the same way whatever its format.

The CSV has the columns of CSV_COLUMNS, one row per theme, parents before
their children; `parent` names the parent theme, empty for a top-level one.

Merging never takes anything away from the project. Rows are matched to the
project's themes by name, whatever its case. A new name becomes a new theme
(parents first, whatever the row order). A theme the project already has only
gets its empty description, inclusion or exclusion filled in from the row
("updated"); a non-empty value that differs, a different parent, or a match
that is archived in the project is kept as the project has it and reported as
a conflict, one sentence each. Colours that differ are kept silently: the
project's colours are mostly the palette's automatic picks, so reporting them
would bury the conflicts that matter. Every row's name ends in exactly one of
created, updated or unchanged; conflicts are sentences beside them.

Formula-looking cells: write_csv puts an apostrophe in front of a cell that a
spreadsheet would run as a formula (coding.spreadsheets.csv_cell); read_csv
takes exactly that one apostrophe off again, so "=cmd" survives the round trip.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.db import transaction

from coding import services
from coding.models import Event, Theme
from coding.spreadsheets import FORMULA_STARTS, csv_cell
from polls.importers.decode import ZIP_MAGIC
from polls.importers.table import XLSX_SUFFIXES, column_ref, read_table
from polls.importers.types import ImportProblem

CSV_COLUMNS = ["name", "parent", "description", "inclusion", "exclusion", "colour"]
# Other spellings of a header, as other tools and people write them.
SYNONYMS = {"criteria": "inclusion", "color": "colour"}
TEXT_FIELDS = ("description", "inclusion", "exclusion")
FIELD_WORDS = {
    "description": "the description differs",
    "inclusion": "the inclusion criteria differ",
    "exclusion": "the exclusion criteria differ",
}
NAME_MAX = Theme._meta.get_field("name").max_length
COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


@dataclass
class CodebookRow:
    name: str
    parent: str = ""  # the parent's name; "" for a top-level theme
    description: str = ""
    inclusion: str = ""
    exclusion: str = ""
    colour: str = ""  # "#RRGGBB" or ""
    guid: str = ""  # REFI-QDA guid when the row came from a .qdc/.qdpx
    row: int | None = None  # where it was read, for messages


@dataclass
class MergeReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # empty fields filled in
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # one sentence each


# --- cells ----------------------------------------------------------------------


def _formula_like(value: str) -> bool:
    """What a spreadsheet would run, or an apostrophe in front of such a text.

    The second case makes escaping reversible: a stored "'=x" is written "''=x",
    and reading takes one apostrophe off, so every text comes back as it was.
    """
    if value.lstrip(" ").startswith(FORMULA_STARTS):
        return True
    return value.startswith("'") and _formula_like(value[1:])


def _cell(value: str) -> str:
    cell = csv_cell(value)
    if cell == value and _formula_like(value):  # "'=x": csv_cell sees no formula
        cell = "'" + value
    return cell


def _uncell(value: str) -> str:
    """A CSV cell as written by _cell → the text (one escaping apostrophe removed)."""
    if value.startswith("'") and _formula_like(value[1:]):
        return value[1:]
    return value


def normalise_colour(value: str) -> str | None:
    """#RGB or #RRGGBB (any case) → "#rrggbb", lower case as the palette; "" stays "".

    None when the text is not such a colour.
    """
    value = value.strip()
    if not value:
        return ""
    if not COLOUR.fullmatch(value):
        return None
    digits = value[1:].lower()
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return "#" + digits


# --- writing ----------------------------------------------------------------------


def write_csv(project) -> bytes:
    """The project's active themes as CSV bytes (UTF-8, no BOM), parents before children.

    Archived themes (merged ones included) are left out; an active theme under an
    archived one is written under its nearest active ancestor, or at the top level.
    Order: depth first, siblings in position order, as the codebook panel shows them.
    Cells a spreadsheet would run as formulas get a leading apostrophe.
    """
    themes = {
        t["id"]: t
        for t in project.themes.order_by("position", "name", "id").values(
            "id", "parent_id", "archived", *CSV_COLUMNS
        )
    }

    def shown_parent(theme: dict) -> int | None:
        parent, seen = theme["parent_id"], {theme["id"]}
        while parent is not None and themes[parent]["archived"] and parent not in seen:
            seen.add(parent)
            parent = themes[parent]["parent_id"]
        return None if parent is None or themes[parent]["archived"] else parent

    children: dict[int | None, list[dict]] = {}
    for theme in themes.values():  # in position order, so each list is too
        if not theme["archived"]:
            children.setdefault(shown_parent(theme), []).append(theme)

    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    stack = list(reversed(children.get(None, [])))
    while stack:
        theme = stack.pop()
        parent = shown_parent(theme)
        writer.writerow(
            [
                _cell(theme["name"]),
                _cell(themes[parent]["name"]) if parent is not None else "",
                _cell(theme["description"]),
                _cell(theme["inclusion"]),
                _cell(theme["exclusion"]),
                normalise_colour(theme["colour"]) or "",  # a malformed colour is left out
            ]
        )
        stack.extend(reversed(children.get(theme["id"], [])))
    return out.getvalue().encode("utf-8")


# --- reading (no database) --------------------------------------------------------


def read_csv(data: bytes, filename: str) -> list[CodebookRow]:
    """The file's themes, checked; ImportProblem names the file, row and column of a fault.

    Headers match whatever their case (`criteria` is read as `inclusion`, `color`
    as `colour`); columns not in CSV_COLUMNS are ignored, and so are rows empty in
    every column read. Decoding (BOM, UTF-8, cp1252) and the delimiter (comma,
    semicolon, tab, Excel's `sep=` line) are polls.importers.table's. An .xlsx
    workbook (zip bytes or the name says so) is read too, from its first sheet.
    Whether each parent exists is left to merge_codebook: it may be in the
    project already.
    """
    rows = read_table(data, filename)  # refuses an empty file
    is_csv = not (data.startswith(ZIP_MAGIC) or filename.lower().endswith(XLSX_SUFFIXES))
    start = next(i for i, row in enumerate(rows) if any(row))
    header, header_row = rows[start], start + 1
    columns = _columns(header, header_row, filename)
    where = {key: column_ref(index, header[index]) for key, index in columns.items()}
    found: list[CodebookRow] = []
    for number, cells in enumerate(rows[start + 1 :], start=header_row + 1):
        values = {key: cells[index] if index < len(cells) else "" for key, index in columns.items()}
        if not any(values.values()):
            continue
        if is_csv:
            values = {key: _uncell(value) for key, value in values.items()}
        # An unescaped name or parent may start with spaces; a theme's name never does.
        values["name"] = values["name"].strip()
        values["parent"] = values.get("parent", "").strip()
        found.append(CodebookRow(**values, row=number))
    if not found:
        raise ImportProblem(
            "the file has a header but no themes below it", file=filename, row=header_row + 1
        )
    check_rows(found, filename, where)
    return found


def _columns(header: list[str], header_row: int, filename: str) -> dict[str, int]:
    """CSV_COLUMNS key → index of its column in the header."""
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = title.strip().casefold()
        key = SYNONYMS.get(key, key)
        if key not in CSV_COLUMNS:
            continue
        if key in columns:
            first = columns[key]
            raise ImportProblem(
                f"two columns say {key} ({column_ref(first, header[first])} and "
                f"{column_ref(index, title)}); keep one",
                file=filename,
                row=header_row,
                column=column_ref(index, title),
            )
        columns[key] = index
    if "name" not in columns:
        raise ImportProblem(
            "no column is headed name; a codebook has the columns " + ",".join(CSV_COLUMNS),
            file=filename,
            row=header_row,
            column="name",
        )
    return columns


def check_rows(
    rows: list[CodebookRow], filename: str = "", where: dict[str, str] | None = None
) -> None:
    """Faults a codebook shows without the project: a missing, long or repeated name,
    a colour that is not one, a theme its own ancestor. Strips names and parents and
    normalises colours, in place.

    `where` names the columns in messages ("B (Parent)"); by default the field names.
    """
    where = where or {}

    def problem(message: str, row: CodebookRow, key: str) -> ImportProblem:
        return ImportProblem(message, file=filename, row=row.row, column=where.get(key, key))

    first_row: dict[str, CodebookRow] = {}
    for row in rows:
        row.name, row.parent = row.name.strip(), row.parent.strip()
        if not row.name:
            raise problem("this row has no theme name", row, "name")
        if len(row.name) > NAME_MAX:
            raise problem(
                f"a theme name is at most {NAME_MAX} characters; this one has {len(row.name)}",
                row,
                "name",
            )
        key = row.name.casefold()
        if key in first_row:
            other = first_row[key]
            raise problem(
                f"the theme {row.name!r} is already on {_row_words(other)} "
                "(names match whatever their case); keep one row",
                row,
                "name",
            )
        first_row[key] = row
        colour = normalise_colour(row.colour)
        if colour is None:
            raise problem(
                f"{row.colour!r} is not a colour; write #RGB or #RRGGBB, e.g. #8ecae6",
                row,
                "colour",
            )
        row.colour = colour
    _refuse_cycles(rows, first_row, problem)


def _row_words(row: CodebookRow) -> str:
    return f"row {row.row}" if row.row is not None else "another row"


def _refuse_cycles(rows: list[CodebookRow], by_name: dict[str, CodebookRow], problem) -> None:
    """A theme under itself, directly or through others in the file."""
    done: set[str] = set()  # names whose chain of parents is known to end
    for row in rows:
        chain: list[CodebookRow] = []
        current: CodebookRow | None = row
        while current is not None and current.name.casefold() not in done:
            if current in chain:
                loop = chain[chain.index(current) :]
                first = min(loop, key=lambda r: (r.row is None, r.row or 0))
                names = [r.name for r in loop] + [loop[0].name]
                raise problem(
                    "these themes are each other's parents: " + " → ".join(names)
                    if len(loop) > 1
                    else f"the theme {current.name!r} is its own parent",
                    first,
                    "parent",
                )
            chain.append(current)
            current = by_name.get(current.parent.casefold()) if current.parent else None
        done.update(r.name.casefold() for r in chain)


# --- merging into the project -----------------------------------------------------


def import_csv(project, data: bytes, filename: str, user) -> MergeReport:
    """read_csv, then merge_codebook; a problem either finds names the file."""
    return merge_file(project, read_csv(data, filename), filename, user)


def merge_file(project, rows: list[CodebookRow], filename: str, user) -> MergeReport:
    """merge_codebook for rows read from a file, whose name its problems then carry."""
    try:
        return merge_codebook(project, rows, user)
    except ImportProblem as problem:
        problem.file = problem.file or filename
        raise


def merge_codebook(project, rows: list[CodebookRow], user) -> MergeReport:
    """Merge rows into the project's themes by name (case-insensitive); see the module doc.

    One transaction: an ImportProblem (a row's parent neither in the rows nor the
    project, or a fault check_rows finds) leaves the project as it was. Its file
    is "" (the rows do not know it); a caller may set `problem.file` before
    showing it. Logs an EDIT_THEME event per theme filled in, create_theme's
    event per new theme, and one IMPORT_CODEBOOK event; nothing when nothing
    changed. The report lists themes in the order they were placed: the rows'
    order, except that a parent comes just before the first child naming it.
    check_rows strips the rows' names and normalises their colours in place.
    """
    check_rows(rows)
    report = MergeReport()
    with transaction.atomic():
        merge = _Merge(project, rows, user, report)
        merge.find_parents()
        for row in rows:
            merge.place(row)
        merge.save()
    return report


class _Merge:
    def __init__(self, project, rows: list[CodebookRow], user, report: MergeReport):
        self.project, self.rows, self.user, self.report = project, rows, user, report
        self.by_name = {row.name.casefold(): row for row in rows}
        themes = list(project.themes.order_by("id"))  # one query, whatever the size
        self.theme_by_id = {t.pk: t for t in themes}
        self.exact = {t.name: t for t in themes}
        self.folded: dict[str, Theme] = {}
        for theme in themes:
            self.folded.setdefault(theme.name.casefold(), theme)
        # row name (casefolded) → its theme, once matched or created
        self.theme_of: dict[str, Theme] = {}
        for row in rows:
            theme = self._existing(row.name)
            if theme is not None:
                self.theme_of[row.name.casefold()] = theme
        self.placed: set[str] = set()
        self.colours: list[Theme] = []  # new themes whose criteria or colour to save
        self.edits: list[tuple[Theme, dict, dict]] = []

    def _existing(self, name: str) -> Theme | None:
        # An exact spelling wins over a case-insensitive match (SQLite's lower()
        # folds ASCII only, so "Équipe" and "équipe" can both exist there).
        return self.exact.get(name) or self.folded.get(name.casefold())

    def find_parents(self) -> None:
        """Every parent named is in the rows or the project; checked before any write."""
        for row in self.rows:
            known = row.parent.casefold() in self.by_name or self._existing(row.parent)
            if row.parent and not known:
                raise ImportProblem(
                    f"the parent {row.parent!r} is neither a theme in this codebook nor "
                    f"in project {self.project.name!r}",
                    row=row.row,
                    column="parent",
                )

    def parent_theme(self, row: CodebookRow) -> Theme | None:
        if not row.parent:
            return None
        key = row.parent.casefold()
        if key in self.by_name:
            self.place(self.by_name[key])  # parents first, whatever the row order
            return self.theme_of[key]
        return self._existing(row.parent)

    def place(self, row: CodebookRow) -> None:
        key = row.name.casefold()
        if key in self.placed:
            return
        self.placed.add(key)  # before the parent: check_rows has refused cycles
        parent = self.parent_theme(row)
        theme = self.theme_of.get(key)
        if theme is None:
            self.create(row, parent)
        else:
            self.meet(row, theme, parent)

    def create(self, row: CodebookRow, parent: Theme | None) -> None:
        theme = services.create_theme(
            self.project, row.name, self.user, description=row.description, parent=parent
        )
        self.theme_of[row.name.casefold()] = theme
        self.theme_by_id[theme.pk] = theme
        if row.inclusion or row.exclusion or row.colour:
            theme.inclusion, theme.exclusion = row.inclusion, row.exclusion
            theme.colour = row.colour or theme.colour
            self.colours.append(theme)
        self.report.created.append(theme.name)
        if parent is not None and parent.archived:
            self.report.conflicts.append(
                f"{theme.name}: created under {parent.name}, which is archived in the project"
            )

    def meet(self, row: CodebookRow, theme: Theme, parent: Theme | None) -> None:
        conflicts = self.report.conflicts
        if theme.archived:
            conflicts.append(f"{theme.name}: archived in the project; left as it is")
            self.report.unchanged.append(theme.name)
            return
        before, after = {}, {}
        for name in TEXT_FIELDS:
            ours, theirs = getattr(theme, name), getattr(row, name)
            if not theirs.strip() or ours.strip() == theirs.strip():
                continue
            if ours.strip():
                conflicts.append(f"{theme.name}: {FIELD_WORDS[name]}; kept the project's")
            else:
                before[name], after[name] = ours, theirs
                setattr(theme, name, theirs)
        if (parent.pk if parent else None) != theme.parent_id:
            conflicts.append(
                f"{theme.name}: the file puts it {self._under(parent)}, the project "
                f"{self._under(self.theme_by_id.get(theme.parent_id))}; kept the project's"
            )
        if after:
            self.edits.append((theme, before, after))
            self.report.updated.append(theme.name)
        else:
            self.report.unchanged.append(theme.name)

    @staticmethod
    def _under(parent: Theme | None) -> str:
        return f"under {parent.name}" if parent else "at the top level"

    def save(self) -> None:
        Theme.objects.bulk_update(self.colours, ["inclusion", "exclusion", "colour"])
        Theme.objects.bulk_update([t for t, _, _ in self.edits], list(TEXT_FIELDS))
        Event.objects.bulk_create(
            Event(
                project=self.project,
                user=self.user,
                action=Event.Action.EDIT_THEME,
                theme=theme,
                before=before,
                after=after,
            )
            for theme, before, after in self.edits
        )
        if self.report.created or self.report.updated:
            Event.objects.create(
                project=self.project,
                user=self.user,
                action=Event.Action.IMPORT_CODEBOOK,
                after={
                    "created": self.report.created,
                    "updated": self.report.updated,
                    "conflicts": self.report.conflicts,
                },
            )
