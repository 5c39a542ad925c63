"""coding.agreement against the published test vectors of shared/research/agreement.md (TV-1…TV-8).

Each value is checked to the decimals the note gives. Cross-checks: the
vectorised per-theme table against the general functions, and the fast α-MASI
against Krippendorff's α with the MASI distance as a plain callable.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from coding.agreement import (
    ThemeAgreement,
    _counts,
    binary_theme_table,
    brennan_prediger,
    brennan_prediger_counts,
    cohen_kappa,
    cohen_kappa_table,
    fleiss_kappa,
    fleiss_kappa_counts,
    gwet_ac1,
    gwet_ac1_counts,
    krippendorff_alpha,
    masi_alpha,
    masi_distance,
    percent_agreement,
    percent_agreement_counts,
    pooled_kappa,
    scott_pi,
)

N = None


def close(value, expected: float, places: int = 4) -> bool:
    return value is not None and round(value, places) == pytest.approx(expected, abs=1e-12)


def expand(table, labels) -> tuple[list, list]:
    """A two-coder contingency table (rows A, columns B) as the two coders' lists."""
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [labels[i]] * count
            b += [labels[j]] * count
    return a, b


def units_from_counts(counts) -> list[list[int]]:
    return [[k for k, c in enumerate(row) for _ in range(c)] for row in counts]


# --- TV-1 Krippendorff (2011) §A: binary, 2 observers -------------------------------

TV1_A = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
TV1_B = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]


def test_tv1_binary_two_observers():
    a, b = TV1_A, TV1_B
    assert close(krippendorff_alpha(list(zip(a, b, strict=True))), 0.0952)
    assert close(krippendorff_alpha(list(zip(a, b, strict=True))), 0.095, 3)  # published
    assert close(cohen_kappa(a, b), 0.0909)
    assert close(scott_pi(a, b), 0.0476)
    assert close(gwet_ac1(a, b), 0.3103)
    assert close(brennan_prediger(a, b), 0.2000)
    assert close(percent_agreement(a, b), 0.6000)
    assert close(fleiss_kappa(a, b), 0.0476)  # two coders, no missing: Scott's π


def test_tv1_through_the_theme_table():
    units = [
        (frozenset({"x"} if x else ()), frozenset({"x"} if y else ()))
        for x, y in zip(TV1_A, TV1_B, strict=True)
    ]
    [row] = binary_theme_table(units)
    assert (row.theme, row.units, row.coder_a, row.coder_b, row.both) == ("x", 10, 2, 4, 1)
    assert close(row.percent_agreement, 0.6)
    assert close(row.cohen_kappa, 0.0909)
    assert close(row.krippendorff_alpha, 0.0952)
    assert close(row.gwet_ac1, 0.3103)


# --- TV-2 Krippendorff (2011) §B: nominal, 2 observers ------------------------------


def test_tv2_nominal_two_observers():
    a = ["a", "a", "b", "b", "d", "c", "c", "c", "e", "d", "d", "a"]
    b = ["b", "a", "b", "b", "b", "c", "c", "c", "e", "d", "d", "d"]
    assert close(krippendorff_alpha(list(zip(a, b, strict=True))), 0.6920)
    assert close(krippendorff_alpha(list(zip(a, b, strict=True))), 0.692, 3)
    assert close(cohen_kappa(a, b), 0.6842)
    assert close(scott_pi(a, b), 0.6786)
    assert close(gwet_ac1(a, b), 0.6897)
    assert close(brennan_prediger(a, b), 0.6875)


# --- TV-3 Krippendorff (2011) §C/§D and irrCAC raw4raters -------------------------------

