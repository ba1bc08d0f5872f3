# The two commands of the README. Everything else is an implementation detail of these.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export DVC_NO_ANALYTICS := 1

.PHONY: install browser postgres dvc-plots run test lint audit clean

install: $(STAMP) browser postgres dvc-plots

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PY) >/dev/null || { echo "need $(PY) on PATH"; exit 2; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# `dvc plots show` offline: Vega inline in an HTML template (.dvc/plots/offline.html) named in .dvc/config.local,
# both git-ignored (tasks/dvc_plots.py). Runs on every install: it rewrites the file only when it is missing or from
# another vl-convert version, and otherwise changes nothing in a fraction of a second.
dvc-plots: $(STAMP)
	@$(BIN)/python -m tasks.dvc_plots

# Debian packages some tests need, where they are missing: apt-get as root, else sudo if it needs no password.
# Never fails the install: without them those tests skip and say why. $(call debian,PACKAGES,TESTS)
define debian
if [ "$$(id -u)" = 0 ]; then sudo=""; \
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
else echo "$(2) will skip: no root or passwordless sudo to install $(1) (apt-get install $(1))"; exit 0; fi; \
command -v apt-get >/dev/null || { echo "$(2) will skip: $(1) missing and no apt-get to install it"; exit 0; }; \
apt="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get -q -y"; \
echo "installing Debian's $(1) for $(2)"; \
$$apt install --no-install-recommends $(1) >/dev/null 2>&1 || \
{ $$apt update >/dev/null 2>&1 && $$apt install --no-install-recommends $(1) >/dev/null 2>&1; } || \
echo "$(2) will skip: apt-get install $(1) failed"
endef

# chromium and its driver, for the browser tests (tests/browser.py)
CHROMIUM_PKGS := chromium chromium-driver fonts-liberation
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
browser:
	@[ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ] && exit 0; $(call debian,$(CHROMIUM_PKGS),the browser tests)

# PostgreSQL's server, for the test of MLflow and Prefect on it (tests/postgres.py runs a throwaway cluster of its
# own from /usr/lib/postgresql/N/bin; Debian's package may also create and start its own `main` cluster, which
# nothing here uses)
POSTGRES_PKGS := postgresql
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && exit 0; command -v initdb >/dev/null && exit 0; \
	$(call debian,$(POSTGRES_PKGS),the PostgreSQL tests)

run: install
	$(BIN)/glassbox run

test: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -n 2 --dist loadscope

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Every pin in constraints.txt against PyPI's vulnerability data (OSV advisories, via PyPI's JSON API). The one
# command that needs the network; not part of `make test`. --no-deps: the file pins every package, nothing to
# resolve. --strict: a pin that could not be looked up fails the audit instead of being skipped in silence.
AUDIT_STAMP := $(VENV)/.audit-installed
$(AUDIT_STAMP): $(STAMP)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,audit]'
	touch $(AUDIT_STAMP)

audit: $(AUDIT_STAMP)
	$(BIN)/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r constraints.txt

clean:
	rm -rf reports mlruns mlartifacts mlflow.db .prefect gx/uncommitted inference_store dvc_plots
