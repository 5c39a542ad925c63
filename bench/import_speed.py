"""How long importing a 100,000-row Qualtrics export takes, until queryable.

    .venv/bin/python bench/import_speed.py [--rows 100000] [--database-url URL]

Generates an export in the Qualtrics layout (three header rows; 10 questions:
3 free text of 5-60 words, 4 scales, 2 single choice, 1 multi choice split
across columns; two attributes), then measures, each part in a process and a
database of its own:

- pipeline: each stage of the import path called directly (read, infer,
  interpret, write), with the peak memory (RSS) of each stage;
- journey: what a researcher does in the browser, request by request through
  Django's WSGI handler in this process: the upload page, the upload, the
  preview page, the confirmation. The request body is streamed from a file,
  so the peak RSS of each step is the server's own.

The same journey over HTTP against gunicorn, with the whole server's memory,
is bench/run.py's first figure.

URL: sqlite:///… (default: files in a temp dir) or postgres://…, in which case
each part uses a new database named after the URL's, created and dropped here
(scripts/with-postgres gives a throwaway server). Not part of `make test`.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

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


# --- memory ------------------------------------------------------------------------


def reset_peak(pid: int | str = "self") -> None:
    """Start the kernel's peak-RSS count (VmHWM) afresh, so each step has its own."""
    # Not Linux, or not allowed: the peak then covers the earlier steps too.
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss(pid: int | str = "self") -> float:
    """Peak resident memory in MB since the last reset_peak."""
    return _status_kb(pid, "VmHWM") / 1024


def _status_kb(pid, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- a browser ------------------------------------------------------------------------

HOST = "localhost"
SERVER_SETTINGS = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": HOST,
    "SECURE_SSL_REDIRECT": "0",  # plain HTTP here; a TLS proxy stands in front in production
}


class Browser:
    """Cookies, CSRF tokens and forms, as a researcher's browser handles them.

    send(method, path, headers, body, length) → (status, [(header, value)], body)
    is either a call of the WSGI application in this process or an HTTP request.
    """

    def __init__(self, send, workdir: Path):
        self.send = send
        self.workdir = workdir
        self.cookies: dict[str, str] = {}

    def get(self, path: str):
        return self._request("GET", path, b"", 0, "")

    def post(self, path: str, fields: dict, upload: Path | None = None):
        if upload is None:
            body = urlencode(fields, doseq=True).encode()
            return self._request("POST", path, body, len(body), "application/x-www-form-urlencoded")
        target = self.workdir / "request-body"
        content_type = multipart(fields, upload, target)
        with open(target, "rb") as body:
            return self._request("POST", path, body, target.stat().st_size, content_type)

    def _request(self, method, path, body, length, content_type):
        headers = {"Host": HOST, "Content-Length": str(length)}
        if content_type:
            headers["Content-Type"] = content_type
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        status, response_headers, content = self.send(method, path, headers, body, length)
        for name, value in response_headers:
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        location = next((v for k, v in response_headers if k.lower() == "location"), "")
        return status, location, content.decode("utf-8", "replace")


