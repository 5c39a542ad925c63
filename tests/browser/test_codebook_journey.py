"""A lead merges two themes on the codebook page; the queue's chips follow."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from coding import services
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_merges_two_themes_and_the_queue_shows_the_result(page, project, poll, alice):
    question = poll.questions.get(export_id="Q4")
    answer = question.answers.order_by("pk").first()
    money = services.create_theme(project, "Money", alice)
    funding = services.create_theme(project, "Funding", alice)
    services.apply_theme(answer, money, alice)
    log_in(page, "alice", PASSWORD)

    page.goto(f"/questions/{question.pk}/code/?answer={answer.pk}")
    chips = page.locator(".chips")
    expect(chips).to_contain_text("Money")

    page.goto(f"/projects/{project.code}/codebook/")
    row = page.locator(f"#theme-{money.pk}")
    row.get_by_label("Merge Money into").select_option(label="Funding")
    row.get_by_role("button", name="Merge").click()
    expect(page.get_by_text("Merged “Money” into “Funding”.")).to_be_visible()
    expect(page.locator(f"#theme-{money.pk}")).to_contain_text("merged into Funding")

    page.goto(f"/questions/{question.pk}/code/?answer={answer.pk}")
    expect(chips).to_contain_text("Funding")
    expect(chips).not_to_contain_text("Money")
    expect(page.locator(".theme-list")).not_to_contain_text("Money")  # archived: not offered
    assert funding.codings.count() == 1
