"""Sessions and the signed-in user, read in plain queries (polls/sessions.py): Django's rules."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.conftest import PASSWORD, login


def _home(client):
    return client.get("/")


def test_a_signed_in_user_is_read_with_every_field_as_the_orm_reads_it(client, bob, project):
    login(client, bob)
    response = _home(client)
    assert response.status_code == 200
    user = response.wsgi_request.user
    assert user.pk == bob.pk and user.username == "bob"
    assert isinstance(user.date_joined, datetime)  # SQLite keeps dates as text


def test_a_session_past_its_expiry_signs_nobody_in(client, bob):
    login(client, bob)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert _home(client).status_code == 302


def test_an_unknown_session_key_signs_nobody_in(client, bob):
    client.cookies["sessionid"] = "x" * 32
    assert _home(client).status_code == 302


def test_a_deactivated_account_is_signed_out(client, bob):
    login(client, bob)
    bob.is_active = False
    bob.save()
    assert _home(client).status_code == 302


def test_a_new_password_ends_the_other_sessions(client, bob):
    login(client, bob)
    bob.set_password(PASSWORD + "-new")
    bob.save()
    assert _home(client).status_code == 302


def test_logging_out_ends_the_session(client, bob):
    login(client, bob)
    key = client.cookies["sessionid"].value
    client.post("/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    client.cookies["sessionid"] = key  # the old cookie, replayed
    assert _home(client).status_code == 302
