"""A bounded load test: coders at once over real HTTP on 127.0.0.1, and a merge mid-way.

Each simulated coder logs in and works through the same answers in their own
order: apply a theme, apply a second, apply the second again (a double
click), remove it, and on every fifth answer apply the theme the lead merges
away while they work. A fixed number of requests, then it stops and checks
that every coding each coder meant to make is in the database exactly once,
that none was lost, and that none points at the merged-away theme.
"""

from __future__ import annotations

import random
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from django.contrib.auth import get_user_model

from coding import services
from coding.models import Coding, Theme
from polls.models import Membership
from tests.conftest import PASSWORD
from tests.factories import make_free_text, make_poll

pytestmark = pytest.mark.django_db(transaction=True)

CODERS = 6
ANSWERS = 20


class Browser:
    """A logged-in session speaking HTTP, as a coder's browser does (cookies, CSRF)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.errors: list[str] = []
        self.requests = 0

    def _token(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path: str) -> None:
        self._send(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict | None = None) -> None:
        body = urllib.parse.urlencode({**(data or {}), "csrfmiddlewaretoken": self._token()})
        headers = {"X-CSRFToken": self._token(), "HX-Request": "true"}
        self._send(urllib.request.Request(self.base + path, body.encode(), headers))

    def _send(self, request) -> None:
        self.requests += 1
        try:
            with self.opener.open(request, timeout=60) as response:
                response.read()
        except urllib.error.HTTPError as e:
            self.errors.append(f"{request.full_url}: {e.code}")

    def log_in(self, username: str) -> None:
        self.get("/login/")
        self.post("/login/", {"username": username, "password": PASSWORD})


def _coder_script(browser, answers, themes, merged, seed) -> set[tuple[int, int]]:
    """Do the coder's work; return the (answer, theme) codings they mean to leave."""
    rng = random.Random(seed)
    order = list(enumerate(answers))
    rng.shuffle(order)
    intended = set()
    for i, answer in order:
        first, second = themes[i % len(themes)], themes[(i + 1) % len(themes)]
        browser.post(f"/answers/{answer.pk}/themes/{first.pk}/apply/")
        browser.post(f"/answers/{answer.pk}/themes/{second.pk}/apply/")
        browser.post(f"/answers/{answer.pk}/themes/{second.pk}/apply/")  # a double click
        browser.post(f"/answers/{answer.pk}/themes/{second.pk}/remove/")
        intended.add((answer.pk, first.pk))
        if i % 5 == 0:  # the theme the lead merges into themes[0] meanwhile
            browser.post(f"/answers/{answer.pk}/themes/{merged.pk}/apply/")
            intended.add((answer.pk, themes[0].pk))
    return intended


def test_many_coders_and_a_merge_lose_and_duplicate_nothing(live_server, project, alice):
    poll = make_poll(project, respondents=ANSWERS)
    question = make_free_text(poll, [f"Answer {i}" for i in range(ANSWERS)])
    answers = list(question.answers.order_by("pk"))
    themes = [services.create_theme(project, f"Theme {i}", alice) for i in range(4)]
    merged = services.create_theme(project, "Merged away", alice)
    coders = []
    for i in range(CODERS):
        user = get_user_model().objects.create_user(f"coder{i}", password=PASSWORD)
        Membership.objects.create(project=project, user=user, role=Membership.Role.CODER)
        coders.append(user)

    browsers = [Browser(live_server.url) for _ in coders]
    for browser, user in zip(browsers, coders, strict=True):
        browser.log_in(user.username)
    lead = Browser(live_server.url)
    lead.log_in("alice")

    intended: dict[int, set] = {}
    started = time.monotonic()

    def work(n: int) -> None:
        intended[n] = _coder_script(browsers[n], answers, themes, merged, seed=n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(CODERS)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the coders are under way
    lead.post(f"/themes/{merged.pk}/merge/", {"into": themes[0].pk})
    for thread in threads:
        thread.join(timeout=300)
    elapsed = time.monotonic() - started

    requests = sum(b.requests for b in browsers) + lead.requests
    errors = [e for b in [*browsers, lead] for e in b.errors]
    print(
        f"\nload test: {CODERS} coders, {requests} requests in {elapsed:.1f} s "
        f"({requests / elapsed:.0f}/s), {len(errors)} errors"
    )
    assert not errors
    assert Theme.objects.get(pk=merged.pk).merged_into_id == themes[0].pk
    lost = 0
    for n, user in enumerate(coders):
        saved = set(Coding.objects.filter(coder=user).values_list("answer", "theme"))
        lost += len(intended[n] - saved)
        assert saved == intended[n], user.username
    assert lost == 0
    assert not Coding.objects.filter(theme=merged).exists()
    total = sum(len(s) for s in intended.values())
    assert Coding.objects.count() == total  # exactly once each
