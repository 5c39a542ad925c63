"""Assisted coding: theme search, duplicate checks, theme suggestions, similar answers, search.

Plain data in, plain data out: nothing here imports a model or touches the
database, so the views decide what to load and these functions stay fast and
testable alone. Themes arrive as ThemeEntry, answers as (id, text) pairs.

How suggestions work (see bench/suggestions.py for the measured hit rates):
each theme gets two word profiles, one from its name, aliases and description
and one from the answers already coded with it (a centroid). Words are
weighted by rarity (IDF over coded answers and theme texts) and cut to a
5-letter stem so "placement", "placements" and "placed" meet. A new answer is
scored by cosine similarity against both profiles; query words unknown to
every profile are mapped to the nearest known word with rapidfuzz, so typos
still count. The profiles are built once (Suggester: about a second for 100,000
coded answers and 300 themes) and each call then only walks the answer's own
words through an inverted index: well under a millisecond at that scale.

Measured on the bench and rejected, so nobody re-tries them blind: nearest
coded answers by rapidfuzz token_set_ratio / token_sort_ratio / WRatio or by
TF-IDF (alone, or added to the profiles), and a theme-frequency prior; each
scored below the two profiles alone.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain

import numpy as np
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from rapidfuzz import fuzz, process, utils


@dataclass(frozen=True)
class ThemeEntry:
    id: int
    name: str
    description: str = ""
    aliases: tuple[str, ...] = ()


# --- Normalising ---------------------------------------------------------------------------

# Apostrophes join ("don't" -> "dont", "children's" -> "childrens") rather than split, so
# the pieces do not turn into one-letter words; every other run of punctuation, symbols
# and whitespace becomes a single space.
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(_APOSTROPHES.sub("", text.casefold()))


def normalise(text: str) -> str:
    """Casefolded, punctuation stripped, whitespace collapsed: "Time." -> "time"."""
    return " ".join(_words(text))


# --- Theme search --------------------------------------------------------------------------

# A match in the description is weaker evidence than one in the name or an alias:
# descriptions are long and mention many things in passing.
ALIAS_WEIGHT = 0.95
DESCRIPTION_WEIGHT = 0.85
# "resorces" scores 94 against "resources" and a 4-letter word with two letters swapped
# ("lakc") 75; random letters stay well below.
SEARCH_CUTOFF = 70


def _word_scores(query_words: list[str], vocabulary: list[str]) -> np.ndarray:
    """Similarity (0-100) of each query word to each vocabulary word, typing allowed for.

    The query may be half typed, so a word is also compared with the start of each
    vocabulary word of the same length: "lack" matches "lacking", "resor" matches
    "resources" and a typo inside a prefix ("resou" / "resor") is still forgiven.
    """
    whole = process.cdist(query_words, vocabulary, scorer=fuzz.ratio)
    prefixes = [
        process.cdist([word], [v[: len(word)] for v in vocabulary], scorer=fuzz.ratio)[0]
        for word in query_words
    ]
    return np.maximum(whole, np.vstack(prefixes))


def _theme_fields(theme: ThemeEntry) -> list[tuple[list[str], float]]:
    fields = [(normalise(theme.name).split(), 1.0)]
    fields += [(normalise(alias).split(), ALIAS_WEIGHT) for alias in theme.aliases]
    fields.append((normalise(theme.description).split(), DESCRIPTION_WEIGHT))
    return [(words, weight) for words, weight in fields if words]


def search_themes(
    query: str, themes: list[ThemeEntry], limit: int = 8
) -> list[tuple[ThemeEntry, float]]:
    """Themes whose name, aliases or description match what was typed, best first (0-100).

    Each query word finds its best word in the theme (any field, weighted by field);
    every query word must match ("lack res" needs both) and the theme scores the mean.
    Ties go to the name closest to the whole query: "resorces" puts "Lack of resources"
    before "Lack of specialist resources".
    """
    query_words = normalise(query).split()
    if not query_words or not themes:
        return []
    fields = {theme.id: _theme_fields(theme) for theme in themes}
    vocabulary = sorted({w for fs in fields.values() for words, _ in fs for w in words})
    if not vocabulary:
        return []
    column = {word: i for i, word in enumerate(vocabulary)}
    scores = _word_scores(query_words, vocabulary)
    whole_query = " ".join(query_words)
    ranked = []
    for position, theme in enumerate(themes):
        best = np.zeros(len(query_words))
        for words, weight in fields[theme.id]:
            columns = [column[w] for w in words]
            best = np.maximum(best, scores[:, columns].max(axis=1) * weight)
        # Every word must match on its own (one strong word must not carry a stray one);
        # the mean then ranks themes matching all words well above those matching barely.
        score = float(best.mean())
        if best.min() >= SEARCH_CUTOFF:
            closeness = fuzz.ratio(whole_query, normalise(theme.name))
            ranked.append((-score, -closeness, position, theme))
    ranked.sort(key=lambda row: row[:3])
    return [(theme, -neg_score) for neg_score, _, _, theme in ranked[:limit]]


# --- Near-duplicate theme names ------------------------------------------------------------


def near_duplicates(name: str, themes: list[ThemeEntry], threshold: float = 90) -> list[ThemeEntry]:
    """Themes whose name or alias the new name would nearly duplicate, closest first.

    Compared after normalise(), so case and punctuation never count ("lack of Resources."
    is "Lack of resources"); token_sort_ratio also catches reordered words ("Time, lack
    of"). Plain ratio on whole names keeps "Lack of time" apart from "Lack of resources"
    (62), while a dropped plural ("Lack of resource") scores 97.
    """
    key = normalise(name)
    if not key:
        return []
    found = []
    for position, theme in enumerate(themes):
        labels = [normalise(label) for label in (theme.name, *theme.aliases)]
        scores = [
            max(fuzz.ratio(key, label), fuzz.token_sort_ratio(key, label))
            for label in labels
            if label
        ]
        score = max(scores, default=0.0)
        if score >= threshold:
            found.append((-score, position, theme))
    found.sort(key=lambda row: row[:2])
    return [theme for _, _, theme in found]


# --- Theme suggestions ---------------------------------------------------------------------

# Words too common to say anything about a theme; dropping them keeps the profiles small.
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can cant could did didnt do does doesnt doing dont
    down during each etc few for from further get gets got had has have having he her here
    hers him his how i if im in into is isnt it its itself just lot lots may me might more
    most much my no nor not of off on once only or other our out over own really same she
    should so some such than that the their them then there these they this those through to
    too under until up us very was we were what when where which while who whom why will with
    wont would you your"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Cutting words to 5 letters is a crude stemmer that works well for English and needs no
# word lists; on the bench it beat whole words by several points (4 or 6: within one).
STEM_LENGTH = 5
# A theme's name and aliases say more per word than its description.
NAME_WEIGHT = 2.0
# Theme texts and coded examples weigh the same: before a theme is coded its texts carry
# it alone, and from its first coding its examples count as much as its texts.
TEXT_WEIGHT = 1.0
EXAMPLE_WEIGHT = 1.0
# Only the most recent codings of each theme feed its profile: bounds the build time at
# scale, and recent codings reflect how the codebook is used now.
EXAMPLES_PER_THEME = 100
# A query word unknown to every profile is read as the closest known word when at least
# this similar ("resorces" -> "resources"); at most a few per answer, to bound the time.
TYPO_CUTOFF = 85
TYPO_MIN_LENGTH = 4
TYPOS_PER_ANSWER = 5
# Ties (and answers sharing no word with any theme) go to the more frequent theme, by
# an amount too small to reorder real matches.
FREQUENCY_TIE_BREAK = 1e-6


def _content_words(text: str) -> list[str]:
    return [w for w in _words(text) if len(w) > 1 and w not in STOPWORDS and not w.isdigit()]


def _stems(words: Iterable[str]) -> list[str]:
    return [w[:STEM_LENGTH] for w in words]


def _recent_examples(
    coded: list[tuple[str, frozenset[int]]], known: set[int]
) -> list[tuple[str, frozenset[int]]]:
    """The newest EXAMPLES_PER_THEME codings of each known theme (unknown ids dropped)."""
    taken: Counter[int] = Counter()
    kept = []
    for text, theme_ids in reversed(coded):
        ids = frozenset(theme_ids) & known
        if ids and any(taken[i] < EXAMPLES_PER_THEME for i in ids):
            taken.update(ids)
            kept.append((text, ids))
    kept.reverse()
    return kept


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {w: v / norm for w, v in vector.items()} if norm else {}


class Suggester:
    """Theme suggestions from codings so far; build once per question, call per answer.

    Holds, per stem, which themes' profiles contain it and how strongly (an inverted
    index), so a call costs a few numpy additions per word of the answer however many
    answers were coded.
    """

    def __init__(self, coded: list[tuple[str, frozenset[int]]], themes: list[ThemeEntry]):
        self.theme_ids = [theme.id for theme in themes]
        position = {theme_id: i for i, theme_id in enumerate(self.theme_ids)}
        examples = _recent_examples(coded, set(position))
        example_stems, vocabulary = self._read(text for text, _ in examples)
        theme_texts = [self._theme_text(theme) for theme in themes]

        documents = len(example_stems) + len(theme_texts)
        self._idf = self._inverse_document_frequency(chain(example_stems, theme_texts), documents)
        self._unknown_idf = math.log(documents + 1) + 1

        profiles = [
            self._postings([self._weigh(text) for text in theme_texts], TEXT_WEIGHT),
            self._postings(self._centroids(examples, example_stems, position), EXAMPLE_WEIGHT),
        ]
        self._index = self._merge(profiles)
        vocabulary.update(w for theme in themes for w in _content_words(self._label(theme)))
        self._vocabulary = sorted(vocabulary)

        counts = np.zeros(len(themes))
        for _, ids in examples:
            counts[[position[i] for i in ids]] += 1
        self._frequency = FREQUENCY_TIE_BREAK * counts / (1 + counts.max(initial=0))

    # Building --------------------------------------------------------------------------

    @staticmethod
    def _label(theme: ThemeEntry) -> str:
        return " ".join((theme.name, *theme.aliases, theme.description))

    @staticmethod
    def _read(texts: Iterable[str]) -> tuple[list[tuple[str, ...]], set[str]]:
        """Each text's stems, and every word seen.

        Each distinct stem is one string shared by every tuple holding it: 13,000
        answers' stems then take 4 MB rather than 22. A worker's heap keeps what a
        build once needed long after, as freed small objects are rarely handed back.
        """
        stems: list[tuple[str, ...]] = []
        vocabulary: set[str] = set()
        shared: dict[str, str] = {}
        for text in texts:
            words = _content_words(text)
            vocabulary.update(words)
            stems.append(tuple([shared.setdefault(stem, stem) for stem in _stems(words)]))
        return stems, vocabulary

    @staticmethod
    def _theme_text(theme: ThemeEntry) -> Counter[str]:
        """Stem counts of a theme's texts, its name and aliases counting NAME_WEIGHT times."""
        counts: Counter[str] = Counter()
        for label in (theme.name, *theme.aliases):
            for stem in _stems(_content_words(label)):
                counts[stem] += NAME_WEIGHT
        counts.update(_stems(_content_words(theme.description)))
        return counts

    @staticmethod
    def _inverse_document_frequency(documents: Iterable[Iterable[str]], n: int) -> dict[str, float]:
        """A document counts each of its stems once. Read one at a time: the 13,000
        answers' stem sets together would take 30 MB for a moment."""
        frequency = Counter(stem for document in documents for stem in set(document))
        return {stem: math.log((n + 1) / (df + 1)) + 1 for stem, df in frequency.items()}

    def _weigh(self, counts: Counter[str]) -> dict[str, float]:
        return _unit(
            {stem: c * self._idf.get(stem, self._unknown_idf) for stem, c in counts.items()}
        )

    def _centroids(self, examples, example_stems, position) -> list[dict[str, float]]:
        """Per theme, the sum of its examples' unit vectors: each answer counts once,
        however long, so one rambling answer cannot dominate a theme."""
        centroids: list[dict[str, float]] = [{} for _ in position]
        for (_, ids), stems in zip(examples, example_stems, strict=True):
            vector = self._weigh(Counter(stems))
            for theme_id in ids:
                centroid = centroids[position[theme_id]]
                for stem, value in vector.items():  # a plain loop: Counter.update is slower
                    centroid[stem] = centroid.get(stem, 0.0) + value
        return centroids

    @staticmethod
    def _postings(vectors, weight: float) -> dict[str, dict[int, float]]:
        """Inverted index of unit-length profiles: stem -> {theme position: weight}."""
        index: dict[str, dict[int, float]] = {}
        for t, vector in enumerate(vectors):
            for stem, value in _unit(vector).items():
                index.setdefault(stem, {})[t] = weight * value
        return index

    @staticmethod
    def _merge(profiles) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """One (theme positions, weights) pair of arrays per stem, both profiles summed."""
        merged: dict[str, Counter[int]] = {}
        for profile in profiles:
            for stem, postings in profile.items():
                merged.setdefault(stem, Counter()).update(postings)
        return {
            stem: (np.fromiter(p.keys(), dtype=np.intp), np.fromiter(p.values(), dtype=float))
            for stem, p in merged.items()
        }

    # Scoring ---------------------------------------------------------------------------

    def _query_stems(self, text: str) -> Counter[str]:
        """The answer's stems, a few unknown words read as their closest known word."""
        stems: Counter[str] = Counter()
        corrections = 0
        for word in _content_words(text):
            stem = word[:STEM_LENGTH]
            unknown = stem not in self._index and len(word) >= TYPO_MIN_LENGTH
            if unknown and corrections < TYPOS_PER_ANSWER:
                corrections += 1
                stem = self._closest_known(word) or stem
            stems[stem] += 1
        return stems

    def _closest_known(self, word: str) -> str | None:
        match = process.extractOne(
            word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF
        )
        return match[0][:STEM_LENGTH] if match else None

    def suggest(self, text: str, k: int = 3) -> list[tuple[int, float]]:
        """The k theme ids most likely to apply, best first, with scores 0-100.

        A score under 0.0001 means the answer shares no word with the theme: only the
        theme's frequency put it on the list (the UI may want to show it differently).
        """
        if not self.theme_ids or k <= 0:
            return []
        query = self._weigh(self._query_stems(text))
        scores = self._frequency.copy()
        for stem, weight in query.items():
            postings = self._index.get(stem)
            if postings is not None:
                positions, values = postings
                scores[positions] += weight * values
        # Each profile is a cosine (0-1); scaled so a perfect match on both is 100.
        scores *= 100 / (TEXT_WEIGHT + EXAMPLE_WEIGHT)
        best = np.argsort(-scores, kind="stable")[:k]
        return [(self.theme_ids[i], float(scores[i])) for i in best if scores[i] > 0]


