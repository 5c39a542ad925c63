"""The server side of the bench: a database, gunicorn as the README runs it, its memory.

Memory is PSS (proportional set size) summed over gunicorn's master and
workers: pages the workers share are counted once, split between them, which
is what the processes cost the machine together.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
WORKERS = 3  # the README's gunicorn command: 3 workers, --preload


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def sqlite_database(keep: bool = False):
    tmp = Path(tempfile.mkdtemp(prefix="verbatim-bench-"))
    try:
        yield f"sqlite:///{tmp}/bench.sqlite3"
    finally:
        if keep:
            print(f"kept {tmp}/bench.sqlite3")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def postgres_database(keep: bool = False):
    """A throwaway PostgreSQL cluster with its durable defaults (fsync on), over TCP."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not bins:
        raise SystemExit("PostgreSQL is missing: `make test` installs Debian's postgresql")
    bindir, tmp = bins[-1], Path(tempfile.mkdtemp(prefix="verbatim-bench-pg-"))
    as_owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    if as_owner:
        shutil.chown(tmp, "postgres")
    port = free_port()
    run = lambda *args: subprocess.run([*as_owner, *args], check=True, capture_output=True)  # noqa: E731
    run(f"{bindir}/initdb", "-D", f"{tmp}/data", "-A", "trust", "-U", "postgres", "-E", "UTF8")
    options = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1"
    run(f"{bindir}/pg_ctl", "-D", f"{tmp}/data", "-l", f"{tmp}/log", "-w", "-o", options, "start")
    try:
        run(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "verbatim")
        yield f"postgres://postgres@127.0.0.1:{port}/verbatim"
    finally:
        if keep:
            print(f"kept postgres://postgres@127.0.0.1:{port}/verbatim (pg_ctl -D {tmp}/data stop)")
        else:
            stop = [*as_owner, f"{bindir}/pg_ctl", "-D", f"{tmp}/data", "-m", "fast", "stop"]
            subprocess.run(stop, capture_output=True)
            shutil.rmtree(tmp, ignore_errors=True)


def environment(database_url: str) -> dict[str, str]:
    """Production settings, as README's "Running Verbatim for a team", minus TLS."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "VERBATIM_CACHE_TABLE": "verbatim_cache",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on 127.0.0.1; a proxy does TLS in production
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def manage(env: dict, *args: str) -> None:
    subprocess.run([VENV / "python", ROOT / "manage.py", *args], env=env, check=True, cwd=ROOT)


@contextmanager
def gunicorn(env: dict):
    port = free_port()
    command = [
        VENV / "gunicorn",
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--timeout",
        "120",
        "--preload",
    ]
    log = open(tempfile.mktemp(prefix="verbatim-gunicorn-", suffix=".log"), "w+")  # noqa: SIM115
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
    try:
        _wait_for(port, process, log)
        yield Server(port, process.pid)
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def _wait_for(port: int, process, log) -> None:
    for _ in range(300):
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"gunicorn stopped:\n{log.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            if len(_children(process.pid)) >= WORKERS:
                time.sleep(1)  # let the workers finish importing Django
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split()
        found += [int(c) for c in children]
    return found


def pss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass  # a worker restarting
    return total / 1024


class Server:
    def __init__(self, port: int, pid: int):
        self.port, self.pid = port, pid

    def processes(self) -> list[int]:
        return [self.pid, *_children(self.pid)]

    def memory_mb(self) -> float:
        return pss_mb(self.processes())

    def renew_workers(self) -> None:
        """New workers, with new database connections: what CONN_MAX_AGE does every ten
        minutes. (SQLite reads its planner statistics when a connection opens.)"""
        before = set(_children(self.pid))
        os.kill(self.pid, signal.SIGHUP)
        for _ in range(600):
            now = set(_children(self.pid))
            if len(now) >= WORKERS and not now & before:
                time.sleep(1)  # let them finish starting
                return
            time.sleep(0.1)
        raise SystemExit("gunicorn did not renew its workers")

    @contextmanager
    def peak_memory(self):
        """Samples the server's PSS every 20 ms while the block runs; yields a dict with "peak"."""
        found = {"peak": self.memory_mb()}
        done = threading.Event()

        def sample():
            while not done.is_set():
                found["peak"] = max(found["peak"], self.memory_mb())
                done.wait(0.02)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield found
        finally:
            done.set()
            thread.join()
