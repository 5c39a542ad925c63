"""Inter-coder agreement statistics: pure functions, values in, floats or None out.

No Django here (coding.agreement_data gathers the codings). The formulas and
their test vectors are in shared/research/agreement.md; in short:

* Two coders, no missing values (`a` and `b` are equal-length lists of category
  values): `percent_agreement` (a proportion, 0–1), `cohen_kappa`, `scott_pi`,
  `brennan_prediger` (chance = 1/q), `gwet_ac1`.
* Any number of coders with missing values (`units` is a list of per-unit lists
  of values, None = that coder did not code the unit): `gwet_ac1(units)` and
  `fleiss_kappa(units)` in Gwet's missing-data form (Gwet 2014, as irrCAC),
  `krippendorff_alpha(units, distance)`. The `*_counts` variants take a
  units × categories table of how many coders chose each category.
* Set-valued codings: `masi_distance` (Passonneau 2006, exact 2/3 and 1/3,
  d(∅, ∅) = 0) and `masi_alpha` (Krippendorff's α with that distance).
* Several binary variables at once: `pooled_kappa` (De Vries et al. 2008),
  `binary_theme_table`, the per-theme figures for two coders, and
  `group_theme_table`, the same for any number of coders with missing values,
  both vectorised with numpy so 20,000 answers × 300 themes take a fraction of
  a second.

A coefficient that is 0/0 (no variation: every value the same, or nothing to
compare) is None, never nan and never an exception. Sums are kept exact (ints
and Fractions) where that is cheap and rounded to float once at the end.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain, combinations
from math import comb

import numpy as np

Value = Hashable
Units = Sequence[Sequence[Value | None]]

__all__ = [
    "GroupThemeAgreement",
    "ThemeAgreement",
    "binary_theme_table",
    "group_theme_table",
    "brennan_prediger",
    "brennan_prediger_counts",
    "cohen_kappa",
    "cohen_kappa_table",
    "fleiss_kappa",
    "fleiss_kappa_counts",
    "gwet_ac1",
    "gwet_ac1_counts",
    "krippendorff_alpha",
    "masi_alpha",
    "masi_distance",
    "percent_agreement",
    "percent_agreement_counts",
    "pooled_kappa",
    "scott_pi",
]


def _ratio(numerator, denominator) -> float | None:
    """numerator/denominator as a float; None when the denominator is 0 (undefined)."""
    if denominator == 0:
        return None
    return float(Fraction(numerator) / Fraction(denominator))


def _chance_corrected(po, pe) -> float | None:
    return _ratio(Fraction(po) - Fraction(pe), 1 - Fraction(pe))


# --- two coders, no missing values ------------------------------------------------


def _pair(a: Sequence[Value], b: Sequence[Value]) -> tuple[int, Fraction, Counter, Counter]:
    if len(a) != len(b):
        raise ValueError(f"the two coders rated {len(a)} and {len(b)} units")
    n = len(a)
    agree = sum(1 for x, y in zip(a, b, strict=True) if x == y)
    po = Fraction(agree, n) if n else Fraction(0)
    return n, po, Counter(a), Counter(b)


def percent_agreement(a: Sequence[Value], b: Sequence[Value]) -> float | None:
    """Share of units on which the two coders agree (0–1); None for no units."""
    n, po, _, _ = _pair(a, b)
    return float(po) if n else None


def cohen_kappa(a: Sequence[Value], b: Sequence[Value]) -> float | None:
    """Cohen (1960): chance from each coder's own marginals."""
    n, po, ca, cb = _pair(a, b)
    if not n:
        return None
    pe = Fraction(sum(ca[k] * cb[k] for k in ca), n * n)
    return _chance_corrected(po, pe)


def cohen_kappa_table(table: Sequence[Sequence[int]]) -> float | None:
    """Cohen's κ from a square contingency table (rows coder A, columns coder B)."""
    po, pe = _table_po_pe(table)
    return None if po is None else _chance_corrected(po, pe)


