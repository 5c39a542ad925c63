"""The members page: everyone sees the team, leads add people, change roles and remove them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from coding.models import Event
from polls.models import Membership
from tests.conftest import login

User = get_user_model()


@pytest.fixture
def team(alice, bob, vera):
    """The project's three members."""
    return {"alice": alice, "bob": bob, "vera": vera}


def _page(project):
    return f"/projects/{project.code}/members/"


def _add(client, project, **data):
    return client.post(f"/projects/{project.code}/members/add/", data)


def _membership(project, user) -> Membership:
    return Membership.objects.get(project=project, user=user)


def _role(client, membership, role):
    return client.post(f"/memberships/{membership.pk}/role/", {"role": role}, follow=True)


def _remove(client, membership, **kwargs):
    return client.post(f"/memberships/{membership.pk}/remove/", **kwargs)


def _snapshot(project):
    return sorted(project.memberships.values_list("user__username", "role"))


def _member_events(project):
    return list(Event.objects.filter(project=project, action=Event.Action.MEMBER).order_by("pk"))


# Seeing the team ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "bob", "vera"])
def test_every_member_sees_the_team(client, project, team, who):
    response = login(client, team[who]).get(_page(project))
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("alice", "bob", "vera"):
        assert f'id="member-{_membership(project, team[name]).pk}"' in html
    assert "(you)" in html


def test_only_a_lead_gets_the_forms(client, project, team):
    lead = login(client, team["alice"]).get(_page(project)).content.decode()
    assert "Add a member" in lead and "/role/" in lead and "/remove/" in lead
    coder = login(client, team["bob"]).get(_page(project)).content.decode()
    assert "Add a member" not in coder and "/role/" not in coder and "/remove/" not in coder
    assert '<span class="badge">Lead</span>' in coder


def test_anonymous_visitors_are_sent_to_log_in(client, project, team):
    response = client.get(_page(project))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# Who may change it ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "vera"])
def test_coders_and_viewers_cannot_change_the_team(client, project, team, who):
    before = _snapshot(project)
    login(client, team[who])
    target = _membership(project, team["bob"])
    assert (
        _add(client, project, username="newbie", role="coder", password="x9!Kq2#pLm").status_code
        == 403
    )
    assert client.post(f"/memberships/{target.pk}/role/", {"role": "lead"}).status_code == 403
    assert _remove(client, target).status_code == 403
    assert _snapshot(project) == before
    assert not User.objects.filter(username="newbie").exists()
    assert not _member_events(project)


def test_an_outsider_gets_404_everywhere(client, project, team, charlie):
    before = _snapshot(project)
    login(client, charlie)
    target = _membership(project, team["bob"])
    assert client.get(_page(project)).status_code == 404
    assert _add(client, project, username="charlie", role="lead").status_code == 404
    assert client.post(f"/memberships/{target.pk}/role/", {"role": "viewer"}).status_code == 404
    assert _remove(client, target).status_code == 404
    assert _remove(client, _membership(project, team["alice"])).status_code == 404
    assert _snapshot(project) == before
    assert not _member_events(project)


def test_changes_need_a_post(client, project, team):
    login(client, team["alice"])
    target = _membership(project, team["bob"])
    assert client.get(f"/projects/{project.code}/members/add/").status_code == 405
    assert client.get(f"/memberships/{target.pk}/role/").status_code == 405
    assert client.get(f"/memberships/{target.pk}/remove/").status_code == 405


def test_an_unknown_membership_is_404(client, project, team):
    login(client, team["alice"])
    assert client.post("/memberships/999999/role/", {"role": "lead"}).status_code == 404
    assert client.post("/memberships/999999/remove/").status_code == 404


# Adding ----------------------------------------------------------------------------


def test_a_lead_adds_an_existing_account(client, project, team, charlie):
    response = _add(login(client, team["alice"]), project, username="charlie", role="viewer")
    assert response.status_code == 302
    assert response["Location"] == _page(project)
    assert _membership(project, charlie).role == "viewer"
    # charlie's own project is untouched, and his password stays what it was
    assert charlie.memberships.count() == 2
    charlie.refresh_from_db()
    assert charlie.check_password("correct-horse-battery")
    event = _member_events(project)[-1]
    assert event.user == team["alice"]
    assert event.before == {}
    assert event.after == {"user": "charlie", "role": "viewer"}
    html = client.get(_page(project)).content.decode()
    assert "charlie joined Care Review polling as viewer." in html


def test_a_new_member_sees_the_project_at_home(client, project, team):
    User.objects.create_user("dora")
    _add(login(client, team["alice"]), project, username="dora", role="coder")
    dora = User.objects.get(username="dora")
    home = login(client, dora).get("/").content.decode()
    assert "Care Review polling" in home
    assert client.get(f"/projects/{project.code}/").status_code == 200
    assert client.get(_page(project)).status_code == 200


def test_a_new_account_is_created_with_its_password(client, project, team):
    response = _add(
        login(client, team["alice"]), project, username="  erin ", role="coder",
        password="Maple-Tundra-42",
    )  # fmt: skip
    assert response.status_code == 302
    erin = User.objects.get(username="erin")
    assert erin.check_password("Maple-Tundra-42")
    assert _membership(project, erin).role == "coder"
    assert _member_events(project)[-1].after == {"user": "erin", "role": "coder"}
    assert client.login(username="erin", password="Maple-Tundra-42")


def test_a_new_account_needs_a_password(client, project, team):
    response = _add(login(client, team["alice"]), project, username="frank", role="coder")
    assert response.status_code == 400
    assert "There is no account" in response.content.decode()
    assert not User.objects.filter(username="frank").exists()
    assert not _member_events(project)


