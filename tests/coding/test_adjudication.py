"""The agreement page, the disagreements list, settling answers, and the consensus in reports."""

from __future__ import annotations

import csv
import random
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coding import services
from coding.agreement import (
    fleiss_kappa,
    group_theme_table,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement_counts,
)
from coding.agreement_report import RARE_USES, band
from coding.models import Adjudication, Coding, Event, Mark, Round
from polls.models import Membership
from tests.conftest import login
from tests.factories import make_free_text, make_poll

HTMX = {"HX-Request": "true"}


def _coder(project, name):
    user = get_user_model().objects.create_user(name)
    Membership.objects.create(project=project, user=user, role=Membership.Role.CODER)
    return user


@pytest.fixture
def dana(project):
    return _coder(project, "dana")


@pytest.fixture
def erin(project):
    return _coder(project, "erin")


@pytest.fixture
def big_poll(project):
    return make_poll(project, title="Poll 5", respondents=90)


@pytest.fixture
def themes(project, alice):
    resources = services.create_theme(project, "Resources", alice)
    return {
        "S": services.create_theme(project, "Staffing", alice),
        "T": services.create_theme(project, "Time", alice),
        "M": services.create_theme(project, "Money", alice, parent=resources),
        "R": resources,
    }


def _code(answer, coder, theme_list):
    """A coder finishes an answer: these themes, or "no theme applies" for none."""
    if not theme_list:
        services.mark_no_theme(answer, coder)
    for theme in theme_list:
        services.apply_theme(answer, theme, coder)


def _bulk_code(coder, coded: dict):
    """{answer: themes} finished by one coder, straight in the ORM (fast for many answers)."""
    Coding.objects.bulk_create(
        Coding(answer=a, theme=t, coder=coder) for a, ts in coded.items() for t in ts
    )
    Mark.objects.bulk_create(
        Mark(answer=a, coder=coder, status=Mark.Status.CODED if ts else Mark.Status.NO_THEME)
        for a, ts in coded.items()
    )


# Small scene: bob and dana on ten answers ------------------------------------------

# answer: (bob's themes, dana's themes); None = did not code it
SCENE = {
    0: ("S", "S"),
    1: ("S", "ST"),  # disagreement
    2: ("T", "M"),  # disagreement
    3: ("", ""),  # both: no theme applies
    4: ("ST", "ST"),
    5: ("", "S"),  # disagreement
    6: ("M", None),  # bob only
    7: (None, "T"),  # dana only
    8: ("S", "S"),
}


@pytest.fixture
def question(big_poll):
    return make_free_text(big_poll, [f"Scene answer {i}" for i in range(10)])


@pytest.fixture
def answers(question):
    return list(question.answers.order_by("pk"))


@pytest.fixture
def scene(answers, themes, bob, dana):
    for i, (by_bob, by_dana) in SCENE.items():
        for coder, letters in ((bob, by_bob), (dana, by_dana)):
            if letters is not None:
                _code(answers[i], coder, [themes[x] for x in letters])
    return answers


def _leave_unfinished(client, answer, theme, coder):
    """A coder applies a theme, then a stale tab still showing "no theme applies" turns it
    off: the coding stays, the answer is no longer finished (Mark status "")."""
    services.mark_no_theme(answer, coder)
    login(client, coder)
    client.post(f"/answers/{answer.pk}/themes/{theme.pk}/apply/")
    client.post(f"/answers/{answer.pk}/no-theme/", {"on": "0"})
    client.logout()
    assert Mark.objects.get(answer=answer, coder=coder).status == Mark.Status.UNCODED
    assert Coding.objects.filter(answer=answer, coder=coder, theme=theme).exists()


def _agreement(question, query=""):
    return f"/questions/{question.pk}/agreement/" + (f"?{query}" if query else "")


def _disagreements(question, query=""):
    return f"/questions/{question.pk}/disagreements/" + (f"?{query}" if query else "")


