"""What kind each question is, with its options or scale ends.

Kinds, first rule that applies:
1. multi_choice — the export splits the question into one column per choice;
2. free_text — the export says text entry (Qualtrics `_TEXT`, SurveyMonkey
   "Open-Ended Response"), or there is no answer column;
3. scale — every answer is a number (or "10 - very effective", or an end label
   the text states), the numbers span 2 to 101 points (or the text states the
   ends), and no "other" text column goes with it. The ends are those the
   question text states ("1 = not effective at all 10 = very effective", "on a
   scale of 0-10", "(Rate from 0-10)", "0 being … and 10 being …"), else the
   smallest and largest answers. Numeric recodes of a choice question look
   just the same; a schema or the preview page corrects those;
4. multi_choice — cells joined by the layout's separator split into options
   that also occur elsewhere (see `joined_options`); Microsoft Forms ends every
   multi-select cell with ";";
5. free_text — answers are long or mostly unique (see `looks_free_text`);
6. single_choice — the rest: a few short answers repeated.
Options follow the export's choice order where it gives one, numeric order for
recodes, a known answer-scale order (Never…Always, Very likely…Very unlikely),
else first appearance. A schema entry replaces whatever it names.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from polls.importers import schema as schema_module
from polls.importers.constants import (
    FREE_TEXT,
    GOOGLE_FORMS,
    MAX_OPTION_TEXT,
    MULTI_CHOICE,
    SCALE,
    SINGLE_CHOICE,
)
from polls.importers.options import (
    Splitter,
    glued_pieces,
    looks_other,
    naive_pieces,
    norm,
    order_options,
)
from polls.importers.scales import Ends, ends_from_values, stated_ends
from polls.importers.table import column_ref
from polls.importers.types import (
    ImportProblem,
    OptionSpec,
    QuestionSpec,
    RawColumn,
    RawQuestion,
    RawSurvey,
)

MAX_OPTIONS = 30  # more distinct answers than this is not a closed question
MAX_JOINED_VALUES = 5000  # distinct cells worth trying to split
FREE_TEXT_LENGTH = 60  # average answer length no option list reaches
LONG_ANSWER = 25
SHORT_ANSWER = 10
UNEXPLAINED_SHARE = 0.1  # joined cells that may fail to split before we give up
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_COUNT = r"(\d+|" + "|".join(NUMBER_WORDS) + r")"
MAX_CHOICES = re.compile(
    r"\b(?:select|choose|pick|tick|name)\s+(?:up\s+to\s+|only\s+|at\s+most\s+|a\s+maximum\s+of\s+"
    rf"|no\s+more\s+than\s+)?{_COUNT}\b(?!\s+or\s+more)|\btop\s+{_COUNT}\b",
    re.IGNORECASE,
)


@dataclass
class Facts:
    """What the cells of one question say, gathered once, when first asked for."""

    question: RawQuestion
    main: RawColumn | None
    choices: list[RawColumn]
    others: list[RawColumn]
    inline_other: bool  # "Other" texts sit in the main cell (Google Forms)

    @classmethod
    def of(cls, question: RawQuestion, platform: str) -> Facts:
        return cls(
            question,
            next((c for c in question.columns if c.role == "main"), None),
            [c for c in question.columns if c.role == "choice"],
            [c for c in question.columns if c.role == "other"],
            platform == GOOGLE_FORMS,
        )

    @cached_property
    def counts(self) -> Counter[str]:
        """Non-empty main cells → how often (a text-entry question never needs them)."""
        counts: Counter[str] = Counter(self.main.cells) if self.main else Counter()
        counts.pop("", None)
        return counts

    @cached_property
    def answered(self) -> int:
        return sum(self.counts.values())


@dataclass
class Joined:
    options: list[str]
    leftovers: bool  # some cells hold a piece that is no option (an "Other" text)


def infer_specs(survey: RawSurvey, schema: dict | None = None) -> list[QuestionSpec]:
    overrides = schema_module.overrides_for(survey, schema)
    return [infer_question(q, survey, overrides.get(q.export_id, {})) for q in survey.questions]


def infer_question(question: RawQuestion, survey: RawSurvey, override: dict) -> QuestionSpec:
    facts = Facts.of(question, survey.platform)
    kind = override.get("kind") or guess_kind(facts)
    spec = QuestionSpec(question.export_id, question.text, kind)
    if kind == SCALE:
        _fill_scale(spec, facts, override)
    elif kind in (SINGLE_CHOICE, MULTI_CHOICE):
        _fill_options(spec, facts, override)
        _refuse_long_options(spec, facts, survey.filename)
    if kind == MULTI_CHOICE:
        spec.max_choices = override.get("max_choices", stated_max_choices(question.text))
    spec.subsample = override.get("subsample", "")
    return spec


def guess_kind(f: Facts) -> str:
    if f.choices:
        return MULTI_CHOICE
    if f.question.is_text_entry or f.main is None:
        return FREE_TEXT
    values = list(f.counts)
    if not values:
        return SCALE if stated_ends(f.question.text) else FREE_TEXT
    if any(len(v) > MAX_OPTION_TEXT for v in values):
        return FREE_TEXT  # no option is that long
    if not f.others and ends_from_values(values, stated_ends(f.question.text)):
        return SCALE
    if joined_options(f) is not None:
        return MULTI_CHOICE
    if looks_free_text(f):
        return FREE_TEXT
    return SINGLE_CHOICE


def looks_free_text(f: Facts) -> bool:
    """Many distinct answers, long answers, or (with enough rows) mostly unique ones.

    Choice answers repeat: 141 social workers pick among 5 options. Free text
    hardly ever does. With few rows every ratio is high, so a short answer
    list then needs length too before it counts as free text.
    """
    distinct, n = len(f.counts), f.answered
    if distinct > MAX_OPTIONS:
        return True
    average = sum(len(v) * c for v, c in f.counts.items()) / n
    ratio = distinct / n
    return (
        average > FREE_TEXT_LENGTH
        or (n >= 20 and ratio > 0.5)
        or (average > LONG_ANSWER and ratio > 0.3)
        or (ratio == 1 and average > SHORT_ANSWER)  # no answer repeats: not options
    )


def joined_options(f: Facts) -> Joined | None:
    """The options of a one-column multi-select, or None if the cells are not joined.

    Candidate options are the known choice texts, the cells that hold one
    choice, and the pieces that occur in two or more different cells, where
    pieces that only ever occur side by side count as one piece (an option
    with a comma in it, see options.glued_pieces). The column is a multi-select
    when some cell splits into two or more options and nearly all joined cells
    split without a leftover piece (Google Forms: a leftover is the "Other"
    text). Options keep the export's order where known, else first appearance.
    """
    separator = f.question.multi_separator
    core = separator.strip() or separator
    if len(f.counts) > MAX_JOINED_VALUES or not any(core in v for v in f.counts):
        return None
    if core == ";":
        return _semicolon_joined(f)
    candidates = _candidates(f, separator)
    if len(candidates) > MAX_OPTIONS:
        return None
    splitter = Splitter(candidates, separator)
    used = dict.fromkeys(range(len(f.question.known_options)))
    several = leftovers = False
    unexplained = 0
    for value, count in f.counts.items():
        found, left = splitter.split(value)
        if left and not (f.inline_other and found):
            unexplained += count
            continue
        used.update(dict.fromkeys(found))
        leftovers = leftovers or bool(left)
        several = several or len(set(found)) + bool(left) >= 2
    if not several or unexplained > UNEXPLAINED_SHARE * f.answered:
        return None
    return Joined(order_options([candidates[i] for i in used]), leftovers)


def _candidates(f: Facts, separator: str) -> list[str]:
    pieces = glued_pieces(f.counts, separator)
    in_cells: Counter[str] = Counter()
    first_text: dict[str, str] = {}
    for value_pieces in pieces.values():
        for piece in {norm(p): p for p in value_pieces}.values():
            in_cells[norm(piece)] += 1
            first_text.setdefault(norm(piece), piece)
    singles = [p[0] for p in pieces.values() if len(p) == 1]
    repeated = [first_text[k] for k, n in in_cells.items() if n >= 2]
    return _distinct([*f.question.known_options, *singles, *repeated])


def _semicolon_joined(f: Facts) -> Joined | None:
    """Microsoft Forms ends every multi-select cell with ";", even a single choice."""
    if not all(v.endswith(";") for v in f.counts):
        return None
    pieces = [p for v in f.counts for p in naive_pieces(v, ";")]
    options = _distinct([*f.question.known_options, *pieces])
    return Joined(order_options(options), False) if len(options) <= MAX_OPTIONS else None


def _distinct(texts: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for text in texts:
        seen.setdefault(norm(text), text)
    return list(seen.values())


def _fill_scale(spec: QuestionSpec, f: Facts, override: dict) -> None:
    stated = stated_ends(f.question.text)
    ends: Ends | None = None
    if f.counts:
        ends = ends_from_values(list(f.counts), stated, need_range=False)
    ends = ends or stated
    if ends:
        spec.scale_min, spec.scale_max = ends.low, ends.high
        spec.scale_min_label, spec.scale_max_label = ends.low_label, ends.high_label
    spec.scale_min = override.get("min", spec.scale_min)
    spec.scale_max = override.get("max", spec.scale_max)
    if "labels" in override:
        spec.scale_min_label, spec.scale_max_label = override["labels"]


def _fill_options(spec: QuestionSpec, f: Facts, override: dict) -> None:
    if "options" in override:
        spec.options = [
            OptionSpec(o["text"], o["code"], o["is_other"]) for o in override["options"]
        ]
    elif spec.kind == MULTI_CHOICE or f.choices:
        spec.options = _multi_options(f)
    else:
        # Cells differing only in case or spacing are one option, as interpret matches them.
        spec.options = [_option(text) for text in order_options(_distinct(list(f.counts)))]
    _flag_other(spec, f)


def _refuse_long_options(spec: QuestionSpec, f: Facts, filename: str) -> None:
    long = next((o for o in spec.options if len(o.text) > MAX_OPTION_TEXT), None)
    if long is None:
        return
    column = f.main or f.question.columns[0]
    raise ImportProblem(
        f"{spec.export_id}: an option would be {len(long.text):,} characters long, more than "
        f"the {MAX_OPTION_TEXT:,} allowed; is it really a choice question?",
        file=filename,
        column=column_ref(column.index, column.name),
    )


def _multi_options(f: Facts) -> list[OptionSpec]:
    if f.choices:
        return _unique([OptionSpec(c.choice or c.name, c.choice_code) for c in f.choices])
    joined = joined_options(f)
    if joined is None:  # declared multi-choice by a schema: split naively
        pieces = [p for v in f.counts for p in naive_pieces(v, f.question.multi_separator)]
        texts = order_options(_distinct([*f.question.known_options, *pieces]))
        return [_option(t) for t in texts]
    options = [_option(t) for t in joined.options]
    if joined.leftovers and not any(looks_other(o.text) for o in options):
        options.append(OptionSpec("Other", is_other=True))
    return options


def _option(text: str) -> OptionSpec:
    """A numeric value is the export's recode: it is the option's code too."""
    return OptionSpec(text, text if text.lstrip("+-").isdigit() else "")


def _flag_other(spec: QuestionSpec, f: Facts) -> None:
    """Mark "Other…" options, and the option each "other" text column belongs to."""
    for option in spec.options:
        option.is_other = option.is_other or looks_other(option.text)
    for column in f.others:
        option = _option_of(spec.options, column)
        if option is None:
            text = _unique_text(spec.options, column.choice or "Other")
            option = OptionSpec(text, column.choice_code)
            spec.options.append(option)
        option.is_other = True


def _option_of(options: list[OptionSpec], column: RawColumn) -> OptionSpec | None:
    for option in options:
        if column.choice_code and option.code == column.choice_code:
            return option
    key = norm(column.choice)
    return next((o for o in options if key and norm(o.text) == key), None)


def _unique(options: list[OptionSpec]) -> list[OptionSpec]:
    """Option texts are unique in the database: a repeated text gets its code added."""
    seen: set[str] = set()
    for option in options:
        if option.text in seen:
            option.text = _unique_text(options, option.text, option.code)
        seen.add(option.text)
    return options


def _unique_text(options: list[OptionSpec], text: str, code: str = "") -> str:
    taken = {o.text for o in options}
    candidate, n = text, 1
    while candidate in taken:
        n += 1
        candidate = f"{text} ({code or n})"
    return candidate


def stated_max_choices(text: str) -> int | None:
    """ "Please select three only", "choose up to 3", "top three" → 3."""
    m = MAX_CHOICES.search(text)
    if not m:
        return None
    word = (m.group(1) or m.group(2)).casefold()
    count = NUMBER_WORDS.get(word) or int(word)
    return count if count >= 1 else None