TV3 = [
    [1, 1, N, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [N, 5, 5, 5], [N, N, 1, 1], [N, 3, N, N],
]  # fmt: skip


@pytest.mark.parametrize(
    "distance, computed, published",
    [
        ("nominal", 0.7434, 0.743),
        ("ordinal", 0.8154, 0.815),
        ("interval", 0.8491, 0.849),
        ("ratio", 0.7974, 0.797),
    ],
)
def test_tv3_alpha_with_missing_values(distance, computed, published):
    alpha = krippendorff_alpha(TV3, distance)
    assert close(alpha, computed) and close(alpha, published, 3)


def test_tv3_irrcac_missing_data_forms():
    raw4raters = [row[:] for row in TV3]
    raw4raters[11] = [N, N, 3, N]  # irrCAC has unit 12's value under rater 3
    counts = _counts(raw4raters)[1]
    assert close(percent_agreement_counts(counts), 0.8181818, 7)
    assert close(gwet_ac1(raw4raters), 0.77544, 5)
    assert close(fleiss_kappa(raw4raters), 0.76117, 5)
    assert close(krippendorff_alpha(raw4raters), 0.74342, 5)
    assert close(brennan_prediger_counts(counts), 0.77273, 5)
    # The layout does not matter to these (only which values each unit got).
    assert gwet_ac1(TV3) == gwet_ac1(raw4raters)


def test_units_with_one_value_drop_out_of_alpha():
    assert krippendorff_alpha(TV3) == krippendorff_alpha(TV3[:11])


# --- TV-4 Content Analysis / Wikipedia: 3 coders, missing ------------------------------

TV4 = [
    [N, 1, N], [N, N, N], [N, 2, 2], [N, 1, 1], [N, 3, 3], [3, 3, 4], [4, 4, 4], [1, 3, N],
    [2, N, 2], [1, N, 1], [1, N, 1], [3, N, 3], [3, N, 3], [N, N, N], [3, N, 4],
]  # fmt: skip


def test_tv4_three_coders_with_missing_values():
    assert close(krippendorff_alpha(TV4, "nominal"), 0.691358, 6)
    assert close(krippendorff_alpha(TV4, "interval"), 0.810845, 6)
    assert close(krippendorff_alpha(TV4, "nominal"), 0.6914)
    assert close(krippendorff_alpha(TV4, "ordinal"), 0.8067)
    assert close(krippendorff_alpha(TV4, "interval"), 0.8108)
    assert close(krippendorff_alpha(TV4, "ratio"), 0.8089)


# --- TV-5 Fleiss' κ ---------------------------------------------------------------------

TV5A = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]  # fmt: skip


def test_tv5a_fleiss_wikipedia():
    kappa = fleiss_kappa_counts(TV5A)
    assert close(kappa, 0.2099) and close(kappa, 0.210, 3)
    assert close(percent_agreement_counts(TV5A), 0.3780)
    assert close(fleiss_kappa(units_from_counts(TV5A)), 0.2099)


TV5B = """4,4,4,4,4,4 2,2,2,5,5,5 2,3,3,3,3,5 5,5,5,5,5,5 2,2,2,4,4,4 1,1,3,3,3,3 3,3,3,3,5,5
1,1,3,3,3,4 1,1,4,4,4,4 5,5,5,5,5,5 1,4,4,4,4,4 1,2,4,4,4,4 2,2,2,3,3,3 1,4,4,4,4,4 2,2,4,4,4,5
3,3,3,3,3,5 1,1,1,4,5,5 1,1,1,1,1,2 2,2,4,4,4,4 1,3,3,5,5,5 5,5,5,5,5,5 2,4,4,4,4,4 2,2,4,5,5,5
1,1,4,4,4,4 1,4,4,4,4,5 2,2,2,2,2,4 1,1,1,1,5,5 2,2,4,4,4,4 1,3,3,3,3,3 5,5,5,5,5,5"""
TV5B_UNITS = [[int(v) for v in unit.split(",")] for unit in TV5B.split()]


def test_tv5b_fleiss_1971_diagnoses():
    assert len(TV5B_UNITS) == 30
    assert close(fleiss_kappa(TV5B_UNITS), 0.4302445, 7)
    assert close(krippendorff_alpha(TV5B_UNITS), 0.4334)
    assert close(gwet_ac1(TV5B_UNITS), 0.4479)
    assert close(brennan_prediger_counts(_counts(TV5B_UNITS)[1]), 0.4444)


TV5C = [
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
]  # fmt: skip


def test_tv5c_gwet_distrib_6raters():
    assert close(percent_agreement_counts(TV5C), 0.5511111, 7)
    assert close(gwet_ac1_counts(TV5C), 0.4448007, 7)
    assert close(fleiss_kappa_counts(TV5C), 0.4139265, 7)
    assert close(krippendorff_alpha(units_from_counts(TV5C)), 0.4204384, 7)
    assert close(brennan_prediger_counts(TV5C), 0.4388889, 7)


# --- TV-6 two-coder tables ------------------------------------------------------------------


def test_tv6a_cohen_wikipedia():
    a, b = expand([[20, 5], [10, 15]], ["yes", "no"])
    assert close(percent_agreement(a, b), 0.70)
    assert close(cohen_kappa(a, b), 0.4000)
    assert close(cohen_kappa_table([[20, 5], [10, 15]]), 0.4000)
    assert close(krippendorff_alpha(list(zip(a, b, strict=True))), 0.4000)
    assert close(gwet_ac1(a, b), 0.4059)