@pytest.mark.parametrize(
    "password",
    ["123", "password", "12345678901", "frankfrank1"],
    ids=["short-numeric", "common", "numeric", "like-the-username"],
)
def test_a_weak_password_is_refused(client, project, team, password):
    before = _snapshot(project)
    response = _add(
        login(client, team["alice"]), project, username="frankfrank", role="coder",
        password=password,
    )  # fmt: skip
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not User.objects.filter(username="frankfrank").exists()
    assert _snapshot(project) == before
    assert not _member_events(project)


def test_a_new_accounts_username_follows_the_account_rules(client, project, team):
    response = _add(
        login(client, team["alice"]),
        project,
        username="john smith <b>",
        role="coder",
        password="Maple-Tundra-42",
    )
    assert response.status_code == 400
    assert not User.objects.filter(username="john smith <b>").exists()


def test_someone_already_a_member_is_refused(client, project, team):
    before = _snapshot(project)
    response = _add(login(client, team["alice"]), project, username="bob", role="lead")
    assert response.status_code == 400
    assert "bob is already a member of Care Review polling." in response.content.decode()
    assert _snapshot(project) == before
    assert not _member_events(project)


@pytest.mark.parametrize("role", ["owner", ""])
def test_an_unknown_role_is_refused(client, project, team, role):
    response = _add(
        login(client, team["alice"]),
        project,
        username="gail",
        role=role,
        password="Maple-Tundra-42",
    )
    assert response.status_code == 400
    assert not User.objects.filter(username="gail").exists()


# Changing roles ---------------------------------------------------------------------


def test_a_lead_changes_a_role(client, project, team):
    bob = _membership(project, team["bob"])
    response = _role(login(client, team["alice"]), bob, "lead")
    assert response.redirect_chain[-1][0] == _page(project)
    bob.refresh_from_db()
    assert bob.role == "lead"
    event = _member_events(project)[-1]
    assert event.user == team["alice"]
    assert event.before == {"user": "bob", "role": "coder"}
    assert event.after == {"user": "bob", "role": "lead"}


def test_setting_the_same_role_logs_nothing(client, project, team):
    _role(login(client, team["alice"]), _membership(project, team["bob"]), "coder")
    assert not _member_events(project)


def test_an_unknown_role_changes_nothing(client, project, team):
    before = _snapshot(project)
    response = _role(login(client, team["alice"]), _membership(project, team["bob"]), "owner")
    assert "&#x27;owner&#x27; is not a role." in response.content.decode()
    assert _snapshot(project) == before
    assert not _member_events(project)


def test_the_last_lead_cannot_step_down(client, project, team):
    before = _snapshot(project)
    response = _role(login(client, team["alice"]), _membership(project, team["alice"]), "coder")
    assert response.status_code == 200
    assert "A project needs at least one lead" in response.content.decode()
    assert _snapshot(project) == before
    assert not _member_events(project)


def test_a_lead_steps_down_once_another_lead_exists(client, project, team):
    login(client, team["alice"])
    _role(client, _membership(project, team["bob"]), "lead")
    _role(client, _membership(project, team["alice"]), "viewer")
    assert _membership(project, team["alice"]).role == "viewer"
    assert _membership(project, team["bob"]).role == "lead"
    # alice is no longer a lead: the team is out of her hands
    assert _role(client, _membership(project, team["bob"]), "coder").status_code == 403
    assert len(_member_events(project)) == 2


# Removing -------------------------------------------------------------------------


def test_a_lead_removes_a_member_who_then_loses_access(client, project, team, poll):
    bob = _membership(project, team["bob"])
    response = _remove(login(client, team["alice"]), bob, follow=True)
    assert response.redirect_chain[-1][0] == _page(project)
    assert "bob left Care Review polling." in response.content.decode()
    assert not project.memberships.filter(user=team["bob"]).exists()
    event = _member_events(project)[-1]
    assert event.before == {"user": "bob", "role": "coder"}
    assert event.after == {}
    login(client, team["bob"])
    assert "Care Review polling" not in client.get("/").content.decode()
    assert client.get(f"/projects/{project.code}/").status_code == 404
    assert client.get(_page(project)).status_code == 404
    q4 = poll.questions.get(export_id="Q4")
    assert client.get(f"/questions/{q4.pk}/code/").status_code == 404


def test_the_last_lead_cannot_be_removed(client, project, team):
    before = _snapshot(project)
    response = _remove(
        login(client, team["alice"]), _membership(project, team["alice"]), follow=True
    )
    assert "A project needs at least one lead" in response.content.decode()
    assert _snapshot(project) == before
    assert not _member_events(project)


def test_a_lead_who_leaves_goes_home(client, project, team):
    login(client, team["alice"])
    _role(client, _membership(project, team["vera"]), "lead")
    response = _remove(client, _membership(project, team["alice"]))
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get(_page(project)).status_code == 404
    assert _snapshot(project) == [("bob", "coder"), ("vera", "lead")]


def test_every_change_is_on_the_record(client, project, team):
    login(client, team["alice"])
    User.objects.create_user("hana")
    _add(client, project, username="hana", role="viewer")
    hana = _membership(project, User.objects.get(username="hana"))
    _role(client, hana, "coder")
    _remove(client, hana)
    events = _member_events(project)
    assert [(e.before, e.after) for e in events] == [
        ({}, {"user": "hana", "role": "viewer"}),
        ({"user": "hana", "role": "viewer"}, {"user": "hana", "role": "coder"}),
        ({"user": "hana", "role": "coder"}, {}),
    ]
    assert {e.user for e in events} == {team["alice"]}
    assert all(e.answer_id is None and e.question_id is None for e in events)
