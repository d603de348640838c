# wastelink: `make demo` runs the platform on its embedded default; `make test` sets up and runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
VENDOR := wastelink/web/static/vendor
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo test test-postgres install vendor browser lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Front-end libraries come from the npm registry at setup; nothing third-party is committed.
$(VENDOR)/.stamp: package.json
	npm install --no-save --no-fund --no-audit --loglevel=error
	mkdir -p $(VENDOR)/htmx $(VENDOR)/leaflet
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	mkdir -p $(VENDOR)/sarabun
	cp node_modules/@expo-google-fonts/sarabun/400Regular/Sarabun_400Regular.ttf node_modules/@expo-google-fonts/sarabun/700Bold/Sarabun_700Bold.ttf $(VENDOR)/sarabun/
	touch $@

vendor: $(VENDOR)/.stamp

# Browser tests drive the distribution's Chromium; install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Chromium and Thai fonts (Debian packages)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-thai-tlwg >/dev/null; }

demo: install vendor
	@$(BIN)/wastelink demo load
	@echo "--- sign in at http://$(HOST):$(PORT)/ with one of the accounts above (OsmAnd devices: port 5055) ---"
	$(BIN)/wastelink serve --host $(HOST) --port $(PORT) --no-setup --demo-fleet

test: install vendor browser
	$(BIN)/wastelink compile_catalogues
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check wastelink bench
	$(BIN)/ruff format --check wastelink bench
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules $(VENDOR) wastelink.sqlite3*
