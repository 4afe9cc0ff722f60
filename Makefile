# Two commands for a newcomer: `make run` and `make test`. Every step is idempotent.
SHELL := /bin/bash
PY := .venv/bin/python
MANAGE := $(PY) manage.py
# Tests run on the real PostgreSQL and Redis of this machine; override to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mooc
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
PYTEST_ARGS ?= -n 2
# `make run PORT=8001` serves a second checkout beside the first.
PORT ?= 8000

.PHONY: system-libs run test check setup venv venv-dev lint format engine node-deps assets assets-for-run sandbox-image sandbox-for-run browser bench clean api-schema \
	deploy-image deploy-smoke

# Links in e-mails and the Stripe webhook follow the port.
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: setup sandbox-for-run assets-for-run
	@echo
	@echo "Demo log-ins (also printed above):"
	@echo "  admin    admin@example.com / admin-demo-pass   (http://127.0.0.1:$(PORT)/admin/)"
	@echo "  learner  learner@example.com / learner-demo-pass"
	@PORT=$(PORT) platform/scripts/run-dev.sh

venv: system-libs
	@platform/scripts/bootstrap-venv.sh requirements.txt

venv-dev: system-libs
	@platform/scripts/bootstrap-venv.sh requirements-dev.txt

# WeasyPrint (certificate PDFs) needs Pango and its fonts from Debian.
system-libs:
	@platform/scripts/ensure-system-libs.sh

# Importing the settings creates no folder; SQLite needs its own (var/, or VAR_DIR) before migrate.
setup: venv
	@mkdir -p "$${VAR_DIR:-var}"
	@$(MANAGE) migrate --noinput -v0
	@$(MANAGE) import_pack content/demo
	@$(MANAGE) seed_demo_users
	@$(MANAGE) seed_demo_forums

# Grading needs a Docker engine and the sandbox image: platform/scripts/sandbox-for-run.sh does for
# `make run` what `make test` does (engine as root, image, demo graders published), or says why not.
sandbox-for-run: venv
	@platform/scripts/sandbox-for-run.sh

engine:
	@platform/docker/ensure-engine.sh

sandbox-image: venv
	@$(MANAGE) build_sandbox_image

browser: node-deps
	@platform/scripts/ensure-chromium.sh

# Front-end packages pinned in package-lock.json (axe-core for the browser tests' accessibility checks).
node-deps:
	@platform/scripts/ensure-node-deps.sh

# The notebook editor's script: CodeMirror 6 bundled by esbuild (both pinned in package-lock.json) into
# static/js/editor.bundle.js, a build output (not committed). `make run` builds it when npm can be had
# and otherwise says so and serves the editor as plain text areas.
assets: node-deps
	@platform/scripts/build-assets.sh

assets-for-run:
	@platform/scripts/build-assets.sh --optional

lint: venv-dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache

# The fast lane while working: lint, then the tests that need neither Docker, a browser, nor a server or
# subprocess of their own (marker `slow`), on test databases kept between runs (--reuse-db: only new
# migrations run). `make test` stays the whole suite, on fresh databases, and is what CI runs.
check: venv-dev lint
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) .venv/bin/pytest $(PYTEST_ARGS) -q --reuse-db \
		-m "not e2e and not docker and not slow"

format: venv-dev
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

test: venv-dev setup engine sandbox-image browser assets lint
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) .venv/bin/pytest $(PYTEST_ARGS)

bench: venv-dev
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# The one-machine production stack (docker-compose.yml; platform/deploy/README.md). Not part of
# `make test`: the first image build takes minutes. deploy-smoke builds if needed, starts the stack as
# project moocdeploy on 127.0.0.1:8080, checks it through nginx, and removes it again.
deploy-image: engine assets
	@platform/deploy/build-app-image.sh

deploy-smoke: engine
	@platform/deploy/smoke.sh

clean:
	rm -rf var .venv

# The REST API's OpenAPI schema is committed; tests/restapi/test_schema.py fails when it drifts from the code.
api-schema: venv-dev
	@$(MANAGE) spectacular --file docs/api/openapi.yaml --validate --fail-on-warn
