"""The demo: the seed polls as survey exports, imported like any upload.

`fixtures/seeds/<poll>/poll.json` holds what the published reports say (the
questions verbatim, counts that reproduce every published percentage and
mean); `<QID>.csv` files hold the written answers with the themes they carry
(kept for the suggestion benchmark of the coding issue). `qualtrics_export`
turns them into a Qualtrics CSV (three header rows, preview rows included),
deterministically, so that the demo exercises the real importer.
"""

from __future__ import annotations

import csv
import io
import json
import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings

SEEDS = Path(settings.BASE_DIR) / "fixtures" / "seeds"
POLLS = ["poll3", "poll4", "poll5", "feb2021"]

METADATA = [
    # (column, English label, ImportId)
    ("StartDate", "Start Date", "startDate"),
    ("EndDate", "End Date", "endDate"),
    ("Status", "Response Type", "status"),
    ("Progress", "Progress", "progress"),
    ("Duration (in seconds)", "Duration (in seconds)", "duration"),
    ("Finished", "Finished", "finished"),
    ("RecordedDate", "Recorded Date", "recordedDate"),
    ("ResponseId", "Response ID", "_recordId"),
    ("DistributionChannel", "Distribution Channel", "distributionChannel"),
    ("UserLanguage", "User Language", "userLanguage"),
]
# Multi-choice questions exported as one column per choice, to exercise that layout.
SPLIT_MULTI = {("poll3", "Q14")}


@dataclass
class Seed:
    slug: str
    meta: dict
    texts: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)

    @property
    def questions(self) -> list[dict]:
        return self.meta["questions"]


def load_seed(slug: str) -> Seed:
    folder = SEEDS / slug
    seed = Seed(slug, json.loads((folder / "poll.json").read_text(encoding="utf-8")))
    for path in sorted(folder.glob("*.csv")):
        if path.name.endswith(".themes.csv") or path.stem == "check_counts":
            continue
        with path.open(encoding="utf-8", newline="") as f:
            seed.texts[path.stem] = [
                (row["text"], [t for t in row["themes"].split(";") if t])
                for row in csv.DictReader(f)
            ]
    return seed


def _response_id(rng: random.Random) -> str:
    return "R_" + "".join(rng.choices(string.ascii_letters + string.digits, k=15))


class _Respondents:
    """Who answered what, drawn reproducibly from the seed's counts."""

    def __init__(self, seed: Seed, rng: random.Random):
        self.seed, self.rng = seed, rng
        n = seed.meta["respondents"]
        self.ids = [_response_id(rng) for _ in range(n)]
        self.cells: list[dict[str, str]] = [{} for _ in range(n)]
        self.chosen: dict[str, dict[int, set[str]]] = {}  # question → respondent → options
        for name, counts in seed.meta.get("attributes", {}).items():
            values = [v for v, c in counts.items() for _ in range(c)]
            rng.shuffle(values)
            for cells, value in zip(self.cells, values, strict=False):
                cells[name] = value

    def eligible(self, question: dict) -> list[int]:
        rule = question.get("only_if")
        people = range(len(self.ids))
        if not rule:
            return list(people)
        picked = self.chosen[rule["question"]]
        return [i for i in people if picked.get(i, set()) & set(rule["options"])]

    def draw(self, question: dict, n: int) -> list[int]:
        pool = self.eligible(question)
        if n > len(pool):
            raise ValueError(f"{self.seed.slug} {question['id']}: {n} answers, {len(pool)} asked")
        prefer = question.get("prefer")
        if prefer:
            picked = self.chosen[prefer["question"]]
            first = [i for i in pool if picked.get(i, set()) & set(prefer["options"])]
            rest = [i for i in pool if i not in set(first)]
            self.rng.shuffle(first)
            self.rng.shuffle(rest)
            return sorted((first + rest)[:n])
        return sorted(self.rng.sample(pool, n))


def _assign_multi(rng, people: list[int], counts: list[int], limit: int | None) -> dict[int, set]:
    """Give each option its count of distinct respondents, everyone at least one.

    Options are dealt most popular first, each to the respondents holding the
    fewest choices so far, which covers everyone whenever the counts allow.
    """
    held: dict[int, set[int]] = {i: set() for i in people}
    for option in sorted(range(len(counts)), key=lambda j: -counts[j]):
        free = [i for i in people if limit is None or len(held[i]) < limit]
        rng.shuffle(free)
        free.sort(key=lambda i: len(held[i]))
        if counts[option] > len(free):
            raise ValueError(f"cannot give option {option} to {counts[option]} respondents")
        for i in free[: counts[option]]:
            held[i].add(option)
    return held


def _fill_closed(seed: Seed, q: dict, people: _Respondents) -> None:
    qid = q["id"]
    options = q.get("options") or [str(v) for v in range(q["min"], q["max"] + 1)]
    others = seed.texts.get(f"{qid}_other", [])
    counts = [len(others) if c is None else c for c in q["counts"]]
    if q["kind"] == "multi_choice":
        who = people.draw(q, q["answered"])
        held = _assign_multi(people.rng, who, counts, q.get("max_choices"))
        chosen = {i: {options[j] for j in held[i]} for i in who}
    else:
        values = [options[j] for j, c in enumerate(counts) for _ in range(c)]
        people.rng.shuffle(values)
        who = people.draw(q, len(values))
        chosen = {i: {v} for i, v in zip(who, values, strict=True)}
    people.chosen[qid] = chosen
    other = q.get("other")
    with_other = [i for i in sorted(chosen) if other in chosen[i]]
    for i, (text, _themes) in zip(with_other, others, strict=True):
        people.cells[i][f"{qid}_other"] = text
    for i, picked in chosen.items():
        people.cells[i][qid] = picked if q["kind"] == "multi_choice" else next(iter(picked))


