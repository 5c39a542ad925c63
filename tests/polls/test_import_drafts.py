"""The upload imports the file as a draft nobody can see; corrections rewrite the
questions they change, and the confirmation publishes it. Only a file adding to a
poll of its title is imported at the confirmation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from polls import imports
from polls.loading import PollFields
from polls.models import Answer, PendingImport, Poll, Project, Rating, Respondent, Selection
from polls.summaries import summarise_poll
from tests.conftest import login
from tests.forms import form_fields

DATA = Path(__file__).resolve().parents[1] / "data"
EXPORT = (DATA / "browser_qualtrics.csv").read_bytes()


def _upload(client, project, title="Schools poll"):
    form = {"title": title, "format": "auto", "population": "Social Workers"}
    form["file"] = SimpleUploadedFile("export.csv", EXPORT, content_type="text/csv")
    assert client.post(f"/projects/{project.code}/import/", form).status_code == 302
    return PendingImport.objects.get(filename="export.csv", options__title=title)


def _draft(pending) -> Poll:
    return Poll.objects.get(project__draft_of=pending)


def _preview_form(client, pending) -> dict:
    html = client.get(f"/imports/{pending.code}/").content.decode()
    return form_fields(html, "preview-form")


def test_the_upload_imports_a_draft_in_a_project_nobody_belongs_to(client, project, alice):
    pending = _upload(login(client, alice), project)
    draft = _draft(pending)
    assert not project.polls.exists()
    assert not draft.project.memberships.exists()
    assert (draft.title, draft.respondents.count()) == ("Schools poll", 6)
    # Nothing of it shows: not the project page, not the poll's own pages.
    assert "Schools poll" not in client.get(f"/projects/{project.code}/").content.decode()
    assert client.get(f"/polls/{draft.code}/").status_code == 404
    assert client.get(f"/polls/{draft.code}/report/").status_code == 404


def test_confirming_the_preview_as_shown_publishes_the_draft(
    client, project, alice, reads, django_assert_max_num_queries
):
    pending = _upload(login(client, alice), project)
    draft = _draft(pending)
    form = _preview_form(client, pending)
    with django_assert_max_num_queries(30):
        response = client.post(f"/imports/{pending.code}/confirm/", form)
    poll = Poll.objects.get()
    assert response["Location"] == f"/polls/{poll.code}/"
    assert (poll.pk, poll.project, poll.created_by) == (draft.pk, project, alice)
    assert reads == ["export.csv"]  # the upload's: the confirmation reads nothing
    assert not PendingImport.objects.exists()
    assert not Project.objects.filter(draft_of__isnull=False).exists()
    assert Project.objects.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Imported 6 respondents and 3 questions (1 preview or test responses skipped)." in page


def test_a_published_draft_is_the_poll_an_import_at_the_confirmation_makes(client, project, alice):
    pending = _upload(login(client, alice), project)
    client.post(f"/imports/{pending.code}/confirm/", _preview_form(client, pending))
    published = Poll.objects.get(title="Schools poll")
    fields = PollFields(title="Imported", population="Social Workers")
    imported = imports.import_file(project, EXPORT, "export.csv", fields, user=alice).poll
    assert _rows(published) == _rows(imported)
    assert _bases(published) == _bases(imported)


def _rows(poll):
    who = ("question__export_id", "respondent__export_id")
    return [
        sorted(model.objects.filter(question__poll=poll).values_list(*who, *fields))
        for model, fields in (
            (Answer, ["text", "other_text"]),
            (Rating, ["value"]),
            (Selection, ["option__text"]),
        )
    ] + [sorted(Respondent.objects.filter(poll=poll).values_list("export_id", "attributes"))]


def _bases(poll):
    return [(s.question.export_id, s.answered, s.total) for s in summarise_poll(poll)]


def test_a_correction_writes_that_question_of_the_draft_again(client, project, alice, reads):
    pending = _upload(login(client, alice), project)
    draft = _draft(pending)
    kept = list(Rating.objects.filter(question__poll=draft, question__export_id="Q1"))
    form = _preview_form(client, pending)
    form["kind-Q3"] = "single_choice"
    client.post(f"/imports/{pending.code}/", form)
    q3 = _draft(pending).questions.get(export_id="Q3")
    assert q3.kind == "single_choice" and q3.poll_id == draft.pk
    assert not Rating.objects.filter(question=q3).exists()
    assert Selection.objects.filter(question=q3).count() == 5
    assert list(Rating.objects.filter(question__poll=draft, question__export_id="Q1")) == kept
    client.post(f"/imports/{pending.code}/confirm/", _preview_form(client, pending))
    assert project.polls.get().pk == draft.pk
    assert len(reads) == 2  # the upload, the correction


def test_corrections_sent_with_the_confirmation_are_written_into_the_draft_first(
    client, project, alice, reads
):
    pending = _upload(login(client, alice), project)
    draft = _draft(pending)
    form = _preview_form(client, pending)
    form["options-Q2"] = "ignored: Q2 is free text"
    form["subsample-Q1"] = "Team managers only"  # typed, not applied before confirming
    client.post(f"/imports/{pending.code}/confirm/", form)
    poll = project.polls.get()
    assert poll.pk == draft.pk
    assert poll.questions.get(export_id="Q1").subsample == "Team managers only"
    assert Rating.objects.filter(question__poll=poll, question__export_id="Q1").count() == 5
    assert reads == ["export.csv", "export.csv"]
    assert Project.objects.count() == 1


def test_a_file_adding_to_a_poll_of_its_title_is_not_drafted(client, project, alice):
    first = _upload(login(client, alice), project)
    client.post(f"/imports/{first.code}/confirm/", _preview_form(client, first))
    pending = _upload(client, project)  # the same title
    assert not Poll.objects.filter(project__draft_of=pending).exists()
    assert pending.preview["drafted"] is False


def test_a_title_taken_meanwhile_makes_the_confirmation_add_to_that_poll(client, project, alice):
    pending = _upload(login(client, alice), project)
    Poll.objects.create(project=project, title="Schools poll", platform="qualtrics")
    response = client.post(f"/imports/{pending.code}/confirm/", _preview_form(client, pending))
    # Added to that poll, which asks other questions (none): refused, nothing written.
    assert response["Location"] == f"/imports/{pending.code}/"
    assert "does not match poll" in client.get(response["Location"]).content.decode()
    assert not Respondent.objects.exists()
    assert not Project.objects.filter(draft_of__isnull=False).exists()


def test_cancelling_deletes_the_draft(client, project, alice):
    pending = _upload(login(client, alice), project)
    client.post(f"/imports/{pending.code}/cancel/")
    assert not Poll.objects.exists() and Project.objects.count() == 1
    assert not Respondent.objects.exists() and not Rating.objects.exists()


def test_uploads_nobody_confirmed_within_a_day_go_with_their_drafts(client, project, alice):
    old = _upload(login(client, alice), project, title="Old")
    PendingImport.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    _upload(client, project, title="New")
    assert list(Poll.objects.values_list("title", flat=True)) == ["New"]
    assert Project.objects.filter(draft_of__isnull=False).count() == 1
    assert Respondent.objects.count() == 6
