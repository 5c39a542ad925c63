"""How good and how fast coding.assist's theme suggestions are, on the demo's reference codings.

    .venv/bin/python bench/suggestions.py

For each free-text seed file with at least 40 answers, in file order, the first 30%
count as coded (reference themes known); every later answer with a reference theme
is then given to suggest(), and it is a hit when a reference theme is among the top 3
(top-1: the first suggestion is one). Two figures:

- static: the coded set stays the first 30%;
- incremental: each answer joins the coded set after being scored, as when a coder
  works through the queue.

The baseline always suggests the 3 themes most frequent in the coded set. Note that
the seed files are largely grouped by theme, so the first 30% often covers only a few
themes: a harsh test for learning from examples, and the theme texts carry more.

Then timings: suggest() per call on the seed data, and at product scale (100,000
coded answers x 300 themes, synthetic texts from the seed vocabulary; target <= 50 ms
per call) plus similar() over 100,000 candidates (target <= 500 ms). No Django set-up
and no database: the CSVs are read directly. Not part of `make test`.
"""

from __future__ import annotations

import csv
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coding.assist import (  # noqa: E402  (needs the repository on sys.path)
    Suggester,
    ThemeEntry,
    duplicate_groups,
    similar,
    suggest,
)

SEEDS = ROOT / "fixtures" / "seeds"
FILES = [
    "poll3/Q4",
    "poll3/Q6",
    "poll3/Q8",
    "poll3/Q10",
    "poll3/Q12",
    "poll5/Q3",
    "feb2021/Q2",
    "feb2021/Q4",
    "engagement/notes",
]
CODED_SHARE = 0.3
K = 3


@dataclass
class Question:
    name: str
    themes: list[ThemeEntry]
    answers: list[tuple[str, frozenset[int]]]  # text, reference theme ids


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load(name: str) -> Question:
    """A seed file and its codebook; theme names become ids in codebook order."""
    engagement = name.startswith("engagement/")
    codebook = SEEDS / ("engagement/codebook.csv" if engagement else f"{name}.themes.csv")
    themes = [
        ThemeEntry(id=i, name=row["name"], description=row["description"])
        for i, row in enumerate(_read(codebook), start=1)
    ]
    ids = {theme.name: theme.id for theme in themes}
    answers = []
    for row in _read(SEEDS / f"{name}.csv"):
        if engagement:  # one reference theme per note: the subtheme when set
            names = [row["subtheme"] or row["theme"]]
        else:
            names = [n.strip() for n in row["themes"].split(";")]
        answers.append((row["text"], frozenset(ids[n] for n in names if n)))
    return Question(name, themes, answers)


@dataclass
class Score:
    scored: int = 0
    top1: int = 0
    top3: int = 0

    def add(self, ranked: list[int], reference: frozenset[int]) -> None:
        self.scored += 1
        self.top1 += bool(ranked[:1]) and ranked[0] in reference
        self.top3 += bool(reference & set(ranked[:K]))

    def rate(self, hits: int) -> str:
        return f"{100 * hits / self.scored:5.1f}%" if self.scored else "    -"


@dataclass
class Result:
    static: Score = field(default_factory=Score)
    incremental: Score = field(default_factory=Score)
    baseline_static: Score = field(default_factory=Score)
    baseline_incremental: Score = field(default_factory=Score)


def most_frequent(coded: list[tuple[str, frozenset[int]]], themes: list[ThemeEntry]) -> list[int]:
    """The baseline: the themes most often coded so far (ties in codebook order)."""
    counts = Counter(i for _, ids in coded for i in ids)
    return sorted((t.id for t in themes), key=lambda i: -counts[i])[:K]


def evaluate(question: Question, timings: list[float]) -> Result:
    """Static and incremental hit rates for one question; times every suggest() call."""
    result = Result()
    cut = int(len(question.answers) * CODED_SHARE)
    first = question.answers[:cut]
    growing = list(first)
    for text, reference in question.answers[cut:]:
        if reference:
            start = time.perf_counter()
            ranked = [i for i, _ in suggest(text, first, question.themes, K)]
            timings.append(time.perf_counter() - start)
            result.static.add(ranked, reference)
            result.baseline_static.add(most_frequent(first, question.themes), reference)

            ranked = [i for i, _ in suggest(text, growing, question.themes, K)]
            result.incremental.add(ranked, reference)
            result.baseline_incremental.add(most_frequent(growing, question.themes), reference)
        growing.append((text, reference))  # scored first, then coded
    return result


