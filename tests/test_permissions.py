"""Every URL of the site, for every kind of user: who gets in, who gets 403, who gets 404.

The URLs are read from the URLconf, so a new view without an entry in ACCESS
fails `test_every_url_has_an_expectation` until someone decides who may use it.

Users: anonymous (sent to the login page), vera (viewer), bob (coder),
alice (lead) and charlie (lead of another project, so every object here is
missing for him). "Allowed" means any status that is not 403/404/405 and not a
server error: the data posted is harmless, so a 200, a redirect or a 400 for
an incomplete form all show that the access check let the user through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from coding import assignments, codebook, services
from polls.models import Membership, PendingImport
from tests.conftest import PASSWORD, login
from tests.factories import make_poll

EXPORT = (Path(__file__).resolve().parent / "data" / "browser_qualtrics.csv").read_bytes()
SKIPPED = {"login", "logout"}  # and everything under admin/

ANONYMOUS, VERA, BOB, ALICE, CHARLIE = "anonymous", "vera", "bob", "alice", "charlie"
MEMBERS = (VERA, BOB, ALICE)

# Who among the members may use a view (everyone else of the project gets 403).
ALL = frozenset(MEMBERS)  # any member of the project: readers
CODERS = frozenset({BOB, ALICE})  # polls.access.CODERS
EDITORS = frozenset({ALICE})  # polls.access.EDITORS
# Objects private to one user: other members get 404, not 403 (they cannot see it at all).
UPLOADER = frozenset({ALICE})  # the scene's PendingImport was uploaded by alice
QUOTE_OWNER = frozenset({BOB})  # the scene's quote was made by bob


@dataclass(frozen=True)
class Access:
    method: str
    allowed: frozenset  # members let through; the rest of MEMBERS get `refused`
    kwargs: dict  # URL kwarg → scene key (or a literal for str kwargs)
    data: dict = field(default_factory=dict)  # query or POST data; "@key" names a scene key
    refused: int = 403


def get(allowed, **kwargs) -> Access:
    return Access("get", allowed, kwargs)


def post(allowed, data=None, refused=403, **kwargs) -> Access:
    return Access("post", allowed, kwargs, data or {}, refused)


# Derived from the views' decorators and their polls.access checks.
ACCESS: dict[str, Access] = {
    # polls
    "home": get(ALL),
    "project-detail": get(ALL, code="project"),
    "import-upload": get(EDITORS, code="project"),
    "import-preview": Access("get", UPLOADER, {"code": "pending"}, refused=404),
    "import-confirm": post(UPLOADER, refused=404, code="pending"),
    "import-cancel": post(UPLOADER, refused=404, code="pending"),
    "poll-detail": get(ALL, code="poll"),
    # the coding workbench
    "queue": get(ALL, question="question"),
    "queue-progress": Access("get", ALL, {"question": "question"}, {"answer": "@answer"}),
    "undo": post(CODERS, question="question"),
    "theme-create": post(CODERS, question="question"),  # no name: back to the queue
    "theme-search": get(ALL, question="question"),
    "grid": get(ALL, question="question"),
    "bulk-apply": post(CODERS, {"theme": "@theme"}, question="question"),  # no answers ticked
    "rules": get(ALL, question="question"),
    "duplicates": get(ALL, question="question"),
    "apply": post(CODERS, answer="answer", theme="theme"),
    "remove": post(CODERS, answer="answer", theme="theme"),
    "no-theme": post(CODERS, answer="answer"),
    "flag": post(CODERS, answer="answer"),  # no flag: 400
    "memo": post(CODERS, answer="answer"),
    "quote-save": post(CODERS, answer="answer"),  # no start/end: 400
    "suggestions": get(ALL, answer="answer"),
    "similar": get(ALL, answer="answer"),
    "quote-delete": post(QUOTE_OWNER, refused=404, code="quote"),
    # the codebook
    "codebook": get(ALL, code="project"),
    "theme-add": post(EDITORS, code="project"),  # no name: an error message
    "theme-edit": get(EDITORS, pk="theme"),
    "theme-archive": post(EDITORS, {"archived": "0"}, pk="theme"),
    "theme-merge": post(EDITORS, {"into": "@theme"}, pk="theme"),  # into itself: refused politely
    "theme-history": get(EDITORS, pk="theme"),
    "merge-undo": post(EDITORS, pk="merge"),
    "answer-history": get(EDITORS, pk="answer"),
    "codebook-csv": get(ALL, code="project"),
    "codebook-qdc": get(ALL, code="project"),
    "project-qdpx": get(ALL, code="project"),  # bob: a redirect while the blind round lasts
    "codebook-import": post(EDITORS, code="project"),  # no file: an error message
    # members
    "audit": get(EDITORS, code="project"),
    "members": get(ALL, code="project"),
    "member-add": post(EDITORS, code="project"),  # empty form: 400
    "member-role": post(EDITORS, {"role": "coder"}, pk="membership"),
    "member-remove": post(EDITORS, pk="membership"),
    # rounds and agreement
    "rounds": get(EDITORS, question="question"),
    "round-reveal": post(EDITORS, pk="round"),
    "round-withdraw": post(EDITORS, pk="round"),
    "agreement": get(EDITORS, question="question"),
    "disagreements": get(EDITORS, question="question"),
    "settle": post(EDITORS, answer="answer"),  # no choice: 400
    "unsettle": post(EDITORS, answer="answer"),
    # reports
    "report": get(ALL, code="poll"),
    "report-download": get(ALL, code="poll", name="report.xlsx"),
    "chart": get(ALL, question="question", fmt="svg"),
    "report-settings": post(EDITORS, question="question"),
    "report-answers": get(ALL, question="question"),
}

STRINGS = {"name", "fmt"}  # kwargs given literally, not from the scene
GET_AND_POST = {"import-upload", "import-preview", "theme-edit", "rounds"}  # the rest take one


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin" or entry.app_name == "admin":
                continue
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def resolved() -> dict[str, URLPattern]:
    return {p.name: p for route, p in _walk(get_resolver().url_patterns) if p.name not in SKIPPED}


def test_every_url_has_an_expectation():
    unnamed = [route for route, p in _walk(get_resolver().url_patterns) if p.name is None]
    assert unnamed == [], "name every URL so that this table can list it"
    patterns = resolved()
    assert set(ACCESS) == set(patterns)
    for name, pattern in patterns.items():
        assert set(ACCESS[name].kwargs) == set(pattern.pattern.converters), name


# The scene ----------------------------------------------------------------------


def build_scene(project, lead, coder, quoter=None, uploader=None) -> dict:
    """One object of every kind a URL names, in `project`; keys as in ACCESS kwargs."""
    poll = make_poll(project, respondents=3)
    question = poll.questions.get(export_id="Q4")
    answer = question.answers.order_by("pk").first()
    theme = services.create_theme(project, "Time", lead)
    source = services.create_theme(project, "Workload", lead)
    merge = codebook.merge(source, theme, lead)
    quote = services.save_quote(answer, quoter or coder, 0, 3, [theme])
    round_ = assignments.create_round(question, [coder, lead], 0, 1, True, lead)
    pending = PendingImport.objects.create(
        project=project,
        created_by=uploader or lead,
        filename="export.csv",
        data=EXPORT,
        options={"title": "Uploaded poll", "format": "auto", "population": "Social Workers"},
    )
    return {
        "project": project.code,
        "poll": poll.code,
        "pending": pending.code,
        "question": question.pk,
        "answer": answer.pk,
        "theme": theme.pk,
        "quote": quote.code,
        "merge": merge.pk,
        "membership": Membership.objects.get(project=project, user=coder).pk,
        "round": round_.pk,
    }


@pytest.fixture
def scene(project, alice, bob, vera, charlie) -> dict:
    return build_scene(project, alice, bob)


def _url(name: str, scene: dict) -> str:
    access = ACCESS[name]
    kwargs = {k: v if k in STRINGS else scene[v] for k, v in access.kwargs.items()}
    return reverse(name, kwargs=kwargs)


def _data(access: Access, scene: dict) -> dict:
    return {k: scene[v[1:]] if str(v).startswith("@") else v for k, v in access.data.items()}


def _request(client, name: str, scene: dict):
    access = ACCESS[name]
    if access.method == "get":
        return client.get(_url(name, scene), _data(access, scene))
    return client.post(_url(name, scene), _data(access, scene))


# Who gets what -------------------------------------------------------------------


def _expected(name: str, user: str) -> str:
    """'allowed', 'login' or the status code refused with."""
    access = ACCESS[name]
    if user == ANONYMOUS:
        return "login"
    if name == "home":
        return "allowed"  # every logged-in user has a home page, outsiders too
    if user == CHARLIE:
        return "404"
    return "allowed" if user in access.allowed else str(access.refused)


CASES = [
    pytest.param(name, user, id=f"{name}-{user}-{_expected(name, user)}")
    for name in ACCESS
    for user in (ANONYMOUS, VERA, BOB, ALICE, CHARLIE)
]


@pytest.mark.parametrize(("name", "user"), CASES)
def test_access(client, scene, request, name, user):
    if user != ANONYMOUS:
        login(client, request.getfixturevalue(user))
    url = _url(name, scene)
    response = _request(client, name, scene)
    expected = _expected(name, user)
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(f"/login/?next={url}")
    elif expected == "allowed":
        assert response.status_code not in (403, 404, 405), response.status_code
        assert response.status_code < 500
    else:
        assert response.status_code == int(expected)


@pytest.mark.parametrize("name", [name for name in ACCESS if name not in GET_AND_POST])
def test_other_methods_are_refused(client, scene, alice, name):
    """GET-only views refuse a POST and POST-only views a GET (with 405), even for a lead."""
    access = ACCESS[name]
    login(client, alice)
    url = _url(name, scene)
    response = client.post(url) if access.method == "get" else client.get(url)
    assert response.status_code == 405


# Ids of another project -----------------------------------------------------------


@pytest.fixture
def elsewhere(charlie, alice) -> dict:
    """The same scene in charlie's project. Its quote and upload are alice's own (as if she
    had once been a member there), so that only the project check can keep her out."""
    other = charlie.memberships.get().project
    bystander = Membership.objects.create(
        project=other, user=_user("dora"), role=Membership.Role.CODER
    ).user
    return build_scene(other, charlie, bystander, quoter=alice, uploader=alice)


def _user(username):
    return get_user_model().objects.create_user(username, password=PASSWORD)


SWAPS = [
    pytest.param(name, kwarg, id=f"{name}-{kwarg}")
    for name, access in ACCESS.items()
    for kwarg in access.kwargs
    if kwarg not in STRINGS
]


@pytest.mark.parametrize(("name", "kwarg"), SWAPS)
def test_an_id_of_another_project_is_missing(client, scene, elsewhere, alice, name, kwarg):
    """Alice leads this project; one kwarg swapped for charlie's project's object is a 404."""
    access = ACCESS[name]
    key = access.kwargs[kwarg]
    mixed = {**scene, key: elsewhere[key]}
    login(client, alice)
    response = _request(client, name, mixed)
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["theme-merge", "bulk-apply"])
def test_a_posted_theme_of_another_project_is_missing(client, scene, elsewhere, alice, name):
    access = ACCESS[name]
    login(client, alice)
    url = _url(name, scene)
    posted = _data(access, {**scene, "theme": elsewhere["theme"]})
    assert client.post(url, posted).status_code == 404