def _table_po_pe(table: Sequence[Sequence[int]]) -> tuple[Fraction | None, Fraction | None]:
    n = sum(sum(row) for row in table)
    if not n:
        return None, None
    rows = [sum(row) for row in table]
    cols = [sum(col) for col in zip(*table, strict=True)]
    po = Fraction(sum(table[i][i] for i in range(len(table))), n)
    pe = Fraction(sum(r * c for r, c in zip(rows, cols, strict=True)), n * n)
    return po, pe


def scott_pi(a: Sequence[Value], b: Sequence[Value]) -> float | None:
    """Scott (1955): chance from the pooled marginals of both coders."""
    n, po, ca, cb = _pair(a, b)
    if not n:
        return None
    pooled = ca + cb
    pe = Fraction(sum(v * v for v in pooled.values()), 4 * n * n)
    return _chance_corrected(po, pe)


def brennan_prediger(a: Sequence[Value], b: Sequence[Value], q: int | None = None) -> float | None:
    """Brennan & Prediger (1981): chance 1/q; q defaults to the categories either coder used."""
    n, po, ca, cb = _pair(a, b)
    q = len(set(ca) | set(cb)) if q is None else q
    if not n or q < 1:
        return None
    return _chance_corrected(po, Fraction(1, q))


# --- any number of coders, missing values (Gwet 2014 / irrCAC) ----------------------


def _counts(
    units: Units, categories: Iterable[Value] | None = None
) -> tuple[list, list[list[int]]]:
    """Units × categories table: how many coders put each unit in each category."""
    seen = [v for v in chain.from_iterable(units) if v is not None]
    cats = list(categories) if categories is not None else sorted(set(seen), key=_order_key)
    index = {c: i for i, c in enumerate(cats)}
    table = []
    for unit in units:
        row = [0] * len(cats)
        for v in unit:
            if v is not None:
                row[index[v]] += 1
        table.append(row)
    return cats, table


def _canonical(values: frozenset) -> tuple:
    """A set's members in one order shared by every set (its subsets then match)."""
    try:
        return tuple(sorted(values))
    except TypeError:  # numbers and text together: numbers first, as _order_key has it
        return tuple(sorted(values, key=_order_key))


def _order_key(value):
    return (0, value) if isinstance(value, int | float | Fraction) else (1, str(value))


def _gwet_parts(counts: Sequence[Sequence[int]]) -> tuple[Fraction, list[Fraction], int] | None:
    """Percent agreement over units with ≥ 2 ratings, and the category shares π_k.

    π_k averages r_ik/r_i over every unit with at least one rating (irrCAC's
    `pi.vec`); units nobody rated are left out altogether.
    """
    rows = [list(row) for row in counts if sum(row) > 0]
    if not rows:
        return None
    q = len(rows[0])
    pairable = [row for row in rows if sum(row) >= 2]
    if not pairable:
        return None
    pa = sum(
        (Fraction(sum(x * (x - 1) for x in row), sum(row) * (sum(row) - 1)) for row in pairable),
        Fraction(0),
    ) / len(pairable)
    pis = [
        sum((Fraction(row[k], sum(row)) for row in rows), Fraction(0)) / len(rows) for k in range(q)
    ]
    return pa, pis, q


def percent_agreement_counts(counts: Sequence[Sequence[int]]) -> float | None:
    """Multi-coder percent agreement (share of agreeing pairs, units with ≥ 2 ratings)."""
    parts = _gwet_parts(counts)
    return None if parts is None else float(parts[0])


def gwet_ac1_counts(counts: Sequence[Sequence[int]]) -> float | None:
    """Gwet's AC1 from a units × categories count table (q = the table's columns)."""
    parts = _gwet_parts(counts)
    if parts is None:
        return None
    pa, pis, q = parts
    if q < 2:
        return None
    pe = sum((p * (1 - p) for p in pis), Fraction(0)) / (q - 1)
    return _chance_corrected(pa, pe)


