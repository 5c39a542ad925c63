"""Merging, splitting, moving and archiving themes, and the codebook page."""

from __future__ import annotations

import pytest
from django.db.models import RestrictedError

from coding import codebook, services
from coding.codebook import CodebookError
from coding.models import Coding, Event, Quote, Theme, ThemePath
from coding.reports import Source, theme_rows
from polls.summaries import summarise_poll
from tests.conftest import login


@pytest.fixture
def q4(poll):
    return poll.questions.get(export_id="Q4")


@pytest.fixture
def answers(q4):
    return list(q4.answers.order_by("pk"))


@pytest.fixture
def themes(project, alice):
    make = services.create_theme
    area = make(project, "Resources", alice)
    return {
        "area": area,
        "money": make(project, "Money", alice, parent=area),
        "funding": make(project, "Funding", alice, parent=area),
        "time": make(project, "Time", alice),
    }


def _counts(poll, q4) -> dict[str, int]:
    summary = next(s for s in summarise_poll(poll) if s.question == q4)
    return {row[2]: row[4] for row in theme_rows(summary, Source())}


def test_merge_moves_codings_and_quotes_and_counts_an_answer_with_both_once(
    poll, q4, answers, themes, alice, bob
):
    money, funding = themes["money"], themes["funding"]
    services.apply_theme(answers[0], money, bob)
    services.apply_theme(answers[0], funding, bob)  # both: must end as one coding
    services.apply_theme(answers[1], money, bob)
    services.apply_theme(answers[1], funding, alice)  # another coder's: stays separate
    quote = services.save_quote(answers[1], bob, 0, 9, [money])
    codebook.merge(money, funding, alice)
    assert Coding.objects.filter(theme=money).count() == 0
    assert Coding.objects.filter(answer=answers[0], coder=bob, theme=funding).count() == 1
    assert Coding.objects.filter(answer=answers[1], theme=funding).count() == 2
    assert list(quote.themes.all()) == [funding]
    money.refresh_from_db()
    assert money.archived and money.merged_into == funding
    assert _counts(poll, q4) == {"Funding": 2, "Resources": 2}


def test_undoing_a_merge_puts_everything_back(poll, q4, answers, themes, alice, bob):
    money, funding = themes["money"], themes["funding"]
    services.apply_theme(answers[0], money, bob)
    services.apply_theme(answers[0], funding, bob)
    services.apply_theme(answers[1], money, bob)
    quote = services.save_quote(answers[1], bob, 0, 4, [money, funding])
    before = set(Coding.objects.values_list("answer", "theme", "coder"))
    event = codebook.merge(money, funding, alice)
    codebook.undo_merge(event, alice)
    assert set(Coding.objects.values_list("answer", "theme", "coder")) == before
    assert set(quote.themes.all()) == {money, funding}
    money.refresh_from_db()
    assert not money.archived and money.merged_into is None


def test_a_merge_cannot_be_undone_once_later_work_uses_its_themes(answers, themes, alice, bob):
    event = codebook.merge(themes["money"], themes["funding"], alice)
    services.apply_theme(answers[2], themes["funding"], bob)
    with pytest.raises(CodebookError, match="undo those first"):
        codebook.undo_merge(event, alice)


def test_merging_moves_sub_themes_under_the_target(themes, alice, project):
    codebook.merge(themes["area"], themes["time"], alice)
    themes["money"].refresh_from_db()
    assert themes["money"].parent == themes["time"]
    ancestors = ThemePath.objects.filter(descendant=themes["money"]).values_list(
        "ancestor", flat=True
    )
    assert set(ancestors) == {themes["money"].pk, themes["time"].pk}


def test_a_theme_cannot_merge_into_its_own_sub_theme(themes, alice):
    with pytest.raises(CodebookError, match="inside"):
        codebook.merge(themes["area"], themes["money"], alice)


def test_split_moves_only_the_chosen_answers(poll, q4, answers, themes, alice, bob):
    money, funding = themes["money"], themes["funding"]
    for answer in answers:
        services.apply_theme(answer, money, bob)
    codebook.split(money, [answers[0], answers[1]], funding, alice)
    assert _counts(poll, q4) == {"Resources": 3, "Funding": 2, "Money": 1}
    assert Event.objects.filter(action="split", theme=money).exists()


def test_moving_a_theme_changes_what_its_parents_count(poll, q4, answers, themes, alice, bob):
    services.apply_theme(answers[0], themes["money"], bob)
    codebook.move_theme(themes["money"], themes["time"], alice)
    assert _counts(poll, q4) == {"Money": 1, "Time": 1}
    with pytest.raises(CodebookError):
        codebook.move_theme(themes["area"], themes["funding"], alice)  # would be a cycle


def test_edits_record_before_and_after(themes, alice):
    codebook.edit_theme(themes["time"], alice, name="Lack of time", description="Caseloads")
    event = Event.objects.get(action="edit_theme")
    assert event.before == {"name": "Time", "description": ""}
    assert event.after == {"name": "Lack of time", "description": "Caseloads"}
    assert not codebook.edit_theme(themes["time"], alice, name="Lack of time")


def test_archived_and_out_of_scope_themes_are_not_offered(poll, q4, themes, alice):
    codebook.set_archived(themes["time"], alice)
    other = poll.questions.get(export_id="Q1")
    themes["funding"].questions.set([other])
    offered = set(q4.poll.project.themes.offered_for(q4).values_list("name", flat=True))
    assert offered == {"Resources", "Money"}
    themes["money"].questions.set([other, q4])  # scoped to this question among others
    buttons = Theme.objects.buttons_for(q4)  # the workbench's plain query: the same themes
    assert [b.name for b in buttons] == list(
        q4.poll.project.themes.offered_for(q4).values_list("name", flat=True)
    )
    assert {b.name for b in buttons} == {"Resources", "Money"}