@pytest.mark.parametrize(
    "table, kappa, ac1, alpha",
    [([[45, 15], [25, 15]], 0.1304, 0.2661, 0.1253), ([[25, 35], [5, 35]], 0.2593, 0.2079, 0.1960)],
)
def test_tv6b_paradox_tables(table, kappa, ac1, alpha):
    a, b = expand(table, [1, 0])
    assert close(percent_agreement(a, b), 0.60)
    assert close(cohen_kappa(a, b), kappa)
    assert close(gwet_ac1(a, b), ac1)
    assert close(krippendorff_alpha(list(zip(a, b, strict=True))), alpha)


def test_tv6c_artstein_poesio_dialogue_acts():
    a, b = expand([[46, 0, 0], [6, 32, 6], [0, 0, 10]], ["stat", "ireq", "chck"])
    assert close(percent_agreement(a, b), 0.8800)
    assert close(brennan_prediger(a, b), 0.8200)
    assert close(scott_pi(a, b), 0.79953, 5)
    assert close(cohen_kappa(a, b), 0.8013)
    assert close(krippendorff_alpha(list(zip(a, b, strict=True))), 0.8005)


def test_tv6d_gwet_abstractors():
    a, b = expand([[13, 0, 0], [0, 20, 7], [0, 4, 56]], ["Ectopic", "AIU", "NIU"])
    assert close(cohen_kappa(a, b), 0.7964094, 7)
    assert close(scott_pi(a, b), 0.7962397, 7)
    assert close(gwet_ac1(a, b), 0.8493305, 7)
    assert close(brennan_prediger(a, b), 0.835, 3)
    assert close(krippendorff_alpha(list(zip(a, b, strict=True))), 0.7972585, 7)
    assert close(percent_agreement(a, b), 0.89)


# --- TV-7 MASI and the synthetic survey fixture ---------------------------------------------


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ({1, 2, 3, 4}, {3, 4, 5}, 0.8667),
        ({1, 2}, {1, 2, 3, 4}, 0.6667),
        ({"A"}, {"A"}, 0.0),
        ({"A"}, {"A", "B"}, 0.6667),
        ({"A", "B"}, {"A", "C"}, 0.8889),
        ({"A"}, {"B"}, 1.0),
        ({"A", "B", "C"}, {"A"}, 0.7778),
        ({"A", "B", "D"}, {"A", "B"}, 0.5556),
        (set(), set(), 0.0),
        (set(), {"A"}, 1.0),
    ],
)
def test_tv7a_masi_distance(a, b, expected):
    assert close(masi_distance(frozenset(a), frozenset(b)), expected)
    assert masi_distance(frozenset(b), frozenset(a)) == masi_distance(frozenset(a), frozenset(b))


def test_masi_uses_exact_thirds():
    # {1,2} ⊂ {1,2,3}: J = 2/3, M = 2/3 → d = 5/9 exactly, not 1 − 0.67·2/3.
    assert masi_distance(frozenset({1, 2}), frozenset({1, 2, 3})) == float(Fraction(5, 9))
    # overlap {1,2} / {2,3}: J = 1/3, M = 1/3 → d = 8/9
    assert masi_distance(frozenset({1, 2}), frozenset({2, 3})) == float(Fraction(8, 9))


TV7 = """r1,c1,A r1,c2,A r1,c3,A r2,c1,A|B r2,c2,A r2,c3,A|B r3,c1,C r3,c2,C|D r4,c1, r4,c2, r4,c3,
r5,c1,B r5,c2,C r5,c3,B r6,c1,D r6,c2,D r6,c3,D r7,c1,A|C r7,c2,A|C r7,c3,C r8,c2,B|D r8,c3,B|D
r9,c1,C r9,c2, r9,c3,C r10,c1,A|B|D r10,c2,A|B r10,c3,A|B|D"""
CODERS = ["c1", "c2", "c3"]
RESPONSES = [f"r{i}" for i in range(1, 11)]


def tv7_sets() -> dict[str, dict[str, frozenset]]:
    """response → coder → theme set; a coder missing from the dict did not code it."""
    coded: dict[str, dict[str, frozenset]] = {r: {} for r in RESPONSES}
    for row in TV7.split():
        response, coder, themes = row.split(",")
        coded[response][coder] = frozenset(t for t in themes.split("|") if t)
    return coded


