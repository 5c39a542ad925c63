"""Choice options: comparing texts, ordering answer scales, splitting joined cells."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

# Answer scales in the order a report lists them. A question whose values all
# belong to one list (apart from catch-alls) gets its options in this order.
ORDERED_SCALES = [
    ["never", "rarely", "occasionally", "sometimes", "often", "very often", "usually",
     "most of the time", "always", "all of the time", "all the time"],
    ["very likely", "likely", "fairly likely", "somewhat likely", "neither likely nor unlikely",
     "somewhat unlikely", "fairly unlikely", "unlikely", "very unlikely"],
    ["strongly agree", "agree", "somewhat agree", "tend to agree",
     "neither agree nor disagree", "tend to disagree", "somewhat disagree", "disagree",
     "strongly disagree"],
    ["very satisfied", "satisfied", "somewhat satisfied", "neither satisfied nor dissatisfied",
     "somewhat dissatisfied", "dissatisfied", "very dissatisfied"],
    ["extremely important", "very important", "important", "moderately important",
     "somewhat important", "slightly important", "not very important", "not important",
     "not at all important"],
    ["very effective", "effective", "fairly effective", "somewhat effective",
     "neither effective nor ineffective", "fairly ineffective", "somewhat ineffective",
     "not very effective", "ineffective", "not effective", "very ineffective",
     "not effective at all", "not at all effective"],
    ["excellent", "very good", "good", "fair", "poor", "very poor"],
    ["a great deal", "a lot", "a moderate amount", "some", "a little", "very little",
     "none at all", "not at all"],
    ["very aware", "fairly aware", "somewhat aware", "not very aware", "not at all aware"],
    ["yes", "no"],
]  # fmt: skip
SCALE_RANK = [{text: rank for rank, text in enumerate(scale)} for scale in ORDERED_SCALES]
# Answers that sit outside any scale and go last: "Not sure", "I am not aware of any…".
CATCH_ALL_START = re.compile(r"^(?:i am not aware|i'm not aware|i don't know|i do not know)")
CATCH_ALLS = {
    "not sure", "unsure", "don't know", "do not know", "dont know", "prefer not to say",
    "n/a", "na", "not applicable", "none of the above", "neither",
}  # fmt: skip
OTHER = re.compile(r"^other\b", re.IGNORECASE)


def norm(text: str) -> str:
    """The comparison key of an option: case, curly quotes and spacing ignored."""
    return " ".join(text.replace("’", "'").split()).casefold()


def looks_other(text: str) -> bool:
    """ "Other", "Other (please specify)", "Other, please specify:"."""
    return bool(OTHER.match(text.strip()))


def is_answer_scale(values: Iterable[str]) -> bool:
    """Whether the values are points of one known answer scale ("Often", "Never"…)."""
    keys = {norm(v).rstrip(".") for v in values if not _is_catch_all(v)}
    return len(keys) >= 2 and any(keys <= set(ranks) for ranks in SCALE_RANK)


def order_options(values: list[str]) -> list[str]:
    """Distinct values in answer-scale order when they form one, else as first seen.

    Numbers (numeric recodes) go in numeric order. Catch-alls ("Not sure") and
    "Other…" keep their first-seen order after the scale points.
    """
    if values and all(_is_int(v) for v in values):
        return sorted(values, key=int)
    tail = [v for v in values if _is_catch_all(v)]
    head = [v for v in values if v not in tail]
    head_keys = {norm(v).rstrip(".") for v in head}
    for ranks in SCALE_RANK:
        if len(head_keys) >= 2 and head_keys <= set(ranks):
            head.sort(key=lambda v, r=ranks: r[norm(v).rstrip(".")])
            break
    return head + tail


def _is_catch_all(text: str) -> bool:
    key = norm(text).rstrip(".")
    return key in CATCH_ALLS or bool(CATCH_ALL_START.match(key)) or looks_other(text)


def _is_int(text: str) -> bool:
    return text.lstrip("+-").isdigit()


class Splitter:
    """Splits a cell joined with `separator` against known option texts.

    An option may itself contain the separator ("Yes, definitely"), so options
    are matched longest first at each position; a piece that matches none is a
    leftover (an "Other" text, a numeric code, or an error for the caller).
    """

    def __init__(self, options: list[str], separator: str):
        self.separator = separator.strip() or separator
        self.index = {norm(text): i for i, text in reversed(list(enumerate(options)))}
        alternatives = sorted({t for t in (o.strip() for o in options) if t}, key=len, reverse=True)
        sep = re.escape(self.separator)
        if alternatives:
            words = "|".join(_pattern(t) for t in alternatives)
            self.pattern = re.compile(rf"\s*({words})\s*(?:{sep}|$)", re.IGNORECASE)
        else:
            self.pattern = None

    def split(self, cell: str) -> tuple[list[int], list[str]]:
        """(option indexes in cell order, leftover pieces)."""
        found: list[int] = []
        leftovers: list[str] = []
        position, end = 0, len(cell)
        while position < end:
            m = self.pattern.match(cell, position) if self.pattern else None
            # The regex ignores case a little differently from casefold (Turkish ı):
            # a match without a key is left to the leftover path.
            option = self.index.get(norm(m.group(1))) if m else None
            if option is not None:
                found.append(option)
                position = m.end()
                continue
            stop = cell.find(self.separator, position)
            stop = end if stop < 0 else stop
            piece = cell[position:stop].strip()
            if piece:
                leftovers.append(piece)
            position = stop + len(self.separator)
        return found, leftovers


def _pattern(text: str) -> str:
    """The option as a regex that tolerates other spacing."""
    return r"\s+".join(re.escape(word) for word in text.split())


def naive_pieces(cell: str, separator: str) -> list[str]:
    sep = separator.strip() or separator
    return [p.strip() for p in cell.split(sep) if p.strip()]


def glued_pieces(values: Iterable[str], separator: str) -> dict[str, list[str]]:
    """Each value's pieces, with pieces that always come together kept as one.

    An option with the separator inside ("Housing, benefits and debt advice")
    splits into pieces that occur only side by side and in the same order; two
    real options both occur elsewhere too. So neighbours a, b are glued when
    every cell holding a has b right after it and every cell holding b has a
    right before it. The glued piece is the cell's own text, spacing included.
    """
    sep = separator.strip() or separator
    spans = {value: _spans(value, sep) for value in values}
    seen: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for value, parts in spans.items():
        keys = [norm(value[a:b]) for a, b in parts]
        seen.update(set(keys))
        pairs.update(set(zip(keys, keys[1:], strict=False)))
    glue = {
        pair
        for pair, n in pairs.items()
        if pair[0] != pair[1] and seen[pair[0]] == n == seen[pair[1]]
    }
    return {value: _join_glued(value, parts, glue) for value, parts in spans.items()}


def _spans(value: str, sep: str) -> list[tuple[int, int]]:
    """(start, end) of each stripped, non-empty piece between separators."""
    found, start = [], 0
    while start <= len(value):
        stop = value.find(sep, start)
        stop = len(value) if stop < 0 else stop
        a, b = start, stop
        while a < b and value[a].isspace():
            a += 1
        while b > a and value[b - 1].isspace():
            b -= 1
        if a < b:
            found.append((a, b))
        start = stop + len(sep)
    return found


def _join_glued(value: str, parts: list[tuple[int, int]], glue: set) -> list[str]:
    pieces: list[str] = []
    run_start = None
    for k, (a, b) in enumerate(parts):
        run_start = a if run_start is None else run_start
        nxt = parts[k + 1] if k + 1 < len(parts) else None
        if nxt and (norm(value[a:b]), norm(value[nxt[0] : nxt[1]])) in glue:
            continue
        pieces.append(value[run_start:b])
        run_start = None
    return pieces