def _row_ids(html):
    return [int(pk) for pk in re.findall(r'<tr id="disagreement-(\d+)"', html)]


def _settle(client, answer, headers=None, **data):
    data.setdefault("round", "all")
    return client.post(f"/answers/{answer.pk}/settle/", data, headers=headers or {})


def _consensus_cell(html):
    return re.search(r'<td class="consensus">(.*?)</td>', html, re.S).group(1)


def _chips(fragment):
    return re.findall(r'<span class="chip small"[^>]*>([^<]+)</span>', fragment)


# Who may see it ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "vera"])
def test_coders_and_viewers_are_refused(client, scene, question, bob, vera, who):
    login(client, {"bob": bob, "vera": vera}[who])
    assert client.get(_agreement(question)).status_code == 403
    assert client.get(_agreement(question, "format=csv")).status_code == 403
    assert client.get(_disagreements(question)).status_code == 403
    assert _settle(client, scene[1], choice="union").status_code == 403
    assert client.post(f"/answers/{scene[1].pk}/unsettle/").status_code == 403
    assert not Adjudication.objects.exists()


def test_an_outsider_gets_404(client, scene, question, charlie):
    login(client, charlie)
    assert client.get(_agreement(question)).status_code == 404
    assert client.get(_disagreements(question)).status_code == 404
    assert _settle(client, scene[1], choice="union").status_code == 404
    assert client.post(f"/answers/{scene[1].pk}/unsettle/").status_code == 404
    assert not Adjudication.objects.exists()


def test_settling_needs_a_post(client, scene, alice):
    login(client, alice)
    assert client.get(f"/answers/{scene[1].pk}/settle/").status_code == 405
    assert client.get(f"/answers/{scene[1].pk}/unsettle/").status_code == 405


# The agreement page -------------------------------------------------------------------


def test_the_page_counts_the_answers_both_finished(client, scene, question, alice):
    html = login(client, alice).get(_agreement(question)).content.decode()
    # 0, 1, 2, 3, 4, 5, 8: not 6 and 7 (one coder)
    assert "<strong>7</strong> answers coded by at least two of" in html
    assert "<strong>bob</strong> (8 finished)" in html
    assert "<strong>dana</strong> (8 finished)" in html
    assert "Krippendorff (2004)" in html
    assert '<th class="num">Cohen&#x27;s κ</th>' in html
    assert "Fewer than 50 answers were compared" in html
    assert "3 disagreements</a>, 0 settled" in html
    for name in ("Staffing", "Time", "Money"):
        assert f">{name}</a></td>" in html
    assert "Coder pairs" not in html  # one pair only


def test_without_two_coders_there_is_nothing_to_compare(
    client, question, answers, themes, alice, bob
):
    _code(answers[0], bob, [themes["S"]])
    html = login(client, alice).get(_agreement(question)).content.decode()
    assert "Agreement needs two coders who coded the same answers." in html
    assert "So far 1 coder finished answers" in html


def _theme_row(html, theme):
    pattern = rf'<tr>\s*<td><a href="[^"]*theme={theme.pk}">.*?</tr>'
    return re.search(pattern, html, re.S).group(0)


