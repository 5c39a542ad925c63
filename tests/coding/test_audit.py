"""Leads read who changed what and when, filter it and download it."""

from __future__ import annotations

import csv
import io

import pytest

from coding import adjudication, assignments, members, services
from coding.models import Event
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _listed(client, url) -> str:
    """The table's rows only (the filter's options name every action too)."""
    html = client.get(url).content.decode()
    return html[html.index("<tbody>") : html.index("</tbody>")]


@pytest.fixture
def history(poll, project, alice, bob):
    q4 = poll.questions.get(export_id="Q4")
    answer = q4.answers.order_by("pk").first()
    theme = services.create_theme(project, "Time", alice)
    services.apply_theme(answer, theme, bob)
    services.save_quote(answer, bob, 0, 4, [theme])
    assignments.create_round(q4, [alice, bob], 0, 7, True, alice)
    adjudication.settle(answer, alice, "union", [theme], "both right")
    members.add_member(project, alice, "dana", "viewer", "Maple-Tundra-42")
    return theme


def test_every_kind_of_change_is_listed_with_who_and_when(client, project, alice, history):
    html = _listed(login(client, alice), f"/projects/{project.code}/audit/")
    for action in (
        "Created a theme", "Applied a theme", "Saved a quote", "Assigned answers",
        "Settled a disagreement", "Changed a membership",
    ):  # fmt: skip
        assert action in html


def test_filters_by_person_and_action(client, project, alice, history):
    login(client, alice)
    html = _listed(client, f"/projects/{project.code}/audit/?user=bob")
    assert "Applied a theme" in html and "Assigned answers" not in html
    html = _listed(client, f"/projects/{project.code}/audit/?action=settle")
    assert "Settled a disagreement" in html and "Applied a theme" not in html


def test_the_csv_has_every_event(client, project, alice, history):
    response = login(client, alice).get(f"/projects/{project.code}/audit/?format=csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {r["action"] for r in rows} >= {"Applied a theme", "Settled a disagreement"}
    applied = next(r for r in rows if r["action"] == "Applied a theme")
    assert (applied["who"], applied["question"], applied["answer"], applied["theme"]) == (
        "bob", "Q4", "R_1", "Time",
    )  # fmt: skip


def test_a_date_range_that_excludes_everything(client, project, alice, history):
    url = f"/projects/{project.code}/audit/?since=2001-01-01&until=2001-12-31"
    assert "No changes match" in login(client, alice).get(url).content.decode()


def test_only_leads_read_it(client, project, bob, vera, charlie):
    for user, status in ((bob, 403), (vera, 403), (charlie, 404)):
        assert login(client, user).get(f"/projects/{project.code}/audit/").status_code == status


def test_long_trails_are_paged_keeping_the_filters(client, project, alice):
    Event.objects.bulk_create(
        Event(project=project, user=alice, action=Event.Action.MEMBER) for _ in range(120)
    )
    login(client, alice)
    html = client.get(f"/projects/{project.code}/audit/?action=member").content.decode()
    assert "Page 1 of 2" in html and 'href="?action=member&amp;page=2"' in html
    html = client.get(f"/projects/{project.code}/audit/?action=member&page=2").content.decode()
    assert "Page 2 of 2" in html and html.count("Changed a membership</td>") == 20
