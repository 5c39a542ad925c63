"""`backup` writes a consistent copy of the live database and `restore` puts it back."""

from __future__ import annotations

import io
import sqlite3

import pytest
from django.core.management import CommandError, call_command

from polls.models import Project
from tests.factories import make_poll

pytestmark = pytest.mark.django_db(transaction=True)


def _call(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_round_trip_brings_back_what_was_backed_up(tmp_path):
    kept = Project.objects.create(name="Kept")
    make_poll(kept)
    backup = tmp_path / "verbatim.sqlite3"
    assert "Backed up the database" in _call("backup", "--out", str(backup))
    Project.objects.create(name="Made after the backup")
    kept.delete()
    _call("restore", str(backup), "--yes")
    assert list(Project.objects.values_list("name", flat=True)) == ["Kept"]
    assert Project.objects.get().polls.get().respondents.count() == 10


def test_backup_never_overwrites_a_file(tmp_path):
    existing = tmp_path / "old.sqlite3"
    existing.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="exists; choose a new file"):
        _call("backup", "--out", str(existing))
    assert existing.read_bytes() == b"keep me"


def test_restore_asks_for_confirmation(tmp_path):
    Project.objects.create(name="Still here")
    with pytest.raises(CommandError, match="add --yes"):
        _call("restore", str(tmp_path / "any.sqlite3"))
    assert Project.objects.filter(name="Still here").exists()


@pytest.mark.parametrize("content", [b"not a database at all, just text" * 10, None])
def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(tmp_path, content):
    Project.objects.create(name="Still here")
    wrong = tmp_path / "wrong.sqlite3"
    if content is None:  # a SQLite database, but not Verbatim's
        with sqlite3.connect(wrong) as db:
            db.execute("create table other (x)")
        db.close()
    else:
        wrong.write_bytes(content)
    with pytest.raises(CommandError, match="not a Verbatim backup"):
        _call("restore", str(wrong), "--yes")
    assert Project.objects.filter(name="Still here").exists()


def test_restore_names_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        _call("restore", str(tmp_path / "missing.sqlite3"), "--yes")
