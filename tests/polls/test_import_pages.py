"""Upload → preview (with corrections) → confirm, through the client."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from polls.models import PendingImport, Poll, Selection
from tests.conftest import login

DATA = Path(__file__).resolve().parents[1] / "data"
EXPORT = (DATA / "browser_qualtrics.csv").read_bytes()


def _upload(client, project, data=EXPORT, name="export.csv", **fields):
    form = {"title": "Schools poll", "format": "auto", "population": "Social Workers"}
    form.update(fields)
    form["file"] = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(f"/projects/{project.code}/import/", form)


def _pending():
    return PendingImport.objects.get()


def test_the_upload_page_is_for_leads(client, project, alice, bob, vera, charlie):
    url = f"/projects/{project.code}/import/"
    assert login(client, alice).get(url).status_code == 200
    assert login(client, bob).get(url).status_code == 403
    assert login(client, vera).get(url).status_code == 403
    assert login(client, charlie).get(url).status_code == 404


def test_an_upload_leads_to_a_preview_and_adds_no_poll_to_the_project(client, project, alice):
    response = _upload(login(client, alice), project)
    pending = _pending()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{pending.code}/"
    assert not project.polls.exists()  # only a draft, elsewhere (test_import_drafts)


def test_the_preview_shows_kinds_counts_samples_and_attributes(client, project, alice):
    _upload(login(client, alice), project)
    html = client.get(f"/imports/{_pending().code}/").content.decode()
    assert "6 respondents" in html
    assert "1 preview, test or spam responses skipped" in html
    assert '<span class="badge">Role</span>' in html
    assert '<option value="scale" selected>' in html
    assert "Smaller caseloads, honestly." in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html  # sample text escaped
    assert "<script>alert('x')" not in html


def test_a_preview_is_private_to_its_uploader(client, project, alice, bob, charlie):
    _upload(login(client, alice), project)
    url = f"/imports/{_pending().code}/"
    assert login(client, bob).get(url).status_code == 404
    assert login(client, charlie).get(url).status_code == 404


def test_changing_a_kind_returns_the_questions_partial_for_htmx(client, project, alice):
    _upload(login(client, alice), project)
    response = client.post(
        f"/imports/{_pending().code}/",
        {"kind-Q1": "scale", "kind-Q2": "free_text", "kind-Q3": "single_choice"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="questions">')
    assert "<html" not in html
    assert 'name="options-Q3"' in html
    assert _pending().options["schema"]["questions"][2] == {"id": "Q3", "kind": "single_choice"}


def test_a_full_page_post_applies_corrections_too(client, project, alice):
    _upload(login(client, alice), project)
    response = client.post(
        f"/imports/{_pending().code}/",
        {"kind-Q1": "scale", "kind-Q2": "free_text", "kind-Q3": "single_choice"},
    )
    assert "<html" in response.content.decode()
    assert 'name="options-Q3"' in response.content.decode()


def test_confirm_imports_with_the_corrections(client, project, alice):
    _upload(login(client, alice), project)
    code = _pending().code
    form = {
        "kind-Q1": "scale",
        "min-Q1": "1",
        "max-Q1": "10",
        "minlabel-Q1": "not effective at all",
        "maxlabel-Q1": "very effective",
        "kind-Q2": "free_text",
        "kind-Q3": "single_choice",
    }
    client.post(f"/imports/{code}/", form)  # Q3 becomes a choice; its options appear
    form["options-Q3"] = "3\n2\n1"  # reordered by the researcher
    response = client.post(f"/imports/{code}/confirm/", form)
    poll = Poll.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/polls/{poll.code}/"
    assert poll.respondents.count() == 6
    assert poll.population == "Social Workers"
    q1, q2, q3 = poll.questions.order_by("position")
    assert (q1.kind, q1.scale_min, q1.scale_max) == ("scale", 1, 10)
    assert q1.scale_max_label == "very effective"
    assert q3.kind == "single_choice"
    assert list(q3.options.values_list("text", flat=True)) == ["3", "2", "1"]
    assert Selection.objects.filter(question=q3).count() == 5
    assert not PendingImport.objects.exists()


def test_a_correction_that_does_not_fit_the_data_is_explained_and_blocks_confirm(
    client, project, alice
):
    _upload(login(client, alice), project)
    code = _pending().code
    form = {"kind-Q1": "scale", "kind-Q2": "scale", "kind-Q3": "scale"}
    html = client.post(f"/imports/{code}/", form).content.decode()
    assert 'role="alert"' in html
    assert "Q2" in html
    response = client.post(f"/imports/{code}/confirm/", form)
    assert response.status_code == 302
    assert not project.polls.exists()
    assert "Nothing was imported" in client.get(response["Location"]).content.decode()


def test_an_unreadable_file_is_refused_on_the_upload_page(client, project, alice):
    response = _upload(login(client, alice), project, data=b"\x00\x01\x02" * 50, name="x.xlsx")
    assert response.status_code == 400
    assert "x.xlsx" in response.content.decode()
    assert not PendingImport.objects.exists()


@override_settings(VERBATIM_MAX_UPLOAD_BYTES=100)
def test_an_oversized_file_is_refused(client, project, alice):
    response = _upload(login(client, alice), project)
    assert "the limit is 100" in response.content.decode()
    assert not PendingImport.objects.exists()


def test_discarding_an_upload_deletes_it(client, project, alice):
    _upload(login(client, alice), project)
    response = client.post(f"/imports/{_pending().code}/cancel/")
    assert response["Location"] == f"/projects/{project.code}/"
    assert not PendingImport.objects.exists()


@pytest.mark.parametrize("url", ["/", "/projects/{p}/", "/projects/{p}/import/"])
def test_pages_require_login(client, project, url):
    response = client.get(url.format(p=project.code))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_preview_records_subsample_and_choice_limit(client, project, alice):
    _upload(login(client, alice), project)
    code = _pending().code
    form = {
        "kind-Q1": "scale",
        "kind-Q2": "free_text",
        "kind-Q3": "scale",
        "subsample-Q2": "Those who rated schools 6 or more",
    }
    client.post(f"/imports/{code}/confirm/", form)
    q2 = Poll.objects.get().questions.get(export_id="Q2")
    assert q2.subsample == "Those who rated schools 6 or more"


def test_stale_uploads_are_cleared_by_the_next_upload(client, project, alice):
    _upload(login(client, alice), project)
    PendingImport.objects.update(created_at=timezone.now() - timedelta(days=2))
    _upload(client, project)
    assert PendingImport.objects.count() == 1