def suggest(
    text: str, coded: list[tuple[str, frozenset[int]]], themes: list[ThemeEntry], k: int = 3
) -> list[tuple[int, float]]:
    """The k theme ids most likely to apply to `text`, best first (0-100).

    One-off convenience; a view suggesting for many answers should keep a Suggester.
    """
    return Suggester(coded, themes).suggest(text, k)


# --- Similar answers and duplicates --------------------------------------------------------


def similar(
    text: str, candidates: list[tuple[int, str]], threshold: float = 60, limit: int = 50
) -> list[tuple[int, float]]:
    """Ids of the candidate answers most like `text` (token_set_ratio >= threshold), best first.

    token_set_ratio ignores word order and extra words, which is how two answers saying
    the same thing differ (a short answer inside a longer one scores 100). On the seed
    data at 60 it found about one neighbour per answer, half of them sharing a reference
    theme; WRatio found five, mostly unrelated, at 4x the time, and token_sort_ratio
    almost none. rapidfuzz's own default_process (in C) prepares the texts: normalise()
    over 100,000 answers would cost more than the matching.
    """
    if not candidates or not utils.default_process(text).strip():
        return []
    texts = [candidate_text for _, candidate_text in candidates]
    found = process.extract(
        text,
        texts,
        scorer=fuzz.token_set_ratio,
        processor=utils.default_process,
        score_cutoff=threshold,
        limit=limit,
    )
    return [(candidates[i][0], float(score)) for _, score, i in found]


