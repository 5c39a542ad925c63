"""A lead uploads an export, fixes a wrongly guessed kind, and reads the bases."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

EXPORT = Path(__file__).resolve().parents[1] / "data" / "browser_qualtrics.csv"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_imports_an_export_and_fixes_a_kind(page, project, alice):
    log_in(page, "alice", PASSWORD)
    page.get_by_role("link", name="Care Review polling").click()
    page.get_by_role("link", name="Import a poll").click()
    page.get_by_label("File").set_input_files(EXPORT)
    page.get_by_label("Title").fill("Schools poll")
    page.get_by_label("Population").fill("Social Workers")
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_text("6 respondents (1 preview, test or spam")).to_be_visible()
    expect(page.get_by_text("Role", exact=True)).to_be_visible()  # taken as an attribute
    kind = page.get_by_label("Kind of Q3")
    expect(kind).to_have_value("scale")  # numeric codes look like a scale…
    kind.select_option("single_choice")  # …but they are the options of a single choice
    options = page.get_by_label("Options of Q3, one per line, in order")
    expect(options).to_have_value("1\n2\n3")  # htmx re-read the column as choices
    page.get_by_role("button", name="Confirm and import").click()

    expect(page.get_by_role("heading", name="Schools poll")).to_be_visible()
    expect(page.get_by_text("Imported 6 respondents and 3 questions")).to_be_visible()
    expect(page.locator("#q-Q1")).to_contain_text("Answered by 5 out of 6 respondents")
    expect(page.locator("#q-Q1")).to_contain_text("Mean 7.0")
    expect(page.locator("#q-Q2")).to_contain_text("Answered by 5 out of 6 respondents")
    expect(page.locator("#q-Q3")).to_contain_text("Single choice")
    expect(page.locator("#q-Q3")).to_contain_text("Answered by 5 out of 6 respondents")
