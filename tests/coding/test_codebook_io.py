"""Codebook CSV exchange: write_csv, read_csv and merge_codebook (coding.codebook_io).

Themes are made through coding.services.create_theme, as the browser makes them.
Seed 004's codebook (fixtures/seeds/engagement/codebook.csv) is 5 areas, 24
themes under them and 12 sub-themes under those.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from coding import codebook_io, services
from coding.codebook_io import CodebookRow, import_csv, merge_codebook, read_csv, write_csv
from coding.models import Event, Theme, ThemePath
from polls.importers.types import ImportProblem
from polls.models import Project

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "fixtures" / "seeds" / "engagement" / "codebook.csv"
Q6 = ROOT / "fixtures" / "seeds" / "poll3" / "Q6.themes.csv"
DATA = ROOT / "tests" / "data" / "codebooks"
HEADER = "name,parent,description,inclusion,exclusion,colour\n"


def _theme(project, user, name, parent=None, **fields) -> Theme:
    theme = services.create_theme(
        project, name, user, description=fields.pop("description", ""), parent=parent
    )
    if fields:
        for key, value in fields.items():
            setattr(theme, key, value)
        theme.save(update_fields=list(fields))
    return theme


def _tree(project) -> dict[str, tuple]:
    """Name → (parent's name, description, inclusion, exclusion, colour, archived)."""
    return {
        t.name: (
            t.parent.name if t.parent else "",
            t.description,
            t.inclusion,
            t.exclusion,
            t.colour,
            t.archived,
        )
        for t in Theme.objects.filter(project=project).select_related("parent")
    }


def _counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Theme, ThemePath, Event)}


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _other_project() -> Project:
    return Project.objects.create(name="Another review")


@pytest.fixture
def codebook(project, alice):
    """A small tree with every field set, awkward text included.

    Barriers (#ffb703)
    ├── Lack of time
    └── Caseloads
        └── Caseload size
    Support
    """
    barriers = _theme(
        project,
        alice,
        "Barriers",
        description='What stops them, "in their words"',
        inclusion="Any obstacle, named or implied",
        exclusion="Wishes without an obstacle",
        colour="#ffb703",
    )
    _theme(
        project,
        alice,
        "Lack of time",
        barriers,
        description="Too busy.\nSecond line; with a semicolon, and a comma.",
        inclusion="Time, hours, rushing",
    )
    caseloads = _theme(project, alice, "Caseloads", barriers, exclusion="Paperwork")
    _theme(project, alice, "Caseload size", caseloads, description="Über 20 cases – too many")
    _theme(project, alice, "Support", description="Help received", colour="#c7f9cc")
    return project


# --- writing and reading back ----------------------------------------------------


def test_write_then_read_round_trip_keeps_names_parents_descriptions_criteria_and_colours(
    codebook, alice
):
    data = write_csv(codebook)
    other = _other_project()

    report = merge_codebook(other, read_csv(data, "codebook.csv"), alice)

    assert _tree(other) == _tree(codebook)
    assert report.created == ["Barriers", "Lack of time", "Caseloads", "Caseload size", "Support"]
    assert write_csv(other) == data


def test_the_csv_is_utf8_without_bom_parents_before_children_in_position_order(codebook, alice):
    support = Theme.objects.get(name="Support")
    support.position = 0  # before Barriers now
    support.save()

    data = write_csv(codebook)

    assert not data.startswith(b"\xef\xbb\xbf")
    rows = _rows(data)
    assert rows[0] == codebook_io.CSV_COLUMNS
    assert [r[:2] for r in rows[1:]] == [
        ["Support", ""],
        ["Barriers", ""],
        ["Lack of time", "Barriers"],
        ["Caseloads", "Barriers"],
        ["Caseload size", "Caseloads"],
    ]
    assert "Über 20 cases – too many".encode() in data


def test_archived_themes_are_left_out_and_their_active_children_move_up(codebook, alice):
    Theme.objects.filter(name="Caseloads").update(archived=True)

    rows = _rows(write_csv(codebook))

    names = [r[0] for r in rows[1:]]
    assert "Caseloads" not in names
    assert ["Caseload size", "Barriers"] in [r[:2] for r in rows]


def test_formula_looking_cells_are_written_with_a_leading_apostrophe(project, alice):
    parent = _theme(project, alice, "=cmd|' /C calc'!A0", description="+44 lines")
    _theme(project, alice, "@home", parent, description="-5 hours", inclusion="=SUM(A1)")

    text = write_csv(project).decode("utf-8")

    assert "'=cmd|' /C calc'!A0" in text
    assert _rows(text.encode())[2][:4] == [
        "'@home",
        "'=cmd|' /C calc'!A0",
        "'-5 hours",
        "'=SUM(A1)",
    ]
    assert _rows(text.encode())[1][2] == "'+44 lines"


