"""Each import request reads the file at most once, and writes all or nothing.

The upload reads it (to refuse it or work out the preview) and keeps it
gzip-compressed with that preview; the preview page shows what was worked
out; a correction reads it again; the confirmation reads it once more and
writes, from a thread of its own on SQLite, in one transaction.
"""

from __future__ import annotations

import csv
import gzip
import io
import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from polls import bulk_sql, imports
from polls.importers import ImportProblem
from polls.loading import PollFields
from polls.models import (
    Answer,
    Option,
    PendingImport,
    Poll,
    Question,
    Rating,
    Respondent,
    Selection,
)
from tests.conftest import login
from tests.importers.big_export import make_export

DATA = Path(__file__).resolve().parents[1] / "data"
EXPORT = (DATA / "browser_qualtrics.csv").read_bytes()


def _upload(client, project, data=EXPORT, name="export.csv", title="Schools poll"):
    form = {"title": title, "format": "auto", "population": "Social Workers"}
    form["file"] = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(f"/projects/{project.code}/import/", form)


def _state():
    models = (Poll, Question, Option, Respondent, Answer, Rating, Selection)
    return tuple(m.objects.count() for m in models)


def test_the_upload_keeps_the_file_compressed_with_its_preview(client, project, alice, reads):
    _upload(login(client, alice), project)
    assert reads == ["export.csv"]
    pending = PendingImport.objects.get()
    assert "data" in pending.get_deferred_fields()  # pages do not load the file
    assert pending.compressed
    assert gzip.decompress(bytes(pending.data)) == EXPORT
    assert pending.preview["respondents"] == 6
    assert pending.preview["schema"] is None
    assert [q["spec"]["export_id"] for q in pending.preview["questions"]] == ["Q1", "Q2", "Q3"]


def test_the_preview_page_does_not_read_the_file_again(client, project, alice, reads):
    _upload(login(client, alice), project)
    html = client.get(f"/imports/{PendingImport.objects.get().code}/").content.decode()
    assert reads == ["export.csv"]  # the upload's read only
    assert "6 respondents" in html
    assert "Smaller caseloads, honestly." in html


def test_a_correction_reads_the_file_once_and_keeps_the_new_preview(client, project, alice, reads):
    _upload(login(client, alice), project)
    code = PendingImport.objects.get().code
    form = {"kind-Q1": "scale", "kind-Q2": "free_text", "kind-Q3": "single_choice"}
    html = client.post(f"/imports/{code}/", form).content.decode()
    assert reads == ["export.csv", "export.csv"]
    assert 'name="options-Q3"' in html
    pending = PendingImport.objects.get()
    assert pending.preview["schema"] == pending.options["schema"]
    client.get(f"/imports/{code}/")
    assert len(reads) == 2


def test_the_confirmation_reads_the_file_only_for_corrections_it_brings(
    client, project, alice, reads
):
    _upload(login(client, alice), project)
    code = PendingImport.objects.get().code
    client.get(f"/imports/{code}/")
    response = client.post(f"/imports/{code}/confirm/", {"kind-Q1": "scale"})  # as shown
    assert response.status_code == 302
    assert reads == ["export.csv"]  # the upload's: the draft is published
    assert project.polls.get().respondents.count() == 6
    _upload(client, project, title="Corrected")
    code = PendingImport.objects.get().code
    client.post(f"/imports/{code}/confirm/", {"kind-Q3": "single_choice"})
    assert reads == ["export.csv"] * 3  # and once more for the correction
    assert project.polls.get(title="Corrected").questions.get(export_id="Q3").is_choice


def test_a_problem_found_on_confirming_shows_on_the_preview(client, project, alice):
    _upload(login(client, alice), project)
    code = PendingImport.objects.get().code
    form = {"kind-Q1": "scale", "kind-Q2": "scale", "kind-Q3": "scale"}
    response = client.post(f"/imports/{code}/confirm/", form)
    assert response.status_code == 302 and not project.polls.exists()
    html = client.get(response["Location"]).content.decode()
    assert "Nothing was imported" in html
    assert 'role="alert"' in html and "Q2" in html
    assert PendingImport.objects.get().preview["problem"]["row"] is not None


