"""What the bench ran on, and how fast that machine was just then.

Machines of the same kind differ by two or three times from one day to the
next (a shared host), so a table of timings says little without a measure of
the machine taken beside it. The pace is two small fixed workloads: a Python
loop (the app servers' own work) and indexed SQLite inserts (the database's).
"""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import time


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def python_loop_ms() -> float:
    """Best of 5: a Python loop adding up a million integers."""

    def once() -> float:
        start = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        return time.perf_counter() - start

    return min(once() for _ in range(5)) * 1000


def sqlite_inserts_ms() -> float:
    """Median of 3: 100,000 rows into an indexed in-memory SQLite table."""

    def once() -> float:
        db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT)")
        db.execute("CREATE INDEX t_a ON t (a, id)")
        rows = ((i * 7919 % 100_003, f"row {i}") for i in range(100_000))
        start = time.perf_counter()
        with db:
            db.executemany("INSERT INTO t (a, b) VALUES (?, ?)", rows)
        seconds = time.perf_counter() - start
        db.close()
        return seconds

    return statistics.median(once() for _ in range(3)) * 1000


def describe() -> str:
    """One line for a table's heading: the machine, and its pace measured now."""
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; pace before the run: Python loop "
        f"{python_loop_ms():.0f} ms, SQLite inserts {sqlite_inserts_ms():.0f} ms"
    )