def tv7_units(coders=CODERS) -> list[list[frozenset | None]]:
    coded = tv7_sets()
    return [[coded[r].get(c) for c in coders] for r in RESPONSES]


def tv7_theme_units(theme: str) -> list[list[int | None]]:
    return [[None if s is None else int(theme in s) for s in unit] for unit in tv7_units()]


def test_tv7b_alpha_over_sets():
    units = tv7_units()
    assert close(masi_alpha(units), 0.6123)
    assert close(krippendorff_alpha(units, masi_distance), 0.6123)

    def jaccard(a, b):
        return 1 - len(a & b) / len(a | b) if a | b else 0.0

    assert close(krippendorff_alpha(units, jaccard), 0.6544)
    assert close(krippendorff_alpha(units, "nominal"), 0.5318)


@pytest.mark.parametrize(
    "theme, alpha, ac1, fleiss, pa",
    [
        ("A", 0.8556, 0.8755, 0.8565, 0.9333),
        ("B", 0.6842, 0.7600, 0.7000, 0.8667),
        ("C", 0.6625, 0.7701, 0.6825, 0.8667),
        ("D", 0.6625, 0.7062, 0.6149, 0.8333),
    ],
)
def test_tv7b_per_theme_three_coders(theme, alpha, ac1, fleiss, pa):
    units = tv7_theme_units(theme)
    assert close(krippendorff_alpha(units), alpha)
    assert close(gwet_ac1(units, categories=[0, 1]), ac1)
    assert close(fleiss_kappa(units), fleiss)
    assert close(percent_agreement_counts(_counts(units, [0, 1])[1]), pa)


def pair_units(first: str, second: str) -> list[tuple[frozenset, frozenset]]:
    coded = tv7_sets()
    return [
        (coded[r][first], coded[r][second])
        for r in RESPONSES
        if first in coded[r] and second in coded[r]
    ]


@pytest.mark.parametrize(
    "pair, n, kappas, pooled, mean, alpha_masi",
    [
        (("c1", "c2"), 9, [1.0000, 0.4000, 0.5000, 0.3571], 0.5970, 0.5643, 0.4896),
        (("c1", "c3"), 8, [0.7500, 1.0000, 1.0000, 1.0000], 0.9273, 0.9375, 0.9018),
        (("c2", "c3"), 9, [0.7692, 0.5263, 0.3571, 0.7273], 0.6087, 0.5950, 0.4933),
    ],
)
def test_tv7b_coder_pairs(pair, n, kappas, pooled, mean, alpha_masi):
    units = pair_units(*pair)
    assert len(units) == n
    table = binary_theme_table(units)
    assert [row.theme for row in table] == ["A", "B", "C", "D"]
    assert all(close(row.cohen_kappa, k) for row, k in zip(table, kappas, strict=True))
    assert close(pooled_kappa([row.table for row in table]), pooled)
    assert close(sum(row.cohen_kappa for row in table) / len(table), mean)
    assert close(masi_alpha(units), alpha_masi)
    assert close(krippendorff_alpha(units, masi_distance), alpha_masi)


# --- TV-8 rare-theme paradox --------------------------------------------------------------


def test_tv8_rare_theme_paradox():
    table = [[1, 2], [2, 95]]
    a, b = expand(table, [1, 0])
    assert close(percent_agreement(a, b), 0.9600)
    assert close(cohen_kappa(a, b), 0.3127)
    assert close(krippendorff_alpha(list(zip(a, b, strict=True))), 0.3162)
    assert close(gwet_ac1(a, b), 0.9575)
    units = [
        (frozenset("t" if x else ""), frozenset("t" if y else ""))
        for x, y in zip(a, b, strict=True)
    ]
    [row] = binary_theme_table(units)
    assert row.table == table
    assert (
        close(row.cohen_kappa, 0.3127),
        close(row.krippendorff_alpha, 0.3162),
        close(row.gwet_ac1, 0.9575),
    ) == (True,) * 3


# --- undefined cases: None, never nan, never an exception -----------------------------------


def test_no_variation_is_none():
    same = [1, 1, 1, 1]
    assert cohen_kappa(same, same) is None
    assert scott_pi(same, same) is None
    assert brennan_prediger(same, same) is None  # q = 1
    assert gwet_ac1(same, same) is None  # q = 1
    assert fleiss_kappa(same, same) is None
    assert krippendorff_alpha([[1, 1], [1, 1]]) is None
    assert krippendorff_alpha([[1, 1], [1, 1]], "interval") is None
    assert krippendorff_alpha([[1, 1], [1, 1]], "ordinal") is None
    assert percent_agreement(same, same) == 1.0


