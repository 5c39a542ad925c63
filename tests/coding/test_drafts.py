"""The report draft's words: numbers and percentages in words, headlines, headings, Markdown.

Headlines are built from poll_report on polls whose counts the tests choose:
a free-text question answered by 22 respondents and coded by bob,

    Lack of resources 6 (27.3%)   Lack of placements 5 (22.7%)   CAMHS waiting lists 3 (13.6%)
    Wanting to be with family 2 (9.1%)   Other 1 (4.5%)
"""

from __future__ import annotations

import io
from datetime import date

import docx
import pytest
from django.http import QueryDict

from coding import drafts, services
from coding.report_data import ReportOptions, options_from, poll_report
from polls.models import Question
from tests.factories import _choices, _question, make_free_text, make_poll

# --------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    "n, words",
    [
        (0, "zero"),
        (1, "one"),
        (7, "seven"),
        (13, "thirteen"),
        (19, "nineteen"),
        (20, "twenty"),
        (27, "twenty-seven"),
        (40, "forty"),
        (99, "ninety-nine"),
        (100, "one hundred"),
    ],
)
def test_number_words(n, words):
    assert drafts.number_words(n) == words


@pytest.mark.parametrize(
    "value, words",
    [
        (27.1, "Twenty-seven percent"),
        (27.5, "Twenty-eight percent"),  # half up
        (2.5, "Three percent"),  # half up, not to even
        (0.5, "One percent"),
        (0.4, "Zero percent"),
        (0, "Zero percent"),
        (14.49, "Fourteen percent"),
        (99.5, "One hundred percent"),
        (100, "One hundred percent"),
    ],
)
def test_percent_words_open_a_sentence(value, words):
    assert drafts.percent_words(value) == words


@pytest.mark.parametrize(
    "name, in_sentence",
    [
        ("Lack of resources", "lack of resources"),
        ("A lack of time", "a lack of time"),
        ("CAMHS waiting lists", "CAMHS waiting lists"),
        ("CAMHS", "CAMHS"),
        ("NHS", "NHS"),
        ("Ofsted timescales", "ofsted timescales"),
        ("lack of placements", "lack of placements"),
    ],
)
def test_theme_names_inside_a_sentence_keep_their_acronyms(name, in_sentence):
    assert drafts._in_sentence(name) == in_sentence


@pytest.mark.parametrize("name", ["GPs not referring", "NHS-funded care", "I don't know"])
def test_acronyms_with_a_suffix_and_the_pronoun_i_stay(name):
    assert drafts._in_sentence(name) == name


# --------------------------------------------------------------------------- headlines


THEMES = [
    ("Lack of resources", 6),
    ("Lack of placements", 5),
    ("CAMHS waiting lists", 3),
    ("Wanting to be with family", 2),
    ("Other", 1),
]


@pytest.fixture
def themed(project, alice, bob):
    """A poll of 22 whose Q5 (free text, everyone answered) bob coded as in THEMES."""
    poll = make_poll(project, title="Themed", respondents=22)
    question = make_free_text(poll, [f"answer {i}" for i in range(22)], "Q5")
    answers = list(question.answers.order_by("respondent__position"))
    start = 0
    for name, n in THEMES:
        theme = services.create_theme(project, name, alice)
        for answer in answers[start : start + n]:
            services.apply_theme(answer, theme, bob)
        start += n
    return poll


def _report(poll, qid, options=None):
    reports = poll_report(poll, options or ReportOptions())
    return next(r for r in reports if r.question.export_id == qid)


def test_a_themed_headline_names_the_four_most_frequent_themes(themed):
    report = _report(themed, "Q5")
    assert report.is_themed
    assert drafts.headline(report) == (
        "Twenty-seven percent of participants mentioned lack of resources, the most "
        "frequently cited theme. The second most frequent was lack of placements (23%). "
        "Fourteen percent mentioned CAMHS waiting lists. "
        "Nine percent mentioned wanting to be with family."
    )


def test_a_headline_with_one_theme(project, poll, alice, bob):
    theme = services.create_theme(project, "Lack of time", alice)
    answer = poll.questions.get(export_id="Q4").answers.order_by("pk").first()
    services.apply_theme(answer, theme, bob)
    assert drafts.headline(_report(poll, "Q4")) == (
        "Thirty-three percent of participants mentioned lack of time, the most frequently "
        "cited theme."
    )


def test_a_headline_without_themes(poll):
    assert drafts.headline(_report(poll, "Q4")) == "No theme has been coded in these answers yet."