def _fill_text(seed: Seed, q: dict, people: _Respondents) -> None:
    answers = seed.texts[q["id"]]
    who = people.draw(q, len(answers))
    order = list(range(len(answers)))
    people.rng.shuffle(order)
    for i, k in zip(who, order, strict=True):
        people.cells[i][q["id"]] = answers[k][0]


def _columns(seed: Seed) -> list[tuple[str, str, dict, object]]:
    """(column, label, ImportId JSON, cell getter) for every question column."""
    columns = []
    for n, q in enumerate(seed.questions, start=1):
        qid, text, import_id = q["id"], q["text"], f"QID{n}"
        if q["kind"] == "free_text":
            columns.append((qid, text, {"ImportId": f"{import_id}_TEXT"}, _cell(qid)))
            continue
        options = q.get("options") or []
        if (seed.slug, qid) in SPLIT_MULTI:
            for k, option in enumerate(options, start=1):
                label = f"{text} - Selected Choice - {option}"
                getter = _ticked(qid, option)
                columns.append(
                    (f"{qid}_{k}", label, {"ImportId": import_id, "choiceId": str(k)}, getter)
                )
        else:
            label = f"{text} - Selected Choice" if q.get("other") else text
            columns.append((qid, label, {"ImportId": import_id}, _joined(qid, options)))
        if q.get("other"):
            k = options.index(q["other"]) + 1
            columns.append(
                (
                    f"{qid}_{k}_TEXT",
                    f"{text} - {q['other']} - Text",
                    {"ImportId": f"{import_id}_{k}_TEXT"},
                    _cell(f"{qid}_other"),
                )
            )
    return columns


def _cell(key):
    return lambda cells: cells.get(key, "")


def _ticked(qid, option):
    return lambda cells: option if option in cells.get(qid, ()) else ""


def _joined(qid, options):
    def get(cells):
        value = cells.get(qid, "")
        if isinstance(value, set):  # a multi-choice cell lists choices in option order
            return ",".join(o for o in options if o in value)
        return value

    return get


def qualtrics_export(seed: Seed, rng_seed: int = 2021) -> bytes:
    rng = random.Random(f"{seed.slug}-{rng_seed}")
    people = _Respondents(seed, rng)
    for q in seed.questions:
        (_fill_text if q["kind"] == "free_text" else _fill_closed)(seed, q, people)
    columns = _columns(seed)
    attributes = list(seed.meta.get("attributes", {}))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c for c, _, _ in METADATA] + [c[0] for c in columns] + attributes)
    writer.writerow([label for _, label, _ in METADATA] + [c[1] for c in columns] + attributes)
    writer.writerow(
        [json.dumps({"ImportId": i}, separators=(",", ":")) for _, _, i in METADATA]
        + [json.dumps(c[2], separators=(",", ":")) for c in columns]
        + [json.dumps({"ImportId": a}, separators=(",", ":")) for a in attributes]
    )
    rows = [
        _metadata(seed, rng, rid, preview=False)
        + [c[3](cells) for c in columns]
        + [cells.get(a, "") for a in attributes]
        for rid, cells in zip(people.ids, people.cells, strict=True)
    ]
    for _ in range(seed.meta.get("previews", 0)):
        fake = people.cells[rng.randrange(len(people.cells))]  # a realistic-looking test run
        rows.insert(
            rng.randrange(len(rows) + 1),
            _metadata(seed, rng, _response_id(rng), True)
            + [c[3](fake) for c in columns]
            + [""] * len(attributes),
        )
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _metadata(seed: Seed, rng, response_id: str, preview: bool) -> list[str]:
    opened = date.fromisoformat(seed.meta.get("opened") or "2021-01-01")
    closed = date.fromisoformat(seed.meta.get("closed") or seed.meta.get("opened") or "2021-01-14")
    start = datetime.combine(opened, datetime.min.time()) + timedelta(
        seconds=rng.randrange(max(1, (closed - opened).days) * 86400)
    )
    duration = rng.randrange(90, 1800)
    end = start + timedelta(seconds=duration)
    stamp = "%Y-%m-%d %H:%M:%S"
    status, channel = ("Survey Preview", "preview") if preview else ("IP Address", "anonymous")
    return [
        start.strftime(stamp),
        end.strftime(stamp),
        status,
        "100",
        str(duration),
        "True",
        end.strftime(stamp),
        response_id,
        channel,
        "EN-GB",
    ]


def schema(seed: Seed) -> dict:
    """What a lead would confirm on the preview page: kinds, option order, scale ends."""
    questions = []
    for q in seed.questions:
        entry = {"id": q["id"], "kind": q["kind"]}
        if q.get("options"):
            entry["options"] = q["options"]
        if q["kind"] == "scale":
            entry.update(min=q["min"], max=q["max"], labels=q.get("labels", ["", ""]))
        for key in ("max_choices", "subsample"):
            if q.get(key):
                entry[key] = q[key]
        questions.append(entry)
    return {"questions": questions}


ENGAGEMENT_QUESTION = "What did participants tell us?"


def engagement_export() -> bytes:
    """Seed 004's session notes as a plain CSV table: one row per note."""
    with (SEEDS / "engagement" / "notes.csv").open(encoding="utf-8", newline="") as f:
        notes = list(csv.DictReader(f))
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["id", "Role", "Session", ENGAGEMENT_QUESTION])
    writer.writerows([n["note_id"], n["role"], n["session"], n["text"]] for n in notes)
    return out.getvalue().encode("utf-8")
