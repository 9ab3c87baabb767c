# Two commands for a newcomer: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVERS := deploy/local/servers

.PHONY: demo test bench install browser-deps go-tools servers-start servers-stop schemas vendor clean

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c requirements.lock -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Embedded profile, no servers: demo data for 镇江 and 鞍山, the site built, the API on :8000.
demo: install
	ELDERCARE_DATA_DIR=var/demo $(BIN)/eldercare demo --serve --host 127.0.0.1 --port 8000

# Everything: unit, contract, integration (real Kafka and Elasticsearch) and end-to-end tests
# (the site in Debian's headless Chromium, with axe-core from npm). The servers are fetched from
# Maven Central and started on 127.0.0.1, and stopped afterwards.
test: install browser-deps go-tools
	$(SERVERS) fetch all
	$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; $(SERVERS) stop all; exit $$status

# Every benchmark that has a peer, and one table of figures, peers and ratios (not part of make test).
bench: install
	$(BIN)/python bench/summary.py

# Debian's Chromium and CJK fonts (installed as root when missing), and axe-core from npm.
browser-deps:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	@fc-list 2>/dev/null | grep -qi "CJK" || (apt-get update -qq && apt-get install -y -qq fonts-noto-cjk)
	npm ci --prefix tests/e2e --silent --no-audit --no-fund

# Go programs the tests hold our formats and deployment files to — Go's sumdb/note (checkpoints),
# helm and kubeconform (the chart), Prometheus's rule parser (alerts) — built from the Go module
# proxy at the versions tests/tools/go.sum and tests/tools/promrules/go.sum pin.
go-tools:
	cd tests/tools && GOBIN=$(abspath var/tools) go install tool ./...
	cd tests/tools/promrules && GOBIN=$(abspath var/tools) go install .
	cd bench/loadgen && go build -o $(abspath var/tools/loadgen) .

servers-start:
	$(SERVERS) start all

servers-stop:
	$(SERVERS) stop all

schemas: install
	$(BIN)/eldercare schemas

# Refresh the console's vendored browser assets from npm at their pinned versions (committed; only
# to change a version).
vendor:
	$(PYTHON) deploy/vendor_assets.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
