"""The one-at-a-time queue and its actions, through the client (htmx and plain)."""

from __future__ import annotations

import re

import pytest

from coding import codebook, services, suggestions
from coding.models import Coding, Event, Mark, Quote, Theme
from tests.conftest import login
from tests.factories import make_free_text

HTMX = {"HX-Request": "true"}
ACTIONS = {"HX-Target": "actions"}  # a button of the coding form
CODED = {"HX-Target": "coded"}  # a theme button or a chip's ×


@pytest.fixture
def q4(poll):
    return poll.questions.get(export_id="Q4")


@pytest.fixture
def answers(q4):
    return list(q4.answers.order_by("pk"))


@pytest.fixture
def resources(project, alice):
    return services.create_theme(project, "Lack of resources", alice, "Money, staff, services")


@pytest.fixture
def time_theme(project, alice):
    return services.create_theme(project, "Lack of time", alice)


def _queue(q4, answer=None):
    return f"/questions/{q4.pk}/code/" + (f"?answer={answer.pk}" if answer else "")


def _remove(client, answer, theme, **headers):
    return client.post(
        f"/answers/{answer.pk}/themes/{theme.pk}/remove/",
        {"next": f"/questions/{answer.question_id}/code/?answer={answer.pk}"},
        headers=headers,
    )


def _apply(client, answer, theme, **headers):
    return client.post(
        f"/answers/{answer.pk}/themes/{theme.pk}/apply/",
        {"next": f"/questions/{answer.question_id}/code/?answer={answer.pk}"},
        headers=headers,
    )


def test_the_queue_needs_a_member(client, q4, charlie):
    assert client.get(_queue(q4)).status_code == 302
    assert login(client, charlie).get(_queue(q4)).status_code == 404


def test_the_queue_opens_on_the_first_answer_with_its_full_text(client, q4, bob, answers):
    html = login(client, bob).get(_queue(q4)).content.decode()
    assert "Time." in html
    assert "Answer <strong>1</strong> of 3" in html
    assert "Respondent" in html and "Social Worker" in html


