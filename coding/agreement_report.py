"""What the agreement page shows for a set of coders over some answers.

Per theme: how many answers each coder tagged with it, percent agreement,
κ (Cohen's for two coders, Fleiss' for more), Krippendorff's binary α and
Gwet's AC1; overall α with the MASI distance over theme sets; per coder pair:
answers in common, exact-match agreement, pooled κ and α-MASI.

Figures are read against Krippendorff's (2004) conventions. A theme used fewer
than RARE_USES times in the answers compared gets no coefficient (one stray
coding swings it from 1 to 0); a theme with high agreement but low κ/α is
flagged as the kappa paradox of a rare theme rather than hidden.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from coding.agreement import binary_theme_table, group_theme_table, masi_alpha, pooled_kappa
from coding.agreement_data import coded_sets, theme_names
from polls.models import Question

RELIABLE = 0.800
TENTATIVE = 0.667
RARE_USES = 5
CONVENTION = (
    "Krippendorff (2004): rely on α ≥ 0.800; 0.667 ≤ α < 0.800 allows tentative conclusions "
    "only; below 0.667 the coding is not reliable. The same bands shade κ and AC1."
)


def band(value: float | None) -> str:
    if value is None:
        return "none"
    if value >= RELIABLE:
        return "reliable"
    return "tentative" if value >= TENTATIVE else "unreliable"


@dataclass
class ThemeRow:
    theme_id: int
    name: str
    units: int
    applied: tuple[int, ...]  # per coder, in the report's coder order
    percent_agreement: float | None
    kappa: float | None
    alpha: float | None
    ac1: float | None

    @property
    def uses(self) -> int:
        return sum(self.applied)

    @property
    def rare(self) -> bool:
        return self.uses < RARE_USES

    @property
    def no_variation(self) -> bool:
        return self.alpha is None

    @property
    def paradox(self) -> bool:
        """High agreement, low chance-corrected agreement: a rare (or near-universal) theme."""
        low = [v for v in (self.kappa, self.alpha) if v is not None and v < TENTATIVE]
        return bool(low) and (self.percent_agreement or 0) >= 0.9 and not self.rare


@dataclass
class PairRow:
    coder_a: object
    coder_b: object
    units: int
    exact: float | None  # share of answers with identical theme sets
    pooled_kappa: float | None
    alpha_masi: float | None


@dataclass
class AgreementReport:
    coders: list
    finished: dict[int, int]  # coder id → answers finished in scope
    units: int  # answers at least two of the coders finished
    themes: list[ThemeRow]
    alpha_masi: float | None
    pairs: list[PairRow] = field(default_factory=list)

    def renamed(self, coders: list, names: dict[int, str]) -> AgreementReport:
        """The same figures with the coders and theme names as they are now (a kept
        report's may have been renamed since); `coders` in the same order."""
        by_id = {c.pk: c for c in coders}
        for row in self.themes:
            row.name = names.get(row.theme_id, row.name)
        self.themes.sort(key=lambda r: (-r.uses, r.name.casefold()))
        for pair in self.pairs:
            pair.coder_a, pair.coder_b = by_id[pair.coder_a.pk], by_id[pair.coder_b.pk]
        self.coders = coders
        return self

    @property
    def kappa_name(self) -> str:
        return "Cohen's κ" if len(self.coders) == 2 else "Fleiss' κ"


def agreement_report(
    question: Question, coders: list, answers=None, sets=None, finished=None
) -> AgreementReport:
    """`sets` and `finished`: coded_sets for these coders (or more of them) and its
    finished counts, when the caller has read them; answers fewer than two of the
    coders finished need not be in `sets`."""
    if sets is None:
        finished = Counter()
        sets = coded_sets(question, coders, answers, shared=True, finished=finished)
    units = [[by.get(c.pk) for c in coders] for by in sets.values()]
    shared = [u for u in units if sum(s is not None for s in u) >= 2]
    names = theme_names(question)
    return AgreementReport(
        coders=coders,
        finished={c.pk: finished[c.pk] for c in coders},
        units=len(shared),
        themes=_theme_rows(shared, names, len(coders)),
        alpha_masi=masi_alpha(shared) if shared else None,
        pairs=[_pair(shared, coders, i, j) for i, j in combinations(range(len(coders)), 2)],
    )


def _theme_rows(units: list, names: dict[int, str], coders: int) -> list[ThemeRow]:
    if coders == 2:
        rows = [
            ThemeRow(
                r.theme,
                names[r.theme],
                r.units,
                (r.coder_a, r.coder_b),
                r.percent_agreement,
                r.cohen_kappa,
                r.krippendorff_alpha,
                r.gwet_ac1,
            )  # fmt: skip
            for r in binary_theme_table([tuple(u) for u in units])
        ]
    else:
        rows = [
            ThemeRow(
                r.theme,
                names[r.theme],
                r.units,
                r.applied,
                r.percent_agreement,
                r.fleiss_kappa,
                r.krippendorff_alpha,
                r.gwet_ac1,
            )  # fmt: skip
            for r in group_theme_table(units)
        ]
    return sorted(rows, key=lambda r: (-r.uses, r.name.casefold()))


def _pair(units: list, coders: list, i: int, j: int) -> PairRow:
    pair = [(u[i], u[j]) for u in units if u[i] is not None and u[j] is not None]
    tables = [row.table for row in binary_theme_table(pair)]
    return PairRow(
        coders[i],
        coders[j],
        len(pair),
        sum(a == b for a, b in pair) / len(pair) if pair else None,
        pooled_kappa(tables),
        masi_alpha(pair) if pair else None,
    )
