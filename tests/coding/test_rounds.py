"""Rounds: dealing a question's answers among coders, the queue they see, and blind coding."""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from itertools import combinations

import pytest
from django.contrib.auth import get_user_model

from coding import services
from coding.assignments import deal, default_overlap_percent, overlap_size
from coding.models import Assignment, Coding, Event, Round
from polls.models import Answer, Membership
from tests.conftest import login
from tests.factories import make_free_text, make_poll

ANSWERS = 100


@pytest.fixture
def big_poll(project):
    return make_poll(project, title="Poll 4", respondents=130)


@pytest.fixture
def question(big_poll):
    """100 written answers and two blank ones (nothing to code, never dealt)."""
    return make_free_text(big_poll, [f"Answer number {i}" for i in range(ANSWERS)] + ["", ""])


@pytest.fixture
def dana(project):
    user = get_user_model().objects.create_user("dana")
    Membership.objects.create(project=project, user=user, role=Membership.Role.CODER)
    return user


@pytest.fixture
def staffing(project, alice):
    return services.create_theme(project, "Staffing", alice)


def _rounds_url(question):
    return f"/questions/{question.pk}/rounds/"


def _deal(client, question, coders, percent=20, seed=7, blind=True, per_overlap=2):
    data = {
        "coders": [c.pk for c in coders],
        "overlap_percent": percent,
        "overlap_coders": per_overlap,
        "seed": seed,
    }
    if blind:
        data["blind"] = "on"
    return client.post(_rounds_url(question), data)


def _dealt(round_) -> dict[int, list[int]]:
    """answer id → the coders it went to, in that round."""
    by_answer = defaultdict(list)
    for answer_id, coder_id in round_.assignments.values_list("answer_id", "coder_id"):
        by_answer[answer_id].append(coder_id)
    return by_answer


def _add_answers(question, count):
    people = question.poll.respondents.exclude(answers__question=question).order_by("position")
    Answer.objects.bulk_create(
        Answer(question=question, respondent=p, text=f"Late answer {i}")
        for i, p in enumerate(people[:count])
    )


def _events(action):
    return list(Event.objects.filter(action=action).order_by("pk"))


# deal(): a pure function ----------------------------------------------------------


def _check_deal(answer_ids, coders, overlap, dealt, per_overlap=2):
    by_answer = defaultdict(list)
    shared = {}
    for answer, coder, in_overlap in dealt:
        by_answer[answer].append(coder)
        assert shared.setdefault(answer, in_overlap) == in_overlap
    assert set(by_answer) == set(answer_ids)
    assert sum(shared.values()) == overlap
    for answer, got in by_answer.items():
        assert len(got) == len(set(got)), "an answer went twice to one coder"
        assert set(got) <= set(coders)
        assert len(got) == (per_overlap if shared[answer] else 1)
    loads = Counter(coder for _, coder, _ in dealt)
    counts = [loads.get(c, 0) for c in coders]
    assert max(counts) - min(counts) <= 1
    assert dealt == sorted(dealt)


