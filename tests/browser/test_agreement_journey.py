"""A lead deals a 20% overlap to two coders, they code blind, the lead reads the
agreement and settles three disagreements into the consensus."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from coding import services
from coding.models import Adjudication, Assignment
from coding.reports import Source
from polls.models import Membership
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tests.factories import make_free_text, make_poll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code(page, question, answer, key: str, theme: str) -> None:
    page.goto(f"/questions/{question.pk}/code/?answer={answer.pk}")
    expect(page.locator("#answer-text")).to_have_text(answer.text)
    page.keyboard.press(key)
    expect(page.locator(".chips")).to_contain_text(theme)


def test_blind_double_coding_agreement_and_adjudication(browser, live_server, project, alice):
    carol = get_user_model().objects.create_user("carol", password=PASSWORD)
    Membership.objects.create(project=project, user=carol, role=Membership.Role.CODER)
    bob = get_user_model().objects.create_user("bob", password=PASSWORD)
    Membership.objects.create(project=project, user=bob, role=Membership.Role.CODER)
    poll = make_poll(project, respondents=30)
    question = make_free_text(poll, [f"Answer number {i}: resources or time?" for i in range(30)])
    resources = services.create_theme(project, "Lack of resources", alice)
    time = services.create_theme(project, "Lack of time", alice)

    def new_page(username):
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        log_in(page, username, PASSWORD)
        return page, errors

    lead, lead_errors = new_page("alice")
    lead.goto(f"/questions/{question.pk}/rounds/")
    lead.get_by_label("bob").check()
    lead.get_by_label("carol").check()
    lead.get_by_label("Overlap sample (% of the answers)").fill("20")
    expect(lead.get_by_label("Blind", exact=False)).to_be_checked()
    lead.get_by_role("button", name="Deal the answers").click()
    expect(lead.locator(".messages")).to_contain_text("30 answers dealt to bob, carol; 6 of them")
    overlap = sorted(
        {a.answer for a in Assignment.objects.filter(overlap=True).select_related("answer")},
        key=lambda a: a.pk,
    )
    assert len(overlap) == 6
    assert Assignment.objects.filter(coder=bob).count() == 18  # 6 shared + 12 alone

    # Both code the overlap answers blind: the same theme on three, different on three.
    coders = {name: new_page(name) for name in ("bob", "carol")}
    for i, answer in enumerate(overlap):
        bob_theme, carol_theme = (resources, resources) if i % 2 else (resources, time)
        for name, theme in (("bob", bob_theme), ("carol", carol_theme)):
            page = coders[name][0]
            _code(page, question, answer, theme.shortcut, theme.name)
            expect(page.locator(".blind-note")).to_be_visible()
            expect(page.locator(".others")).to_have_count(0)  # never the other's codings
    carol_page = coders["carol"][0]
    expect(carol_page.get_by_text("Dealt to me: 6 / 18")).to_be_visible()

    lead.goto(f"/questions/{question.pk}/agreement/")
    expect(lead.locator(".summary")).to_contain_text("6 answers coded by at least two of bob")
    expect(lead.locator(".convention")).to_contain_text("Krippendorff (2004)")
    rows = lead.locator("table.agreement tbody tr")
    expect(rows.filter(has_text="Lack of resources")).to_contain_text("50.0%")
    expect(lead.get_by_text("3 disagreements")).to_be_visible()

    lead.get_by_role("link", name="Disagreements").first.click()
    progress = lead.locator("#settle-progress")
    expect(progress).to_contain_text("0 of 3 settled")
    disagreements = [a for i, a in enumerate(overlap) if i % 2 == 0]
    choices = [("Take bob's", None), ("Union", None), ("Edit", "Lack of time")]
    for settled, (answer, (choice, keep)) in enumerate(
        zip(disagreements, choices, strict=True), start=1
    ):
        row = lead.locator(f"#disagreement-{answer.pk}")
        row.get_by_label(choice).check()
        if keep:
            row.get_by_label("Lack of resources").uncheck()
        row.get_by_label("Note").fill(f"settled {settled}")
        row.get_by_role("button", name="Settle").click()
        expect(lead.locator(f"#disagreement-{answer.pk}")).to_contain_text(f"settled {settled}")
        expect(progress).to_contain_text(f"{settled} of 3 settled")

    themes = {
        a.answer_id: sorted(t.name for t in a.themes.all()) for a in Adjudication.objects.all()
    }
    assert themes == {
        disagreements[0].pk: ["Lack of resources"],
        disagreements[1].pk: ["Lack of resources", "Lack of time"],
        disagreements[2].pk: ["Lack of time"],
    }
    consensus = Source().theme_counts(question)
    assert (consensus[resources.pk], consensus[time.pk]) == (5, 2)

    # The lead reveals the round: now carol sees what bob did.
    lead.goto(f"/questions/{question.pk}/rounds/")
    lead.get_by_role("button", name="Reveal").click()
    carol_page.goto(f"/questions/{question.pk}/code/?answer={overlap[0].pk}")
    expect(carol_page.locator(".others")).to_contain_text("bob: Lack of resources")
    for page, errors in [(lead, lead_errors), *coders.values()]:
        assert not errors, errors
        page.context.close()