def test_answer_text_is_escaped(client, q4, bob, answers):
    answers[0].text = "<img src=x onerror=alert(1)>"
    answers[0].save()
    html = login(client, bob).get(_queue(q4, answers[0])).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_moving_with_htmx_returns_the_panel_only(client, q4, bob, answers):
    response = login(client, bob).get(_queue(q4, answers[1]), headers=HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert 'class="answer-card"' in html
    assert "Caseloads are too high" in html


def test_a_reload_lands_where_the_coder_was(client, q4, bob, answers):
    login(client, bob).get(_queue(q4, answers[2]))
    assert "Answer <strong>3</strong> of 3" in client.get(_queue(q4)).content.decode()


def test_showing_an_answer_writes_nothing(client, q4, bob, answers, django_assert_max_num_queries):
    login(client, bob)
    with django_assert_max_num_queries(30) as queries:
        response = client.get(_queue(q4, answers[1]), headers=HTMX)
    writes = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SELECT")]
    assert writes == []  # the place is a cookie of the queue's path, not a session write
    assert response.cookies["place"].value == str(answers[1].pk)
    assert response.cookies["place"]["path"] == f"/questions/{q4.pk}/code/"


def test_applying_a_theme_saves_once_whatever_the_clicks(client, q4, bob, answers, resources):
    login(client, bob)
    for _ in range(3):
        response = _apply(client, answers[0], resources, **HTMX)
    assert response.status_code == 200
    assert Coding.objects.filter(answer=answers[0], theme=resources, coder=bob).count() == 1
    assert Event.objects.filter(action="apply", user=bob).count() == 1
    assert Mark.objects.get(answer=answers[0], coder=bob).status == "coded"
    assert "Saved" in response.content.decode()


def test_a_racing_request_that_already_saved_is_not_an_error(bob, answers, resources):
    # The other request's coding is there: the unique constraint refuses the INSERT.
    Coding.objects.create(answer=answers[0], theme=resources, coder=bob)
    assert services.apply_theme(answers[0], resources, bob) is False
    assert not Event.objects.filter(action="apply").exists()


def test_without_htmx_an_action_redirects_back(client, q4, bob, answers, resources):
    response = _apply(login(client, bob), answers[1], resources)
    assert response.status_code == 302
    assert response["Location"] == f"/questions/{q4.pk}/code/?answer={answers[1].pk}"


def test_removing_the_last_theme_leaves_the_answer_uncoded(client, bob, answers, resources):
    login(client, bob)
    _apply(client, answers[0], resources)
    for _ in range(2):
        client.post(f"/answers/{answers[0].pk}/themes/{resources.pk}/remove/", headers=HTMX)
    assert not Coding.objects.exists()
    assert Mark.objects.get(answer=answers[0], coder=bob).status == ""


def test_viewers_cannot_code(client, vera, answers, resources):
    response = _apply(login(client, vera), answers[0], resources)
    assert response.status_code == 403
    assert not Coding.objects.exists()


def test_themes_and_answers_of_other_projects_are_refused(client, charlie, bob, answers, resources):
    assert _apply(login(client, charlie), answers[0], resources).status_code == 404
    other = services.create_theme(charlie.memberships.get().project, "Elsewhere", charlie)
    assert _apply(login(client, bob), answers[0], other).status_code == 404


def test_no_theme_applies_replaces_codings_and_undo_restores_them(
    client, q4, bob, answers, resources, time_theme
):
    login(client, bob)
    _apply(client, answers[0], resources)
    _apply(client, answers[0], time_theme)
    client.post(f"/answers/{answers[0].pk}/no-theme/", {"on": "1"}, headers=HTMX)
    assert Mark.objects.get(answer=answers[0], coder=bob).status == "no_theme"
    assert not Coding.objects.filter(coder=bob).exists()
    client.post(f"/questions/{q4.pk}/undo/", {"answer": answers[0].pk}, headers=HTMX)
    assert set(Coding.objects.values_list("theme", flat=True)) == {resources.pk, time_theme.pk}
    assert Mark.objects.get(answer=answers[0], coder=bob).status == "coded"


def test_undo_reverses_the_latest_action_first(client, q4, bob, answers, resources, time_theme):
    login(client, bob)
    _apply(client, answers[0], resources)
    _apply(client, answers[1], time_theme)
    response = client.post(f"/questions/{q4.pk}/undo/", {"answer": answers[0].pk}, headers=HTMX)
    assert list(Coding.objects.values_list("answer", flat=True)) == [answers[0].pk]
    assert "Undone: applied a theme" in response.content.decode()
    assert "Caseloads are too high" in response.content.decode()  # shows what changed


def test_flags_and_memos_are_kept_per_coder(client, bob, alice, answers):
    login(client, bob)
    client.post(f"/answers/{answers[0].pk}/flag/", {"flag": "discuss"}, headers=HTMX)
    client.post(f"/answers/{answers[0].pk}/memo/", {"memo": " Ask about CAMHS "}, headers=HTMX)
    mark = Mark.objects.get(answer=answers[0], coder=bob)
    assert (mark.flag, mark.memo) == ("discuss", "Ask about CAMHS")
    assert not Mark.objects.filter(coder=alice).exists()
    assert client.post(f"/answers/{answers[0].pk}/flag/", {"flag": "nope"}).status_code == 400


def test_a_quote_keeps_code_point_offsets_and_its_themes(client, bob, answers, resources):
    answer = answers[1]
    answer.text = "😀 Caseloads are too high"
    answer.save()
    login(client, bob).post(
        f"/answers/{answer.pk}/quotes/",
        {"start": 2, "end": 11, "themes": [resources.pk]},
        headers=HTMX,
    )
    quote = Quote.objects.get()
    assert quote.text == "Caseloads"
    assert list(quote.themes.all()) == [resources]
    response = client.post(f"/answers/{answer.pk}/quotes/", {"start": 5, "end": 99})
    assert response.status_code == 400


def test_a_coder_sees_only_their_own_codings(client, q4, bob, alice, answers, resources):
    services.apply_theme(answers[0], resources, alice)
    html = login(client, bob).get(_queue(q4, answers[0])).content.decode()
    assert "No theme yet." in html


def test_typing_finds_themes_despite_typos(client, q4, bob, answers, resources, time_theme):
    response = login(client, bob).get(
        f"/questions/{q4.pk}/themes/search/", {"name": "resorces", "answer": answers[0].pk}
    )
    html = response.content.decode()
    assert "Lack of resources" in html
    assert html.index("Lack of resources") < html.index("</ul>")


def test_enter_on_a_new_name_creates_and_applies_the_theme(client, q4, bob, answers):
    login(client, bob).post(
        f"/questions/{q4.pk}/themes/", {"name": "  Poverty ", "answer": answers[0].pk}, headers=HTMX
    )
    theme = Theme.objects.get(name="Poverty")
    assert theme.shortcut and theme.colour
    assert Coding.objects.filter(answer=answers[0], theme=theme, coder=bob).exists()


def test_a_near_duplicate_name_asks_first(client, q4, bob, answers, resources):
    login(client, bob)
    response = client.post(
        f"/questions/{q4.pk}/themes/",
        {"name": "Lack of resource", "answer": answers[0].pk},
        headers=HTMX,
    )
    assert "is very close to" in response.content.decode()
    assert Theme.objects.count() == 1
    client.post(
        f"/questions/{q4.pk}/themes/",
        {"name": "Lack of resource", "answer": answers[0].pk, "confirm": "1"},
        headers=HTMX,
    )
    assert Theme.objects.count() == 2


def test_the_same_name_in_other_case_applies_the_existing_theme(
    client, q4, bob, answers, resources
):
    login(client, bob).post(
        f"/questions/{q4.pk}/themes/",
        {"name": "LACK OF RESOURCES", "answer": answers[0].pk},
        headers=HTMX,
    )
    assert Theme.objects.count() == 1
    assert Coding.objects.get().theme == resources


def test_the_queue_filters_by_status(client, q4, bob, answers, resources):
    services.apply_theme(answers[0], resources, bob)
    login(client, bob)
    html = client.get(f"/questions/{q4.pk}/code/?status=uncoded").content.decode()
    assert "Answer <strong>1</strong> of 2" in html
    html = client.get(f"/questions/{q4.pk}/code/?status=coded").content.decode()
    assert "Answer <strong>1</strong> of 1" in html and "Time." in html


def test_progress_counts_me_and_anyone(client, q4, bob, alice, answers, resources):
    services.apply_theme(answers[0], resources, bob)
    services.mark_no_theme(answers[1], alice)
    html = " ".join(login(client, bob).get(_queue(q4)).content.decode().split())
    assert "Coded by me: <strong>1</strong> / 3" in html
    assert "By anyone: <strong>2</strong> / 3" in html


def test_suggestions_rank_themes_of_similar_coded_answers(
    client, bob, answers, resources, time_theme
):
    services.apply_theme(answers[1], resources, bob)  # "Caseloads are too high"
    answers[2].text = "caseloads far too high"
    answers[2].save()
    html = login(client, bob).get(f"/answers/{answers[2].pk}/suggestions/").content.decode()
    assert html.index("Lack of resources") < html.index("</ol>")


def test_a_worker_keeps_the_suggestion_model_until_the_themes_change_or_it_ages(
    client, bob, alice, answers, resources, time_theme, monkeypatch
):
    built = []
    real = suggestions.assist.Suggester
    monkeypatch.setattr(suggestions.assist, "Suggester", lambda *a: built.append(1) or real(*a))
    url = f"/answers/{answers[2].pk}/suggestions/"
    login(client, bob)
    client.get(url)
    client.get(url)
    assert len(built) == 1  # the second request asked the kept model
    codebook.edit_theme(time_theme, alice, name="Lack of time to visit")
    client.get(url)
    assert len(built) == 2  # a renamed theme: built afresh
    monkeypatch.setattr(suggestions, "MAX_AGE", 0)
    client.get(url)
    assert len(built) == 3  # too old: built afresh


def test_the_model_learns_from_each_of_my_coded_answers_once_oldest_first(
    bob, alice, q4, answers, resources, time_theme
):
    answers[2].text, answers[2].other_text = "", "Agency staff"
    answers[2].save()
    services.apply_theme(answers[2], resources, bob)
    services.apply_theme(answers[0], resources, bob)
    services.apply_theme(answers[0], time_theme, bob)
    services.apply_theme(answers[1], time_theme, alice)  # not mine
    assert suggestions.coded_examples(q4, bob) == [
        (answers[0].text, frozenset({resources.pk, time_theme.pk})),
        ("Agency staff", frozenset({resources.pk})),
    ]


def test_the_queue_page_has_a_query_budget(
    client, q4, bob, answers, resources, django_assert_max_num_queries
):
    services.apply_theme(answers[0], resources, bob)
    login(client, bob)
    # Includes: was anything dealt to me, does a blind round hide others' codings, theirs;
    # no count: those wait for #progress.
    with django_assert_max_num_queries(19) as queries:
        client.get(_queue(q4, answers[0]), headers=HTMX)
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"]]


def test_applying_a_theme_has_a_query_budget(
    client, bob, answers, resources, django_assert_max_num_queries
):
    login(client, bob)
    # The theme re-read under a lock, the coding, mark and event, then the coding form.
    with django_assert_max_num_queries(19) as queries:
        _apply(client, answers[0], resources, **HTMX, **ACTIONS)
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"]]


def test_a_theme_applied_from_the_form_sends_back_only_the_form(client, bob, answers, resources):
    login(client, bob)
    response = _apply(client, answers[0], resources, **HTMX, **ACTIONS)
    html = response.content.decode()
    assert html.lstrip().startswith('<span id="save-state" hx-swap-oob="true"')
    assert '<form method="post" id="actions"' in html and "Lack of resources ✓" in html
    assert "answer-text" not in html and "Coded by me" not in html
    assert response["HX-Trigger-After-Settle"] == "refresh-progress"


def test_applying_a_theme_by_its_button_has_a_query_budget(
    client, bob, answers, resources, django_assert_max_num_queries
):
    services.apply_theme(answers[0], resources, bob)
    services.remove_theme(answers[0], resources, bob)  # the mark is there, not coded
    login(client, bob)
    # Session, user, the answer with my role; the theme locked, the coding (with the mark's
    # status), the mark set, the event (in a savepoint here); then one read for the reply.
    with django_assert_max_num_queries(10) as queries:
        _apply(client, answers[0], resources, **HTMX, **CODED)
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"]]
    with django_assert_max_num_queries(10):
        _remove(client, answers[0], resources, **HTMX, **CODED)


def test_a_theme_button_sends_back_the_chips_the_marks_and_itself(
    client, bob, answers, resources, time_theme
):
    services.apply_theme(answers[0], time_theme, bob)
    response = _apply(login(client, bob), answers[0], resources, **HTMX, **CODED)
    html = response.content.decode()
    assert '<div id="coded"' in html and "No theme applies" in html
    chips = html[html.index('<div class="chips"') : html.index('<div class="marks"')]
    assert chips.index("Lack of resources") < chips.index("Lack of time")  # codebook order
    button = re.search(rf'<button[^>]* id="theme-{resources.pk}"[^>]*>', html).group(0)
    assert 'class="theme on"' in button and 'hx-swap-oob="true"' in button
    assert f'hx-post="/answers/{answers[0].pk}/themes/{resources.pk}/remove/"' in button
    assert f'id="theme-{time_theme.pk}"' not in html  # the other 299 buttons stand
    assert 'id="save-state" hx-swap-oob="true"' in html and "answer-text" not in html
    events = response["HX-Trigger-After-Settle"]
    assert "refresh-progress" in events and "refresh-suggestions" in events

    # The chip's ×: the chip goes, the button turns off and applies again.
    html = _remove(client, answers[0], resources, **HTMX, **CODED).content.decode()
    button = re.search(rf'<button[^>]* id="theme-{resources.pk}"[^>]*>', html).group(0)
    assert 'class="theme"' in button and "/apply/" in button
    assert (
        "Lack of resources" not in html[: html.index('<div class="marks"')].split("</button>", 1)[1]
    )
    assert set(Coding.objects.filter(coder=bob).values_list("theme", flat=True)) == {time_theme.pk}


def test_removing_the_last_theme_by_its_chip_leaves_the_answer_not_coded(
    client, bob, answers, resources
):
    services.apply_theme(answers[0], resources, bob)
    html = _remove(login(client, bob), answers[0], resources, **HTMX, **CODED).content.decode()
    assert "No theme yet." in html
    assert Mark.objects.get(answer=answers[0], coder=bob).status == Mark.Status.UNCODED
    event = Event.objects.filter(action=Event.Action.REMOVE).get()
    assert (event.before, event.after) == ({"status": "coded"}, {"status": ""})


def test_a_theme_merged_away_meanwhile_sends_back_the_whole_form(
    client, project, alice, bob, answers, resources, time_theme
):
    login(client, bob)
    codebook.merge(time_theme, resources, alice)
    html = _apply(client, answers[0], time_theme, **HTMX, **CODED).content.decode()
    assert '<form method="post" id="actions"' in html  # every button, as they now stand
    assert Coding.objects.get(coder=bob).theme == resources


def test_a_theme_applied_from_elsewhere_refreshes_the_panel(client, bob, answers, resources):
    # A suggestion or a search result targets the whole panel.
    html = _apply(login(client, bob), answers[0], resources, **HTMX).content.decode()
    assert 'id="answer-text"' in html and "Lack of resources ✓" in html


def test_the_htmx_panel_leaves_its_counts_to_the_progress_request(client, q4, bob, answers):
    response = login(client, bob).get(_queue(q4, answers[1]), headers=HTMX)
    assert "Coded by me" not in response.content.decode()
    assert response["HX-Trigger-After-Settle"] == "refresh-progress"
    assert '<input type="hidden" id="progress-answer" name="answer"' in response.content.decode()


def test_the_progress_request_counts_and_places_the_answer(
    client, q4, bob, answers, resources, django_assert_max_num_queries
):
    services.apply_theme(answers[0], resources, bob)
    login(client, bob)
    url = f"/questions/{q4.pk}/code/progress/?status=uncoded&answer={answers[1].pk}"
    with django_assert_max_num_queries(14):
        html = " ".join(client.get(url, headers=HTMX).content.decode().split())
    assert "Coded by me: <strong>1</strong> / 3" in html
    assert "Answer <strong>1</strong> of 2 (filtered)" in html
    # Only the contents: #progress itself stays on the page, listening for refreshes
    # (swapped whole, it would miss one sent before htmx wired up its replacement).
    assert 'id="progress"' not in html
    page = client.get(f"/questions/{q4.pk}/code/?status=uncoded").content.decode()
    assert f'hx-get="/questions/{q4.pk}/code/progress/?status=uncoded"' in page
    assert 'hx-swap="innerHTML"' in page.split('id="progress"')[1].split(">")[0]


def test_the_progress_request_refuses_an_answer_of_another_question(client, q4, bob, poll):
    other = make_free_text(poll, ["Elsewhere"]).answers.get()
    url = f"/questions/{q4.pk}/code/progress/?answer={other.pk}"
    assert login(client, bob).get(url).status_code == 404


def test_an_answer_id_of_another_question_falls_back_to_the_queue_start(client, q4, bob, poll):
    other = make_free_text(poll, ["Elsewhere"]).answers.get()
    html = login(client, bob).get(_queue(q4, other)).content.decode()
    assert "Answer <strong>1</strong> of 3" in html