def test_option_and_scale_headlines(poll):
    assert drafts.headline(_report(poll, "Q1")) == (
        "The most common answer was ‘A’ (57%), followed by ‘B’ (43%)."
    )
    assert drafts.headline(_report(poll, "Q3")) == (
        "The most common answer was ‘X’ (80%), followed by ‘Y’ (60%)."
    )
    assert drafts.headline(_report(poll, "Q2")) == "The mean score was 3.2 and the median 3."


def test_a_headline_of_a_subsample_where_one_option_takes_all(poll):
    a = poll.questions.get(export_id="Q1").options.get(text="A")
    options = options_from(poll, QueryDict(f"opt={a.pk}"))
    assert drafts.headline(_report(poll, "Q1", options)) == (
        "The most common answer was ‘A’ (100%)."
    )
    c = poll.questions.get(export_id="Q1").options.get(text="C")
    options = options_from(poll, QueryDict(f"opt={c.pk}"))
    assert drafts.headline(_report(poll, "Q1", options)) == "Nobody answered this question."


@pytest.mark.parametrize("kind", ["theme", "option"])
def test_whole_percentages_are_rounded_once(project, alice, bob, kind):
    poll = make_poll(project, title="Eleven", respondents=11)
    question = make_free_text(poll, [f"answer {i}" for i in range(11)], "Q5")
    theme = services.create_theme(project, "Lack of resources", alice)
    for answer in question.answers.order_by("respondent__position")[:5]:
        services.apply_theme(answer, theme, bob)
    if kind == "theme":
        report = _report(poll, "Q5")
        assert report.themes[0].percent == 45.5
        assert drafts.headline(report).startswith("Forty-five percent of participants")
    else:
        # 5 of 11 chose "Yes", 6 "No".
        choice = _question(poll, "Q6", 6, Question.Kind.SINGLE_CHOICE, ["Yes", "No"])
        _choices(choice, list(poll.respondents.order_by("position")), ["Yes"] * 5 + ["No"] * 6)
        report = _report(poll, "Q6")
        assert drafts.headline(report) == (
            "The most common answer was ‘No’ (55%), followed by ‘Yes’ (45%)."
        )


# --------------------------------------------------------------------------- structure


def test_headings_and_the_introduction(poll):
    poll.opened, poll.closed = date(2021, 10, 4), date(2021, 10, 21)
    poll.save()
    reports = poll_report(poll, ReportOptions())
    assert [drafts.heading(r) for r in reports] == [
        "1) Question Q1? (answered by 7 out of 10 respondents).",
        "2) Question Q2? (answered by 6 out of 10 respondents).",
        "3) Question Q3? (answered by 5 out of 10 respondents).",
        "4) Question Q4? (Free text response, answered by 3 out of 10 respondents).",
    ]
    assert drafts.introduction(poll, reports) == (
        "This report sets out the results of Poll 3. The poll asked 4 questions and ran "
        "4-21 October 2021, and drew responses from 10 social workers."
    )


def test_tables_in_the_draft(themed):
    header, rows = drafts.table(_report(themed, "Q5"))
    assert header == ["Theme", "Respondents", "%"]
    assert rows[:2] == [["Lack of resources", "6", "27.3%"], ["Lack of placements", "5", "22.7%"]]
    header, rows = drafts.table(_report(themed, "Q2"))
    assert header == ["Answer", "Respondents", "%"]
    assert rows[0] == ["1 (not at all)", "1", "16.7%"]


def test_markdown_table_cells_cannot_break_the_table(project, poll, alice, bob):
    theme = services.create_theme(project, "Pay | conditions", alice)
    answer = poll.questions.get(export_id="Q4").answers.order_by("pk").first()
    services.apply_theme(answer, theme, bob)
    text = drafts.markdown(poll, poll_report(poll, ReportOptions()))
    assert "| Pay \\| conditions | 1 | 33.3% |" in text.splitlines()


def test_the_markdown_draft_structure(themed):
    text = drafts.markdown(themed, poll_report(themed, ReportOptions()))
    lines = text.splitlines()
    assert lines[0] == "# Themed"
    assert "## 5) Question Q5? (Free text response, answered by 22 out of 22 respondents)." in lines
    assert "![Figure 5](figures/Q5.png)" in lines
    assert "| CAMHS waiting lists | 3 | 13.6% |" in lines
    assert "Base: 22 Social Workers  " in lines


def test_the_docx_draft_without_figures(themed):
    reports = poll_report(themed, ReportOptions())
    document = docx.Document(io.BytesIO(drafts.docx(themed, reports, {})))
    assert len(document.inline_shapes) == 0
    assert len(document.tables) == 5
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert headings[-1] == (
        "5) Question Q5? (Free text response, answered by 22 out of 22 respondents)."
    )
    assert drafts.headline(reports[-1]) in [p.text for p in document.paragraphs]
