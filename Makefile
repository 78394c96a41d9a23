# Two commands do everything on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Re-install whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

# The test stack: real PostgreSQL and Redis on loopback (see .env.example for every variable).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: run test install services system-packages stack stack-stop stack-status migrate messages check clean

$(STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## make run: the embedded default (SQLite, private files on disk, tasks run in-process).
run: install
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --no-input
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL DEBUG=$${DEBUG:-1} $(PY) manage.py load_catalog
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo_reviews
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL DEBUG=$${DEBUG:-1} $(PY) manage.py runserver 127.0.0.1:$(PORT)

## Debian packages the browser tests need; installed only when missing.
system-packages:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then \
		echo "Installing chromium and fonts-wqy-microhei (browser tests)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; \
	fi
	@# docker-compose (v1, Debian) only validates docker-compose.yml in tests/ops; no engine needed.
	@if ! command -v docker-compose >/dev/null 2>&1; then \
		echo "Installing docker-compose (compose file validation)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose; \
	fi

## PostgreSQL and Redis must answer on loopback; start them when they do not.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; pg_isready -h 127.0.0.1 -p 5432
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done; redis-cli -h 127.0.0.1 -p 6379 ping

## make test: the whole suite against PostgreSQL and Redis. Exit status is pytest's
## (pytest exits 5 when no test ran, so an empty run fails).
test: install system-packages services
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

migrate: install
	$(PY) manage.py migrate --no-input

## Regenerate and compile the English catalog (needs gettext's msgfmt).
messages: install
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages -l en --ignore=.venv

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var

## make stack: the production configuration natively (gunicorn, Celery worker and beat, moto's S3
## API) on loopback; logs in var/stack/. See docs/OPERATIONS.md. `make stack-stop` ends it.
stack: install services
	scripts/stack.sh start

stack-stop:
	scripts/stack.sh stop

stack-status:
	scripts/stack.sh status

## make bench: province-scale benchmark (bench/README.md). Generates portal_bench_10k and
## portal_bench_1m (1,000,000 applications, several minutes), loads every page with gunicorn on
## loopback against a bare Django view, writes bench/RESULTS.md. BENCH_ARGS="--reuse" keeps the
## bench databases from an earlier run; BENCH_ARGS="--scales 10k --seconds 5" for a quick look.
.PHONY: bench
bench: install services
	$(PY) -m bench.run $(BENCH_ARGS)
