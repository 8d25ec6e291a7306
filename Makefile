# The two commands: `make demo` and `make test`. Both set up .venv on first
# use (and again only when pyproject.toml changes), so a second run is fast.
# `make demo` serves on every core (one worker process per core); `make demo WORKERS=1` in one process.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench docs clean vendor

demo: $(VENV)/.installed-web
	$(PY) examples/kernel_demo.py
	$(PY) examples/supervisor_demo.py
	$(PY) -m web.demo chat --port $(or $(PORT),4000) $(if $(WORKERS),--workers $(WORKERS))

# pytest exits with 5 when it collected no tests: that is a failure here.
test: $(VENV)/.installed-dev tests/js/node_modules/.installed
	@sh scripts/ensure-redis.sh
	@sh scripts/ensure-chromium.sh
	@status=0; $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests: failing"; fi; \
	exit $$status

bench: $(VENV)/.installed-bench
	$(PY) -m benchmarks $(BENCH_ARGS)

# The documentation site, strict: any warning (a broken reference included)
# fails the build, and -E reads every page again, so a warning cannot hide in
# a page an earlier build cached. tests/test_docs.py runs the same build in `make test`.
docs: $(VENV)/.installed-docs
	$(VENV)/bin/sphinx-build -E -W --keep-going -n -q -b html docs docs/_build/html
	@echo "make docs: open docs/_build/html/index.html"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed-web: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[web,metrics]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[bench]'
	touch $@

$(VENV)/.installed-docs: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[docs]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# The official phoenix JS client, for the black-box tests (tests/js) and, as
# built files, for every LiveView page and the demo: `make vendor` copies them from the locked
# npm packages into web/static/ (package data), reproducible, never hand-edited.
tests/js/node_modules/.installed: tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	touch $@

vendor: tests/js/node_modules/.installed
	cp tests/js/node_modules/phoenix/priv/static/phoenix.min.js web/static/phoenix.min.js
	cp tests/js/node_modules/phoenix_live_view/priv/static/phoenix_live_view.min.js web/static/phoenix_live_view.min.js

clean:
	rm -rf $(VENV) build *.egg-info docs/_build