def test_formula_looking_names_import_back_exactly(project, alice):
    names = ["=cmd", "-5 hours", "@home", "'=already quoted", "'Tis the season", " +1"]
    for name in names:
        _theme(project, alice, name, description=name)
    other = _other_project()

    merge_codebook(other, read_csv(write_csv(project), "codebook.csv"), alice)

    stripped = [n.strip() for n in names]  # a theme's name never starts with a space
    assert sorted(Theme.objects.filter(project=other).values_list("name", flat=True)) == sorted(
        stripped
    )
    assert Theme.objects.get(project=other, name="'=already quoted").description == (
        "'=already quoted"
    )


def test_reading_takes_off_one_apostrophe_only_before_a_formula_character():
    data = (HEADER + "'=cmd,,'+1\n'Tis the season,,''=x\nPlain,,'quoted'\n").encode()

    rows = read_csv(data, "codebook.csv")

    assert [(r.name, r.description) for r in rows] == [
        ("=cmd", "+1"),
        ("'Tis the season", "'=x"),
        ("Plain", "'quoted'"),
    ]


# --- reading --------------------------------------------------------------------


def test_headers_match_whatever_their_case_criteria_and_color_are_synonyms_others_ignored():
    data = (
        b"Notes,NAME,Criteria,Color,Parent,Exclusion,published_percent\n"
        b"ignore me,Time,Mentions hours,#F4A,,Paperwork,12\n"
        b",,,,,,40\n"
    )

    rows = read_csv(data, "codebook.csv")

    assert rows == [
        CodebookRow(
            name="Time", inclusion="Mentions hours", exclusion="Paperwork", colour="#ff44aa", row=2
        )
    ]


def test_an_excel_csv_in_cp1252_with_semicolons_reads_as_written():
    rows = read_csv((DATA / "excel_semicolon_cp1252.csv").read_bytes(), "excel.csv")

    assert rows == [
        CodebookRow(
            name="Café culture",
            description="Informal support over coffee – the “drop-in” kind.",
            inclusion="Mentions a café or drop-in",
            colour="#ff44aa",
            row=2,
        ),
        CodebookRow(
            name="Staff’s morale",
            parent="Café culture",
            description="How staff feel; a résumé of low spirits",
            inclusion="Tired, fed up, “burnt out”",
            exclusion="Workload alone",
            colour="#cdb4db",
            row=3,
        ),
    ]


def test_a_utf8_csv_with_a_byte_order_mark_imports(project, alice):
    report = import_csv(project, (DATA / "utf8_bom.csv").read_bytes(), "bom.csv", alice)

    assert report.created == ["Ökonomie", "Zürich office"]
    office = Theme.objects.get(project=project, name="Zürich office")
    assert (office.parent.name, office.colour) == ("Ökonomie", "#8ecae6")


def test_an_xlsx_codebook_reads_from_its_first_sheet(project, alice):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Parent", "Description"])
    sheet.append(["=cmd", "", "typed as text in Excel"])
    sheet.append(["Child", "=cmd", ""])
    for cell in ("A2", "B3"):
        sheet[cell].data_type = "s"
    out = io.BytesIO()
    workbook.save(out)

    rows = read_csv(out.getvalue(), "codebook.xlsx")

    assert [(r.name, r.parent, r.description) for r in rows] == [
        ("=cmd", "", "typed as text in Excel"),
        ("Child", "=cmd", ""),
    ]


# --- merging into a project ------------------------------------------------------


def test_seed_004_codebook_imports_into_an_empty_project_as_five_areas(project, alice):
    report = import_csv(project, SEED.read_bytes(), "codebook.csv", alice)

    themes = {t.name: t for t in Theme.objects.filter(project=project).select_related("parent")}
    areas = [t for t in themes.values() if t.parent is None]
    depth = {
        p.descendant.name: p.depth
        for p in ThemePath.objects.filter(ancestor__in=areas).select_related("descendant")
    }
    assert len(themes) == 41 == len(report.created)
    assert sorted(t.name for t in areas) == [
        "Care Leavers",
        "Child protection",
        "Early help and prevention",
        "The care system",
        "Working in the system",
    ]
    assert sum(1 for d in depth.values() if d == 1) == 24
    assert sum(1 for d in depth.values() if d == 2) == 12
    assert themes["Thresholds"].parent.name == "Multi-agency working"
    assert themes["Multi-agency working"].parent.name == "Working in the system"
    assert themes["Online harm"].parent.name == "Harms from outside the home"
    assert themes["Housing"].parent.name == "Care Leavers"
    assert ThemePath.objects.filter(
        ancestor=themes["Child protection"], descendant=themes["Online harm"], depth=2
    ).exists()
    assert themes["Funding"].description.startswith("Underfunding of children's services")
    assert Event.objects.filter(action=Event.Action.CREATE_THEME).count() == 41
    imported = Event.objects.get(action=Event.Action.IMPORT_CODEBOOK)
    assert imported.after == {"created": report.created, "updated": [], "conflicts": []}