def multipart(fields: dict, upload: Path, target: Path) -> str:
    """Write a multipart/form-data body with the file to `target`; its content type."""
    boundary = "----verbatim-bench-" + secrets.token_hex(8)
    with open(target, "wb") as out:
        for name, value in fields.items():
            out.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{upload.name}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
        )
        with open(upload, "rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
        out.write(f"\r\n--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}"


class FormFields(HTMLParser):
    """What a browser submits from a page's form (the first, or the one with `form_id`)."""

    def __init__(self, html: str, form_id: str = ""):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.done = False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.textarea: str | None = None
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and (not self.form_id or a.get("id") == self.form_id):
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value") or ""))
        elif tag == "textarea":
            self.textarea, self.text = a.get("name"), []

    def handle_data(self, data):
        if self.textarea is not None:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea, "".join(self.text).removeprefix("\n")))
            self.textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def wsgi_sender(application):
    def send(method, path, headers, body, length):
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": HOST,
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body) if isinstance(body, bytes) else body,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(length),
            "CONTENT_TYPE": headers.get("Content-Type", ""),
        }
        for name, value in headers.items():
            if name not in ("Content-Type", "Content-Length"):
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        started = {}

        def start_response(status, response_headers, exc_info=None):
            started["status"] = int(status.split()[0])
            started["headers"] = response_headers

        result = application(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        return started["status"], started["headers"], content

    return send


# --- the parts ------------------------------------------------------------------------


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def part_pipeline(export: Path) -> dict:
    from polls import importers
    from polls.loading import PollFields, load_poll
    from polls.models import Answer, Project

    data = export.read_bytes()
    project = Project.objects.create(name=f"bench {time.time()}")
    stages = []

    def stage(name, work):
        reset_peak()
        t = time.perf_counter()
        result = work()
        stages.append((name, time.perf_counter() - t, peak_rss()))
        return result

    survey = stage("read and detect layout", lambda: importers.read_survey(data, "bench.csv"))
    specs = stage("infer kinds", lambda: importers.infer_specs(survey))
    answers = stage("interpret cells", lambda: importers.interpret(survey, specs))
    poll = stage(
        "write to database",
        lambda: load_poll(project, survey, specs, answers, PollFields(title="bench")),
    )
    stage("first query", lambda: Answer.objects.filter(question__poll=poll).count())
    return {"stages": stages, "rows": rows_of(poll), "questions": len(specs), "bytes": len(data)}


def rows_of(poll) -> str:
    """What the import wrote, as the table headings say it."""
    from polls.models import Answer, Rating, Selection

    counts = [m.objects.filter(question__poll=poll).count() for m in (Answer, Rating, Selection)]
    return "{:,} answers written, {:,} scale points, {:,} options ticked".format(*counts)


def bench_people():
    """A lead of a project, to log in as."""
    from django.contrib.auth.models import User

    from polls.models import Membership, Project

    password = secrets.token_urlsafe(16)
    user = User.objects.create_user(f"bench{secrets.token_hex(4)}", password=password)
    project = Project.objects.create(name=f"bench {time.time()}")
    Membership.objects.create(project=project, user=user, role=Membership.Role.LEAD)
    return user.username, password, project


def journey(browser: Browser, export: Path, username: str, password: str, project, watch):
    """Log in, then time the upload, preview and confirmation; watch(step) measures memory."""
    from polls.models import Answer, Poll

    _, _, page = browser.get("/login/")
    login = dict(FormFields(page).fields)
    login.update(username=username, password=password)
    status, _, _ = browser.post("/login/", login)
    assert status == 302, f"login failed: {status}"
    steps = []

    def step(name, work):
        with watch(name) as memory:
            t = time.perf_counter()
            result = work()
            seconds = time.perf_counter() - t
        steps.append((name, seconds, *memory))
        return result

    upload_url = f"/projects/{project.code}/import/"
    _, _, page = step("upload page (GET)", lambda: browser.get(upload_url))
    form = dict(FormFields(page).fields)
    form.update(title="bench", format="auto", population="Social Workers")
    status, location, page = step("upload (POST)", lambda: browser.post(upload_url, form, export))
    assert status == 302, f"upload refused ({status}): {page[:2000]}"
    status, _, page = step("preview (GET)", lambda: browser.get(location))
    assert status == 200, f"preview failed ({status})"
    fields = FormFields(page, "preview-form").fields
    confirm_url = location.rstrip("/") + "/confirm/"
    status, location, page = step("confirm (POST)", lambda: browser.post(confirm_url, fields))
    assert status == 302 and "/polls/" in location, f"confirm failed ({status} {location})"
    poll = Poll.objects.get(project=project, title="bench")
    count = step("first query", lambda: Answer.objects.filter(question__poll=poll).count())
    return {"steps": steps, "answers": count}


def part_journey(export: Path, workdir: Path) -> dict:
    from django.core.handlers.wsgi import WSGIHandler

    username, password, project = bench_people()
    browser = Browser(wsgi_sender(WSGIHandler()), workdir)

    class Watch:
        def __init__(self, name):
            self.memory = []

        def __enter__(self):
            reset_peak()
            return self.memory

        def __exit__(self, *exc):
            self.memory.append(peak_rss())

    return journey(browser, export, username, password, project, Watch)


# --- databases ------------------------------------------------------------------------


def database_for(base: str | None, part: str, tmp: Path) -> str:
    if not base:
        return f"sqlite:///{tmp}/{part}.db"
    if base.startswith("sqlite"):
        path = Path(urlsplit(base).path)
        return f"sqlite:///{path.with_name(f'{path.stem}-{part}{path.suffix or ".db"}')}"
    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/') or 'verbatim'}_bench_{part}"
    return urlunsplit(parts._replace(path="/" + name))


def _postgres(url: str, statement: str) -> None:
    import psycopg

    parts = urlsplit(url)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(statement)


def create_database(url: str) -> None:
    if url.startswith("postgres"):
        name = urlsplit(url).path.lstrip("/")
        _postgres(url, f'DROP DATABASE IF EXISTS "{name}"')
        _postgres(url, f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    if url.startswith("postgres"):
        _postgres(url, f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}"')


# --- the report ------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: new SQLite files in a temp dir")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:  # one part, in a process of its own
        setup_django(args.database_url)
        export, workdir = Path(args.export), Path(args.workdir)
        pipeline = args.part == "pipeline"
        result = part_pipeline(export) if pipeline else part_journey(export, workdir)
        print(json.dumps(result))
        return

    tmp = Path(tempfile.mkdtemp(prefix="verbatim-bench-"))
    export = tmp / "bench.csv"
    t = time.perf_counter()
    export.write_bytes(generate(args.rows))
    generated = time.perf_counter() - t
    parts = ["pipeline", "journey"]
    results = {}
    kind = (args.database_url or "sqlite").split(":")[0]
    try:
        for part in parts:
            url = database_for(args.database_url, part, tmp)
            create_database(url)
            command = [sys.executable, __file__, "--part", part, "--database-url", url]
            command += ["--export", str(export), "--workdir", str(tmp)]
            # The journey runs with a server's settings (DEBUG off), as gunicorn does.
            env = {**os.environ, **(SERVER_SETTINGS if part != "pipeline" else {})}
            try:
                done = subprocess.run(command, capture_output=True, text=True, env=env)
            finally:
                drop_database(url)
            if done.returncode:
                sys.exit(f"{part} failed:\n{done.stderr[-3000:]}")
            results[part] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    pipeline = results["pipeline"]
    print(
        f"Import of a {args.rows:,}-row Qualtrics CSV ({pipeline['bytes'] / 1e6:.1f} MB, "
        f"{pipeline['questions']} questions; {pipeline['rows']}) into {kind}; "
        f"generated in {generated:.1f} s"
    )
    print(f"\nPipeline, in process{'':<14}{'seconds':>10}{'peak RSS MB':>14}")
    for name, seconds, peak in pipeline["stages"]:
        print(f"  {name:<32}{seconds:>10.2f}{peak:>14.0f}")
    total = sum(s for _, s, _ in pipeline["stages"])
    peak = max(p for *_, p in pipeline["stages"])
    print(f"  {'total, until queryable':<32}{total:>10.2f}{peak:>14.0f}")
    _journey_table("Journey, in process (WSGI)", results["journey"]["steps"], ["peak RSS MB"])


def _journey_table(title: str, steps: list, columns: list[str]) -> None:
    print(f"\n{title:<34}{'seconds':>10}" + "".join(f"{c:>15}" for c in columns))
    for name, seconds, *memory in steps:
        print(f"  {name:<32}{seconds:>10.2f}" + "".join(f"{m:>15.0f}" for m in memory))
    timed = [s for s in steps if not s[0].startswith("upload page")]
    total = sum(s[1] for s in timed)
    peaks = [max(s[2 + i] for s in timed) for i in range(len(columns))]
    print(
        f"  {'upload+preview+confirm+query':<32}{total:>10.2f}"
        + "".join(f"{m:>15.0f}" for m in peaks)
    )


if __name__ == "__main__":
    main()
