from __future__ import annotations

import pytest

from polls.models import Answer
from polls.summaries import summarise_poll
from tests.conftest import login


def _url(poll):
    return f"/polls/{poll.code}/"


def test_it_requires_login(client, poll):
    response = client.get(_url(poll))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_hides_the_poll_from_other_projects(client, poll, charlie):
    assert login(client, charlie).get(_url(poll)).status_code == 404


@pytest.mark.parametrize("member", ["alice", "bob", "vera"])
def test_every_member_can_read_it(client, poll, member, request):
    response = login(client, request.getfixturevalue(member)).get(_url(poll))
    assert response.status_code == 200


def _page_text(client, poll) -> str:
    """The page as words, whitespace collapsed, tags kept."""
    return " ".join(client.get(_url(poll)).content.decode().split())


def test_it_gives_each_question_its_base(client, poll, alice):
    text = _page_text(login(client, alice), poll)
    assert "Answered by <strong>7</strong> out of 10 respondents" in text
    assert "Answered by <strong>6</strong> out of 10 respondents" in text
    assert "Answered by <strong>3</strong> out of 10 respondents" in text


def test_it_gives_multi_choice_both_bases(client, poll, alice):
    text = _page_text(login(client, alice), poll)
    assert "out of 10 respondents, with <strong>8</strong> selections" in text


def test_it_escapes_answer_and_question_text(client, poll, alice):
    question = poll.questions.get(export_id="Q1")
    question.text = "<script>alert(1)</script>"
    question.save()
    html = login(client, alice).get(_url(poll)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_its_queries_do_not_grow_with_questions_or_answers(
    client, poll, alice, project, django_assert_max_num_queries
):
    login(client, alice)
    with django_assert_max_num_queries(12):
        client.get(_url(poll))


def test_single_choice_keeps_zero_rows_and_percent_of_those_answering(poll):
    q1 = summarise_poll(poll)[0]
    assert [(r.label, r.respondents, r.percent) for r in q1.rows] == [
        ("A", 4, 57.1),
        ("B", 3, 42.9),
        ("C", 0, 0.0),
    ]


def test_scale_lists_every_point_with_mean_and_median(poll):
    q2 = summarise_poll(poll)[1]
    assert [(r.value, r.respondents) for r in q2.rows] == [(1, 1), (2, 2), (3, 0), (4, 1), (5, 2)]
    assert q2.rows[0].label == "1 (not at all)"
    assert q2.mean == pytest.approx(19 / 6)
    assert q2.median == 3.0


def test_multi_choice_percentages_are_of_respondents_not_selections(poll):
    q3 = summarise_poll(poll)[2]
    assert q3.answered == 5
    assert q3.selections == 8
    assert [(r.label, r.respondents, r.percent) for r in q3.rows] == [
        ("X", 4, 80.0),
        ("Y", 3, 60.0),
        ("Z", 1, 20.0),
    ]
    assert [r.percent_of_selections for r in q3.rows] == [50.0, 37.5, 12.5]


def test_an_other_text_with_nothing_ticked_counts_in_the_base_once(poll):
    q3 = poll.questions.get(export_id="Q3")
    r_1, r_9 = (poll.respondents.get(export_id=r) for r in ("R_1", "R_9"))
    Answer.objects.create(question=q3, respondent=r_1, other_text="Money")  # ticked X and Y
    Answer.objects.create(question=q3, respondent=r_9, other_text="Time")  # ticked nothing
    summary = summarise_poll(poll)[2]
    assert (summary.answered, summary.selections) == (6, 8)
    assert [r.percent for r in summary.rows] == [66.7, 50.0, 16.7]


def test_summaries_cost_a_fixed_number_of_queries(poll, django_assert_num_queries):
    # Respondents, questions, options, then one grouped count each: answers written,
    # points, ticks per option, who ticked, "other" texts with nothing ticked.
    with django_assert_num_queries(8):
        summaries = summarise_poll(poll)
        [row for s in summaries for row in s.rows]
