"""How long importing a 100,000-row Qualtrics export takes, until queryable.

    .venv/bin/python bench/import_speed.py [--rows 100000] [--database-url sqlite:///…]

Generates an export in the Qualtrics layout (three header rows; 10 questions:
3 free text of 5-60 words, 4 scales, 2 single choice, 1 multi choice split
across columns; two attributes), then times each stage of the real import
path into a fresh database and prints a table. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = [
    "caseloads",
    "time",
    "families",
    "children",
    "placement",
    "foster",
    "carers",
    "funding",
    "support",
    "training",
    "supervision",
    "court",
    "assessment",
    "school",
    "health",
    "police",
    "early",
    "help",
    "resources",
    "managers",
    "paperwork",
    "system",
    "trauma",
    "relationships",
    "services",
    "waiting",
    "lists",
    "housing",
    "poverty",
    "review",
    "plan",
    "visit",
    "direct",
    "work",
    "risk",
    "thresholds",
    "team",
]
CHOICES = ["Very likely", "Likely", "Neither likely nor unlikely", "Unlikely", "Very unlikely"]
MULTI = ["Waiting lists", "No places", "Unsuitable", "Thresholds too high", "No overview"]


def generate(rows: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    meta = ["StartDate", "EndDate", "Status", "ResponseId", "DistributionChannel"]
    meta_ids = ["startDate", "endDate", "status", "_recordId", "distributionChannel"]
    header, labels, ids = list(meta), list(meta), [{"ImportId": i} for i in meta_ids]
    for n in range(1, 4):
        header.append(f"Q{n}")
        labels.append(f"What would you change, part {n}?")
        ids.append({"ImportId": f"QID{n}_TEXT"})
    for n in range(4, 8):
        header.append(f"Q{n}")
        labels.append(f"How effective is it? 0 = not effective at all 10 = very effective ({n})")
        ids.append({"ImportId": f"QID{n}"})
    for n in (8, 9):
        header.append(f"Q{n}")
        labels.append(f"How likely is it ({n})?")
        ids.append({"ImportId": f"QID{n}"})
    for k, choice in enumerate(MULTI, start=1):
        header.append(f"Q10_{k}")
        labels.append(f"What are the challenges? - Selected Choice - {choice}")
        ids.append({"ImportId": "QID10", "choiceId": str(k)})
    header += ["Role", "Region"]
    labels += ["Role", "Region"]
    ids += [{"ImportId": "Role"}, {"ImportId": "Region"}]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([header, labels, [json.dumps(i, separators=(",", ":")) for i in ids]])
    for r in range(rows):
        row = [
            "2025-03-01 10:00:00",
            "2025-03-01 10:07:00",
            "IP Address",
            f"R_{r:015d}",
            "anonymous",
        ]
        row += [
            " ".join(rng.choices(WORDS, k=rng.randint(5, 60))).capitalize() + "."
            if rng.random() < 0.85
            else ""
            for _ in range(3)
        ]
        row += [str(rng.randint(0, 10)) if rng.random() < 0.9 else "" for _ in range(4)]
        row += [rng.choice(CHOICES) for _ in range(2)]
        picked = set(rng.sample(MULTI, rng.randint(1, 3)))
        row += [c if c in picked else "" for c in MULTI]
        row += [
            rng.choice(["Social Worker", "Team Manager", "Senior Social Worker"]),
            rng.choice(["North", "South", "Midlands", "London"]),
        ]
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp dir")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="verbatim-bench-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.db"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from polls import importers
    from polls.loading import PollFields, load_poll
    from polls.models import Answer, Project

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    data = generate(args.rows)
    timings = [("generate export", time.perf_counter() - t0)]
    project = Project.objects.create(name=f"bench {time.time()}")

    start = time.perf_counter()
    survey = importers.read_survey(data, "bench.csv")
    timings.append(("read and detect layout", time.perf_counter() - start))
    t = time.perf_counter()
    specs = importers.infer_specs(survey)
    timings.append(("infer kinds", time.perf_counter() - t))
    t = time.perf_counter()
    answers = importers.interpret(survey, specs)
    timings.append(("interpret cells", time.perf_counter() - t))
    t = time.perf_counter()
    poll = load_poll(project, survey, specs, answers, PollFields(title="bench"))
    timings.append(("write to database", time.perf_counter() - t))
    t = time.perf_counter()
    n = Answer.objects.filter(question__poll=poll).count()
    timings.append(("first query", time.perf_counter() - t))
    total = time.perf_counter() - start

    print(
        f"Import of a {args.rows:,}-row Qualtrics CSV ({len(data) / 1e6:.1f} MB, "
        f"{len(specs)} questions, {n:,} answers) into {os.environ['DATABASE_URL'].split(':')[0]}"
    )
    print(f"{'stage':<28}{'seconds':>10}")
    for name, seconds in timings:
        print(f"{name:<28}{seconds:>10.2f}")
    print(f"{'total, until queryable':<28}{total:>10.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'peak memory (MB)':<28}{peak:>10.0f}")


if __name__ == "__main__":
    main()
