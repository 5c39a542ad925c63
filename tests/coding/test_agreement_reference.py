"""coding.agreement cross-checked against reference implementations on seeded random data.

Cohen's κ against scikit-learn's `cohen_kappa_score`, Krippendorff's α against
the `krippendorff` package (nominal, ordinal, interval, ratio, with missing
values), the vectorised per-theme table against both, and the `agreement`
command end to end: two coders' long codings files imported with
`import_codings --create-themes`, every theme row compared with the references.

Where ours is None (0/0, no variation) the references give nan
(scikit-learn, with an UndefinedMetricWarning; krippendorff when only one value
is pairable) or refuse the data (krippendorff raises ValueError when the value
domain has one value or no unit has two values); the tests say which.
"""

from __future__ import annotations

import csv
import io
import math
import random
import warnings

import krippendorff
import numpy as np
import pytest
from django.core.management import call_command
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score

from coding.agreement import binary_theme_table, cohen_kappa, krippendorff_alpha
from tests.factories import make_free_text, make_poll

TOLERANCE = 1e-9
LEVELS = ["nominal", "ordinal", "interval", "ratio"]


def sk_kappa(a, b) -> float:
    """scikit-learn's κ; nan (its warning silenced) where it is undefined."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.filterwarnings("ignore", "A single label was found", UserWarning)
        return float(cohen_kappa_score(a, b))


def ref_alpha(units, level: str) -> float:
    """krippendorff.alpha on our units (None → nan), coders as rows; nan where it refuses."""
    data = np.array(
        [[np.nan if v is None else float(v) for v in unit] for unit in units], dtype=float
    ).T
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
    except ValueError:  # one value in the domain, or no unit with two values
        return math.nan


def assert_matches(ours: float | None, reference: float) -> None:
    if ours is None:
        assert math.isnan(reference), f"ours is undefined, the reference gives {reference}"
    else:
        assert not math.isnan(reference), f"ours is {ours}, the reference is undefined"
        assert abs(ours - reference) <= TOLERANCE, (ours, reference)


def pairable_values(units) -> set:
    return {v for unit in units if sum(v is not None for v in unit) >= 2 for v in unit} - {None}


# --- Cohen's κ ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_cohen_kappa_matches_scikit_learn(seed):
    rng = random.Random(seed)
    categories = [f"c{i}" for i in range(rng.randint(2, 5))]
    n = rng.randint(20, 200)
    weights = [rng.random() + 0.05 for _ in categories]  # uneven marginals
    agree = rng.random()  # from chance-level to near-perfect agreement
    a = rng.choices(categories, weights, k=n)
    b = [x if rng.random() < agree else rng.choices(categories, weights)[0] for x in a]
    assert_matches(cohen_kappa(a, b), sk_kappa(a, b))


def test_cohen_kappa_is_undefined_exactly_where_scikit_learn_is():
    assert cohen_kappa(["x"] * 20, ["x"] * 20) is None
    assert math.isnan(sk_kappa(["x"] * 20, ["x"] * 20))
    # Each coder constant, but different: chance agreement 0, κ = 0 in both.
    assert_matches(cohen_kappa(["x"] * 20, ["y"] * 20), sk_kappa(["x"] * 20, ["y"] * 20))


# --- Krippendorff's α -----------------------------------------------------------------


def random_units(rng: random.Random, level: str) -> list[list]:
    """2–5 coders, 20–150 units, numeric values, missing values of every kind.

    Each coder skips units at their own rate (one of them skips a whole block),
    and a few units are forced down to a single value or to none.
    """
    coders = rng.randint(2, 5)
    n = rng.randint(20, 150)
    if level == "ratio":
        domain = rng.sample(range(0, 15), rng.randint(3, 7))  # ratio: no negative values
    elif level == "interval":
        domain = [x / 2 for x in rng.sample(range(-8, 16), rng.randint(3, 7))]
    else:  # nominal and ordinal: numbers, so both implementations order them alike
        domain = rng.sample(range(-5, 20), rng.randint(3, 7))
    skip = [rng.random() * 0.4 for _ in range(coders)]
    block_start = rng.randrange(n)
    units = []
    for u in range(n):
        truth = rng.choice(domain)
        unit = [
            None
            if rng.random() < skip[c] or (c == 0 and block_start <= u < block_start + n // 4)
            else (truth if rng.random() < 0.6 else rng.choice(domain))
            for c in range(coders)
        ]
        units.append(unit)
    for u in rng.sample(range(n), 3):  # one value only
        keep = rng.randrange(coders)
        units[u] = [rng.choice(domain) if c == keep else None for c in range(coders)]
    units[rng.randrange(n)] = [None] * coders  # nobody
    return units


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_alpha_matches_the_krippendorff_package(level, seed):
    units = random_units(random.Random(seed), level)
    counts = [sum(v is not None for v in unit) for unit in units]
    assert any(m < len(units[0]) for m in counts)  # coders who skipped units
    assert 1 in counts and 0 in counts
    assert len(pairable_values(units)) >= 2
    ours = krippendorff_alpha(units, level)
    assert ours is not None
    assert_matches(ours, ref_alpha(units, level))


@pytest.mark.parametrize("level", LEVELS)
def test_units_with_fewer_than_two_values_drop_out_of_both(level):
    """Lone values add nothing to the coincidences, in ours and in the reference.

    The reference still puts a lone value in its value domain (for ordinal, a
    rank with no pairable values, so it adds nothing between two ranks either).
    """
    units = random_units(random.Random(99), level)
    pairable = [unit for unit in units if sum(v is not None for v in unit) >= 2]
    coders = len(units[0])
    values = sorted(pairable_values(units))
    # Values only a lone coder ever gives: above the rest, and between the two lowest.
    lone = [[x] + [None] * (coders - 1) for x in (values[-1] + 1, (values[0] + values[1]) / 2)]
    lone.append([None] * coders)
    expected = krippendorff_alpha(pairable, level)
    assert krippendorff_alpha(units + lone, level) == pytest.approx(expected, abs=1e-15)
    assert ref_alpha(units + lone, level) == pytest.approx(ref_alpha(pairable, level), abs=1e-12)
    assert_matches(krippendorff_alpha(units + lone, level), ref_alpha(units + lone, level))


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_alpha_is_undefined_exactly_where_the_package_is(level):
    # One pairable value, others only in lone units: the reference computes 0/0 = nan.
    one_value = [[3, 3, None], [3, None, 3], [5, None, None], [None, 7, None]]
    assert krippendorff_alpha(one_value, level) is None
    assert math.isnan(ref_alpha(one_value, level))
    # One value in all: the reference refuses (ValueError), so does our None.
    assert krippendorff_alpha([[3, 3], [3, 3]], level) is None
    assert math.isnan(ref_alpha([[3, 3], [3, 3]], level))
    # No unit with two values.
    assert krippendorff_alpha([[1, None], [None, 2]], level) is None
    assert math.isnan(ref_alpha([[1, None], [None, 2]], level))


# --- the per-theme table ---------------------------------------------------------------


def random_theme_units(rng: random.Random, themes: list[str]) -> list[tuple[frozenset, frozenset]]:
    """Two coders' theme sets on 20–200 answers; the first theme both apply to every answer."""
    rates = {t: rng.random() * 0.6 for t in themes[1:]}
    rates[themes[-1]] = 0.02  # a rare theme, often absent from one coder or from both
    agree = rng.random()
    units = []
    for _ in range(rng.randint(20, 200)):
        a = {t for t, p in rates.items() if rng.random() < p}
        b = {t for t, p in rates.items() if (t in a if rng.random() < agree else rng.random() < p)}
        units.append((frozenset(a | {themes[0]}), frozenset(b | {themes[0]})))
    return units


