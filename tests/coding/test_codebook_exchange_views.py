"""Downloading and merging codebooks from the codebook page."""

from __future__ import annotations

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from coding import services
from coding.models import Theme
from tests.conftest import login


def test_members_download_the_codebook_as_csv_qdc_and_the_project_as_qdpx(
    client, project, poll, alice, vera
):
    services.create_theme(project, "Lack of time", alice)
    login(client, vera)
    csv_response = client.get(f"/projects/{project.code}/codebook.csv")
    assert csv_response["Content-Disposition"].endswith('codebook.csv"')
    assert b"Lack of time" in csv_response.content
    qdc = client.get(f"/projects/{project.code}/codebook.qdc").content
    assert b"urn:QDA-XML:codebook:1.0" in qdc and b"Lack of time" in qdc
    qdpx = client.get(f"/projects/{project.code}/project.qdpx").content
    assert "project.qde" in zipfile.ZipFile(io.BytesIO(qdpx)).namelist()


def test_downloads_are_for_members_only(client, project, charlie):
    login(client, charlie)
    for suffix in ("codebook.csv", "codebook.qdc", "project.qdpx"):
        assert client.get(f"/projects/{project.code}/{suffix}").status_code == 404


def _upload(client, project, name: str, data: bytes):
    return client.post(
        f"/projects/{project.code}/codebook/import/",
        {"file": SimpleUploadedFile(name, data)},
        follow=True,
    )


def test_a_lead_merges_a_csv_codebook_and_reads_the_conflicts(client, project, alice):
    services.create_theme(project, "Funding", alice, description="Money for services")
    data = b"name,parent,description\nResources,,\nFunding,Resources,Grants\n"
    html = _upload(login(client, alice), project, "book.csv", data).content.decode()
    assert "1 created" in html
    assert "Funding: " in html  # its description and parent differ: reported, not overwritten
    assert Theme.objects.get(name="Funding").description == "Money for services"


def test_a_lead_merges_a_qdc_codebook(client, project, alice):
    qdc = (
        b'<?xml version="1.0" encoding="utf-8"?>'
        b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        b'<Code guid="5d6c1e1a-1111-4a4a-8b8b-123456789abc" name="Cost" isCodable="true">'
        b'<Code guid="5d6c1e1a-2222-4a4a-8b8b-123456789abc" name="Hidden fees" isCodable="true"/>'
        b"</Code></Codes></CodeBook>"
    )
    _upload(login(client, alice), project, "other.qdc", qdc)
    assert Theme.objects.get(name="Hidden fees").parent.name == "Cost"


def test_a_bad_codebook_is_refused_with_its_name_and_row(client, project, alice):
    html = _upload(login(client, alice), project, "bad.csv", b"name,parent\nA,Nowhere\n")
    text = html.content.decode()
    assert "Nothing was imported" in text and "bad.csv, row 2" in text
    assert not Theme.objects.exists()


def test_only_leads_merge_codebooks(client, project, bob):
    response = login(client, bob).post(
        f"/projects/{project.code}/codebook/import/",
        {"file": SimpleUploadedFile("b.csv", b"name\nA\n")},
    )
    assert response.status_code == 403
    assert not Theme.objects.exists()


def test_an_empty_codebook_is_not_exported_as_an_invalid_qdc(client, project, alice):
    response = login(client, alice).get(f"/projects/{project.code}/codebook.qdc", follow=True)
    assert "no themes to export" in response.content.decode()