def quality() -> list[float]:
    timings: list[float] = []
    total = Result()
    header = (
        f"{'file':<18}{'themes':>7}{'scored':>7}  {'baseline':>9}  "
        f"{'static top-1':>12}{'top-3':>7}  {'baseline':>9}  {'incr. top-1':>11}{'top-3':>7}"
    )
    print("Suggestion hit rates (top-3 baseline: always the 3 most frequent coded themes)")
    print(header)
    print("-" * len(header))
    for name in FILES:
        question = load(name)
        r = evaluate(question, timings)
        print(_row(name, len(question.themes), r))
        for part in ("static", "incremental", "baseline_static", "baseline_incremental"):
            mine, all_ = getattr(r, part), getattr(total, part)
            all_.scored += mine.scored
            all_.top1 += mine.top1
            all_.top3 += mine.top3
    print("-" * len(header))
    print(_row("micro-average", None, total))
    return timings


def _row(name: str, themes: int | None, r: Result) -> str:
    return (
        f"{name:<18}{themes or '':>7}{r.static.scored:>7}  "
        f"{r.baseline_static.rate(r.baseline_static.top3):>9}  "
        f"{r.static.rate(r.static.top1):>12}{r.static.rate(r.static.top3):>7}  "
        f"{r.baseline_incremental.rate(r.baseline_incremental.top3):>9}  "
        f"{r.incremental.rate(r.incremental.top1):>11}{r.incremental.rate(r.incremental.top3):>7}"
    )


# --- Timing at scale -------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:8.1f} ms"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def synthetic(n_answers: int, n_themes: int, seed: int = 7):
    """Texts of 3-60 words drawn from the seed answers' vocabulary; themes named after the
    seed codebooks; 1-2 themes per answer, a few themes much more common than the rest."""
    rng = random.Random(seed)
    questions = [load(name) for name in FILES]
    words = [w for q in questions for text, _ in q.answers for w in text.split()]
    seeds = [t for q in questions for t in q.themes]
    themes = [
        ThemeEntry(
            id=i,
            name=f"{seeds[i % len(seeds)].name} {i // len(seeds) or ''}".strip(),
            description=seeds[i % len(seeds)].description,
        )
        for i in range(n_themes)
    ]
    weights = [1 / (rank + 1) for rank in range(n_themes)]  # Zipf-like theme popularity

    def text() -> str:
        return " ".join(rng.choices(words, k=rng.randint(3, 60)))

    coded = [
        (text(), frozenset(rng.choices(range(n_themes), weights, k=rng.randint(1, 2))))
        for _ in range(n_answers)
    ]
    queries = [text() for _ in range(200)]
    return themes, coded, queries


def _line(label: str, seconds: float, target: str = "") -> None:
    print(f"  {label:<58}{_ms(seconds)}  {target}".rstrip())


def scale(timings: list[float]) -> None:
    print()
    print("Timings (one thread)")
    _line("suggest() on the seed data, per call: median", statistics.median(timings))
    _line("                                      p95", _percentile(timings, 0.95))

    themes, coded, queries = synthetic(100_000, 300)
    start = time.perf_counter()
    suggester = Suggester(coded, themes)
    built = time.perf_counter() - start
    calls = []
    for query in queries:
        start = time.perf_counter()
        suggester.suggest(query, K)
        calls.append(time.perf_counter() - start)
    start = time.perf_counter()
    suggest(queries[0], coded, themes, K)
    one_off = time.perf_counter() - start
    print("  100,000 coded answers x 300 themes (synthetic):")
    _line("  Suggester(coded, themes), built once", built)
    _line("  Suggester.suggest(), 200 calls: median", statistics.median(calls), "(target 50 ms)")
    _line("                                  p95", _percentile(calls, 0.95))
    _line("  suggest() one-off (builds, then suggests)", one_off)

    candidates = [(i, text) for i, (text, _) in enumerate(coded)]
    runs = []
    for query in queries[:5]:
        start = time.perf_counter()
        similar(query, candidates)
        runs.append(time.perf_counter() - start)
    _line(
        "similar() over 100,000 candidates: median of 5", statistics.median(runs), "(target 500 ms)"
    )

    rng = random.Random(3)
    short = ["Time", "time.", "Caseloads", "caseload", "Money", "funding", "Staff shortages"]
    answers = [(i, rng.choice(short) if i % 3 == 0 else text) for i, text in candidates]
    start = time.perf_counter()
    duplicate_groups(answers)
    _line("duplicate_groups() over 100,000 answers (1/3 short)", time.perf_counter() - start)


def main() -> None:
    timings = quality()
    scale(timings)


if __name__ == "__main__":
    main()
