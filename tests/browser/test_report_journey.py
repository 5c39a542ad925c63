"""A report author opens the report, switches to one coder, picks a subsample and
downloads the XLSX tables and the DOCX draft, whose contents follow the choices."""

from __future__ import annotations

import io

import docx
import openpyxl
import pytest
from playwright.sync_api import expect

from coding import services
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_report_source_subsample_and_downloads(page, poll, project, alice, bob, vera):
    q4 = poll.questions.get(export_id="Q4")
    answers = {a.respondent.export_id: a for a in q4.answers.all()}  # R_1, R_2, R_3
    time = services.create_theme(project, "Lack of time", alice)
    workload = services.create_theme(project, "Workload", alice)
    for response, theme in (("R_1", time), ("R_2", workload), ("R_3", workload)):
        services.apply_theme(answers[response], theme, bob)
    for response in ("R_1", "R_2"):
        services.apply_theme(answers[response], time, alice)  # they disagree on R_2

    log_in(page, "vera", PASSWORD)
    page.goto(f"/polls/{poll.code}/")
    page.get_by_role("link", name="Report").click()
    section = page.locator("#q-Q4")
    expect(section).to_contain_text("Free text response, answered by 3 out of 10 respondents")
    rows = section.locator("table.themes tbody tr")
    # Consensus: R_1 both say time; R_2 unsettled, nothing shared; R_3 only bob.
    expect(rows.filter(has_text="Workload")).to_contain_text("33.3%")
    expect(rows.filter(has_text="Lack of time")).to_contain_text("33.3%")

    page.get_by_label("Themes from").select_option(label="bob's coding")
    page.get_by_role("button", name="Apply").click()
    expect(rows.filter(has_text="Workload")).to_contain_text("66.7%")

    page.get_by_label("Subsample").select_option(label="Y")  # R_1, R_3 and R_5 chose Y in Q3
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".subsample-note")).to_contain_text("respondents who answered “Y” to Q3")
    expect(section).to_contain_text("answered by 2 out of 3 respondents in the subsample")
    expect(rows.filter(has_text="Workload")).to_contain_text("50.0%")
    expect(section.locator("figcaption")).to_contain_text("Themes as coded by bob")
    expect(section.locator("img")).to_have_js_property("complete", True)

    with page.expect_download() as download:
        page.get_by_role("link", name="tables (XLSX)").click()
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))["Q4"]
    table = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert sorted(table) == [
        ["Q4", "theme", "Lack of time", None, 1, 50, 2],
        ["Q4", "theme", "Workload", None, 1, 50, 2],
    ]

    with page.expect_download() as download:
        page.get_by_role("link", name="draft (DOCX)").click()
    document = docx.Document(download.value.path())
    text = "\n".join(p.text for p in document.paragraphs)
    assert (
        "4) Question Q4? (Free text response, answered by 2 out of 3 respondents in the "
        "subsample)." in text
    )
    assert "Fifty percent of participants mentioned lack of time" in text
    assert "Subsample: respondents who answered “Y” to Q3" in text
    assert len(document.inline_shapes) == poll.questions.count()  # one figure per question
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "Workload" in cells and "50.0%" in cells
