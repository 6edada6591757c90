# The two front-door commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test install lint fetch schemas clean-data bench bench-planning

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

fetch: install  ## Kafka's jars from Maven Central, once (cached under .devstack/kafka-libs)
	$(PY) -m shared.devstack fetch

run: fetch  ## the whole platform on a local Kafka and PostgreSQL, with the order simulator
	$(VENV)/bin/ovop run

test: fetch  ## the whole suite on a real Kafka and PostgreSQL (started here unless given)
	$(PY) -m shared.devstack exec --fresh -- $(PY) -m pytest $(PYTEST_ARGS)

lint: install  ## ruff everywhere, mypy on shared/ and the domains, the import contracts
	$(VENV)/bin/ruff check services shared tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache --no-logo

schemas: install  ## re-export the events' JSON Schemas after a compatible change
	$(PY) -m shared.contracts.schemas

clean-data:  ## forget the local Kafka and PostgreSQL data of `make run`
	rm -rf .devstack/run

bench: fetch  ## benchmarks on a fresh local Kafka and PostgreSQL: figures are ratios to a same-run baseline
	$(PY) -m shared.devstack exec --fresh --root .devstack/bench -- sh -c \
	  '$(PY) bench/journey_latency.py && $(PY) bench/outbox_throughput.py && \
	   $(PY) bench/relay_wakeup.py && $(PY) bench/webhooks.py && $(PY) bench/reservations.py && \
	   $(PY) bench/instant_promise.py && $(PY) bench/notifications_throughput.py && \
	   $(PY) bench/notifications_segments.py'
	rm -rf .devstack/bench

bench-planning: install  ## the routing solver against best-known costs, and a generated rural day (about 6 min)
	$(PY) bench/solver_gap.py --seconds 10
	$(PY) bench/rural_day.py --seconds 9