# Only answers of a few words get near-duplicate matching: that is where spellings of the
# same answer vary ("Caseloads" / "caseload"), and comparing every pair stays cheap.
SHORT_ANSWER_WORDS = 4


def duplicate_groups(answers: list[tuple[int, str]], threshold: float = 92) -> list[list[int]]:
    """Groups of two or more answer ids that say the same thing, largest group first.

    Exact duplicates after normalise() ("Time", "time.", " TIME ") always group; short
    answers also join the group of a more common spelling within `threshold` (ratio).
    Each spelling joins the first, most common, group that claims it, so groups never
    chain ("cat" -> "cast" -> "last") and an id is in one group at most. Blank answers
    are not duplicates of each other.
    """
    ids_by_key: dict[str, list[int]] = {}
    for answer_id, text in answers:
        key = normalise(text)
        if key:
            ids_by_key.setdefault(key, []).append(answer_id)
    keys = sorted(ids_by_key, key=lambda key: -len(ids_by_key[key]))  # stable: first seen wins
    short = [key for key in keys if len(key.split()) <= SHORT_ANSWER_WORDS]
    is_short = set(short)
    claimed: set[str] = set()
    groups = []
    for key in keys:
        if key in claimed:
            continue
        claimed.add(key)
        members = [key]
        if key in is_short:
            members += _close_spellings(key, short, claimed, threshold)
        group = [answer_id for member in members for answer_id in ids_by_key[member]]
        if len(group) >= 2:
            groups.append(group)
    groups.sort(key=len, reverse=True)
    return groups


