# Two commands on a fresh machine: `make demo` (the example goal, end to end, offline) and
# `make test` (the whole suite). Both build the local virtual environment first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.cfg example_project/pyproject.toml | sha1sum | cut -c1-12)

# Nothing reaches the internet at run time.
export LITELLM_LOCAL_MODEL_COST_MAP := True
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DAGSTER_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1

WAREHOUSE := example_project/data/warehouse.duckdb
# The demo and the UI share one Dagster instance, so the UI shows the demo's runs.
HOME_DIR := $(CURDIR)/example_project/.dagster_home
SCALE ?= small

.PHONY: install browser demo test test-bounds lint typecheck ui warehouse clean docs \
	bench-features bench-healing bench-security bench-corpus bench-llm

install: $(STAMP)

$(STAMP): setup.cfg example_project/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: a plain `torch` requirement would pull several GB of CUDA wheels.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]" -e example_project
	rm -f $(VENV)/.installed-*
	touch $@

# The UI test drives Debian's headless Chromium (playwright never downloads a browser here).
browser:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

warehouse: install
	$(BIN)/python -m example_churn.warehouse --path $(WAREHOUSE) --scale $(SCALE) --if-missing

demo: warehouse $(HOME_DIR)/dagster.yaml
	DAGSTER_HOME=$(HOME_DIR) $(BIN)/dagster-agentic run example_project/example_churn/defs/churn_goal/defs.yaml

$(HOME_DIR)/dagster.yaml:
	mkdir -p $(HOME_DIR)
	printf 'telemetry:\n  enabled: false\n' > $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# Two workers, one test file each at a time: a file's fixtures (a planned goal, a healthy
# snapshot) are built once, in the worker that runs it.
test: lint typecheck browser
	$(BIN)/pytest -n 2 --dist loadfile

# The lowest and the highest version of every range in setup.cfg, each in a fresh venv
# (ci/.venv-lower, ci/.venv-upper), against a smoke subset of the tests (ci/bounds.py).
# Both venvs are built at once (mostly downloads and unpacking), then tested one after the other.
test-bounds:
	$(PYTHON) ci/bounds.py lower --install-only & lower=$$!; \
	$(PYTHON) ci/bounds.py upper --install-only & upper=$$!; \
	wait $$lower; lower_rc=$$?; wait $$upper; upper_rc=$$?; \
	test $$lower_rc -eq 0 && test $$upper_rc -eq 0
	$(PYTHON) ci/bounds.py lower --test-only
	$(PYTHON) ci/bounds.py upper --test-only

ui: warehouse $(HOME_DIR)/dagster.yaml
	cd example_project && DAGSTER_HOME=$(HOME_DIR) ../$(BIN)/dagster dev

clean:
	rm -rf $(VENV) example_project/data example_project/.dagster_home ci/.venv-lower ci/.venv-upper site

# The documentation site, built offline into site/ (docs/, mkdocs.yml); a broken link, a page
# missing from the navigation or a docstring mkdocstrings cannot read fails the build.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# The agent's in-warehouse features against Featuretools DFS (bench/, docs/benchmarks.md).
# Featuretools needs pandas<3: it gets its own venv, rebuilt when its requirements change.
FT_VENV := bench/.venv-featuretools
FT_REQUIREMENTS := bench/requirements-featuretools.txt

bench-features: install
	@stamp=$(FT_VENV)/.installed-$$(sha1sum $(FT_REQUIREMENTS) | cut -c1-12); \
	if [ ! -f $$stamp ]; then \
		echo "creating $(FT_VENV) from $(FT_REQUIREMENTS)"; \
		test -x $(FT_VENV)/bin/python || $(PYTHON) -m venv $(FT_VENV); \
		$(FT_VENV)/bin/pip install --quiet -r $(FT_REQUIREMENTS) && \
		rm -f $(FT_VENV)/.installed-* && touch $$stamp; \
	fi
	$(BIN)/python -m bench.features

# The self-healing loop against every fault type of the example warehouse, 3 seeds each
# (bench/healing.py, docs/benchmarks.md).
bench-healing: install
	$(BIN)/python -m bench.healing --scale small

# The guardrails against the SQL attack corpus, the cost guard and the Jinja injection channels
# (bench/security.py, docs/benchmarks.md, docs/security.md).
bench-security: install
	$(BIN)/python -m bench.security

# The model kernel on the example goal against a loopback model answering as the policy
# decided: prompt sizes, tokens and dollars per plan, and planning time against the policy kernel.
bench-llm: install
	$(BIN)/python -m bench.llm_kernel

# The product on a corpus of public data sets held as companies hold them, every goal with no
# overrides, against LightGBM, FLAML and AutoGluon-Tabular on the same rows (bench/corpus/,
# docs/benchmarks.md). The data's packages and the peers each get their own venv (AutoGluon
# needs pandas<3), rebuilt when their requirements change; torch goes first, pinned, as above.
CORPUS_VENV := bench/data/venv-corpus
CORPUS_REQUIREMENTS := bench/requirements-corpus.txt
PEERS_VENV := bench/data/venv-peers
PEERS_REQUIREMENTS := bench/requirements-peers.txt
CORPUS_DATA := bench/data/corpus

bench-corpus: install
	@stamp=$(CORPUS_VENV)/.installed-$$(sha1sum $(CORPUS_REQUIREMENTS) | cut -c1-12); \
	if [ ! -f $$stamp ]; then \
		echo "creating $(CORPUS_VENV) from $(CORPUS_REQUIREMENTS)"; \
		test -x $(CORPUS_VENV)/bin/python || $(PYTHON) -m venv $(CORPUS_VENV); \
		$(CORPUS_VENV)/bin/pip install --quiet -r $(CORPUS_REQUIREMENTS) && \
		rm -f $(CORPUS_VENV)/.installed-* && touch $$stamp; \
	fi
	@stamp=$(PEERS_VENV)/.installed-$$(sha1sum $(PEERS_REQUIREMENTS) | cut -c1-12); \
	if [ ! -f $$stamp ]; then \
		echo "creating $(PEERS_VENV) from $(PEERS_REQUIREMENTS)"; \
		test -x $(PEERS_VENV)/bin/python || $(PYTHON) -m venv $(PEERS_VENV); \
		$(PEERS_VENV)/bin/pip install --quiet torch==2.13.0 && \
		$(PEERS_VENV)/bin/pip install --quiet -r $(PEERS_REQUIREMENTS) && \
		rm -f $(PEERS_VENV)/.installed-* && touch $$stamp; \
	fi
	$(CORPUS_VENV)/bin/python -m bench.corpus.load --out $(CORPUS_DATA)
	$(BIN)/python -m bench.corpus.run --data $(CORPUS_DATA)