def theme_vectors(units, theme) -> tuple[list[int], list[int]]:
    return [int(theme in a) for a, _ in units], [int(theme in b) for _, b in units]


@pytest.mark.parametrize("seed", range(10))
def test_binary_theme_table_matches_both_references(seed):
    themes = ["always", "b", "c", "d", "e", "rare"]
    units = random_theme_units(random.Random(seed), themes)
    rows = binary_theme_table(units)
    used = {t for pair in units for s in pair for t in s}
    assert [row.theme for row in rows] == sorted(used)
    compared = 0
    for row in rows:
        a, b = theme_vectors(units, row.theme)
        assert (row.units, row.coder_a, row.coder_b) == (len(units), sum(a), sum(b))
        assert row.both == sum(x & y for x, y in zip(a, b, strict=True))
        kappa, alpha = sk_kappa(a, b), ref_alpha(list(zip(a, b, strict=True)), "nominal")
        if row.cohen_kappa is None or row.krippendorff_alpha is None:
            assert len(set(a) | set(b)) == 1  # no variation at all
            assert row.cohen_kappa is None and row.krippendorff_alpha is None
            assert math.isnan(kappa) and math.isnan(alpha)
            continue
        assert_matches(row.cohen_kappa, kappa)
        assert_matches(row.krippendorff_alpha, alpha)
        compared += 1
    assert rows[0].theme == "always" and rows[0].cohen_kappa is None
    assert compared >= 4