def _close_spellings(key: str, short: list[str], claimed: set[str], threshold: float) -> list[str]:
    close = process.extract(key, short, scorer=fuzz.ratio, score_cutoff=threshold, limit=None)
    members = [other for other, _, _ in close if other not in claimed]
    claimed.update(members)
    return members


# --- Text search ---------------------------------------------------------------------------

_QUERY_TERM = re.compile(r'"([^"]*)"?|([^\s"]+)')


def parse_query(query: str) -> list[str]:
    """Words and "quoted phrases" as terms, lowercased, in order; empties and repeats dropped.

    An unclosed quote runs to the end, as the user is probably still typing it.
    """
    terms = []
    for phrase, word in _QUERY_TERM.findall(query):
        term = " ".join((phrase or word).lower().split())
        if term and term not in terms:
            terms.append(term)
    return terms


def _term_pattern(term: str) -> re.Pattern[str]:
    """Matches the term at the start of a word ("fund" in "funding", not in "refund");
    a phrase's words may be separated by any whitespace."""
    body = r"\s+".join(re.escape(word) for word in term.split())
    start = r"(?<!\w)" if re.match(r"\w", term) else ""
    return re.compile(start + body, re.IGNORECASE)


def matches(text: str, terms: list[str]) -> bool:
    """Whether every term occurs in the text (case-insensitive, from a word's start).
    No terms match everything."""
    return all(_term_pattern(term).search(text) for term in terms if term)


def _spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Where the terms occur, overlapping and touching matches merged."""
    found = sorted(
        match.span() for term in terms if term for match in _term_pattern(term).finditer(text)
    )
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if end == start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, terms: list[str]) -> SafeString:
    """The text HTML-escaped, each term's occurrences wrapped in <mark>.

    Matches are found in the raw text and each piece escaped afterwards, so a term can
    never match inside an entity ("amp" in "&amp;") or inject markup.
    """
    pieces = []
    position = 0
    for start, end in _spans(text, terms):
        pieces.append(escape(text[position:start]))
        pieces.append(f"<mark>{escape(text[start:end])}</mark>")
        position = end
    pieces.append(escape(text[position:]))
    return mark_safe("".join(pieces))