@pytest.fixture
def banded(big_poll, project, alice, bob, dana):
    """40 answers, two coders, one theme in each band, a rare one, a paradox, no variation."""
    question = make_free_text(big_poll, [f"Banded answer {i}" for i in range(40)], qid="Q10")
    answers = list(question.answers.order_by("pk"))
    names = ["Reliable", "Tentative", "Unreliable", "Rare", "Paradox", "Everywhere"]
    t = {n: services.create_theme(project, n, alice) for n in names}
    bob_sets = {a: {t["Everywhere"]} for a in answers}
    dana_sets = {a: {t["Everywhere"]} for a in answers}

    def tag(sets, theme, indices):
        for i in indices:
            sets[answers[i]].add(theme)

    tag(bob_sets, t["Reliable"], range(20))  # κ = 1
    tag(dana_sets, t["Reliable"], range(20))
    tag(bob_sets, t["Tentative"], range(10))  # κ = 0.733
    tag(dana_sets, t["Tentative"], [*range(8), 10, 11])
    tag(bob_sets, t["Unreliable"], range(20, 30))  # κ = 0.333
    tag(dana_sets, t["Unreliable"], range(25, 35))
    tag(bob_sets, t["Rare"], [30])  # used 3 times
    tag(dana_sets, t["Rare"], [30, 31])
    tag(bob_sets, t["Paradox"], [0, 1, 2])  # 92.5% agreement, κ = 0.362
    tag(dana_sets, t["Paradox"], [2, 3])
    _bulk_code(bob, bob_sets)
    _bulk_code(dana, dana_sets)
    return question, t


def test_bands_rare_themes_and_the_kappa_paradox(client, banded, alice):
    question, t = banded
    html = login(client, alice).get(_agreement(question)).content.decode()
    assert "<strong>40</strong> answers coded by at least two of" in html
    reliable = _theme_row(html, t["Reliable"])
    assert reliable.count('class="figure reliable"') == 3
    assert "100.0%" in reliable
    tentative = _theme_row(html, t["Tentative"])
    assert '<span class="figure tentative" title="tentative">0.733</span>' in tentative
    assert "90.0%" in tentative
    unreliable = _theme_row(html, t["Unreliable"])
    assert '<span class="figure unreliable" title="unreliable">0.333</span>' in unreliable
    rare = _theme_row(html, t["Rare"])
    assert "too rare for a coefficient (used 3 times)" in rare
    assert 'class="figure' not in rare
    paradox = _theme_row(html, t["Paradox"])
    assert "92.5%" in paradox
    assert "kappa paradox" in paradox
    assert "figure unreliable" in paradox
    everywhere = _theme_row(html, t["Everywhere"])
    assert "no variation" in everywhere and "kappa paradox" not in everywhere
    # Rows by use, most used first
    order = [html.index(f'theme={t[n].pk}"') for n in ("Everywhere", "Reliable", "Unreliable")]
    assert order == sorted(order)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "none"), (1.0, "reliable"), (0.8, "reliable"), (0.7999, "tentative"),
     (0.667, "tentative"), (0.6669, "unreliable"), (-0.2, "unreliable")],
)  # fmt: skip
def test_band_thresholds(value, expected):
    assert band(value) == expected
    assert RARE_USES == 5