def test_reimporting_the_same_file_changes_nothing(project, alice):
    import_csv(project, SEED.read_bytes(), "codebook.csv", alice)
    before, tree = _counts(), _tree(project)

    report = import_csv(project, SEED.read_bytes(), "codebook.csv", alice)

    assert (report.created, report.updated, report.conflicts) == ([], [], [])
    assert len(report.unchanged) == 41
    assert _counts() == before
    assert _tree(project) == tree


def test_seed_poll3_themes_file_imports_ignoring_its_percent_column(project, alice):
    report = import_csv(project, Q6.read_bytes(), "Q6.themes.csv", alice)

    assert len(report.created) == 13
    assert Theme.objects.get(name="Institutional racism").parent.name == (
        "System and society factors"
    )


def test_children_listed_before_their_parents_are_created_under_them(project, alice):
    data = (
        HEADER + "Caseload size,Caseloads,,,,\nCaseloads,Barriers,,,,\nBarriers,,,,,\n"
    ).encode()

    report = import_csv(project, data, "codebook.csv", alice)

    assert report.created == ["Barriers", "Caseloads", "Caseload size"]
    size = Theme.objects.get(name="Caseload size")
    assert size.parent.name == "Caseloads"
    assert set(
        ThemePath.objects.filter(descendant=size).values_list("ancestor__name", "depth")
    ) == {
        ("Caseload size", 0),
        ("Caseloads", 1),
        ("Barriers", 2),
    }


def test_a_parent_already_in_the_project_need_not_be_in_the_file(codebook, alice):
    report = import_csv(
        codebook, (HEADER + "Staff turnover,barriers,,,,\n").encode(), "x.csv", alice
    )

    assert report.created == ["Staff turnover"]
    assert Theme.objects.get(name="Staff turnover").parent.name == "Barriers"


def test_an_import_meeting_existing_themes_fills_blanks_reports_conflicts_leaves_the_tree(
    codebook, alice
):
    tree = _tree(codebook)
    data = (
        HEADER
        + "barriers,,Something else,,,#000000\n"  # description and colour differ
        + "Caseloads,Support,Too many cases,Numbers of cases,Paperwork,\n"  # moved; blank filled
        + "Lack of time,Barriers,,,Being late,\n"  # exclusion blank: filled
        + "Caseload size,,,,,\n"  # at the top level in the file
        + "Peer support,Support,Colleagues help,,,#abc\n"  # new
    ).encode()

    report = import_csv(codebook, data, "codebook.csv", alice)

    assert report.created == ["Peer support"]
    assert report.updated == ["Caseloads", "Lack of time"]
    assert report.unchanged == ["Barriers", "Caseload size"]
    assert report.conflicts == [
        "Barriers: the description differs; kept the project's",
        "Caseloads: the file puts it under Support, the project under Barriers; kept the project's",
        "Caseload size: the file puts it at the top level, the project under Caseloads; "
        "kept the project's",
    ]
    after = _tree(codebook)
    assert after["Barriers"] == tree["Barriers"]  # colour #ffb703 kept, silently
    colour = tree["Caseloads"][4]
    assert after["Caseloads"] == (
        "Barriers", "Too many cases", "Numbers of cases", "Paperwork", colour, False
    )  # fmt: skip
    assert after["Lack of time"][3] == "Being late"
    assert after["Caseload size"][0] == "Caseloads"
    assert after["Peer support"][0] == "Support" and after["Peer support"][4] == "#aabbcc"
    edits = Event.objects.filter(action=Event.Action.EDIT_THEME).order_by("id")
    assert [(e.theme.name, e.before, e.after) for e in edits] == [
        (
            "Caseloads",
            {"description": "", "inclusion": ""},
            {"description": "Too many cases", "inclusion": "Numbers of cases"},
        ),
        ("Lack of time", {"exclusion": ""}, {"exclusion": "Being late"}),
    ]
    imported = Event.objects.get(action=Event.Action.IMPORT_CODEBOOK)
    assert imported.after == {
        "created": report.created,
        "updated": report.updated,
        "conflicts": report.conflicts,
    }


