"""Script payloads in answers, themes and quotes never run in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from coding import services
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tests.factories import make_free_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYLOADS = [
    "<script>window.pwned = 'script'</script>",
    "<img src=x onerror=\"window.pwned = 'img'\">",
    "<svg onload=\"window.pwned = 'svg'\"></svg>",
    '"><script>window.pwned = "attribute"</script>',
]


def test_no_payload_runs_on_the_workbench_grid_report_or_disagreements(
    page, poll, project, alice, bob
):
    question = make_free_text(poll, PAYLOADS)
    theme = services.create_theme(project, "<img src=x onerror=\"window.pwned='theme'\">", alice)
    for answer in question.answers.all():
        services.apply_theme(answer, theme, bob)
        services.save_quote(answer, bob, 0, 10, [theme])
    log_in(page, "alice", PASSWORD)
    for url in (
        f"/questions/{question.pk}/code/",
        f"/questions/{question.pk}/grid/",
        f"/polls/{poll.code}/report/",
        f"/projects/{project.code}/codebook/",
        f"/questions/{question.pk}/report-answers/?theme={theme.pk}",
    ):
        page.goto(url)
        expect(page.locator("body")).to_contain_text("window.pwned")  # shown as text
        page.wait_for_timeout(100)  # an onerror would have fired by now
        assert page.evaluate("window.pwned") is None, url
