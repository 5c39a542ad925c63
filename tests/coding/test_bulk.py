"""The grid and the tools that code many answers at once."""

from __future__ import annotations

import re

import pytest

from coding import services
from coding.models import Coding, Event
from polls.models import Respondent
from tests.conftest import login
from tests.factories import make_free_text

HTMX = {"HX-Request": "true"}
TEXTS = [
    "Time",
    "time.",
    "Not enough funding for foster carers",
    "Caseloads",
    "caseload",
    "Funding cuts mean no foster carers locally",
    "The court timescales",
]


@pytest.fixture
def question(poll):
    roles = [
        "Social Worker",
        "Team Manager",
        "Social Worker",
        "Team Manager",
        "Social Worker",
        "Social Worker",
        "Team Manager",
    ]
    for person, role in zip(poll.respondents.order_by("position"), roles, strict=False):
        person.attributes = {"Role": role, "Team": "Leaving care"}
        person.save()
    return make_free_text(poll, TEXTS)


@pytest.fixture
def funding(project, alice):
    return services.create_theme(project, "Funding", alice)


def _ids(question, *texts):
    return [question.answers.get(text=t).pk for t in texts]


def test_the_grid_lists_answers_with_chosen_attribute_columns(client, question, bob, funding):
    services.apply_theme(question.answers.get(text="Caseloads"), funding, bob)
    html = login(client, bob).get(f"/questions/{question.pk}/grid/?col=Role").content.decode()
    assert "<th><a" in html and ">Role</a></th>" in html
    assert "Team Manager" in html
    assert ">Team</a></th>" not in html  # not chosen
    assert 'class="chip small"' in html and "Funding" in html


def test_the_grid_sorts_by_an_attribute_and_filters_by_text(client, question, bob):
    login(client, bob)
    html = client.get(f"/questions/{question.pk}/grid/?col=Role&sort=-Role").content.decode()
    assert html.index("Team Manager") < html.index("Social Worker")
    html = client.get(f"/questions/{question.pk}/grid/?q=foster").content.decode()
    assert "(2 answers)" in html


def test_the_grid_filters_by_attribute(client, question, bob):
    html = (
        login(client, bob)
        .get(f"/questions/{question.pk}/grid/?attr=Role%3DTeam%20Manager")
        .content.decode()
    )
    assert "(3 answers)" in html


def test_the_grid_returns_its_table_only_for_htmx(client, question, bob):
    html = login(client, bob).get(f"/questions/{question.pk}/grid/", headers=HTMX).content
    assert b"<html" not in html
    assert b'id="grid"' in html


def test_one_action_applies_a_theme_to_the_selected_rows_and_one_undo_reverses_it(
    client, question, bob, funding
):
    login(client, bob)
    chosen = _ids(
        question,
        "Not enough funding for foster carers",
        "Funding cuts mean no foster carers locally",
    )
    response = client.post(
        f"/questions/{question.pk}/bulk/",
        {"answers": chosen, "theme": funding.pk, "next": f"/questions/{question.pk}/grid/"},
    )
    assert response["Location"] == f"/questions/{question.pk}/grid/"
    assert sorted(Coding.objects.values_list("answer", flat=True)) == sorted(chosen)
    assert Event.objects.filter(action="apply").values("batch").distinct().count() == 1
    client.post(f"/questions/{question.pk}/undo/")
    assert not Coding.objects.exists()


def test_bulk_remove_takes_the_theme_off_the_selected_rows(client, question, bob, funding):
    answers = question.answers.filter(pk__in=_ids(question, "Time", "time."))
    services.apply_to_many(answers, funding, bob)
    login(client, bob).post(
        f"/questions/{question.pk}/bulk/",
        {"answers": _ids(question, "Time"), "theme": funding.pk, "action": "remove"},
    )
    assert list(Coding.objects.values_list("answer__text", flat=True)) == ["time."]


def test_bulk_actions_need_a_coder_and_a_theme_of_the_project(
    client, question, vera, bob, funding, charlie
):
    url = f"/questions/{question.pk}/bulk/"
    ids = _ids(question, "Time")
    assert login(client, vera).post(url, {"answers": ids, "theme": funding.pk}).status_code == 403
    other = services.create_theme(charlie.memberships.get().project, "Elsewhere", charlie)
    assert login(client, bob).post(url, {"answers": ids, "theme": other.pk}).status_code == 404
    assert not Coding.objects.exists()


def test_answer_ids_of_other_questions_are_ignored(client, question, poll, bob, funding):
    elsewhere = poll.questions.get(export_id="Q4").answers.first()
    login(client, bob).post(
        f"/questions/{question.pk}/bulk/", {"answers": [elsewhere.pk], "theme": funding.pk}
    )
    assert not Coding.objects.exists()