def test_an_upload_staged_before_previews_were_kept_still_previews_and_imports(
    client, project, alice, reads
):
    pending = PendingImport.objects.create(
        project=project,
        created_by=alice,
        filename="export.csv",
        data=EXPORT,
        options={"title": "Old upload", "format": "auto", "population": ""},
    )
    login(client, alice)
    assert "6 respondents" in client.get(f"/imports/{pending.code}/").content.decode()
    assert PendingImport.objects.get().preview is not None  # worked out once, then kept
    client.get(f"/imports/{pending.code}/")
    assert len(reads) == 1
    client.post(f"/imports/{pending.code}/confirm/", {})
    assert Poll.objects.get().title == "Old upload"


def test_a_compressed_upload_read_back_is_the_file(project, alice):
    pending = PendingImport(project=project, created_by=alice, filename="big.csv", options={})
    data = make_export(2000)
    upload = SimpleUploadedFile("big.csv", data, content_type="text/csv")
    pending.options = {"title": "Big", "format": "auto"}
    imports.stage(pending, upload)
    imports.save_staged(pending)
    stored = imports.stored_file(PendingImport.objects.get(pk=pending.pk))
    assert stored.read() == data
    stored.seek(0)
    assert stored.read(10) == data[:10]


def test_a_cut_short_compressed_file_is_an_error_not_a_short_file():
    packed = gzip.compress(make_export(500), 1)
    cut = imports._Inflating(lambda: iter([packed[: len(packed) // 2]]))
    with pytest.raises(EOFError):
        cut.read()


# --- writing: all or nothing -------------------------------------------------------------


def _import(project, data, title="Big", **kwargs):
    return imports.import_file(project, data, "big.csv", PollFields(title=title), **kwargs)


def test_a_large_import_writes_every_answer_and_choice(project):
    data = make_export(3000)
    result = _import(project, data)
    assert result.respondents == 2994
    header, _, _, *rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    rows = [row for row in rows if row[header.index("Status")] != "Survey Preview"]

    def filled(*names) -> int:
        return sum(bool(row[header.index(name)]) for row in rows for name in names)

    q = {question.export_id: question for question in result.poll.questions.all()}
    assert Rating.objects.filter(question=q["Q2"]).count() == filled("Q2")
    assert Selection.objects.filter(question=q["Q1"]).count() == filled("Q1")
    multi = Selection.objects.filter(question=q["Q5"])
    assert multi.count() == filled("Q5_1", "Q5_2", "Q5_3")
    assert set(multi.values_list("option__question", flat=True)) == {q["Q5"].pk}
    texts = Answer.objects.filter(question=q["Q3"])
    assert texts.count() == filled("Q3")
    # Only what was written is an answer: nothing for the scales and choices.
    assert not Answer.objects.filter(question__in=[q["Q1"], q["Q2"], q["Q5"]]).exists()
    queue = list(texts.order_by("id").values_list("respondent__position", flat=True))
    assert queue == sorted(queue)  # coding queues walk answers in file order


def test_a_question_that_cannot_be_read_late_in_the_file_writes_nothing(project):
    before = _state()
    schema = {"questions": [{"id": "Q7", "kind": "scale"}]}  # the last question: free text
    with pytest.raises(ImportProblem):
        _import(project, make_export(3000), schema=schema)
    assert _state() == before


@pytest.mark.django_db(transaction=True)
def test_a_failed_insert_in_the_writing_thread_rolls_everything_back(project, monkeypatch):
    before = _state()
    calls = []
    real_call = bulk_sql.Inserter.__call__

    def clashing(self, model, fields, rows, fixed=None):
        calls.append(model)
        if model is Selection:  # an answer's choice written twice: a unique constraint fails
            rows = [row for row in rows for _ in range(2)]
        return real_call(self, model, fields, rows, fixed)

    monkeypatch.setattr(bulk_sql.Inserter, "__call__", clashing)
    with pytest.raises(IntegrityError):
        _import(project, make_export(1500))
    assert Selection in calls
    assert _state() == before
    assert not connection.in_atomic_block


@pytest.mark.django_db(transaction=True)
def test_keys_left_by_a_deleted_poll_are_not_reused(project):
    first = _import(project, make_export(600), title="First").poll
    top = Answer.objects.order_by("-pk").values_list("pk", flat=True).first()
    first.delete()  # SQLite's AUTOINCREMENT still remembers its keys
    second = _import(project, make_export(600), title="Second").poll
    assert Answer.objects.filter(question__poll=second).order_by("pk").first().pk > top


def test_adding_responses_to_a_poll_maps_choices_to_the_new_answers(project):
    _import(project, make_export(400), title="Waves")
    later = make_export(400).replace(b"R_0000", b"R_9999")
    result = _import(project, later, title="Waves")
    poll = result.poll
    assert poll.respondents.count() == 2 * 400
    multi = poll.questions.get(export_id="Q5")
    for answer in multi.answers.filter(respondent__export_id__startswith="R_9999")[:50]:
        assert answer.selections.exists()
        assert {s.option.question_id for s in answer.selections.all()} == {multi.pk}


def test_inserter_writes_many_rows_in_order(project):
    poll = Poll.objects.create(project=project, title="Rows", platform="spreadsheet")
    rows = [(f"R{i}", i, "{}") for i in range(1, 1234)]
    with transaction.atomic():
        bulk_sql.insert_many(
            Respondent,
            ["export_id", "position", "attributes", "poll"],
            [(*r, poll.pk) for r in rows],
        )
    written = list(poll.respondents.order_by("pk").values_list("export_id", "position"))
    assert written == [(r[0], r[1]) for r in rows]


def test_an_sql_literal_is_quoted_or_refused():
    assert bulk_sql._literal(None) == "NULL"
    assert bulk_sql._literal("it's") == "'it''s'"
    assert bulk_sql._literal(3) == "3"
    with pytest.raises(TypeError):
        bulk_sql._literal(b"bytes")


@pytest.mark.django_db(transaction=True)
def test_a_large_commit_leaves_its_checkpoint_to_a_thread(project, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write-ahead log")
    done = threading.Event()
    seen = []

    def checkpoint(path):
        seen.append(path)
        done.set()

    monkeypatch.setattr(imports, "BIG_COMMIT", 0)
    monkeypatch.setattr(imports, "_checkpoint", checkpoint)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        (pages,) = cursor.fetchone()
    _import(project, make_export(300))
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone() == (pages,)  # as it was, once the import committed
    assert done.wait(5)
    assert seen == [connection.settings_dict["NAME"]]
    monkeypatch.undo()
    imports._checkpoint(connection.settings_dict["NAME"])  # the real one runs without fault


def test_memory_is_given_back_without_failing():
    imports.release_memory()  # glibc's malloc_trim, or nothing elsewhere


def test_a_file_object_imports_like_its_bytes(project):
    data = make_export(500)
    from_file = _import(project, io.BytesIO(data), title="From a file").poll
    from_bytes = _import(project, data, title="From bytes").poll

    def answers(poll):
        who = ("question__export_id", "respondent__export_id")
        return [
            sorted(model.objects.filter(question__poll=poll).values_list(*who, *fields))
            for model, fields in (
                (Answer, ["text"]),
                (Rating, ["value"]),
                (Selection, ["option__text"]),
            )
        ]

    assert answers(from_file) == answers(from_bytes)
    assert all(answers(from_file))