def test_the_csv_download_is_the_agreement_command(client, banded, project, alice, bob, dana):
    question, _ = banded
    response = login(client, alice).get(_agreement(question, "format=csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="agreement-Q10-bob-dana.csv"' in response["Content-Disposition"]
    out = StringIO()
    call_command(
        "agreement", "--project", project.name, "--poll", question.poll.title,
        "--question", "Q10", "--coders", "bob,dana", stdout=out,
    )  # fmt: skip
    assert response.content.decode() == out.getvalue()
    assert out.getvalue().splitlines()[-1].startswith("ALL,40,")


def test_three_coders_get_fleiss_kappa_and_a_pair_table(client, banded, alice, bob, dana, erin):
    question, t = banded
    _bulk_code(erin, {a: {t["Everywhere"], t["Reliable"]} for a in question.answers.all()[:30]})
    html = login(client, alice).get(_agreement(question)).content.decode()
    assert '<th class="num">Fleiss&#x27; κ</th>' in html
    assert "Cohen" not in html
    assert "Coder pairs" in html
    for a, b in ((bob, dana), (bob, erin), (dana, erin)):
        assert f'href="?round=all&amp;pair={a.pk},{b.pk}"' in html
    assert "Download as CSV" not in html  # a CSV is for two coders
    pair = client.get(_agreement(question, f"round=all&pair={bob.pk},{erin.pk}")).content.decode()
    assert '<th class="num">Cohen&#x27;s κ</th>' in pair
    assert "Per theme: bob and erin" in pair
    assert "Back to all 3 coders" in pair
    assert "<strong>30</strong> answers coded by at least two of" in pair
    csv_response = client.get(
        _agreement(question, f"round=all&pair={dana.pk},{erin.pk}&format=csv")
    )
    assert 'filename="agreement-Q10-dana-erin.csv"' in csv_response["Content-Disposition"]
    # a pair outside the scope falls back to every coder
    odd = client.get(_agreement(question, f"pair={bob.pk},{alice.pk}")).content.decode()
    assert "Coder pairs" in odd


def test_a_round_compares_its_overlap_sample(client, question, answers, themes, alice, bob, dana):
    login(client, alice).post(
        f"/questions/{question.pk}/rounds/",
        {"coders": [bob.pk, dana.pk], "overlap_percent": 40, "overlap_coders": 2, "seed": 3,
         "blind": "on"},
    )  # fmt: skip
    round_ = Round.objects.get()
    overlap = [a.answer for a in round_.assignments.filter(overlap=True, coder=bob)]
    assert len(overlap) == 4
    for answer in overlap:
        _code(answer, bob, [themes["S"]])
        _code(answer, dana, [themes["T"]])
    # an answer dealt to bob alone, which dana coded too (scope=all)
    solo = round_.assignments.filter(overlap=False, coder=bob).first().answer
    _code(solo, bob, [themes["S"]])
    _code(solo, dana, [themes["S"]])
    html = client.get(_agreement(question)).content.decode()
    assert "<strong>4</strong> answers coded by at least two of" in html
    assert "in the overlap sample of round 1, coded blind" in html
    everything = client.get(_agreement(question, "round=all")).content.decode()
    assert "<strong>5</strong> answers coded by at least two of" in everything
    listed = client.get(_disagreements(question)).content.decode()
    assert sorted(_row_ids(listed)) == sorted(a.pk for a in overlap)


# Disagreements -------------------------------------------------------------------------


def test_only_answers_with_different_theme_sets_are_listed(client, scene, question, alice):
    html = login(client, alice).get(_disagreements(question)).content.decode()
    assert _row_ids(html) == [scene[1].pk, scene[2].pk, scene[5].pk]
    assert "<strong>0</strong> of 3 settled, <strong>3</strong> to go." in html
    row = re.search(rf'<tr id="disagreement-{scene[5].pk}".*?</tr>', html, re.S).group(0)
    assert "no theme" in row and "Staffing" in row


def test_the_theme_filter(client, scene, question, themes, alice):
    login(client, alice)
    money = client.get(_disagreements(question, f"round=all&theme={themes['M'].pk}"))
    assert _row_ids(money.content.decode()) == [scene[2].pk]
    staffing = client.get(_disagreements(question, f"theme={themes['S'].pk}")).content.decode()
    assert _row_ids(staffing) == [scene[1].pk, scene[5].pk]
    assert _row_ids(client.get(_disagreements(question, "theme=junk")).content.decode()) == [
        scene[1].pk, scene[2].pk, scene[5].pk,
    ]  # fmt: skip


def test_the_status_filter(client, scene, question, dana, alice):
    login(client, alice)
    _settle(client, scene[1], choice=f"coder:{dana.pk}")
    settled = client.get(_disagreements(question, "status=settled")).content.decode()
    assert _row_ids(settled) == [scene[1].pk]
    still_open = client.get(_disagreements(question, "status=open")).content.decode()
    assert _row_ids(still_open) == [scene[2].pk, scene[5].pk]
    assert "<strong>1</strong> of 3 settled, <strong>2</strong> to go." in still_open
    agreement = client.get(_agreement(question)).content.decode()
    assert "3 disagreements</a>, 1 settled" in agreement


def test_no_disagreements(client, question, answers, themes, alice, bob, dana):
    _code(answers[0], bob, [themes["S"]])
    _code(answers[0], dana, [themes["S"]])
    html = login(client, alice).get(_disagreements(question)).content.decode()
    assert _row_ids(html) == []
    assert "No disagreements: the coders agree on every answer they share." in html


# Settling ----------------------------------------------------------------------------


def test_settling_with_htmx_returns_the_row_and_the_progress(
    client, scene, question, themes, alice, dana
):
    login(client, alice)
    here = _disagreements(question, "round=all")
    response = _settle(
        client, scene[1], HTMX, choice=f"coder:{dana.pk}", note="Time is named", next=here
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith(f'<tr id="disagreement-{scene[1].pk}" class="settled"')
    assert sorted(_chips(_consensus_cell(html))) == ["Staffing", "Time"]
    assert "Took dana's, alice: “Time is named”" in html
    assert "Reopen" in html
    progress = re.search(r'<p id="settle-progress"[^>]*>', html).group(0)
    assert 'hx-swap-oob="true"' in progress
    assert "<strong>1</strong> of 3 settled, <strong>2</strong> to go." in html
    settled = Adjudication.objects.get(answer=scene[1])
    assert settled.method == Adjudication.Method.CODER
    assert settled.taken_from == dana and settled.settled_by == alice
    assert settled.note == "Time is named"
    assert set(settled.themes.all()) == {themes["S"], themes["T"]}
    (event,) = Event.objects.filter(action=Event.Action.SETTLE)
    assert event.answer == scene[1] and event.user == alice and event.before == {}
    assert event.after == {
        "method": "coder", "themes": sorted([themes["S"].pk, themes["T"].pk]),
        "note": "Time is named", "taken_from": "dana",
    }  # fmt: skip
    # the coders' own codings stay as they were
    assert set(Coding.objects.filter(answer=scene[1], coder__username="bob")) == set(
        Coding.objects.filter(answer=scene[1], coder__username="bob", theme=themes["S"])
    )


def test_settling_without_htmx_goes_back_to_next(client, scene, question, bob, alice):
    here = _disagreements(question, "round=all&status=open")
    response = _settle(login(client, alice), scene[2], choice=f"coder:{bob.pk}", next=here)
    assert response.status_code == 302
    assert response["Location"] == here
    plain = _settle(client, scene[5], choice="union")
    assert plain["Location"] == _disagreements(question, "round=all")


def test_settling_never_redirects_off_site(client, scene, alice):
    response = _settle(login(client, alice), scene[2], choice="union", next="https://evil.example/")
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


def test_taking_the_union(client, scene, themes, alice):
    _settle(login(client, alice), scene[2], choice="union")
    settled = Adjudication.objects.get(answer=scene[2])
    assert settled.method == "union" and settled.taken_from is None
    assert set(settled.themes.all()) == {themes["T"], themes["M"]}


def test_editing_with_a_theme_added_by_name(client, scene, themes, alice):
    response = _settle(
        login(client, alice), scene[5], HTMX, choice="edit",
        themes=[themes["S"].pk, "junk"], add="  money ",
    )  # fmt: skip
    assert response.status_code == 200
    settled = Adjudication.objects.get(answer=scene[5])
    assert settled.method == "edit"
    assert set(settled.themes.all()) == {themes["S"], themes["M"]}
    assert sorted(_chips(_consensus_cell(response.content.decode()))) == ["Money", "Staffing"]


def test_an_edit_may_settle_on_no_theme(client, scene, alice):
    response = _settle(login(client, alice), scene[1], HTMX, choice="edit")
    assert response.status_code == 200
    assert not Adjudication.objects.get(answer=scene[1]).themes.exists()
    assert "no theme" in _consensus_cell(response.content.decode())


def test_a_theme_of_another_project_is_ignored(client, scene, charlie, alice):
    elsewhere = services.create_theme(charlie.memberships.get().project, "Elsewhere", charlie)
    _settle(login(client, alice), scene[1], choice="edit", themes=[elsewhere.pk])
    assert not Adjudication.objects.get(answer=scene[1]).themes.exists()
    assert _settle(client, scene[2], choice="edit", add="Elsewhere").status_code == 400


@pytest.mark.parametrize(
    "data",
    [
        {},  # no choice
        {"choice": "everything"},
        {"choice": "edit", "add": "No such theme"},
        {"choice": "coder:"},
        {"choice": "coder:abc"},
        {"choice": "coder:ALICE"},  # alice did not code the answer
    ],
)
def test_invalid_settlements_are_refused(client, scene, alice, data):
    if data.get("choice") == "coder:ALICE":
        data = {"choice": f"coder:{alice.pk}"}
    response = _settle(login(client, alice), scene[1], HTMX, **data)
    assert response.status_code == 400
    assert not Adjudication.objects.exists()
    assert not Event.objects.filter(action=Event.Action.SETTLE).exists()


def test_settling_again_replaces_the_settlement(client, scene, themes, bob, alice):
    login(client, alice)
    _settle(client, scene[2], choice="union", note="first")
    _settle(client, scene[2], choice=f"coder:{bob.pk}", note="second")
    settled = Adjudication.objects.get(answer=scene[2])
    assert settled.method == "coder" and settled.taken_from == bob and settled.note == "second"
    assert set(settled.themes.all()) == {themes["T"]}
    first, second = Event.objects.filter(action=Event.Action.SETTLE).order_by("pk")
    assert second.before == {
        "method": "union", "themes": sorted([themes["T"].pk, themes["M"].pk]), "note": "first"
    }  # fmt: skip


def test_reopening_a_settled_answer(client, scene, question, themes, dana, alice):
    login(client, alice)
    _settle(client, scene[1], choice=f"coder:{dana.pk}")
    response = client.post(f"/answers/{scene[1].pk}/unsettle/", {"round": "all"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'class="settle-form"' in html and "Reopen" not in html
    assert "<strong>0</strong> of 3 settled" in html
    assert not Adjudication.objects.exists()
    (event,) = Event.objects.filter(action=Event.Action.UNSETTLE)
    assert event.before["method"] == "coder" and event.after == {}
    again = client.post(f"/answers/{scene[1].pk}/unsettle/", {"round": "all"})
    assert again.status_code == 302
    assert Event.objects.filter(action=Event.Action.UNSETTLE).count() == 1
    html = client.get(_disagreements(question, "status=open")).content.decode()
    assert _row_ids(html) == [scene[1].pk, scene[2].pk, scene[5].pk]


# The consensus in reports ----------------------------------------------------------------


def _theme_counts(tmp_path, poll, qid, *extra) -> dict[str, int]:
    out = tmp_path / "report"
    call_command(
        "export_report", "--project", poll.project.name, "--poll", poll.title,
        "--out", str(out), *extra, stdout=StringIO(),
    )  # fmt: skip
    with (out / f"{qid}.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[1:]
    return {r[2]: int(r[4]) for r in rows if r[1] == "theme"}


def test_the_consensus_keeps_what_every_coder_applied(tmp_path, scene, question):
    # Staffing: 0, 1, 4, 8 (not 5: bob said no theme); Time: 4, and 7 (dana alone);
    # Money: 6 (bob alone), rolled up into its parent Resources.
    counts = _theme_counts(tmp_path, question.poll, "Q9")
    assert counts == {"Staffing": 4, "Time": 2, "Money": 1, "Resources": 1}


def test_an_unfinished_answer_is_not_compared(client, scene, question, themes, alice, bob, dana):
    _code(scene[9], bob, [themes["S"]])
    _leave_unfinished(client, scene[9], themes["T"], dana)
    login(client, alice)
    html = client.get(_agreement(question)).content.decode()
    assert "<strong>7</strong> answers coded by at least two of" in html
    assert scene[9].pk not in _row_ids(client.get(_disagreements(question)).content.decode())


def test_a_coders_unfinished_codings_do_not_veto_the_consensus(
    client, tmp_path, scene, question, themes, bob, dana
):
    _code(scene[9], bob, [themes["S"]])
    _leave_unfinished(client, scene[9], themes["T"], dana)
    counts = _theme_counts(tmp_path, question.poll, "Q9")
    assert counts["Staffing"] == 5  # 0, 1, 4, 8 and 9, which bob alone finished


def test_settlements_make_the_consensus(client, tmp_path, scene, question, themes, dana, alice):
    login(client, alice)
    _settle(client, scene[1], choice=f"coder:{dana.pk}")  # Staffing, Time
    _settle(client, scene[2], choice="union")  # Time, Money
    _settle(client, scene[5], choice="edit", themes=[themes["S"].pk], add="Money")
    counts = _theme_counts(tmp_path, question.poll, "Q9")
    assert counts == {"Staffing": 5, "Time": 4, "Money": 3, "Resources": 3}
    client.post(f"/answers/{scene[2].pk}/unsettle/")
    assert _theme_counts(tmp_path, question.poll, "Q9") == {
        "Staffing": 5, "Time": 3, "Money": 2, "Resources": 2,
    }  # fmt: skip


def test_one_coders_report_ignores_settlements(client, tmp_path, scene, question, themes, alice):
    before = _theme_counts(tmp_path, question.poll, "Q9", "--source", "coder:bob")
    assert before == {"Staffing": 4, "Time": 2, "Money": 1, "Resources": 1}
    login(client, alice)
    _settle(client, scene[2], choice="union")
    _settle(client, scene[5], choice="edit", themes=[themes["M"].pk])
    assert _theme_counts(tmp_path, question.poll, "Q9", "--source", "coder:bob") == before


# group_theme_table against the general functions -------------------------------------


def _random_units(rng, coders, units, themes, missing):
    return [
        [
            None if rng.random() < missing else frozenset(t for t in themes if rng.random() < 0.35)
            for _ in range(coders)
        ]
        for _ in range(units)
    ]


@pytest.mark.parametrize("seed", range(12))
def test_group_theme_table_matches_the_general_functions(seed):
    rng = random.Random(seed)
    coders = rng.choice([2, 3, 4, 5])
    units = _random_units(rng, coders, rng.randint(5, 40), ["a", "b", "c", "d"], 0.3)
    table = group_theme_table(units)
    used = {t for u in units for s in u if s is not None for t in s}
    assert [row.theme for row in table] == sorted(used)
    pairable = [u for u in units if sum(s is not None for s in u) >= 2]
    for row in table:
        values = [[None if s is None else int(row.theme in s) for s in u] for u in units]
        counts = [[sum(v == 0 for v in u), sum(v == 1 for v in u)] for u in values]
        assert row.units == len(pairable)
        assert row.applied == tuple(
            sum(1 for u in pairable if u[c] is not None and row.theme in u[c])
            for c in range(coders)
        )
        for got, want in (
            (row.percent_agreement, percent_agreement_counts(counts)),
            (row.fleiss_kappa, fleiss_kappa(values, categories=[0, 1])),
            (row.gwet_ac1, gwet_ac1(values, categories=[0, 1])),
            (row.krippendorff_alpha, krippendorff_alpha(values)),
        ):
            if want is None:
                assert got is None
            else:
                assert got == pytest.approx(want, abs=1e-9)


def test_group_theme_table_with_nothing_to_pair():
    units = [[frozenset({"a"}), None, None], [None, None, frozenset()]]
    (row,) = group_theme_table(units)
    assert row.units == 0 and row.applied == (0, 0, 0)
    assert row.percent_agreement is None and row.fleiss_kappa is None
    assert row.gwet_ac1 is None and row.krippendorff_alpha is None
    assert group_theme_table([]) == []


# Query budgets ------------------------------------------------------------------------


def _patterned(big_poll, project, qid, size, themes, bob, dana, alice):
    """`size` answers coded by bob and dana in a repeating pattern, half of the
    disagreements settled."""
    question = make_free_text(big_poll, [f"{qid} answer {i}" for i in range(size)], qid=qid)
    answers = list(question.answers.order_by("pk"))
    pattern = [("S", "S"), ("S", "ST"), ("T", "M"), ("", "S"), ("M", "M")]
    bob_sets, dana_sets = {}, {}
    for i, answer in enumerate(answers):
        b, d = pattern[i % len(pattern)]
        bob_sets[answer] = {themes[x] for x in b}
        dana_sets[answer] = {themes[x] for x in d}
    _bulk_code(bob, bob_sets)
    _bulk_code(dana, dana_sets)
    differ = [a for a in answers if bob_sets[a] != dana_sets[a]]
    for answer in differ[::2]:
        Adjudication.objects.create(
            answer=answer, method="coder", taken_from=bob, settled_by=alice
        ).themes.set(bob_sets[answer])
    return question


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.fixture
def sized(big_poll, project, themes, alice, bob, dana):
    small = _patterned(big_poll, project, "Q20", 10, themes, bob, dana, alice)
    large = _patterned(big_poll, project, "Q21", 40, themes, bob, dana, alice)
    return small, large


def test_the_agreement_page_takes_a_fixed_number_of_queries(
    client, sized, alice, django_assert_max_num_queries
):
    small, large = sized
    login(client, alice)
    client.get(_agreement(small))  # session and caches warm
    cache.clear()  # each counted afresh, not kept (coding.agreement_views._figures)
    assert _queries(client, _agreement(small)) == _queries(client, _agreement(large))
    cache.clear()
    with django_assert_max_num_queries(16):
        client.get(_agreement(large))


def _page(client, question) -> str:
    """The agreement page without its CSRF tokens, which change with every page."""
    html = client.get(_agreement(question)).content.decode()
    return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', "", html)


def test_the_agreement_figures_are_kept_until_a_coding_changes(client, sized, alice, bob, themes):
    _, question = sized
    login(client, alice)
    before = _page(client, question)
    with CaptureQueriesContext(connection) as kept:
        assert _page(client, question) == before
    assert not [q for q in kept.captured_queries if "coding_coding" in q["sql"]]
    answer = question.answers.order_by("pk").first()
    theme = next(t for t in themes.values() if not answer.codings.filter(theme=t).exists())
    services.apply_theme(answer, theme, bob)
    with CaptureQueriesContext(connection) as counted:
        after = _page(client, question)
    assert [q for q in counted.captured_queries if "coding_coding" in q["sql"]]
    assert after != before


def test_a_kept_report_shows_a_theme_renamed_since(client, sized, alice, themes):
    _, question = sized
    login(client, alice)
    assert "Staffing" in _page(client, question)
    themes["S"].name = "Staff shortages"
    themes["S"].save()  # names are no coding: the version stays, the figures are kept
    html = _page(client, question)
    assert "Staff shortages" in html and "Staffing" not in html


def test_the_disagreements_page_takes_a_fixed_number_of_queries_open(
    client, sized, alice, django_assert_max_num_queries
):
    small, large = sized
    login(client, alice)
    client.get(_disagreements(small))
    small_n = _queries(client, _disagreements(small, "status=open"))
    assert small_n == _queries(client, _disagreements(large, "status=open"))
    with django_assert_max_num_queries(16):
        client.get(_disagreements(large, "status=open"))


def test_the_disagreements_page_takes_a_fixed_number_of_queries_settled(client, sized, alice):
    small, large = sized
    login(client, alice)
    client.get(_disagreements(small))
    assert _queries(client, _disagreements(small)) == _queries(client, _disagreements(large))
