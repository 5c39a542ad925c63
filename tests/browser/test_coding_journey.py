"""A coder codes with the keyboard only, creates a theme, quotes, reloads: all kept."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from coding import services
from coding.models import Coding, Event, Mark, Quote
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tests.factories import make_free_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = [
    "Not enough money for the services children need.",
    "Caseloads are so high I never have time to sit with a child.",
    "Budgets cut again, so no advocacy service.",
    "No time: 28 cases and court deadlines.",
    "Foster carers are lovely here.",
    "Funding, funding, funding.",
]


def _select(page, text: str) -> None:
    """Select `text` inside the answer, as a mouse drag would."""
    page.evaluate(
        """(text) => {
            const node = document.getElementById("answer-text").firstChild;
            const start = node.textContent.indexOf(text);
            const range = document.createRange();
            range.setStart(node, start);
            range.setEnd(node, start + text.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
        }""",
        text,
    )


def test_a_coder_codes_five_answers_with_the_keyboard_only(page, poll, bob):
    question = make_free_text(poll, TEXTS)
    log_in(page, "bob", PASSWORD)
    page.goto(f"/questions/{question.pk}/code/")
    chips = page.locator(".chips")
    answer = page.locator("#answer-text")

    page.keyboard.press("/")
    page.keyboard.type("Lack of resources")
    page.keyboard.press("Enter")  # no such theme: created and applied (inductive coding)
    expect(chips).to_contain_text("Lack of resources")

    page.keyboard.press("j")
    expect(answer).to_contain_text("Caseloads are so high")
    page.keyboard.press("/")
    page.keyboard.type("Lack of time")
    page.keyboard.press("Enter")
    expect(chips).to_contain_text("Lack of time")

    page.keyboard.press("j")
    expect(answer).to_contain_text("Budgets cut again")
    page.keyboard.press("/")
    page.keyboard.type("resorces")  # a typo still finds the theme
    expect(page.locator("#search-results")).to_contain_text("Lack of resources")
    page.keyboard.press("Enter")
    expect(chips).to_contain_text("Lack of resources")

    page.keyboard.press("j")
    expect(answer).to_contain_text("No time: 28 cases")
    page.keyboard.press("2")  # the second theme's shortcut
    expect(chips).to_contain_text("Lack of time")

    page.keyboard.press("j")
    expect(answer).to_contain_text("Foster carers are lovely")
    page.keyboard.press("0")  # coded: no theme applies
    expect(chips).to_contain_text("no theme applies")
    expect(page.get_by_text("Coded by me: 5 / 6")).to_be_visible()

    for text in ("No time: 28 cases", "Budgets cut again", "Caseloads are so high"):
        page.keyboard.press("k")
        expect(answer).to_contain_text(text)
    _select(page, "never have time")
    page.keyboard.press("q")
    expect(page.locator("#quote-preview")).to_have_text("never have time")
    page.keyboard.press("Enter")  # focus is on "Save quote"
    expect(page.locator(".quotes")).to_contain_text("never have time")

    page.reload()
    expect(answer).to_contain_text("Caseloads are so high")  # back where the coder was
    expect(chips).to_contain_text("Lack of time")
    expect(page.locator(".quotes")).to_contain_text("never have time")
    expect(page.get_by_text("Coded by me: 5 / 6")).to_be_visible()

    assert Coding.objects.filter(coder=bob).count() == 4
    assert Mark.objects.filter(coder=bob, status="no_theme").count() == 1
    quote = Quote.objects.get()
    assert (quote.start, quote.end) == (TEXTS[1].index("never"), TEXTS[1].index(" to sit"))
    assert [t.name for t in quote.themes.all()] == ["Lack of time"]


def test_a_save_that_fails_says_so_and_can_be_retried(page, poll, bob, project):
    question = make_free_text(poll, TEXTS[:2])
    theme = services.create_theme(project, "Lack of resources", bob)
    log_in(page, "bob", PASSWORD)
    page.goto(f"/questions/{question.pk}/code/")
    failures = []

    def drop_the_first_save(route):
        if not failures:
            failures.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/apply/", drop_the_first_save)
    page.keyboard.press(theme.shortcut)
    state = page.locator("#save-state")
    expect(state).to_contain_text("Not saved")
    assert not Coding.objects.exists()
    state.get_by_role("button", name="Retry").click()
    expect(page.locator(".chips")).to_contain_text("Lack of resources")
    expect(state).to_have_text("Saved")
    assert Coding.objects.filter(coder=bob).count() == 1


def test_a_theme_key_pressed_twice_applies_then_removes(page, poll, bob, project):
    # The first press sends back the chips and that one button, turned on: the
    # second press finds it posting "remove".
    question = make_free_text(poll, TEXTS[:2])
    theme = services.create_theme(project, "Lack of resources", bob)
    log_in(page, "bob", PASSWORD)
    page.goto(f"/questions/{question.pk}/code/")
    button = page.locator(f"#theme-{theme.pk}")
    page.keyboard.press(theme.shortcut)
    expect(page.locator(".chips")).to_contain_text("Lack of resources")
    expect(button).to_have_class("theme on")
    expect(page.locator("#suggestions")).to_be_attached()
    page.keyboard.press(theme.shortcut)
    expect(page.locator(".chips")).to_contain_text("No theme yet.")
    expect(button).to_have_class("theme")
    with page.expect_response(lambda response: response.url.endswith("/remove/")):
        page.keyboard.press(theme.shortcut)
        page.keyboard.press(theme.shortcut)  # sent once the first is on screen
    expect(button).to_have_class("theme")
    assert not Coding.objects.exists()
    actions = list(Event.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["create_theme", "apply", "remove", "apply", "remove"]
