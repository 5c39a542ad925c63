# Two commands on a fresh machine: `make run` and `make test`.
# Both install first; `install` is idempotent (it re-runs only when pyproject.toml changes).

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1:8000

# Django 6 needs Python 3.12 or newer; this machine's default python3 may be older,
# so look for one (pyenv installs included), 3.13 first, rather than trusting `python3`.
find_python = for p in python3.13 $(HOME)/.pyenv/versions/3.13*/bin/python3 \
	/root/.pyenv/versions/3.13*/bin/python3 python3.12 $(HOME)/.pyenv/versions/3.12*/bin/python3 \
	/root/.pyenv/versions/3.12*/bin/python3 python3; do \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done

.PHONY: install run test browser-deps postgres-deps lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@py=$$($(find_python)); [ -n "$$py" ] || { echo "Python 3.12+ not found" >&2; exit 1; }; \
	  [ -x $(PY) ] || $$py -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet $$($(PY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print(" ".join(p["dependencies"] + p["optional-dependencies"]["test"]))')
	touch $(STAMP)

run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py demo
	$(PY) manage.py runserver $(HOST)

# Debian's Chromium for the browser tests; Playwright never downloads a browser here.
browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

# Debian's PostgreSQL server: the suite runs again against a throwaway cluster.
postgres-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql; }

# The whole suite twice: on SQLite, then on a PostgreSQL server started for it.
test: install browser-deps postgres-deps
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest
	scripts/with-postgres $(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The national-consultation bench (README "Performance"): SQLite, then PostgreSQL.
bench: install postgres-deps
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) db.sqlite3*