def test_similar_answers_lists_uncoded_ones_above_the_threshold(client, question, bob):
    source = question.answers.get(text="Not enough funding for foster carers")
    html = login(client, bob).get(f"/answers/{source.pk}/similar/?threshold=40").content.decode()
    assert "Funding cuts mean no foster carers locally" in html
    assert "The court timescales" not in html
    html = client.get(f"/answers/{source.pk}/similar/?threshold=100").content.decode()
    assert "No uncoded answer is that similar" in html


def test_similar_answers_are_the_same_read_a_chunk_at_a_time(client, question, bob, monkeypatch):
    source = question.answers.get(text="Not enough funding for foster carers")
    url = f"/answers/{source.pk}/similar/?threshold=20"
    found = re.compile(r'name="answers" value="(\d+)"')
    whole = found.findall(login(client, bob).get(url).content.decode())
    monkeypatch.setattr("coding.bulk.CHUNK", 2)
    assert found.findall(client.get(url).content.decode()) == whole
    assert len(whole) >= 3  # several matches, merged across chunks in the same order


def test_a_keyword_rule_previews_every_match_highlighted(client, question, bob):
    html = (
        login(client, bob)
        .get(f"/questions/{question.pk}/rules/", {"q": 'fund "foster carers"'})
        .content.decode()
    )
    assert "2 answers." in html
    assert "<mark>fund</mark>ing for" in html and "<mark>Fund</mark>ing cuts" in html
    assert "<mark>foster carers</mark>" in html
    assert "The court timescales" not in html


def test_keyword_matches_are_escaped(client, question, bob):
    answer = question.answers.get(text="The court timescales")
    answer.text = "<b>court</b> delays"
    answer.save()
    html = login(client, bob).get(f"/questions/{question.pk}/rules/", {"q": "court"}).content
    assert b"&lt;b&gt;<mark>court</mark>&lt;/b&gt;" in html


def test_duplicates_are_grouped_to_code_once(client, question, bob):
    html = login(client, bob).get(f"/questions/{question.pk}/duplicates/").content.decode()
    assert "<strong>2×</strong>" in html
    assert html.count('class="group"') == 2  # Time/time. and Caseloads/caseload


def test_the_tools_return_their_list_only_for_htmx(client, question, bob):
    login(client, bob)
    source = question.answers.first()
    for url in (
        f"/questions/{question.pk}/duplicates/",
        f"/questions/{question.pk}/rules/?q=x",
        f"/answers/{source.pk}/similar/",
    ):
        html = client.get(url, headers=HTMX).content
        assert b"<html" not in html and b'id="matches"' in html


def test_the_tools_hide_other_projects(client, question, charlie):
    login(client, charlie)
    source = question.answers.first()
    for url in (
        f"/questions/{question.pk}/grid/",
        f"/questions/{question.pk}/duplicates/",
        f"/questions/{question.pk}/rules/",
        f"/answers/{source.pk}/similar/",
    ):
        assert client.get(url).status_code == 404


def test_the_grid_has_a_query_budget(client, question, bob, funding, django_assert_max_num_queries):
    services.apply_to_many(question.answers.all(), funding, bob)
    Respondent.objects.update(attributes={"Role": "Social Worker"})
    login(client, bob)
    with django_assert_max_num_queries(13) as queries:
        client.get(f"/questions/{question.pk}/grid/?col=Role", headers=HTMX)
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"]]


def test_grid_pages_are_found_without_counting(client, question, bob, monkeypatch):
    monkeypatch.setattr("coding.bulk.PAGE_SIZE", 2)
    login(client, bob)
    total = question.answers.count()
    first = client.get(f"/questions/{question.pk}/grid/").content.decode()
    assert "Page 1 (answers 1–2)" in first and "page=2" in first
    last_number = -(-total // 2)
    last = client.get(f"/questions/{question.pk}/grid/?page={last_number}").content.decode()
    assert f"({total} answers)" in last and f"page={last_number + 1}" not in last
    stale = client.get(f"/questions/{question.pk}/grid/?page=999").content.decode()
    assert "Page 1 (answers 1–2)" in stale


def test_grid_pager_links_start_from_an_id(client, question, bob, monkeypatch):
    monkeypatch.setattr("coding.bulk.PAGE_SIZE", 2)
    login(client, bob)
    ids = list(question.answers.order_by("pk").values_list("pk", flat=True))
    grid = f"/questions/{question.pk}/grid/"
    first = client.get(grid).content.decode()
    assert f"page=2&amp;after={ids[1]}" in first
    second = client.get(f"{grid}?page=2&after={ids[1]}").content.decode()
    assert _shown(second) == ids[2:4] and "Page 2 (answers 3–4)" in second
    assert f"page=1&amp;before={ids[2]}" in second
    back = client.get(f"{grid}?page=1&before={ids[2]}").content.decode()
    assert _shown(back) == ids[:2]
    by_text = client.get(f"{grid}?sort=text").content.decode()  # not in id order: numbered
    assert "after=" not in by_text and "page=2" in by_text


def _shown(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="answers" value="(\d+)"', html)]
