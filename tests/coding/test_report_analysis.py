"""Crosstabs and comparisons with an earlier poll, on the report page.

The small poll (tests/factories.py): Q1 single choice R_1–R_4 "A", R_5–R_7
"B"; Q2 scale 1, 2, 2, 4, 5, 5 (R_1–R_6); Q3 multi choice R_1 {X, Y}, R_2 {X},
R_3 {X, Y, Z}, R_4 {X}, R_5 {Y}; Q4 free text R_1–R_3.
"""

from __future__ import annotations

import datetime
import io
import re

import openpyxl
import pytest

from coding import assignments, comparisons, crosstabs, services
from coding.report_data import ReportOptions, poll_report
from polls.models import Answer, Question, Respondent
from tests.conftest import login
from tests.factories import make_poll

pytestmark = pytest.mark.django_db


@pytest.fixture
def coded(poll, project, alice, bob):
    q4 = poll.questions.get(export_id="Q4")
    answers = {a.respondent.export_id: a for a in q4.answers.all()}
    time = services.create_theme(project, "Time", alice)
    for response in ("R_1", "R_2", "R_3"):
        services.apply_theme(answers[response], time, bob)
    Respondent.objects.filter(export_id="R_2").update(attributes={"Role": "Team Manager"})
    return time


def _table(poll, qid: str, split_value: str):
    split = crosstabs.split_from(poll, split_value)
    report = next(r for r in poll_report(poll, ReportOptions()) if r.question.export_id == qid)
    return crosstabs.crosstab(report, split)


def test_split_by_an_attribute(poll, coded):
    table = _table(poll, "Q1", "attr:Role")
    assert [heading for _, heading in table.columns] == ["Social Worker", "Team Manager"]
    assert table.bases == [6, 1]
    assert table.rows == [
        ("A", [(3, 50.0), (1, 100.0)]),
        ("B", [(3, 50.0), (0, 0.0)]),
        ("C", [(0, 0.0), (0, 0.0)]),
    ]


def test_split_by_a_choice_question(poll, coded):
    q1 = poll.questions.get(export_id="Q1")
    table = _table(poll, "Q2", f"q:{q1.pk}")
    assert [heading for _, heading in table.columns] == ["A", "B", "C"]
    assert table.bases == [4, 2, 0]
    assert dict(table.rows)["2"] == [(2, 50.0), (0, 0.0), (0, None)]
    assert dict(table.rows)["5 (very)"] == [(0, 0.0), (2, 100.0), (0, None)]


def test_a_multi_choice_split_counts_a_respondent_in_every_column(poll, coded):
    q3 = poll.questions.get(export_id="Q3")
    table = _table(poll, "Q1", f"q:{q3.pk}")
    assert table.bases == [4, 3, 1]  # X: R_1–R_4; Y: R_1, R_3, R_5; Z: R_3
    assert dict(table.rows)["A"] == [(4, 100.0), (2, 66.7), (1, 100.0)]


def test_a_split_choice_question_counts_other_texts_with_nothing_ticked_in_its_bases(poll, coded):
    q3 = poll.questions.get(export_id="Q3")
    r_9 = poll.respondents.get(export_id="R_9")
    Answer.objects.create(question=q3, respondent=r_9, other_text="Time")  # no option ticked
    table = _table(poll, "Q3", "attr:Role")
    assert table.bases == [5, 1]  # its base of 6, as the table's, split by role
    assert dict(table.rows)["X"] == [(3, 60.0), (1, 100.0)]


def test_themes_split(poll, coded):
    table = _table(poll, "Q4", "attr:Role")
    assert table.rows == [("Time", [(2, 100.0), (1, 100.0)])]


def test_the_page_shows_the_crosstab_in_a_fixed_number_of_queries(
    client, poll, coded, vera, django_assert_max_num_queries
):
    login(client, vera)
    with django_assert_max_num_queries(60):
        html = client.get(f"/polls/{poll.code}/report/?split=attr:Role").content.decode()
    assert "By Role (attribute)" in html
    assert re.search(r"Base \(answered\)</td><td class=\"num\">6</td>", html)


def test_an_unknown_split_is_ignored(client, poll, coded, vera):
    html = login(client, vera).get(f"/polls/{poll.code}/report/?split=attr:Nope").content
    assert b"crosstab" not in html


@pytest.fixture
def earlier(project):
    """The same questions a year before: Q1 A×2, B×2; Q2 all 5s."""
    poll = make_poll(project, title="Earlier poll", respondents=4)
    poll.opened = datetime.date(2020, 7, 1)
    poll.closed = datetime.date(2020, 7, 14)
    poll.save()
    return poll


def test_a_question_is_compared_with_its_twin_in_an_earlier_poll(client, poll, earlier, vera):
    poll.opened = datetime.date(2021, 10, 4)
    poll.save()
    html = login(client, vera).get(f"/polls/{poll.code}/report/").content.decode()
    assert "Compared with Earlier poll (Q1)" in html
    # Q1 in the earlier poll: A×4 of 4 answered (make_poll's first four picks are A).
    assert "A: 57% now vs 100% in July 2020 (-43 points)" in html


def test_an_explicit_link_wins_over_the_wording(poll, earlier, project):
    poll.opened = datetime.date(2021, 10, 4)
    poll.save()
    q1 = poll.questions.get(export_id="Q1")
    q1.text = "Something else entirely"
    q1.compare_with = earlier.questions.get(export_id="Q1")
    q1.save()
    reports = poll_report(poll, ReportOptions())
    comparisons.compare_all(poll, reports, ReportOptions())
    first = reports[0]
    assert first.comparison.earlier == q1.compare_with
    assert first.comparison.changes[0] == ("A", 100.0, pytest.approx(400 / 7), -42.9, "%")


