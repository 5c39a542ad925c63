"""Production settings pass Django's deployment checks; logins are rate limited."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_production_settings_pass_the_deployment_checks():
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE is for them, not for a deployment.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "verbatim.example.org",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": ""}
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in done.stderr


def _log_in(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_five_failures_pause_that_account_from_that_address(client, bob, settings):
    for _ in range(settings.LOGIN_ATTEMPTS):
        assert _log_in(client, "bob", "wrong").status_code == 200
    response = _log_in(client, "bob", PASSWORD)  # even the right password waits
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_pause_is_per_account(client, bob, vera, settings):
    for _ in range(settings.LOGIN_ATTEMPTS):
        _log_in(client, "bob", "wrong")
    assert _log_in(client, "vera", PASSWORD).status_code == 302


def test_a_success_clears_the_failures(client, bob, settings):
    for _ in range(settings.LOGIN_ATTEMPTS - 1):
        _log_in(client, "bob", "wrong")
    assert _log_in(client, "bob", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.LOGIN_ATTEMPTS - 1):
        _log_in(client, "bob", "wrong")
    assert _log_in(client, "bob", PASSWORD).status_code == 302


def test_weak_passwords_are_refused_by_the_validators():
    for weak in ("12345678", "password", "short"):
        with pytest.raises(ValidationError):
            validate_password(weak)


@pytest.mark.django_db
def test_postgresql_commits_do_not_wait_for_the_disk():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (the suite's second run)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"
