# The two commands: `make demo` and `make test`. Both set up .venv on first
# use (and again only when pyproject.toml changes), so a second run is fast.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench clean

demo: $(VENV)/.installed-core
	$(PY) examples/kernel_demo.py
	$(PY) examples/supervisor_demo.py

# pytest exits with 5 when it collected no tests: that is a failure here.
test: $(VENV)/.installed-dev
	@sh scripts/ensure-redis.sh
	@status=0; $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests: failing"; fi; \
	exit $$status

bench: $(VENV)/.installed-bench
	$(PY) -m benchmarks $(BENCH_ARGS)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed-core: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[bench]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info