def test_nothing_to_compare_is_none():
    assert percent_agreement([], []) is None
    assert cohen_kappa([], []) is None
    assert scott_pi([], []) is None
    assert gwet_ac1([], []) is None
    assert fleiss_kappa([]) is None
    assert krippendorff_alpha([]) is None
    assert krippendorff_alpha([[1, None], [None, 2]]) is None  # no unit has two values
    assert gwet_ac1([[1, None], [None, 2]]) is None
    assert masi_alpha([]) is None
    assert pooled_kappa([]) is None
    assert binary_theme_table([]) == []


def test_sets_without_variation():
    empty = frozenset()
    assert masi_alpha([(empty, empty), (empty, empty)]) is None
    assert masi_alpha([(frozenset("a"), frozenset("a"))] * 3) is None
    assert binary_theme_table([(empty, empty)] * 3) == []


def test_a_theme_both_coders_applied_everywhere():
    [row] = binary_theme_table([(frozenset("t"), frozenset("t"))] * 4)
    assert (row.cohen_kappa, row.krippendorff_alpha) == (None, None)
    assert row.percent_agreement == 1.0
    assert row.gwet_ac1 == 1.0  # two categories, chance 0: defined


def test_pooled_kappa_is_none_without_variation():
    assert pooled_kappa([[[3, 0], [0, 0]], [[2, 0], [0, 0]]]) is None


def test_unequal_lists_are_a_programming_error():
    with pytest.raises(ValueError):
        cohen_kappa([1, 2], [1])


def test_missing_is_not_empty():
    """An answer a coder did not code drops out; one coded with no theme disagrees."""
    a, b = frozenset("x"), frozenset()
    missing = [[a, a], [b, b], [a, None]]
    empty = [[a, a], [b, b], [a, b]]
    assert masi_alpha(missing) == 1.0
    assert masi_alpha(empty) < 1.0


# --- cross-checks on random data ------------------------------------------------------------


def random_pairs(
    seed: int, units: int, themes: int, density: float
) -> list[tuple[frozenset, frozenset]]:
    rng = random.Random(seed)
    pairs = []
    for _ in range(units):
        a = frozenset(t for t in range(themes) if rng.random() < density)
        b = frozenset(
            t for t in (set(a) if rng.random() < 0.6 else range(themes)) if rng.random() < 0.8
        )
        pairs.append((a, b))
    return pairs


@pytest.mark.parametrize("seed", range(5))
def test_theme_table_matches_the_general_functions(seed):
    units = random_pairs(seed, 60, 7, 0.3)
    for row in binary_theme_table(units):
        a = [int(row.theme in x) for x, _ in units]
        b = [int(row.theme in y) for _, y in units]
        assert row.coder_a == sum(a) and row.coder_b == sum(b)
        assert row.percent_agreement == pytest.approx(percent_agreement(a, b), abs=1e-12)
        for got, want in [
            (row.cohen_kappa, cohen_kappa(a, b)),
            (row.krippendorff_alpha, krippendorff_alpha(list(zip(a, b, strict=True)))),
            (row.gwet_ac1, gwet_ac1(a, b, categories=[0, 1])),
        ]:
            assert (got is None and want is None) or got == pytest.approx(want, abs=1e-12)
        assert isinstance(row, ThemeAgreement)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("budget", [2_000_000, 0], ids=["subsets", "matrix"])
def test_fast_masi_alpha_matches_the_plain_definition(seed, budget):
    units = [list(pair) for pair in random_pairs(seed, 40, 6, 0.35)]
    rng = random.Random(seed)
    for unit in units[:10]:  # some three-coder units, some missing values
        unit.append(rng.choice([None, frozenset(), frozenset({1, 2})]))
    expected = krippendorff_alpha(units, masi_distance)
    assert masi_alpha(units, subset_budget=budget) == pytest.approx(expected, abs=1e-12)


def test_no_nan_anywhere():
    values = [
        cohen_kappa([0], [1]),
        gwet_ac1([0], [1]),
        krippendorff_alpha([[0, 1]]),
        masi_alpha([(frozenset(), frozenset("a"))]),
    ]
    assert all(v is None or not math.isnan(v) for v in values)