# --- the agreement command, end to end --------------------------------------------------

THEMES = [
    "Lack of time",
    "Caseloads",
    "Pay",
    "Training",
    "Management",
    "Paperwork",
]


def write_codings(path, codings: dict[str, set[str]]) -> None:
    """The long shape: one row per applied theme, an empty theme for "coded, no theme"."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["response_id", "theme"])
        for response, themes in codings.items():
            writer.writerows([[response, t] for t in sorted(themes)] or [[response, ""]])


def run(command: str, *args) -> None:
    call_command(command, *args, stdout=io.StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(3))
def test_the_agreement_command_matches_the_references(tmp_path, project, seed):
    """Coders c1 and c2 are new accounts, made by import_codings."""
    rng = random.Random(seed)
    n = rng.randint(30, 60)
    poll = make_poll(project, title=f"Poll {seed}", respondents=n)
    question = make_free_text(poll, [f"answer {i}" for i in range(1, n + 1)])
    responses = list(
        question.answers.order_by("respondent__position").values_list(
            "respondent__export_id", flat=True
        )
    )
    # Overlapping but not identical: each coder leaves out a different random part.
    coded = {
        coder: sorted(rng.sample(responses, rng.randint(n * 2 // 3, n - 3)), key=responses.index)
        for coder in ("c1", "c2")
    }
    rates = {t: rng.random() * 0.5 for t in THEMES}
    if seed == 0:
        rates["Caseloads"] = 1.0  # both apply it everywhere: κ and α undefined, empty cells
    codings: dict[str, dict[str, set[str]]] = {}
    for coder, answered in coded.items():
        codings[coder] = {r: {t for t, p in rates.items() if rng.random() < p} for r in answered}
        path = tmp_path / f"{coder}.csv"
        write_codings(path, codings[coder])
        run(
            "import_codings",
            str(path),
            "--project",
            project.name,
            "--poll",
            poll.title,
            "--question",
            question.export_id,
            "--coder",
            coder,
            "--create-themes",
        )
    out = tmp_path / "agreement.csv"
    run(
        "agreement",
        "--project",
        project.name,
        "--poll",
        poll.title,
        "--question",
        question.export_id,
        "--coders",
        "c1,c2",
        "--out",
        str(out),
    )
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))

    c1, c2 = codings["c1"], codings["c2"]
    common = [r for r in c1 if r in c2]
    assert 0 < len(common) < len(c1.keys() | c2.keys())
    used = {t for r in common for t in c1[r] | c2[r]}
    assert [row["theme"] for row in rows] == sorted(used, key=str.casefold) + ["ALL"]
    if seed:
        assert any(not c1[r] for r in common)  # "coded, no theme" answers in common
    checked = undefined = 0
    for row in rows[:-1]:
        theme = row["theme"]
        a = [int(theme in c1[r]) for r in common]
        b = [int(theme in c2[r]) for r in common]
        assert (row["units"], row["coder_a"], row["coder_b"]) == (
            str(len(common)),
            str(sum(a)),
            str(sum(b)),
        )
        kappa = sk_kappa(a, b)
        alpha = ref_alpha(list(zip(a, b, strict=True)), "nominal")
        for cell, reference in ((row["cohen_kappa"], kappa), (row["krippendorff_alpha"], alpha)):
            if cell == "":
                assert math.isnan(reference) and len(set(a) | set(b)) == 1, (theme, reference)
                undefined += 1
            else:
                # The CSV has 4 decimals, rounded half up.
                assert abs(float(cell) - reference) <= 0.00005 + 1e-12, (theme, cell, reference)
                checked += 1
    assert rows[-1]["units"] == str(len(common))
    assert checked + undefined == 2 * (len(rows) - 1)
    assert undefined == (2 if seed == 0 else 0)