# The page ---------------------------------------------------------------------


def test_the_codebook_shows_the_tree_with_counts_per_question(
    client, project, answers, themes, bob, vera
):
    services.apply_theme(answers[0], themes["money"], bob)
    services.save_quote(answers[0], bob, 0, 4, [themes["money"]])
    html = " ".join(
        login(client, vera).get(f"/projects/{project.code}/codebook/").content.decode().split()
    )
    assert html.index("Resources") < html.index("Money") < html.index("Funding")
    assert '<div class="small muted">Q4: 1</div>' in html
    assert "<q>Time</q>" in html
    assert "Merge into" not in html  # viewers read, leads edit


def test_only_leads_change_the_codebook(client, project, themes, bob, charlie):
    for user, status in ((bob, 403), (charlie, 404)):
        login(client, user)
        assert (
            client.post(
                f"/themes/{themes['money'].pk}/merge/", {"into": themes["time"].pk}
            ).status_code
            == status
        )
        assert client.get(f"/themes/{themes['money'].pk}/edit/").status_code == status
        assert client.get(f"/themes/{themes['money'].pk}/history/").status_code == status
    assert not Event.objects.filter(action="merge").exists()


def test_a_lead_merges_from_the_page_and_can_undo(client, project, themes, alice):
    login(client, alice)
    client.post(f"/themes/{themes['money'].pk}/merge/", {"into": themes["funding"].pk})
    html = client.get(f"/projects/{project.code}/codebook/").content.decode()
    assert "merged into Funding" in html
    event = Event.objects.get(action="merge")
    client.post(f"/merges/{event.pk}/undo/")
    themes["money"].refresh_from_db()
    assert not themes["money"].archived


def test_editing_in_place_saves_fields_parent_and_scope(client, project, poll, themes, alice):
    q4 = poll.questions.get(export_id="Q4")
    response = login(client, alice).post(
        f"/themes/{themes['time'].pk}/edit/",
        {
            "name": "Lack of time",
            "description": "No time with children",
            "inclusion": "Caseloads, deadlines",
            "exclusion": "Training time",
            "aliases": "",
            "colour": "#123456",
            "shortcut": "t",
            "parent": themes["area"].pk,
            "position": 3,
            "questions": [q4.pk],
        },
    )
    assert response.status_code == 302
    theme = themes["time"]
    theme.refresh_from_db()
    assert (theme.name, theme.parent, theme.shortcut) == ("Lack of time", themes["area"], "t")
    assert list(theme.questions.all()) == [q4]
    assert ThemePath.objects.filter(ancestor=themes["area"], descendant=theme).exists()


def test_an_edit_refuses_a_reserved_key_and_a_taken_name(client, themes, alice):
    response = login(client, alice).post(
        f"/themes/{themes['time'].pk}/edit/",
        {
            "name": "money",
            "colour": "#123456",
            "shortcut": "j",
            "position": 1,
        },
    )
    assert response.status_code == 400
    assert "already has a theme" in response.content.decode()
    assert "workbench&#x27;s own keys" in response.content.decode()


def test_history_lists_who_did_what(client, answers, themes, alice, bob):
    services.apply_theme(answers[0], themes["time"], bob)
    codebook.edit_theme(themes["time"], alice, name="Lack of time")
    html = login(client, alice).get(f"/themes/{themes['time'].pk}/history/").content.decode()
    assert "Applied a theme" in html and "Edited a theme" in html and "bob" in html
    html = client.get(f"/answers/{answers[0].pk}/history/").content.decode()
    assert "Applied a theme" in html


def test_the_grid_splits_a_theme_for_leads_only(client, poll, answers, themes, alice, bob):
    for answer in answers:
        services.apply_theme(answer, themes["money"], bob)
    url = f"/questions/{answers[0].question_id}/bulk/"
    form = {
        "answers": [answers[0].pk],
        "theme": themes["funding"].pk,
        "action": "move",
        "from": themes["money"].pk,
    }
    assert login(client, bob).post(url, form).status_code == 403
    login(client, alice).post(url, form)
    assert Coding.objects.get(answer=answers[0]).theme == themes["funding"]
    assert Quote.objects.count() == 0


def test_the_edit_form_comes_as_a_fragment_for_htmx(client, themes, alice):
    html = (
        login(client, alice)
        .get(f"/themes/{themes['time'].pk}/edit/", headers={"HX-Request": "true"})
        .content.decode()
    )
    assert "<html" not in html and 'name="inclusion"' in html


def test_a_project_with_a_theme_tree_can_be_deleted(project, alice):
    parent = services.create_theme(project, "Barriers", alice)
    services.create_theme(project, "Time", alice, parent=parent)
    project.delete()
    assert not Theme.objects.exists()


def test_a_parent_theme_alone_cannot_be_deleted(project, alice):
    parent = services.create_theme(project, "Barriers", alice)
    services.create_theme(project, "Time", alice, parent=parent)
    with pytest.raises(RestrictedError):
        parent.delete()


def test_a_stale_page_applying_a_merged_theme_codes_with_its_target(answers, themes, alice, bob):
    stale = themes["funding"]  # loaded before the merge, as a coder's open page has it
    codebook.merge(Theme.objects.get(pk=stale.pk), themes["money"], alice)
    assert services.apply_theme(answers[0], stale, bob)
    assert list(Coding.objects.values_list("theme__name", flat=True)) == ["Money"]
    assert services.remove_theme(answers[0], stale, bob)
    assert not Coding.objects.exists()
