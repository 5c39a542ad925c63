"""Plain statistics for closed questions, on counts the database has grouped.

They take a mapping of scale point (or option) to number of respondents, never
the answers themselves, so their cost is bounded by the number of points.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal


def percent(count: int, base: int, places: int = 1) -> float | None:
    """100·count/base rounded half up, as polling reports round (2.25 → 2.3).

    Python's round() rounds half to even and binary floats make 0.5 cases land
    either way, so the rounding goes through Decimal on the exact fraction.
    """
    if not base:
        return None
    exact = Decimal(100 * count) / Decimal(base)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def mean_from_counts(counts: Mapping[float, int]) -> float | None:
    total = sum(counts.values())
    if not total:
        return None
    return sum(value * n for value, n in counts.items()) / total


def median_from_counts(counts: Mapping[float, int]) -> float | None:
    """The median of the values the counts describe (mean of the two middle ones when even)."""
    total = sum(counts.values())
    if not total:
        return None
    # 0-based positions of the middle value(s) in the sorted list of answers.
    lower, upper = (total - 1) // 2, total // 2
    found: list[float] = []
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        while len(found) < 2 and (lower if not found else upper) < seen:
            found.append(value)
    return (found[0] + found[1]) / 2


def band_count(counts: Mapping[float, int], low: float, high: float) -> int:
    """Respondents who chose a point between low and high, inclusive ("6-10 on the scale")."""
    return sum(n for value, n in counts.items() if low <= value <= high)


def round_half_up(value: float | None, places: int = 1) -> float | None:
    if value is None:
        return None
    exact = Decimal(repr(value))
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def parse_bands(text: str) -> list[tuple[float, float, str]]:
    """ "0-4, 5, 6-10" → [(0, 4, "0-4"), (5, 5, "5"), (6, 10, "6-10")].

    A part that is not a number or a range raises ValueError naming it.
    """
    bands = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        low, _, high = part.partition("-") if not part.startswith("-") else (part, "", "")
        try:
            low_value = float(low)
            high_value = float(high) if high else low_value
        except ValueError:
            raise ValueError(f"{part!r} is not a band: write it as 6-10 or 5") from None
        if high_value < low_value:
            raise ValueError(f"{part!r} runs backwards")
        bands.append((low_value, high_value, part.replace(" ", "")))
    return bands
