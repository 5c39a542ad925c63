"""One Suggester per coder and question, kept in the worker between requests.

Building it reads the coder's coded answers and weighs their words: about a
second at 100,000 answers, against well under a millisecond to ask it about
one answer. So each worker keeps the few it built last and builds afresh when
the codebook's themes change (a new theme, a rename) or the model is
MAX_AGE seconds old, by which time the coder has coded enough to matter.
"""

from __future__ import annotations

import gc
import time
from collections import OrderedDict
from itertools import groupby
from operator import itemgetter
from threading import Lock

from coding import assist
from coding.models import Coding
from polls.imports import release_memory

MAX_AGE = 120  # seconds
KEPT = 8  # models per worker: a few coders' questions
CHUNK = 2000  # codings read at a time

_models: OrderedDict[tuple, tuple[float, assist.Suggester]] = OrderedDict()
_lock = Lock()


def suggester(question, coder, themes: list[assist.ThemeEntry]) -> assist.Suggester:
    key = (question.pk, coder.pk, tuple(themes))
    now = time.monotonic()
    with _lock:
        found = _models.get(key)
        if found and now - found[0] < MAX_AGE:
            _models.move_to_end(key)
            return found[1]
    model = assist.Suggester(coded_examples(question, coder), themes)
    _hand_back_memory()
    with _lock:
        _models[key] = (now, model)
        _models.move_to_end(key)
        while len(_models) > KEPT:
            _models.popitem(last=False)
    return model


def _hand_back_memory() -> None:
    """A build reads 25,000 answers as small objects, all freed by now; but Python
    keeps thousands of freed tuples for reuse (its free lists), and with them whole
    arenas of its heap, until a full collection comes round. Collecting now empties
    the free lists (2 ms: what lives as long as the worker is frozen out of it, see
    config/wsgi.py) and malloc_trim hands the freed heap back: a worker keeps about
    5 MB of a build rather than 15."""
    gc.collect()
    release_memory()


def forget() -> None:
    """Tests start from nothing."""
    with _lock:
        _models.clear()


def coded_examples(question, coder) -> list[tuple[str, frozenset[int]]]:
    """This coder's coded answers to the question, with their themes, oldest first.

    One query read as it streams, an answer's codings side by side: 25,000 coded
    answers never sit in the worker twice over (all the codings, then the texts).
    """
    rows = (
        Coding.objects.filter(coder=coder, answer__question=question)
        .order_by("answer")
        .values_list("answer", "theme", "answer__text", "answer__other_text")
        .iterator(chunk_size=CHUNK)
    )
    examples = []
    for _, codings in groupby(rows, key=itemgetter(0)):
        codings = list(codings)
        _, _, text, other = codings[0]
        examples.append((text or other, frozenset(theme for _, theme, _, _ in codings)))
    return examples
