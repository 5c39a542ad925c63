"""A report draft in the seeds' structure, as Markdown and as DOCX.

Per question: a numbered heading with the base sentence, a sentence naming
what most respondents said with the percentages written as the seeds write
them ("Twenty-seven percent of participants mentioned a lack of resources, the
most frequently cited theme."), the table, the figure with its caption, and
the chosen quotes with their attribution. Text that came from respondents or
from the codebook is made inert for spreadsheets (a leading = + - @ is quoted).
"""

from __future__ import annotations

import html
import io

from coding.report_data import QuestionReport, polled
from coding.spreadsheets import safe_text, xml_text
from polls.models import Poll, Question
from polls.stats import round_half_up
from polls.summaries import format_number

ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]  # fmt: skip
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """0–100 in words: 27 → "twenty-seven"."""
    if n == 100:
        return "one hundred"
    if n < 20:
        return ONES[n]
    tens, ones = divmod(n, 10)
    return TENS[tens] + (f"-{ONES[ones]}" if ones else "")


def percent_words(value: float) -> str:
    """A sentence-opening percentage: 27.1 → "Twenty-seven percent"."""
    return f"{number_words(int(round_half_up(value, 0))).capitalize()} percent"


def _whole(value: float | None) -> str:
    return f"{int(round_half_up(value or 0, 0))}%"


def _share(count: int, base: int) -> float:
    """The exact percentage, rounded once where it is written (45.45 → 45, never 45.5 → 46)."""
    return 100 * count / base if base else 0.0


def _in_sentence(name: str) -> str:
    """A theme name inside a sentence: "Lack of resources" → "lack of resources".

    Only a plain capitalised first word is lowered: "CAMHS", "GPs", "NHS-funded"
    and "I" stay as they are.
    """
    first = name.split(" ", 1)[0]
    plain = first[:1].isupper() and (first[1:].islower() or first == "A")
    return name[:1].lower() + name[1:] if plain else name


def headline(report: QuestionReport) -> str:
    """The sentence that says what most respondents answered."""
    summary = report.summary
    base = summary.answered
    if report.is_themed:
        rows = report.themes
        if not rows:
            return "No theme has been coded in these answers yet."
        text = (
            f"{percent_words(_share(rows[0].respondents, base))} of participants mentioned "
            f"{_in_sentence(rows[0].theme.name)}, the most frequently cited theme."
        )
        if len(rows) > 1:
            text += (
                f" The second most frequent was {_in_sentence(rows[1].theme.name)} "
                f"({_whole(_share(rows[1].respondents, base))})."
            )
        for row in rows[2:4]:
            share = percent_words(_share(row.respondents, base))
            text += f" {share} mentioned {_in_sentence(row.theme.name)}."
        return text
    if summary.kind == Question.Kind.SCALE and summary.mean is not None:
        text = (
            f"The mean score was {round_half_up(summary.mean, 1)} and the median "
            f"{format_number(summary.median)}."
        )
        for label, n, _ in report.bands:
            between = "between " if "-" in label else ""
            text += f" {percent_words(_share(n, base))} scored {between}{label}."
        return text
    ranked = sorted(summary.rows, key=lambda r: -r.respondents)
    if not ranked or not ranked[0].respondents:
        return "Nobody answered this question."
    first, second = ranked[0], ranked[1] if len(ranked) > 1 else None
    text = f"The most common answer was ‘{first.label}’ ({_whole(_share(first.respondents, base))})"
    if second and second.respondents:
        text += f", followed by ‘{second.label}’ ({_whole(_share(second.respondents, base))})"
    return text + "."


def table(report: QuestionReport) -> tuple[list[str], list[list[str]]]:
    if report.is_themed:
        rows = [[r.theme.name, str(r.respondents), _percent(r.percent)] for r in report.themes]
        return ["Theme", "Respondents", "%"], rows
    rows = [[r.label, str(r.respondents), _percent(r.percent)] for r in report.summary.rows]
    return ["Answer", "Respondents", "%"], rows


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def heading(report: QuestionReport) -> str:
    free = "Free text response, " if report.summary.kind == Question.Kind.FREE_TEXT else ""
    return f"{report.number}) {report.question.text} ({free}{report.base_sentence})."


def introduction(poll: Poll, reports: list[QuestionReport]) -> str:
    total = reports[0].summary.total if reports else 0
    when = polled(poll)
    return (
        f"This report sets out the results of {poll.title}. The poll asked "
        f"{len(reports)} questions{f' and ran {when}' if when else ''}, and drew responses "
        f"from {total} {(poll.population or 'respondents').lower()}."
    )


def quotes(report: QuestionReport) -> list[tuple[str, str]]:
    """(quote, attribution) for the draft, themes in order."""
    chosen = []
    for row in report.themes:
        for quote, who in row.quotes:
            chosen.append((safe_text(quote.text), f"({who})" if who else ""))
    return chosen


def markdown(poll: Poll, reports: list[QuestionReport]) -> str:
    lines = [f"# {poll.title}", "", introduction(poll, reports), ""]
    for report in reports:
        lines += [f"## {_md(heading(report))}", "", _md(headline(report)), ""]
        header, rows = table(report)
        lines.append("| " + " | ".join(header) + " |")
        lines.append("| --- | ---: | ---: |")
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
        qid = report.question.export_id
        lines += ["", f"![Figure {report.number}](figures/{qid}.png)", ""]
        lines += [f"(Figure {report.number}.)", ""]
        lines += [line + "  " for line in report.caption] + [""]
        for text, who in quotes(report):
            lines += [f"> “{_md(text)}” {_md(who)}".rstrip(), ""]
    return "\n".join(lines)


def _md(text: str) -> str:
    """Respondents' and coders' words as Markdown text: any HTML in them is shown, not run."""
    return html.escape(text, quote=False)


def _cell(value: str) -> str:
    return _md(safe_text(value)).replace("|", "\\|").replace("\n", " ")


def docx(poll: Poll, reports: list[QuestionReport], figures: dict[int, bytes]) -> bytes:
    """The draft as a Word document; `figures` maps question id → PNG bytes.

    All text goes through xml_text: a control character in an answer would
    otherwise make the document unwritable.
    """
    from docx import Document
    from docx.shared import Cm

    document = Document()
    document.add_heading(xml_text(poll.title), level=0)
    document.add_paragraph(xml_text(introduction(poll, reports)))
    for report in reports:
        document.add_heading(xml_text(heading(report)), level=2)
        document.add_paragraph(xml_text(headline(report)))
        header, rows = table(report)
        grid = document.add_table(rows=1, cols=len(header))
        grid.style = "Light Grid Accent 1"
        for cell, text in zip(grid.rows[0].cells, header, strict=True):
            cell.text = text
        for row in rows:
            for cell, text in zip(grid.add_row().cells, row, strict=True):
                cell.text = xml_text(safe_text(text))
        if report.question.pk in figures:
            document.add_picture(io.BytesIO(figures[report.question.pk]), width=Cm(16))
        document.add_paragraph(f"(Figure {report.number}.)")
        document.add_paragraph(xml_text("\n".join(report.caption)), style="Caption")
        for text, who in quotes(report):
            paragraph = document.add_paragraph(style="Quote")
            paragraph.add_run(xml_text(f"“{text}”"))
            if who:
                paragraph.add_run(xml_text(f" {who}"))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
