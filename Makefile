# The two commands of the README: `make run` (the store on :8000) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# `make test` fails below this much line coverage (per cent), in both CI passes.
COVERAGE_MIN ?= 85
DEMO_CATALOG := catalog/demo/demo_catalog.json

.PHONY: run test install migrate demo lint typecheck format browser-deps a11y api-fuzz nl-eval llm-eval dashboards bench bench-listing bench-import bench-voice bench-checkout bench-recommendations bench-ws bench-ws-ab bench-ws-filed bench-ws-instructions bench-celery bench-ws-filed-yardstick

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_catalog $(DEMO_CATALOG)
	$(PY) manage.py load_demo_extras
	$(PY) manage.py load_store_policies
	$(PY) manage.py ensure_demo_admin

run: demo
	@echo ""
	@echo "  Store:  http://127.0.0.1:$(PORT)/        Admin: http://127.0.0.1:$(PORT)/admin/"
	@echo "  Demo staff account: admin@example.com / AdminPass123!"
	@echo "  API docs: http://127.0.0.1:$(PORT)/api/docs/"
	@echo ""
	$(VENV)/bin/daphne -b 0.0.0.0 -p $(PORT) commerce.asgi:application

# Chromium for the browser tests, from Debian's packages (Playwright's own download cannot work here).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed; browser tests will be skipped"; \
	fi

test: install browser-deps
	$(PY) -m pytest --cov --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_MIN) $(PYTEST_ARGS)

# axe-core's scan of every shopper page and the keyboard-only chat (moderate findings are printed).
a11y: install browser-deps
	$(PY) -m pytest -m browser -s -p no:cacheprovider commerce/tests/test_accessibility.py $(PYTEST_ARGS)

# schemathesis against a started site (scratch database, seeded catalog, a signed-in shopper), every
# check on; fails on any finding and prints the case count (docs/api.md). API_FUZZ_MAX_EXAMPLES,
# API_FUZZ_SEED and API_FUZZ_PORT tune it; PostgreSQL + Redis when DATABASE_URL/REDIS_URL are set.
api-fuzz: install
	$(PY) -m commerce.testing.api_fuzz

# CI's gates before the tests: style, formatting and bandit (no finding of medium or high severity).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -c pyproject.toml -r . -ll -q

# mypy with django-stubs and the DRF stubs (config in pyproject.toml): strict on every app's services
# and selectors and on the assistant package. Embedded settings: no database or Redis is needed.
typecheck: install
	env -u DATABASE_URL -u REDIS_URL $(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Assistant understanding: accuracy per intent, slot accuracy, p50/p95 time per message.
nl-eval: install
	$(PY) -m conversations.tests.nl_eval
	$(PY) -m pytest conversations/tests/nl_eval/test_scenarios.py -s -p no:cacheprovider

# The scenarios with a real model planning first, beside the rules (needs a key or OPENAI_BASE_URL).
llm-eval: install
	@if [ -z "$$OPENAI_API_KEY$$OPENAI_BASE_URL$$ANTHROPIC_API_KEY$$ANTHROPIC_BASE_URL" ]; then \
		echo "llm-eval: no model named (set OPENAI_API_KEY, OPENAI_BASE_URL, ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL); nothing to evaluate."; \
	else \
		LLM_EVAL=1 $(PY) -m pytest conversations/tests/nl_eval/test_llm_eval.py -s -q -p no:cacheprovider --no-cov; \
	fi

# Benchmarks print their figures; the PostgreSQL ones need DATABASE_URL and use databases of their own.
bench-listing: install
	$(PY) benchmarks/listing.py

# load_catalog on a 20,000-product JSON-lines file into PostgreSQL: products/s, first import and again.
bench-import: install
	$(PY) benchmarks/import_catalog.py

bench-checkout: install
	$(PY) benchmarks/checkout.py

# 50 concurrent chat clients on Daphne + Redis channel layer + PostgreSQL: send -> response p50/p95,
# a warm-up round not counted, then three rounds of new guests between ping measurements.
bench-ws: install
	$(PY) benchmarks/ws_chat.py

# The same, alternated between a commit and the working tree, in pairs: each figure's paired change.
# make bench-ws-ab BASE=<commit> [PAIRS=4]; with ROUNDS=24 both builds are served side by side and the
# load alternates between them a round at a time (benchmarks/ab_chat.py says why that is steadier).
PAIRS ?= 4
ROUNDS ?=
bench-ws-ab: install
	@test -n "$(BASE)" || (echo "usage: make bench-ws-ab BASE=<commit> [PAIRS=4 | ROUNDS=24]" >&2; exit 2)
	$(PY) benchmarks/ab_chat.py --base "$(BASE)" --pairs "$(PAIRS)" $(if $(ROUNDS),--rounds "$(ROUNDS)")

# Issue 14's chat yardstick as it stood when the issue was filed: the code of that day (0961151, the
# parent of the first commit for it) against the working tree, the issue's six turns, both measured
# by the working tree's benchmark; the last line divides today's messages/s by that day's ping rate.
FILED ?= 0961151
bench-ws-filed: install
	$(PY) benchmarks/ab_chat.py --base "$(FILED)" --pairs "$(PAIRS)" --messages 6

# A chat message's work in instructions (valgrind's callgrind), a commit against the working tree: steady
# to about 0.1% whatever the machine does. make bench-ws-instructions BASE=<commit> [VISITS=10 RUNS=2]
bench-ws-instructions: install
	@test -n "$(BASE)" || (echo "usage: make bench-ws-instructions BASE=<commit> [VISITS=10 RUNS=2]" >&2; exit 2)
	$(PY) benchmarks/chat_instructions.py --base "$(BASE)" --visits "$(or $(VISITS),10)" --runs "$(or $(RUNS),2)"

# One Celery worker (prefork, 2 processes as docker-compose runs it) on PostgreSQL and the Redis broker:
# jobs/s for a no-op and for memory's signals, and their ratio to the no-op.
bench-celery: install
	$(PY) benchmarks/celery_jobs.py

bench-voice: install
	$(PY) benchmarks/voice_scan.py

bench-recommendations: install
	$(PY) benchmarks/recommendations.py

# The chat's ratio is printed against both yardsticks: today's pings (bench-ws) and the pings of the
# code issue 14 was filed at (bench-ws-filed, FILED_PAIRS alternated pairs: about 2 minutes a pair).
FILED_PAIRS ?= 3
bench: nl-eval bench-listing bench-import bench-checkout bench-voice bench-recommendations bench-celery bench-ws bench-ws-filed-yardstick

# A prerequisite of bench (not its recipe), so that `make -k bench` still runs it after a failed one.
bench-ws-filed-yardstick: install
	$(MAKE) --no-print-directory bench-ws-filed PAIRS=$(FILED_PAIRS)

# The Grafana dashboards' JSON (deploy/grafana/dashboards/), rebuilt from deploy/grafana/build_dashboards.py.
dashboards: install
	$(PY) deploy/grafana/build_dashboards.py
