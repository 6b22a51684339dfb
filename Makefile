# The two commands: `make run` and `make test`. Everything else is a helper of theirs.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Tests run with production-like settings but over plain HTTP, with static files served unhashed,
# and with a data directory (SQLite, embedded Redis) of their own, apart from `make run`.
TEST_ENV := DEBUG=0 SECURE_HTTPS=0 STATIC_MANIFEST=0 SECRET_KEY=test-only-secret-key-not-for-production \
	DATA_DIR=$(CURDIR)/.data/test

.PHONY: run test bench lint format venv seed prices clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	DEBUG=$${DEBUG:-1} $(PY) manage.py run_stack

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	@set -e; for f in bench/*.py; do \
		[ -e "$$f" ] && case "$$(basename $$f)" in _*|__init__.py) false;; esac || continue; \
		echo "== $$f"; $(TEST_ENV) $(PY) $$f; \
	done

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	DEBUG=1 $(PY) -m mypy saasadmin tenants deployments insights emulator

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

seed: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo

# Refresh catalogue/sagemaker_prices.json from the AWS Pricing API (needs real AWS credentials).
prices: $(STAMP)
	AWS_MODE=aws DEBUG=1 $(PY) manage.py refresh_prices

clean:
	rm -rf .data staticfiles