def fleiss_kappa_counts(counts: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' κ in Gwet's missing-data form (classic Fleiss when every unit has r ratings)."""
    parts = _gwet_parts(counts)
    if parts is None:
        return None
    pa, pis, _ = parts
    return _chance_corrected(pa, sum((p * p for p in pis), Fraction(0)))


def brennan_prediger_counts(counts: Sequence[Sequence[int]], q: int | None = None) -> float | None:
    parts = _gwet_parts(counts)
    if parts is None:
        return None
    pa, _, columns = parts
    q = columns if q is None else q
    return _chance_corrected(pa, Fraction(1, q)) if q >= 1 else None


def gwet_ac1(a, b=None, categories: Iterable[Value] | None = None) -> float | None:
    """Gwet's AC1 (2008).

    gwet_ac1(a, b): two coders, equal-length lists. gwet_ac1(units): any number of
    coders with None for missing (Gwet 2014's missing-data form, as irrCAC). q is
    the number of `categories` if given, else the number of categories used; with
    q < 2 the chance term is undefined and the result is None.
    """
    units = _two_as_units(a, b)
    return gwet_ac1_counts(_counts(units, categories)[1])


def fleiss_kappa(a, b=None, categories: Iterable[Value] | None = None) -> float | None:
    """Fleiss' κ in Gwet's missing-data form; fleiss_kappa(units) or fleiss_kappa(a, b)."""
    units = _two_as_units(a, b)
    return fleiss_kappa_counts(_counts(units, categories)[1])


def _two_as_units(a, b) -> Units:
    if b is None:
        return a
    if len(a) != len(b):
        raise ValueError(f"the two coders rated {len(a)} and {len(b)} units")
    return [[x, y] for x, y in zip(a, b, strict=True)]


# --- Krippendorff's alpha -----------------------------------------------------------

Distance = str | Callable[[Value, Value], float]


def krippendorff_alpha(units: Units, distance: Distance = "nominal") -> float | None:
    """Krippendorff's α over units of coder values (None = missing).

    distance: "nominal", "ordinal", "interval", "ratio" (Krippendorff 2011's
    squared differences δ²), or a callable d(c, k) used as δ² as it is (e.g.
    masi_distance). Units with fewer than two values drop out. None when there
    is nothing pairable or no variation (expected disagreement 0).
    """
    # Coincidences o_ck, kept exact: each ordered pair of values in a unit counts 1/(m_u - 1).
    coincidence: dict[tuple, Fraction] = defaultdict(Fraction)
    for unit in units:
        values = Counter(v for v in unit if v is not None)
        m = sum(values.values())
        if m < 2:
            continue
        for c, nc in values.items():
            for k, nk in values.items():
                pairs = nc * (nk - 1) if c == k else nc * nk
                if pairs:
                    coincidence[c, k] += Fraction(pairs, m - 1)
    totals: dict[Value, Fraction] = defaultdict(Fraction)
    for (c, _), o in coincidence.items():
        totals[c] += o
    n = sum(totals.values(), Fraction(0))
    if n == 0:
        return None
    delta = _delta(distance, totals)
    observed = sum((o * delta(c, k) for (c, k), o in coincidence.items() if c != k), Fraction(0))
    values = list(totals)
    expected = sum(
        (totals[c] * totals[k] * delta(c, k) for c in values for k in values if c != k),
        Fraction(0),
    )
    if expected == 0:
        return None
    return float(1 - (n - 1) * Fraction(observed) / Fraction(expected))


def _delta(distance: Distance, totals: dict[Value, Fraction]) -> Callable[[Value, Value], Fraction]:
    if callable(distance):
        return lambda c, k: _exact(distance(c, k))
    if distance == "nominal":
        return lambda c, k: Fraction(int(c != k))
    if distance == "interval":
        return lambda c, k: (_exact(c) - _exact(k)) ** 2
    if distance == "ratio":

        def ratio(c, k):
            c, k = _exact(c), _exact(k)
            return ((c - k) / (c + k)) ** 2 if c + k else Fraction(0)

        return ratio
    if distance == "ordinal":
        ordered = sorted(totals, key=_order_key)
        rank = {v: i for i, v in enumerate(ordered)}
        cumulative = [Fraction(0)]
        for v in ordered:
            cumulative.append(cumulative[-1] + totals[v])

        def ordinal(c, k):
            lo, hi = sorted((rank[c], rank[k]))
            between = cumulative[hi + 1] - cumulative[lo]
            return (between - (totals[c] + totals[k]) / 2) ** 2

        return ordinal
    raise ValueError(f"unknown distance {distance!r}")


def _exact(value) -> Fraction:
    return value if isinstance(value, Fraction) else Fraction(value)


# --- sets of themes: MASI -----------------------------------------------------------

_TWO_THIRDS, _ONE_THIRD = Fraction(2, 3), Fraction(1, 3)


def _masi_similarity(a: int, b: int, i: int) -> Fraction:
    """J·M for sets of sizes a and b sharing i elements (it depends on nothing else)."""
    if a == 0 and b == 0:
        return Fraction(1)  # d(∅, ∅) = 0
    if i == 0:
        return Fraction(0)
    if i == a == b:
        return Fraction(1)
    if i in (a, b):  # one is a proper subset of the other
        return Fraction(i, max(a, b)) * _TWO_THIRDS
    return Fraction(i, a + b - i) * _ONE_THIRD


def masi_distance(a: frozenset, b: frozenset) -> float:
    """Passonneau (2006): 1 − J·M, with M = 1, 2/3 (subset), 1/3 (overlap), 0; d(∅, ∅) = 0."""
    return float(1 - _masi_similarity(len(a), len(b), len(a & b)))


def masi_alpha(
    units: Sequence[Sequence[frozenset | None]], *, subset_budget: int = 2_000_000
) -> float | None:
    """Krippendorff's α over sets of themes with the MASI distance.

    Same value as krippendorff_alpha(units, masi_distance), computed without
    comparing every pair of distinct sets: MASI only depends on the two sizes and
    the size of the intersection, and the number of value pairs by (sizes,
    intersection) follows from counting, for every non-empty set S of themes,
    the values that contain S (binomial inversion). That costs 2^|set| per
    distinct set; past `subset_budget` it falls back to blocked numpy matrix
    products over the distinct sets.
    """
    observed: Counter = Counter()  # (a, b, i) → Σ pairs/(m-1), as Fraction
    observed_w: dict[tuple, Fraction] = defaultdict(Fraction)
    distinct: Counter = Counter()
    for unit in units:
        values = [frozenset(v) for v in unit if v is not None]
        m = len(values)
        if m < 2:
            continue
        distinct.update(values)
        if m == 2:
            x, y = values
            observed[len(x), len(y), len(x & y)] += 2  # both ordered pairs, weight 1/(2-1)
        else:
            for p, x in enumerate(values):
                for q, y in enumerate(values):
                    if p != q:
                        observed_w[len(x), len(y), len(x & y)] += Fraction(1, m - 1)
    for key, count in observed.items():
        observed_w[key] += count
    n = sum(distinct.values())
    if n == 0:
        return None
    disagreement = sum(
        (w * (1 - _masi_similarity(*key)) for key, w in observed_w.items()), Fraction(0)
    )
    histogram = _pair_histogram(distinct, subset_budget)
    similar = sum((count * _masi_similarity(*key) for key, count in histogram.items()), 0)
    # Σ over ordered pairs of distinct value instances of δ: all n² pairs minus the
    # similarity, where the n self-pairs have similarity 1 and distance 0.
    expected = n * (n - 1) - (Fraction(similar) - n)
    if expected == 0:
        return None
    return float(1 - (n - 1) * disagreement / expected)


def _pair_histogram(distinct: Counter, subset_budget: int) -> Counter:
    """(|x|, |y|, |x∩y|) → number of ordered pairs of value instances (self-pairs too).

    Pairs sharing nothing are left out (MASI similarity 0) except ∅ with ∅.
    """
    histogram: Counter = Counter()
    empty = distinct.get(frozenset(), 0)
    if empty:
        histogram[0, 0, 0] = empty * empty
    sets = [(_canonical(s), w) for s, w in distinct.items() if s]
    if sum(2 ** len(s) for s, _ in sets) > subset_budget:
        histogram.update(_pair_histogram_numpy(sets))
        return histogram
    # containing[a][S]: how many values of size a contain the theme set S, counted
    # by Counter's C loop (a value of weight w is listed w times, most have 1).
    containing: dict[int, Counter] = defaultdict(Counter)
    for members, w in sets:
        subsets = [c for j in range(1, len(members) + 1) for c in combinations(members, j)]
        containing[len(members)].update(subsets * w if w > 1 else subsets)
    # at_least[j][(a, b)] = Σ_pairs C(|x∩y|, j) = Σ_{|S|=j} N_S,a · N_S,b
    at_least: dict[int, Counter] = defaultdict(Counter)
    for a, by_a in containing.items():
        for b, by_b in containing.items():
            for subset, na in by_a.items():
                nb = by_b.get(subset)
                if nb:
                    at_least[len(subset)][a, b] += na * nb
    top = max(at_least, default=0)
    for a, b in {key for row in at_least.values() for key in row}:
        for i in range(1, min(a, b) + 1):
            exact = sum(
                (-1) ** (j - i) * comb(j, i) * at_least[j].get((a, b), 0)
                for j in range(i, min(a, b, top) + 1)
            )
            if exact:
                histogram[a, b, i] += exact
    return histogram


def _pair_histogram_numpy(sets: list[tuple[tuple, int]], block: int = 1024) -> Counter:
    themes = {t: i for i, t in enumerate(sorted({t for s, _ in sets for t in s}, key=_order_key))}
    matrix = np.zeros((len(sets), len(themes)), dtype=np.float32)
    for row, (members, _) in enumerate(sets):
        matrix[row, [themes[t] for t in members]] = 1
    sizes = matrix.sum(axis=1).astype(np.int64)
    weights = np.array([w for _, w in sets], dtype=np.int64)
    top = int(sizes.max()) + 1
    histogram = np.zeros(top**3, dtype=np.int64)
    for start in range(0, len(sets), block):
        inter = (matrix[start : start + block] @ matrix.T).round().astype(np.int64)
        keys = (sizes[start : start + block, None] * top + sizes[None, :]) * top + inter
        w = weights[start : start + block, None] * weights[None, :]
        shared = inter > 0
        np.add.at(histogram, keys[shared], w[shared])  # integer weights, summed exactly
    return Counter(
        {
            (k // (top * top), (k // top) % top, k % top): int(c)
            for k, c in enumerate(histogram)
            if c
        }
    )


# --- several binary variables -------------------------------------------------------


def pooled_kappa(tables: Iterable[Sequence[Sequence[int]]]) -> float | None:
    """De Vries et al. (2008): (mean Po − mean Pe) / (1 − mean Pe) over the tables.

    One contingency table per variable (theme), rows coder A, columns coder B;
    tables with no units are skipped. Not the mean of the κs.
    """
    parts = [_table_po_pe(t) for t in tables]
    parts = [(po, pe) for po, pe in parts if po is not None]
    if not parts:
        return None
    po = sum((p for p, _ in parts), Fraction(0)) / len(parts)
    pe = sum((e for _, e in parts), Fraction(0)) / len(parts)
    return _chance_corrected(po, pe)


@dataclass(frozen=True)
class ThemeAgreement:
    """Two coders on one theme over the units both coded (binary: applied or not)."""

    theme: Hashable
    units: int
    coder_a: int  # units coder A tagged with the theme
    coder_b: int
    both: int  # units both tagged with it
    percent_agreement: float | None  # proportion, 0–1
    cohen_kappa: float | None
    krippendorff_alpha: float | None
    gwet_ac1: float | None

    @property
    def table(self) -> list[list[int]]:
        """[[both, A only], [B only, neither]]: rows coder A (applied, not), columns coder B."""
        a_only, b_only = self.coder_a - self.both, self.coder_b - self.both
        return [[self.both, a_only], [b_only, self.units - self.both - a_only - b_only]]


def binary_theme_table(units: Sequence[tuple[frozenset, frozenset]]) -> list[ThemeAgreement]:
    """Per theme in either coder's sets: counts, PA, Cohen κ, binary nominal α, AC1 (q = 2).

    `units` are the answers both coders coded, each as (A's themes, B's themes);
    an empty set is "coded, no theme applies". Themes come out in sorted order.
    Two boolean units × themes matrices; each theme's 2×2 table comes from
    column sums, and the coefficients from integer formulas, all vectorised:

        κ  = (N·agree − (a·b + a0·b0)) / (N² − (a·b + a0·b0))
        α  = 1 − (2N − 1)·disagree / (n1·n0)       n1 = a + b, n0 = 2N − n1
        AC1 = (2N·agree − n1·n0) / (2N² − n1·n0)

    AC1 with two categories is defined even without variation (all units tagged
    by both: AC1 = 1); κ and α are then None.
    """
    n = len(units)
    themes = sorted({t for pair in units for s in pair for t in s}, key=_order_key)
    if not n or not themes:
        return []
    column = {t: i for i, t in enumerate(themes)}
    matrices = []
    for side in (0, 1):
        lengths = np.fromiter((len(pair[side]) for pair in units), dtype=np.int64, count=n)
        cols = np.fromiter(
            (column[t] for pair in units for t in pair[side]),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
        matrix = np.zeros((n, len(themes)), dtype=bool)
        matrix[rows, cols] = True
        matrices.append(matrix)
    a_matrix, b_matrix = matrices
    a1 = a_matrix.sum(axis=0, dtype=np.int64)
    b1 = b_matrix.sum(axis=0, dtype=np.int64)
    both = np.logical_and(a_matrix, b_matrix).sum(axis=0, dtype=np.int64)
    disagree = a1 + b1 - 2 * both
    agree = n - disagree
    a0, b0 = n - a1, n - b1
    chance = a1 * b1 + a0 * b0
    n1 = a1 + b1
    n0 = 2 * n - n1
    kappa = _divide(n * agree - chance, n * n - chance)
    alpha = _divide(n1 * n0 - (2 * n - 1) * disagree, n1 * n0)
    ac1 = _divide(2 * n * agree - n1 * n0, 2 * n * n - n1 * n0)
    pa = agree / n
    return [
        ThemeAgreement(
            theme=t,
            units=n,
            coder_a=int(a1[i]),
            coder_b=int(b1[i]),
            both=int(both[i]),
            percent_agreement=float(pa[i]),
            cohen_kappa=kappa[i],
            krippendorff_alpha=alpha[i],
            gwet_ac1=ac1[i],
        )
        for i, t in enumerate(themes)
    ]


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> list[float | None]:
    """Element-wise exact-integer ratio as floats, None where the denominator is 0."""
    safe = np.where(denominator == 0, 1, denominator)
    ratio = numerator / safe  # int64 / int64: one rounding to float64
    return [
        None if d == 0 else float(r)
        for r, d in zip(ratio.tolist(), denominator.tolist(), strict=True)
    ]


@dataclass(frozen=True)
class GroupThemeAgreement:
    """Any number of coders on one theme, over the units at least two of them coded."""

    theme: Hashable
    units: int
    applied: tuple[int, ...]  # per coder: of those units, how many they tagged with it
    percent_agreement: float | None  # share of agreeing coder pairs, 0–1
    fleiss_kappa: float | None
    krippendorff_alpha: float | None
    gwet_ac1: float | None


def group_theme_table(units: Sequence[Sequence[frozenset | None]]) -> list[GroupThemeAgreement]:
    """Per theme, binary applied / not applied: PA, Fleiss' κ and AC1 (Gwet's missing-data
    form, q = 2) and Krippendorff's nominal α; None in a unit means that coder did not code it.

    The same figures as fleiss_kappa, gwet_ac1 and krippendorff_alpha on each
    theme's 0/1/None values, from per-unit counts: m coders coded the unit, k of
    them applied the theme. Units with fewer than two codings carry no pair; they
    still count in Gwet's category shares π, as in irrCAC.
    """
    coders = len(units[0]) if units else 0
    themes = sorted({t for unit in units for s in unit if s is not None for t in s}, key=_order_key)
    if not themes:
        return []
    column = {t: i for i, t in enumerate(themes)}
    m = np.array([sum(s is not None for s in unit) for unit in units], dtype=np.int64)
    rated, pairable = m >= 1, m >= 2
    # One entry per theme a coder applied to a unit: sparse. A dense units × themes
    # table of k would take 48 MB at 20,000 units × 300 themes, and its temporaries
    # five times that; a unit without the theme (k = 0) adds nothing to the sums
    # below but full agreement, which the counts of units stand for.
    unit_of, theme_of, coder_of = [], [], []
    for u, unit in enumerate(units):
        for c, s in enumerate(unit):
            for t in s or ():
                unit_of.append(u)
                theme_of.append(column[t])
                coder_of.append(c)
    count = len(themes)
    unit_of, theme_of = np.array(unit_of, dtype=np.int64), np.array(theme_of, dtype=np.int64)
    applied = np.zeros((coders, count), dtype=np.int64)  # over pairable units
    np.add.at(applied, (np.array(coder_of, dtype=np.int64), theme_of), pairable[unit_of])
    cells, k = np.unique(unit_of * count + theme_of, return_counts=True)  # k > 0 only
    cell_unit, cell_theme = cells // count, cells % count
    n_rated = int(rated.sum())
    pi1 = np.bincount(cell_theme, weights=k / m[cell_unit], minlength=count) / max(n_rated, 1)
    on_pair = pairable[cell_unit]
    k_p, m_p, t_p = k[on_pair], m[cell_unit][on_pair], cell_theme[on_pair]
    n_pairable = int(pairable.sum())
    pa = None
    if n_pairable:
        agreeing = (k_p * (k_p - 1) + (m_p - k_p) * (m_p - k_p - 1)) / (m_p * (m_p - 1))
        pa = 1 - np.bincount(t_p, weights=1 - agreeing, minlength=count) / n_pairable
    # Krippendorff: coincidences of unlike values, Σ k(m−k)/(m−1), against n1·n0.
    unlike = np.bincount(t_p, weights=k_p * (m_p - k_p) / (m_p - 1), minlength=count)
    n = int(m[pairable].sum())
    n1 = np.zeros(count, dtype=np.int64)
    np.add.at(n1, t_p, k_p)
    n0 = n - n1
    rows = []
    for i, theme in enumerate(themes):
        p = None if pa is None else float(pa[i])
        pe_fleiss = float(pi1[i] ** 2 + (1 - pi1[i]) ** 2)
        pe_ac1 = float(2 * pi1[i] * (1 - pi1[i]))
        rows.append(
            GroupThemeAgreement(
                theme=theme,
                units=n_pairable,
                applied=tuple(int(x) for x in applied[:, i]),
                percent_agreement=p,
                fleiss_kappa=None if p is None else _chance_corrected(p, pe_fleiss),
                krippendorff_alpha=(
                    None
                    if n1[i] * n0[i] == 0
                    else 1 - (n - 1) * float(unlike[i]) / float(n1[i] * n0[i])
                ),
                gwet_ac1=None if p is None else _chance_corrected(p, pe_ac1),
            )
        )
    return rows