@pytest.mark.parametrize("coders", [2, 3, 4, 5, 7])
@pytest.mark.parametrize("answers", [1, 2, 9, 100, 101])
def test_deal_balances_loads_and_doubles_only_the_overlap(coders, answers):
    rng = random.Random(coders * 1000 + answers)
    answer_ids = rng.sample(range(1, 10_000), answers)
    coder_ids = rng.sample(range(1, 500), coders)
    for overlap in {0, 1, answers // 5, answers // 2, answers}:
        dealt = deal(answer_ids, coder_ids, overlap, seed=rng.randrange(10**6))
        _check_deal(answer_ids, coder_ids, overlap, dealt)
        for per_overlap in range(3, coders + 1):
            dealt = deal(answer_ids, coder_ids, overlap, rng.randrange(10**6), per_overlap)
            _check_deal(answer_ids, coder_ids, overlap, dealt, per_overlap)


def test_deal_without_answers_deals_nothing():
    assert deal([], [1, 2], 0, seed=1) == []


def test_one_coder_takes_everything_without_an_overlap():
    dealt = deal(range(10), [5], 0, seed=3)
    assert dealt == [(a, 5, False) for a in range(10)]


def test_deal_is_reproducible_whatever_the_input_order():
    answers = list(range(200, 300))
    first = deal(answers, [3, 1, 2], 20, seed=42)
    assert deal(answers, [3, 1, 2], 20, seed=42) == first
    assert deal(list(reversed(answers)), [2, 3, 1], 20, seed=42) == first


def test_another_seed_deals_differently():
    answers = list(range(100))
    deals = {tuple(deal(answers, [1, 2], 20, seed=s)) for s in range(5)}
    assert len(deals) == 5
    overlaps = {frozenset(a for a, _, shared in d if shared) for d in deals}
    assert len(overlaps) == 5  # a different overlap sample too


def test_three_coders_rotate_through_every_pair():
    dealt = deal(range(100), [1, 2, 3], 30, seed=11)
    pairs = defaultdict(set)
    for answer, coder, shared in dealt:
        if shared:
            pairs[answer].add(coder)
    counts = Counter(frozenset(p) for p in pairs.values())
    assert set(counts) == {frozenset(p) for p in combinations([1, 2, 3], 2)}
    assert max(counts.values()) - min(counts.values()) <= 1


def test_four_coders_rotate_through_every_pair():
    dealt = deal(range(100), [1, 2, 3, 4], 30, seed=5)
    pairs = defaultdict(set)
    for answer, coder, shared in dealt:
        if shared:
            pairs[answer].add(coder)
    seen = {frozenset(p) for p in pairs.values()}
    assert seen == {frozenset(p) for p in combinations([1, 2, 3, 4], 2)}


@pytest.mark.parametrize(
    ("answers", "percent"),
    [(0, 20), (10, 100), (40, 100), (50, 100), (60, 84), (100, 50), (249, 21), (250, 20),
     (1000, 20), (100_000, 20)],
)  # fmt: skip
def test_the_default_overlap_reaches_fifty_answers_where_it_can(answers, percent):
    assert default_overlap_percent(answers) == percent
    if answers:
        assert overlap_size(answers, percent) >= min(answers, 50)


@pytest.mark.parametrize(
    ("answers", "percent", "size"),
    [(100, 20, 20), (0, 20, 0), (7, 50, 4), (5, 10, 1), (4, 10, 0), (3, 100, 3)],
)
def test_overlap_size_rounds_half_up(answers, percent, size):
    assert overlap_size(answers, percent) == size


# Dealing through the rounds page ------------------------------------------------------


def test_the_page_proposes_the_overlap_and_lists_who_can_code(
    client, question, alice, bob, vera, dana, charlie
):
    html = login(client, alice).get(_rounds_url(question)).content.decode()
    assert "100 answers not dealt yet" in html
    assert 'name="overlap_percent" value="50"' in html  # raised to reach 50 answers
    assert f'value="{bob.pk}"' in html and f'value="{dana.pk}"' in html
    assert f'value="{alice.pk}"' in html  # a lead may code too
    assert f'value="{vera.pk}"' not in html and f'value="{charlie.pk}"' not in html
    assert "No answers are dealt yet" in html


def test_a_lead_deals_a_question_with_an_overlap_sample(client, question, alice, bob, dana):
    response = _deal(login(client, alice), question, [bob, dana], percent=20, seed=7)
    assert response.status_code == 302
    assert response["Location"] == _rounds_url(question)
    round_ = Round.objects.get(question=question)
    assert (round_.number, round_.overlap_percent, round_.seed, round_.blind) == (1, 20, 7, True)
    assert round_.created_by == alice
    assert set(round_.coders.all()) == {bob, dana}
    by_answer = _dealt(round_)
    written = set(question.answers.exclude(text="").values_list("pk", flat=True))
    assert set(by_answer) == written  # every answer with text, and only those
    overlap = {a for a, coders in by_answer.items() if len(coders) == 2}
    assert len(overlap) == 20
    assert all(sorted(by_answer[a]) == sorted([bob.pk, dana.pk]) for a in overlap)
    assert set(round_.assignments.filter(overlap=True).values_list("answer", flat=True)) == overlap
    single = Counter(c[0] for a, c in by_answer.items() if a not in overlap)
    assert single == {bob.pk: 40, dana.pk: 40}
    page = client.get(_rounds_url(question)).content.decode()
    assert "Round 1: 100 answers dealt to bob, dana; 20 of them (20%) go to 2 coders each." in page
    assert "Every answer of this question has been dealt." in page
    (event,) = _events(Event.Action.ASSIGN)
    assert event.user == alice
    assert event.after == {
        "round": 1, "coders": ["bob", "dana"], "answers": 100, "overlap": 20,
        "overlap_percent": 20, "overlap_coders": 2, "seed": 7, "blind": True,
    }  # fmt: skip


def test_the_same_seed_deals_the_same_way_again(client, question, alice, bob, dana):
    login(client, alice)
    _deal(client, question, [bob, dana], seed=99)
    first = sorted(Assignment.objects.values_list("answer", "coder", "overlap"))
    client.post(f"/rounds/{Round.objects.get().pk}/withdraw/")
    assert not Assignment.objects.exists()
    _deal(client, question, [bob, dana], seed=99)
    assert sorted(Assignment.objects.values_list("answer", "coder", "overlap")) == first
    client.post(f"/rounds/{Round.objects.get().pk}/withdraw/")
    _deal(client, question, [bob, dana], seed=100)
    assert sorted(Assignment.objects.values_list("answer", "coder", "overlap")) != first


def test_a_second_round_deals_only_the_new_answers(client, question, alice, bob, dana):
    login(client, alice)
    _deal(client, question, [bob, dana])
    first = set(Assignment.objects.values_list("answer", flat=True))
    _add_answers(question, 10)
    assert "10 answers not dealt yet" in client.get(_rounds_url(question)).content.decode()
    assert _deal(client, question, [bob, dana], percent=20).status_code == 302
    second = Round.objects.get(number=2)
    new = set(second.assignments.values_list("answer", flat=True))
    assert len(new) == 10 and not new & first
    assert second.assignments.filter(overlap=True).count() == 2 * 2  # 2 answers, 2 coders each
    assert Assignment.objects.count() == 120 + 12


def test_nothing_left_to_deal_is_refused(client, question, alice, bob, dana):
    login(client, alice)
    _deal(client, question, [bob, dana])
    response = _deal(client, question, [bob, dana])
    assert response.status_code == 400
    assert "Every answer of this question has been dealt" in response.content.decode()
    assert Round.objects.count() == 1
    assert len(_events(Event.Action.ASSIGN)) == 1


def test_an_overlap_needs_two_coders(client, question, alice, bob):
    response = _deal(login(client, alice), question, [bob], percent=20)
    assert response.status_code == 400
    assert "An overlap sample needs at least two coders." in response.content.decode()
    assert not Round.objects.exists() and not Assignment.objects.exists()


def test_an_overlap_can_go_to_three_coders(client, question, alice, bob, dana):
    response = _deal(login(client, alice), question, [alice, bob, dana], percent=20, per_overlap=3)
    assert response.status_code == 302
    round_ = Round.objects.get()
    assert round_.overlap_coders == 3
    by_answer = _dealt(round_)
    overlap = [a for a, coders in by_answer.items() if len(coders) > 1]
    assert len(overlap) == 20
    assert all(sorted(by_answer[a]) == sorted([alice.pk, bob.pk, dana.pk]) for a in overlap)
    single = Counter(c[0] for c in by_answer.values() if len(c) == 1)
    assert sorted(single.values()) == [26, 27, 27]


def test_an_overlap_cannot_need_more_coders_than_chosen(client, question, alice, bob, dana):
    response = _deal(login(client, alice), question, [bob, dana], percent=20, per_overlap=3)
    assert response.status_code == 400
    assert "Each overlap answer needs between 2 and 2 of the chosen coders." in (
        response.content.decode()
    )
    assert not Round.objects.exists()


def test_one_coder_without_an_overlap_takes_everything(client, question, alice, bob):
    assert _deal(login(client, alice), question, [bob], percent=0).status_code == 302
    assert Assignment.objects.filter(coder=bob, overlap=False).count() == ANSWERS


@pytest.mark.parametrize(
    "data",
    [
        {"overlap_percent": 20, "seed": 1},  # no coder
        {"overlap_percent": 101, "seed": 1, "coders": "bob"},
        {"overlap_percent": -1, "seed": 1, "coders": "bob"},
        {"overlap_percent": 20, "seed": -5, "coders": "bob"},
        {"overlap_percent": 20, "seed": 1, "coders": "bob", "overlap_coders": 1},
        {"overlap_percent": 20, "seed": 1, "coders": "vera"},  # a viewer codes nothing
        {"overlap_percent": 20, "seed": 1, "coders": "charlie"},  # not in the project
    ],
)
def test_invalid_rounds_are_refused(client, question, alice, bob, vera, charlie, data):
    users = {"bob": bob, "vera": vera, "charlie": charlie}
    data = {"overlap_coders": 2, **data}
    if "coders" in data:
        data = {**data, "coders": [users[data["coders"]].pk]}
    response = login(client, alice).post(_rounds_url(question), data)
    assert response.status_code == 400
    assert not Round.objects.exists()


@pytest.mark.parametrize("who", ["bob", "vera"])
def test_only_leads_deal_reveal_and_withdraw(client, question, alice, bob, vera, dana, who):
    _deal(login(client, alice), question, [bob, dana])
    round_ = Round.objects.get()
    login(client, {"bob": bob, "vera": vera}[who])
    assert client.get(_rounds_url(question)).status_code == 403
    assert _deal(client, question, [bob, dana]).status_code == 403
    assert client.post(f"/rounds/{round_.pk}/reveal/").status_code == 403
    assert client.post(f"/rounds/{round_.pk}/withdraw/").status_code == 403
    round_.refresh_from_db()
    assert round_.revealed_at is None
    assert Assignment.objects.count() == 120


def test_an_outsider_gets_404(client, question, alice, bob, dana, charlie):
    _deal(login(client, alice), question, [bob, dana])
    round_ = Round.objects.get()
    login(client, charlie)
    assert client.get(_rounds_url(question)).status_code == 404
    assert client.post(f"/rounds/{round_.pk}/reveal/").status_code == 404
    assert client.post(f"/rounds/{round_.pk}/withdraw/").status_code == 404
    assert Round.objects.filter(revealed_at=None).count() == 1


def test_reveal_once(client, question, alice, bob, dana):
    login(client, alice)
    _deal(client, question, [bob, dana])
    round_ = Round.objects.get()
    response = client.post(f"/rounds/{round_.pk}/reveal/", follow=True)
    assert "Round 1 revealed" in response.content.decode()
    round_.refresh_from_db()
    revealed = round_.revealed_at
    assert revealed is not None and not round_.is_hidden
    client.post(f"/rounds/{round_.pk}/reveal/")
    round_.refresh_from_db()
    assert round_.revealed_at == revealed
    (event,) = _events(Event.Action.REVEAL)
    assert event.after == {"round": 1} and event.user == alice


def test_only_the_latest_round_can_be_withdrawn(client, question, alice, bob, dana, staffing):
    login(client, alice)
    _deal(client, question, [bob, dana])
    _add_answers(question, 10)
    _deal(client, question, [bob, dana], percent=0)
    first, second = Round.objects.order_by("number")
    response = client.post(f"/rounds/{first.pk}/withdraw/", follow=True)
    assert "Only the latest round (round 2) can be withdrawn." in response.content.decode()
    assert Round.objects.count() == 2
    assert not _events(Event.Action.UNASSIGN)
    # Codings made on the withdrawn round's answers stay.
    late = second.assignments.filter(coder=bob).first().answer
    services.apply_theme(late, staffing, bob)
    response = client.post(f"/rounds/{second.pk}/withdraw/", follow=True)
    assert "Round 2 withdrawn" in response.content.decode()
    assert list(Round.objects.all()) == [first]
    assert not Assignment.objects.filter(answer=late).exists()
    assert Coding.objects.filter(answer=late, coder=bob, theme=staffing).exists()
    (event,) = _events(Event.Action.UNASSIGN)
    assert event.before["round"] == 2 and event.before["answers"] == 10
    assert event.before["overlap"] == 0
    assert event.after == {}
    # Its answers are waiting to be dealt again.
    assert "10 answers not dealt yet" in client.get(_rounds_url(question)).content.decode()


# The queue of a coder with dealt answers ------------------------------------------------


def _queue(question, query=""):
    return f"/questions/{question.pk}/code/" + (f"?{query}" if query else "")


@pytest.fixture
def dealt(client, question, alice, bob, dana):
    """Round 1, blind: 20% overlap between bob and dana, 40 more each."""
    _deal(login(client, alice), question, [bob, dana], percent=20, seed=7)
    client.logout()
    return Round.objects.get()


def test_a_coder_sees_only_the_answers_dealt_to_them(client, question, bob, dealt):
    html = login(client, bob).get(_queue(question)).content.decode()
    assert "Answer <strong>1</strong> of 60" in html
    assert "Dealt to me: <strong>0</strong> / 60" in html
    first = Assignment.objects.filter(coder=bob).order_by("answer").first().answer
    assert f'data-answer="{first.pk}"' in html
    everything = client.get(_queue(question, "scope=all")).content.decode()
    assert "Answer <strong>1</strong> of 100" in everything
    mine = client.get(_queue(question, "scope=mine")).content.decode()
    assert "Answer <strong>1</strong> of 60" in mine


def test_the_dealt_progress_counts_finished_answers(client, question, bob, dealt, staffing):
    mine = [a.answer for a in Assignment.objects.filter(coder=bob).order_by("answer")[:3]]
    services.apply_theme(mine[0], staffing, bob)
    services.mark_no_theme(mine[1], bob)
    other = Assignment.objects.exclude(answer__assignments__coder=bob).first().answer
    services.apply_theme(other, staffing, bob)  # coded, but not dealt to bob
    html = login(client, bob).get(_queue(question)).content.decode()
    assert "Dealt to me: <strong>2</strong> / 60" in html
    assert "Coded by me: <strong>3</strong> / 100" in html


def test_moving_through_the_queue_stays_on_dealt_answers(client, question, bob, dealt):
    mine = list(
        Assignment.objects.filter(coder=bob).order_by("answer").values_list("answer", flat=True)
    )
    login(client, bob)
    html = client.get(_queue(question, f"answer={mine[5]}")).content.decode()
    assert "Answer <strong>6</strong> of 60" in html
    assert f'?answer={mine[4]}"' in html and f'?answer={mine[6]}"' in html
    # An answer dealt to someone else is not in bob's queue: he lands on his first.
    not_mine = Assignment.objects.exclude(answer__in=mine).first().answer_id
    html = client.get(_queue(question, f"answer={not_mine}")).content.decode()
    assert f'data-answer="{mine[0]}"' in html


def test_coders_without_assignments_see_every_answer(client, question, alice, vera, dealt):
    for user in (alice, vera):
        html = login(client, user).get(_queue(question)).content.decode()
        assert "Answer <strong>1</strong> of 100" in html
        assert "Dealt to me" not in html


def _others_block(html: str) -> str:
    match = re.search(r'<div class="others small">(.*?)</div></div>', html, re.S)
    return match.group(1) if match else ""


@pytest.fixture
def overlap_answer(dealt, bob, dana, staffing):
    """An overlap answer dana coded with Staffing and bob has not coded yet."""
    answer = dealt.assignments.filter(overlap=True).order_by("answer").first().answer
    services.apply_theme(answer, staffing, dana)
    return answer


def test_blind_coders_do_not_see_each_other(client, question, bob, overlap_answer):
    html = login(client, bob).get(_queue(question, f"answer={overlap_answer.pk}")).content.decode()
    assert f'data-answer="{overlap_answer.pk}"' in html
    assert "Blind coding" in html
    assert "Other coders" not in html
    assert "dana" not in html


def test_a_revealed_round_shows_the_other_coders(client, question, alice, bob, overlap_answer):
    round_ = Round.objects.get()
    login(client, alice).post(f"/rounds/{round_.pk}/reveal/")
    html = login(client, bob).get(_queue(question, f"answer={overlap_answer.pk}")).content.decode()
    assert "Blind coding" not in html
    others = _others_block(html)
    assert "Other coders" in others
    assert "dana:" in others and "Staffing" in others


def test_a_lead_always_sees_the_other_coders(client, question, alice, overlap_answer):
    html = (
        login(client, alice).get(_queue(question, f"answer={overlap_answer.pk}")).content.decode()
    )
    assert "Blind coding" not in html
    others = _others_block(html)
    assert "dana:" in others and "Staffing" in others


def test_a_round_that_is_not_blind_hides_nothing(client, question, alice, bob, dana, staffing):
    _deal(login(client, alice), question, [bob, dana], blind=False)
    answer = Assignment.objects.filter(overlap=True).first().answer
    services.mark_no_theme(answer, dana)
    html = login(client, bob).get(_queue(question, f"answer={answer.pk}")).content.decode()
    assert "Blind coding" not in html
    assert "dana:" in _others_block(html) and "no theme" in _others_block(html)


def test_the_blind_note_also_follows_htmx_moves(client, question, bob, overlap_answer):
    response = login(client, bob).get(
        _queue(question, f"answer={overlap_answer.pk}"), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html
    assert "Blind coding" in html and "dana" not in html


# The codebook and the project download while blind ----------------------------------


def _theme_total(html: str, theme) -> int:
    row = re.search(rf'<tr id="theme-{theme.pk}".*?</tr>', html, re.S).group(0)
    return int(re.search(r'<td class="num"><strong>(\d+)</strong>', row).group(1))


@pytest.fixture
def coded_blind(dealt, bob, dana, staffing):
    """bob tags 2 overlap answers with Staffing; dana tags 3 (one of them also bob's)."""
    overlap = [a.answer for a in dealt.assignments.filter(overlap=True, coder=bob)[:4]]
    for answer in overlap[:2]:
        services.apply_theme(answer, staffing, bob)
    for answer in overlap[1:4]:
        services.apply_theme(answer, staffing, dana)
    return dealt


def test_the_codebook_counts_only_a_blind_coders_own_codings(
    client, project, alice, bob, staffing, coded_blind
):
    page = f"/projects/{project.code}/codebook/"
    html = login(client, bob).get(page).content.decode()
    assert _theme_total(html, staffing) == 2
    assert "Blind coding is on for some questions" in html
    lead = login(client, alice).get(page).content.decode()
    assert _theme_total(lead, staffing) == 4
    assert "Blind coding is on" not in lead
    client.post(f"/rounds/{coded_blind.pk}/reveal/")
    html = login(client, bob).get(page).content.decode()
    assert _theme_total(html, staffing) == 4
    assert "Blind coding is on" not in html


def test_the_whole_project_download_waits_for_the_reveal(
    client, project, alice, bob, staffing, coded_blind
):
    url = f"/projects/{project.code}/project.qdpx"
    response = login(client, bob).get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.code}/codebook/"
    followed = client.get(url, follow=True).content.decode()
    assert "once blind rounds are revealed" in followed
    lead = login(client, alice).get(url)
    assert lead.status_code == 200 and lead["Content-Type"] == "application/zip"
    client.post(f"/rounds/{coded_blind.pk}/reveal/")
    response = login(client, bob).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
