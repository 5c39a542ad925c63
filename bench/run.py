"""Verbatim at national-consultation scale, measured over HTTP against gunicorn.

    make bench                      # SQLite, then PostgreSQL
    .venv/bin/python bench/run.py --db sqlite [--rows 100000] [--keep]

For each database: a fresh database, `migrate` and `createcachetable`, then
gunicorn started as the README runs it (3 workers, DEBUG off, WhiteNoise).
This process is the client: it logs in over HTTP on 127.0.0.1 and times
every request from before it connects to after the last byte. Then:

1. import a 100,000-row Qualtrics export (10 questions, 3 free text of 5-60
   words) through the upload, preview and confirm pages, until the poll page
   answers; gunicorn's memory (PSS, all processes) is sampled throughout;
2. build the scene straight into the database (bench/dataset.py): 300 themes
   in two levels, 4 coders dealt every free-text answer with a 20% overlap
   (enough on Q1 for 20,000 double-coded answers), about 500,000 codings;
3. time the workbench, grid, assistants, report, agreement and export.

Prints each figure beside its target. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

import machine  # noqa: E402
import server  # noqa: E402
from client import Session  # noqa: E402

ROWS = 100_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--keep", action="store_true", help="keep the database to profile")
    parser.add_argument("--import-only", action="store_true", help="time the import alone")
    args = parser.parse_args()
    if args.db == "both":  # Django reads its database once per process: one process each
        for name in ("sqlite", "postgres"):
            command = [sys.executable, __file__, "--db", name, "--rows", str(args.rows)]
            command += ["--keep"] if args.keep else []
            subprocess.run(command + (["--import-only"] if args.import_only else []), check=True)
        return
    if args.db == "sqlite":
        database = server.sqlite_database(args.keep)
    else:
        database = server.postgres_database(args.keep)
    with database as url:
        run(args.db, url, args.rows, args.import_only)


def run(name: str, url: str, rows: int, import_only: bool = False) -> None:
    env = server.environment(url)
    os.environ.update(env)
    server.manage(env, "migrate", "--no-input", "-v0")
    server.manage(env, "createcachetable")
    server.manage(env, "collectstatic", "--no-input", "-v0")
    import django

    django.setup()
    import dataset
    from import_speed import WORDS, generate

    scene = dataset.people()
    export = generate(rows)
    results = Results(name, rows, machine.describe())
    with server.gunicorn(env) as gunicorn:
        results.note("server memory at rest", gunicorn.memory_mb(), "MB")
        lead = Session("127.0.0.1", gunicorn.port)
        lead.login("lead", dataset.PASSWORD)
        with gunicorn.peak_memory() as memory:
            poll = import_journey(lead, scene, export, results)
        results.memory("import", memory["peak"])
        del export
        if import_only:
            results.show()
            return
        start = time.perf_counter()
        leaves = dataset.codebook(scene, WORDS)
        counts = dataset.deal_and_code(scene, poll, leaves)
        dataset.analyze()
        gunicorn.renew_workers()  # as their connections are within ten minutes
        results.note(
            f"scene: {len(leaves) + dataset.PARENTS} themes, {counts['codings']:,} codings, "
            f"{counts['double_coded']:,} double-coded on Q1 (built in "
            f"{time.perf_counter() - start:.0f} s)"
        )
        question = counts["agreement_question"]
        coder = Session("127.0.0.1", gunicorn.port)
        coder.login("coder1", dataset.PASSWORD)
        walk = workbench(coder, question, leaves, results)
        results.note("server memory after the workbench", gunicorn.memory_mb(), "MB")
        reports(lead, poll, question, results, changes=(coder, walk[100:110], leaves))
        results.note("server memory after reports and agreement", gunicorn.memory_mb(), "MB")
        with gunicorn.peak_memory() as memory:
            exports(lead, poll, scene, env, results)
        results.memory("export", memory["peak"])
    results.show()


def import_journey(lead: Session, scene, export: bytes, results: Results):
    from polls.models import Poll

    form_path = f"/projects/{scene.project.code}/import/"
    lead.get(form_path)  # sets the CSRF cookie
    # From sending the file to the confirmation's answer, when the poll is in the
    # database, committed: the three requests a researcher makes, back to back.
    start = time.perf_counter()
    fields = {"title": "National consultation 2026", "format": "auto"}
    uploaded = lead.upload(form_path, fields, "consultation.csv", export)
    preview = lead.get(lead.follow(uploaded))
    confirm = lead.follow(uploaded) + "confirm/"
    confirmed = lead.post(confirm, {"csrfmiddlewaretoken": lead.cookies["csrftoken"]}, expect=302)
    total = time.perf_counter() - start
    poll_page = lead.get(lead.follow(confirmed))  # where the confirmation leads
    results.add("import 100,000-row export until queryable", [total], 5, "s")
    results.note(
        f"import steps: upload {uploaded.seconds:.2f} s, preview {preview.seconds:.2f} s, "
        f"confirm {confirmed.seconds:.2f} s ({len(export) / 1e6:.0f} MB file); then the poll "
        f"page, summarising 10 questions over 100,000 respondents, {poll_page.seconds:.2f} s"
    )
    return Poll.objects.get(title=fields["title"])


def workbench(coder: Session, question: int, leaves, results: Results) -> list[int]:
    """Times the coder's requests; returns the answers they walked through."""
    from coding.models import Assignment, Mark

    coder_id = _user_id("coder1")
    dealt = list(
        Assignment.objects.filter(answer__question=question, coder=coder_id)
        .order_by("answer")
        .values_list("answer", flat=True)
    )
    uncoded = set(dealt) - set(
        Mark.objects.filter(coder=coder_id, answer__question=question).values_list(
            "answer", flat=True
        )
    )
    start = sorted(uncoded)[len(uncoded) // 2]
    here = dealt.index(start)
    walk = dealt[here : here + 200]
    queue = f"/questions/{question}/code/"
    coder.get(f"{queue}?answer={walk[0]}")  # the full page once, as a coder arrives
    timings = [coder.get(f"{queue}?answer={a}", htmx="workbench").seconds for a in walk]
    results.add("next answer in the queue (htmx fragment)", timings, 25)

    rng = random.Random(7)
    timings = []
    for answer in walk[:100]:
        theme = rng.choice(leaves).pk
        form = {"next": f"{queue}?answer={answer}"}
        # A theme's button, pressed twice: htmx swaps the chips (#coded) and that button.
        timings.append(
            coder.post(f"/answers/{answer}/themes/{theme}/apply/", form, "coded").seconds
        )
        timings.append(
            coder.post(f"/answers/{answer}/themes/{theme}/remove/", form, "coded").seconds
        )
    results.add("apply / remove a theme (200 round trips)", timings, 8)

    # Pages anywhere in the coder's 26,000 answers, reached as the pager's links reach
    # them (page n starts after the last id of page n - 1).
    grid = f"/questions/{question}/grid/?col=Role&col=Region"
    timings = []
    for page in (rng.randint(2, len(dealt) // 50) for _ in range(100)):
        url = f"{grid}&page={page}&after={dealt[(page - 1) * 50 - 1]}"
        timings.append(coder.get(url, htmx="grid").seconds)
    results.add("grid page of 50 answers, attributes and chips", timings, 60)

    sample = rng.sample(dealt, 51)
    first = coder.get(f"/answers/{sample[0]}/suggestions/", htmx="suggestions").seconds
    timings = [
        coder.get(f"/answers/{a}/suggestions/", htmx="suggestions").seconds for a in sample[1:]
    ]
    results.add("theme suggestions for one answer", timings, 50)
    results.note(f"suggestions: first request {first * 1000:.0f} ms")

    timings = [coder.get(f"/answers/{a}/similar/", htmx="matches").seconds for a in sample[:20]]
    results.add("similar answers over the question's answers", timings, 500)
    return walk


def reports(lead: Session, poll, question: int, results: Results, changes) -> None:
    """`changes`: (the coder, answers they code, themes) to change the question between views."""
    report = f"/polls/{poll.code}/report/"
    one = f"{report}?question={question}"
    # Counted afresh: each view follows a coder's change to the question.
    # The lead checks agreement, reads the report, then exports (exports()).
    coder, answers, leaves = changes
    agreement = f"/questions/{question}/agreement/"
    timings = _after_changes(lead, agreement, coder, question, answers[:5], leaves)
    results.add("agreement, first view after a change", timings, None)
    timings = [lead.get(agreement).seconds for _ in range(5)]
    results.add("agreement, 20,000 double-coded x 300 themes", timings, 1000)
    timings = _after_changes(lead, one, coder, question, answers[5:10], leaves)
    results.add("theme-frequency table, first view after a change", timings, None)
    timings = [lead.get(one).seconds for _ in range(10)]
    results.add("theme-frequency table for one question", timings, 100)
    timings = [lead.get(report).seconds for _ in range(5)]
    results.add("whole report page (10 questions)", timings, None)


def _after_changes(lead: Session, page: str, coder: Session, question: int, answers, leaves):
    """The page timed right after each of a coder's changes to the question (counted afresh)."""
    timings = []
    for answer, theme in zip(answers, leaves, strict=False):
        form = {"next": f"/questions/{question}/code/?answer={answer}"}
        coder.post(f"/answers/{answer}/themes/{theme.pk}/apply/", form, "coded")
        timings.append(lead.get(page).seconds)
    return timings


def exports(lead: Session, poll, scene, env: dict, results: Results) -> None:
    with tempfile.TemporaryDirectory(prefix="verbatim-bench-export-") as out:
        command = [server.VENV / "python", ROOT / "manage.py", "export_report"]
        command += ["--project", scene.project.name, "--poll", poll.title, "--out", out]
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True, cwd=ROOT)
        seconds = time.perf_counter() - start
    results.add("export_report (CSV), whole command", [seconds], 2, "s")
    xlsx = lead.get(f"/polls/{poll.code}/report/report.xlsx")
    results.add("report.xlsx download", [xlsx.seconds], None, "s")


def _user_id(username: str) -> int:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username).pk


class Results:
    def __init__(self, database: str, rows: int, machine: str):
        self.database, self.rows, self.machine = database, rows, machine
        self.rows_out: list[tuple] = []
        self.notes: list[str] = []

    def add(self, what: str, seconds: list[float], target, unit: str = "ms") -> None:
        scale = 1000 if unit == "ms" else 1
        values = sorted(s * scale for s in seconds)
        p50 = statistics.median(values)
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        met = "" if target is None else ("yes" if p95 <= target else "NO")
        self.rows_out.append((what, len(values), p50, p95, target, unit, met))
        print(f"  {what}: p50 {p50:.1f} p95 {p95:.1f} {unit}", flush=True)

    def memory(self, phase: str, peak: float) -> None:
        met = "yes" if peak <= 300 else "NO"
        self.rows_out.append(
            (f"peak server memory (PSS) during {phase}", 1, peak, peak, 300, "MB", met)
        )
        print(f"  peak memory during {phase}: {peak:.0f} MB", flush=True)

    def note(self, text: str, value=None, unit="") -> None:
        self.notes.append(text if value is None else f"{text}: {value:.0f} {unit}")
        print(f"  {self.notes[-1]}", flush=True)

    def show(self) -> None:
        print(f"\n**{self.database}, {self.rows:,} respondents; {self.machine}**\n")
        print("| what | n | p50 | p95 | target | met |\n| --- | ---: | ---: | ---: | ---: | --- |")
        for what, n, p50, p95, target, unit, met in self.rows_out:
            goal = "" if target is None else f"≤ {target:g} {unit}"
            print(f"| {what} | {n} | {p50:,.1f} {unit} | {p95:,.1f} {unit} | {goal} | {met} |")
        for text in self.notes:
            print(f"- {text}")


if __name__ == "__main__":
    main()
