"""Scale questions: the ends a question text states, and the points in cells.

Question texts in the seed polls state their scale in a few ways:
  "… 1 = not effective at all 10 = very effective"
  "… on a scale of 0-10, with 0 being least aware and 10 being most aware"
  "… (Rate from 0-10)"
Cells hold a number ("7"), a number with its label ("10 - very effective",
"0 (not at all)"), or, for an end point, only the label.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from polls.importers.constants import MAX_SCALE_LABEL

MAX_POINTS = 101  # 0-100 sliders are the widest scales in use
LOWEST, HIGHEST = -100, 1000  # years, ids and amounts are not scale points
INT = r"(-?\d{1,4})"
EQUALS = re.compile(rf"(?<![\w.]){INT}\s*=\s*")
LABEL_BEING = re.compile(
    rf"(?<![\w.]){INT}\s+(?:being|is|means|=)\s+(?P<low>.+?),?\s+and\s+{INT}\s+"
    r"(?:being|is|means|=)\s+(?P<high>[^()\[\].,;]+)",
    re.IGNORECASE,
)
RANGE = re.compile(
    rf"\b(?:scale|rate|rating|score)\s+(?:of\s+|from\s+|between\s+)?{INT}\s*(?:-|–|to|and)\s*{INT}\b",
    re.IGNORECASE,
)
NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
# "10 - very effective", "1 = not at all", "0 (not at all)", "5: neutral"
LABELLED = re.compile(r"^([+-]?\d+)\s*(?:[-–—=:.]\s*|\(\s*)(\S.*?)\)?$")


@dataclass
class Ends:
    low: int
    high: int
    low_label: str = ""
    high_label: str = ""


def stated_ends(text: str) -> Ends | None:
    """The scale a question text states, or None."""
    ends = _equals_ends(text)
    if ends:
        return ends
    m = LABEL_BEING.search(text)
    if m:
        ends = _ends(int(m.group(1)), int(m.group(3)), m["low"], m["high"])
        if ends:
            return ends
    m = RANGE.search(text)
    return _ends(int(m.group(1)), int(m.group(2))) if m else None


def _equals_ends(text: str) -> Ends | None:
    """ "1 = not effective at all 10 = very effective"; of a longer legend
    ("1 = less than two, 2 = two to five, 3 = more than five") the first and last."""
    pairs = list(EQUALS.finditer(text))
    if len(pairs) < 2:
        return None
    first, second, last = pairs[0], pairs[1], pairs[-1]
    low_label = text[first.end() : second.start()]
    high_label = re.split(r"[()\[\]\n]", text[last.end() :], maxsplit=1)[0]
    return _ends(int(first.group(1)), int(last.group(1)), low_label, high_label)


def _ends(low: int, high: int, low_label: str = "", high_label: str = "") -> Ends | None:
    if not (low < high and high - low < MAX_POINTS):
        return None
    return Ends(low, high, clean_end_label(low_label), clean_end_label(high_label))


def clean_end_label(label: str) -> str:
    label = label.strip().strip("\"'“”‘’").rstrip(" .,;:)(")
    return label[:MAX_SCALE_LABEL]


def parse_point(cell: str, labels: dict[str, float] | None = None) -> tuple[float, str] | None:
    """(value, label) for "7", "7.5", "10 - very effective"; an end label alone via `labels`."""
    if NUMBER.match(cell):
        return float(cell), ""
    m = LABELLED.match(cell)
    if m:
        return float(m.group(1)), clean_end_label(m.group(2))
    if labels:
        value = labels.get(label_key(cell))
        if value is not None:
            return value, cell
    return None


def label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def end_labels(ends: Ends | None) -> dict[str, float]:
    if not ends:
        return {}
    found = {label_key(ends.low_label): ends.low, label_key(ends.high_label): ends.high}
    found.pop("", None)
    return found


def ends_from_values(
    values: list[str], stated: Ends | None, *, need_range: bool = True
) -> Ends | None:
    """The scale that a question's distinct cell values fit, or None if they are not points.

    Labelled values ("10 - very effective") must sit at the ends: "3 times a
    week" in the middle of other answers is not a scale point.
    """
    labels = end_labels(stated)
    points: dict[float, str] = {}
    for value in values:
        parsed = parse_point(value, labels)
        if parsed is None:
            return None
        number, label = parsed
        points[number] = points.get(number) or label
    if not points:
        return None
    low, high = min(points), max(points)
    if low < LOWEST or high > HIGHEST or high - low >= MAX_POINTS:
        return None
    if any(label for n, label in points.items() if n not in (low, high)):
        return None
    if stated:
        return stated
    if high == low and need_range:
        return None  # one repeated number says nothing of a scale's range: a choice
    return Ends(
        math.floor(low),
        math.ceil(high),
        points[low][:MAX_SCALE_LABEL],
        points[high][:MAX_SCALE_LABEL],
    )
