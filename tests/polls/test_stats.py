"""Closed-question statistics, checked against Python's statistics module."""

from __future__ import annotations

import random
import statistics

import pytest

from polls import stats


@pytest.mark.parametrize(
    ("count", "base", "expected"),
    [
        (72, 138, 52.2),  # seed 000, Q1 "often"
        (13, 40, 32.5),  # seed 002: "32.5%" of the 40 in the subsample
        (1, 8, 12.5),
        (1, 40, 2.5),  # an exact half rounds up, as reports round
        (3, 8, 37.5),
        (0, 129, 0.0),
    ],
)
def test_percent_rounds_half_up_to_one_decimal(count, base, expected):
    assert stats.percent(count, base) == expected


def test_percent_of_an_empty_base_is_undefined():
    assert stats.percent(0, 0) is None


def test_percent_rounds_to_whole_numbers_when_asked():
    assert stats.percent(1, 8, places=0) == 13.0  # 12.5 → 13, not banker's 12


@pytest.mark.parametrize("seed", range(25))
def test_mean_and_median_match_the_statistics_module(seed):
    rng = random.Random(seed)
    counts = {point: rng.randrange(0, 9) for point in range(rng.choice([0, 1]), 11)}
    counts[rng.randrange(1, 11)] += 1  # never empty
    values = [point for point, n in counts.items() for _ in range(n)]
    assert stats.mean_from_counts(counts) == pytest.approx(statistics.fmean(values))
    assert stats.median_from_counts(counts) == statistics.median(values)


def test_median_of_an_even_number_of_answers_is_the_mean_of_the_middle_two():
    assert stats.median_from_counts({1: 1, 2: 1, 3: 1, 4: 1}) == 2.5


def test_statistics_of_no_answers_are_undefined():
    assert stats.mean_from_counts({}) is None
    assert stats.median_from_counts({5: 0}) is None


def test_band_count_includes_both_ends():
    counts = {0: 1, 4: 2, 5: 3, 6: 4, 10: 5}
    assert stats.band_count(counts, 6, 10) == 9
    assert stats.band_count(counts, 0, 4) == 3