def test_a_later_poll_is_never_the_comparison(poll, earlier):
    earlier.opened = datetime.date(2030, 1, 1)
    earlier.save()
    poll.opened = datetime.date(2021, 10, 4)
    poll.save()
    reports = poll_report(poll, ReportOptions())
    comparisons.compare_all(poll, reports, ReportOptions())
    assert all(r.comparison is None for r in reports)


def test_a_different_kind_is_not_a_twin(poll, earlier):
    poll.opened = datetime.date(2021, 10, 4)
    poll.save()
    Question.objects.filter(poll=earlier, export_id="Q2").update(kind=Question.Kind.FREE_TEXT)
    reports = poll_report(poll, ReportOptions())
    comparisons.compare_all(poll, reports, ReportOptions())
    by_id = {r.question.export_id: r for r in reports}
    assert by_id["Q2"].comparison is None
    assert by_id["Q1"].comparison is not None


def test_a_lead_sets_scale_bands_shown_on_the_page_and_in_the_draft(client, poll, alice):
    q2 = poll.questions.get(export_id="Q2")  # 1, 2, 2, 4, 5, 5
    login(client, alice)
    response = client.post(f"/questions/{q2.pk}/report-settings/", {"bands": "1-2, 3, 4-5"})
    assert response.status_code == 302 and response["Location"].endswith("#q-Q2")
    html = client.get(f"/polls/{poll.code}/report/").content.decode()
    assert re.search(r"<td>1-2</td><td class=\"num\">3</td><td class=\"num\">50.0%</td>", html)
    assert re.search(r"<td>4-5</td><td class=\"num\">3</td>", html)
    draft = client.get(f"/polls/{poll.code}/report/draft.md").content.decode()
    assert "Fifty percent scored between 1-2. Zero percent scored 3." in draft


def test_bands_that_do_not_parse_are_refused_by_name(client, poll, alice):
    q2 = poll.questions.get(export_id="Q2")
    login(client, alice)
    response = client.post(
        f"/questions/{q2.pk}/report-settings/", {"bands": "1-2, six"}, follow=True
    )
    assert "Q2: &#x27;six&#x27; is not a band" in response.content.decode()
    q2.refresh_from_db()
    assert q2.bands == ""


def test_only_leads_change_report_settings(client, poll, bob, vera, charlie):
    q2 = poll.questions.get(export_id="Q2")
    for user, status in ((bob, 403), (vera, 403), (charlie, 404)):
        response = login(client, user).post(f"/questions/{q2.pk}/report-settings/", {"bands": "1"})
        assert response.status_code == status
    q2.refresh_from_db()
    assert q2.bands == ""


def test_a_lead_links_a_question_to_an_earlier_one(client, poll, earlier, alice):
    poll.opened = datetime.date(2021, 10, 4)
    poll.save()
    q1 = poll.questions.get(export_id="Q1")
    twin = earlier.questions.get(export_id="Q3")  # another kind: not offered
    login(client, alice)
    client.post(f"/questions/{q1.pk}/report-settings/", {"compare_with": twin.pk})
    q1.refresh_from_db()
    assert q1.compare_with is None
    twin = earlier.questions.get(export_id="Q1")
    client.post(f"/questions/{q1.pk}/report-settings/", {"compare_with": twin.pk})
    q1.refresh_from_db()
    assert q1.compare_with == twin


def test_the_xlsx_gets_a_crosstab_sheet_per_question_when_split(client, poll, coded, vera):
    login(client, vera)
    response = client.get(f"/polls/{poll.code}/report/report.xlsx?split=attr:Role")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = next(ws for ws in workbook.worksheets if ws.title.startswith("Q1 by Role"))
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["row", "Social Worker (n)", "Social Worker (%)", "Team Manager (n)",
                       "Team Manager (%)"]  # fmt: skip
    assert rows[1] == ["A", 3, 50, 1, 100]
    assert rows[-1] == ["Base (answered)", 6, None, 1, None]


def test_a_coder_in_a_blind_round_sees_only_their_own_coding_in_reports(
    client, poll, project, alice, bob
):
    q4 = poll.questions.get(export_id="Q4")
    answers = {a.respondent.export_id: a for a in q4.answers.all()}
    mine, theirs = (services.create_theme(project, n, alice) for n in ("Mine", "Theirs"))
    services.apply_theme(answers["R_1"], mine, bob)
    services.apply_theme(answers["R_2"], theirs, alice)
    round_ = assignments.create_round(q4, [alice, bob], 0, 1, True, alice)
    login(client, bob)
    for url in (
        f"/polls/{poll.code}/report/?source=coder:alice",
        f"/polls/{poll.code}/report/draft.md",
    ):
        assert "Theirs" not in client.get(url).content.decode(), url
    url = f"/questions/{q4.pk}/report-answers/?theme={theirs.pk}&source=coder:alice"
    assert "0 respondents coded Theirs" in client.get(url).content.decode()
    assert "Mine" in client.get(f"/polls/{poll.code}/report/").content.decode()
    assignments.reveal(round_, alice)
    assert "Theirs" in client.get(f"/polls/{poll.code}/report/").content.decode()  # consensus
