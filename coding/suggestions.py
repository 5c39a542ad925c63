"""One Suggester per coder and question, kept in the worker between requests.

Building it reads the coder's coded answers and weighs their words: about a
second at 100,000 answers, against well under a millisecond to ask it about
one answer. So each worker keeps the few it built last and builds afresh when
the codebook's themes change (a new theme, a rename) or the model is
MAX_AGE seconds old, by which time the coder has coded enough to matter.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from threading import Lock

from coding import assist
from coding.models import Coding

MAX_AGE = 120  # seconds
KEPT = 8  # models per worker: a few coders' questions

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
    with _lock:
        _models[key] = (now, model)
        _models.move_to_end(key)
        while len(_models) > KEPT:
            _models.popitem(last=False)
    return model


def forget() -> None:
    """Tests start from nothing."""
    with _lock:
        _models.clear()


def coded_examples(question, coder) -> list[tuple[str, frozenset[int]]]:
    """This coder's coded answers to the question, with their themes, oldest first."""
    themes: dict[int, set[int]] = {}
    for answer_id, theme_id in Coding.objects.filter(
        coder=coder, answer__question=question
    ).values_list("answer", "theme"):
        themes.setdefault(answer_id, set()).add(theme_id)
    texts = question.answers.filter(pk__in=themes).values_list("pk", "text", "other_text")
    return [(text or other, frozenset(themes[pk])) for pk, text, other in texts]
