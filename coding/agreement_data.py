"""Two coders' codings of one question, gathered for coding.agreement, and the CSV rows.

The unit is one answer. An answer counts only when BOTH coders finished it
(their Mark status is "coded" or "no_theme"); a coder who did not code an
answer is missing there, which is not the same as coding it with no theme
(an empty set: 0 for every theme). Codings left on an answer a coder has not
finished (status "") are ignored, and a "no_theme" mark means the empty set.

The whole question takes three queries whatever its size: the finished marks,
the codings, the project's theme names.

CSV rows (design.md, `agreement`), themes ordered by name:

    theme, units, coder_a, coder_b, percent_agreement, cohen_kappa, krippendorff_alpha, gwet_ac1

one row per theme either coder applied to a double-coded answer; then `ALL`:
units = the double-coded answers; coder_a / coder_b = how many of them each
coder gave at least one theme; percent_agreement = answers on which the two
theme sets are exactly equal; krippendorff_alpha = α over the theme sets with
the MASI distance; cohen_kappa and gwet_ac1 empty (no set-valued form).
Percentages have 2 decimals and coefficients 4 (half up); an undefined
coefficient (no variation) is None, an empty cell.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count

from coding.agreement import binary_theme_table, masi_alpha
from coding.models import Coding, Mark, Theme
from polls.models import Question

HEADER = [
    "theme",
    "units",
    "coder_a",
    "coder_b",
    "percent_agreement",
    "cohen_kappa",
    "krippendorff_alpha",
    "gwet_ac1",
]
ALL = "ALL"
FINISHED = (Mark.Status.CODED, Mark.Status.NO_THEME)


def finished_counts(question: Question, coders) -> dict[int, int]:
    """Coder id → how many answers of the question that coder finished (one query)."""
    finished = Mark.objects.filter(
        answer__question=question, coder__in=list(coders), status__in=FINISHED
    )
    counts = dict(finished.values_list("coder").annotate(n=Count("pk")).order_by())
    return {c.pk: counts.get(c.pk, 0) for c in coders}


def coded_sets(
    question: Question, coders, answers=None, shared: bool = False, finished=None
) -> dict[int, dict[int, frozenset]]:
    """Answer id → {coder id: that coder's theme ids} for the answers each coder finished.

    `answers` (ids or a queryset of ids) narrows the scope, e.g. to a round's
    overlap sample; `shared` keeps only answers two or more of the coders
    finished, all that agreement needs. Two queries, both streamed: the finished
    marks, then the codings, of which only those of kept answers are held. A
    Counter passed as `finished` gets each coder's finished answers, shared or not.
    """
    marks = Mark.objects.filter(
        answer__question=question, coder__in=list(coders), status__in=FINISHED
    )
    codings = Coding.objects.filter(answer__question=question, coder__in=list(coders))
    if answers is not None:
        marks, codings = marks.filter(answer__in=answers), codings.filter(answer__in=answers)
    statuses: dict[int, dict[int, str]] = defaultdict(dict)
    for answer_id, coder_id, status in _stream(marks, "answer_id", "coder_id", "status"):
        statuses[answer_id][coder_id] = status
    if finished is not None:
        finished.update(coder for by in statuses.values() for coder in by)
    if shared:
        statuses = {a: by for a, by in statuses.items() if len(by) >= 2}
    themes: dict[tuple[int, int], set[int]] = defaultdict(set)
    for answer_id, coder_id, theme_id in _stream(codings, "answer_id", "coder_id", "theme_id"):
        if answer_id in statuses:
            themes[answer_id, coder_id].add(theme_id)
    empty = frozenset()
    return {
        answer_id: {
            coder_id: empty
            if status == Mark.Status.NO_THEME
            else frozenset(themes[answer_id, coder_id])
            for coder_id, status in by.items()
        }
        for answer_id, by in sorted(statuses.items())
    }


def _stream(queryset, *fields):
    """The rows of values_list(*fields), straight from the driver's cursor: a question's
    170,000 codings cost the ORM more per row than the database does."""
    try:
        sql, params = queryset.values_list(*fields).order_by().query.sql_with_params()
    except EmptyResultSet:  # no coders, say: the ORM would not ask either
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20_000):
            yield from rows


def theme_names(question: Question) -> dict[int, str]:
    return dict(Theme.objects.filter(project_id=question.poll.project_id).values_list("pk", "name"))


def double_coded(
    question: Question, coder_a, coder_b
) -> tuple[list[tuple[frozenset, frozenset]], dict[int, str]]:
    """The answers both coders finished, as (A's theme ids, B's theme ids), and theme id → name.

    Units are in answer id order; "no theme applies" is the empty set.
    """
    sets = coded_sets(question, [coder_a, coder_b])
    units = [
        (by[coder_a.pk], by[coder_b.pk])
        for by in sets.values()
        if coder_a.pk in by and coder_b.pk in by
    ]
    used = {t for pair in units for s in pair for t in s}
    names = theme_names(question)
    return units, {pk: names[pk] for pk in used}


def agreement_rows(question: Question, coder_a, coder_b) -> list[list]:
    """The CSV body: one row per theme (by name), then ALL. Numbers as int or Decimal."""
    units, names = double_coded(question, coder_a, coder_b)
    return rows_for(units, names)


def rows_for(units: list[tuple[frozenset, frozenset]], names: dict) -> list[list]:
    n = len(units)
    table = binary_theme_table(units)
    table.sort(key=lambda row: (names[row.theme].casefold(), names[row.theme], row.theme))
    rows = []
    for row in table:
        agree = n - (row.coder_a + row.coder_b - 2 * row.both)
        rows.append(
            [
                names[row.theme],
                n,
                row.coder_a,
                row.coder_b,
                _percent(agree, n),
                _coefficient(row.cohen_kappa),
                _coefficient(row.krippendorff_alpha),
                _coefficient(row.gwet_ac1),
            ]
        )
    rows.append(
        [
            ALL,
            n,
            sum(1 for a, _ in units if a),
            sum(1 for _, b in units if b),
            _percent(sum(1 for a, b in units if a == b), n),
            None,
            _coefficient(masi_alpha(units)),
            None,
        ]
    )
    return rows


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _coefficient(value: float | None) -> Decimal | None:
    if value is None:
        return None
    rounded = Decimal(repr(value)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return rounded + 0  # -0.0000 → 0.0000