def test_archived_themes_are_matched_reported_and_stay_archived(codebook, alice):
    Theme.objects.filter(name="Support").update(archived=True)
    data = (HEADER + "support,,A new description,,,\nPeer support,Support,,,,\n").encode()

    report = import_csv(codebook, data, "codebook.csv", alice)

    support = Theme.objects.get(name="Support")
    assert (support.archived, support.description) == (True, "Help received")
    assert report.unchanged == ["Support"] and report.created == ["Peer support"]
    assert report.conflicts == [
        "Support: archived in the project; left as it is",
        "Peer support: created under Support, which is archived in the project",
    ]


def test_reimporting_a_300_theme_codebook_takes_a_few_queries(
    project, alice, django_assert_max_num_queries
):
    lines = [f"Area {a},,,,," for a in range(10)]
    lines += [f"Theme {a}.{t},Area {a},,,," for a in range(10) for t in range(29)]
    import_csv(project, (HEADER + "\n".join(lines)).encode(), "big.csv", alice)
    described = [f"Theme {a}.{t},Area {a},About {a}.{t},,," for a in range(10) for t in range(29)]
    data = (HEADER + "\n".join(lines[:10] + described)).encode()

    with django_assert_max_num_queries(8):
        report = import_csv(project, data, "big.csv", alice)

    assert len(report.updated) == 290 and len(report.unchanged) == 10
    assert Theme.objects.get(name="Theme 9.28").description == "About 9.28"


# --- refusing bad input, with the database unchanged -------------------------------

BAD = [
    pytest.param(
        "Theme,Parent\nTime,\n", 1, "name", "no column is headed name", id="no name column"
    ),
    pytest.param(
        HEADER + "Time,,,,,\n,Time,Orphan description,,,\n",
        3,
        "A (name)",
        "no theme name",
        id="empty name",
    ),
    pytest.param(
        HEADER + "Time,,,,,\nOther,,,,,\nTIME,,,,,\n",
        4,
        "A (name)",
        "already on row 2",
        id="a name twice",
    ),
    pytest.param(
        HEADER + "Top,,,,,\nA,B,,,,\nB,C,,,,\nC,A,,,,\n",
        3,
        "B (parent)",
        "A → B → C → A",
        id="a cycle",
    ),
    pytest.param(
        HEADER + "Top,,,,,\nSelf,self,,,,\n", 3, "B (parent)", "its own parent", id="own parent"
    ),
    pytest.param(
        HEADER + "Time,,,,,#12345\n", 2, "F (colour)", "'#12345' is not a colour", id="bad colour"
    ),
    pytest.param(
        "name;color\nTime;red\n", 2, "B (color)", "'red' is not a colour", id="bad color synonym"
    ),
    pytest.param(
        HEADER + "x" * 201 + ",,,,,\n", 2, "A (name)", "at most 200 characters", id="long name"
    ),
    pytest.param(
        "name,colour,color\nTime,#fff,#000\n", 1, "C (color)", "two columns say colour", id="twice"
    ),
    pytest.param(
        HEADER + "Fine,,,,,\nNew,Nowhere,,,,\n",
        3,
        "parent",
        "'Nowhere' is neither a theme in this codebook nor in project",
        id="unknown parent",
    ),
]


@pytest.mark.parametrize(("text", "row", "column", "message"), BAD)
def test_bad_input_is_refused_naming_file_row_and_column_with_the_database_unchanged(
    codebook, alice, text, row, column, message
):
    before, tree = _counts(), _tree(codebook)

    with pytest.raises(ImportProblem) as caught:
        import_csv(codebook, text.encode(), "bad.csv", alice)

    problem = caught.value
    assert (problem.file, problem.row, problem.column) == ("bad.csv", row, column)
    assert message in problem.message
    assert _counts() == before and _tree(codebook) == tree


def test_a_failure_midway_leaves_the_project_as_it_was(project, alice, monkeypatch):
    create = services.create_theme
    made = []

    def fail_on_the_third(*args, **kwargs):
        if len(made) == 2:
            raise RuntimeError("the database went away")
        made.append(create(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(services, "create_theme", fail_on_the_third)

    with pytest.raises(RuntimeError):
        import_csv(project, SEED.read_bytes(), "codebook.csv", alice)

    assert _counts() == {"Theme": 0, "ThemePath": 0, "Event": 0}


def test_merge_checks_rows_from_other_readers_too(project, alice):
    rows = [CodebookRow("A", parent="B", guid="1"), CodebookRow("B", parent="A", guid="2")]

    with pytest.raises(ImportProblem, match="A → B → A"):
        merge_codebook(project, rows, alice)

    assert not Theme.objects.exists()
