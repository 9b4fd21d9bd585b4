# The two commands of the README: `make run` and `make test`. Each sets itself up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
CLASS_PORT ?= 8500
CLASS_ADDRESS ?= 127.0.0.1
# Two Streamlit replicas per core: one process is bound by its GIL well before its core is
# (bench/load.py: 100 sessions p95 0.11-0.36 s with 4 replicas on 2 cores, 0.49-2.1 s with 2).
REPLICAS ?= $(shell echo $$(( 2 * $$(nproc 2>/dev/null || echo 1) )))

.PHONY: run class test lint bench venv test-deps chromium nginx clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changes.
# The .pth file puts this checkout on the venv's path, so `python -m optviz` works from anywhere.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -c "import pathlib, site; pathlib.Path(site.getsitepackages()[0], 'optviz-checkout.pth').write_text(str(pathlib.Path.cwd()) + '\n')"
	touch $@

$(VENV)/.test-installed: requirements-test.txt $(VENV)/.runtime-installed
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@

venv: $(VENV)/.runtime-installed

test-deps: $(VENV)/.test-installed

# Browser tests drive Debian's chromium; never `playwright install` (no downloads here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# A class: nginx (sticky sessions, websockets) in front of two Streamlit replicas per core, on
# CLASS_PORT (replicas on CLASS_PORT+1, +2, …). The config comes from deploy/nginx.conf.template.
# CLASS_ADDRESS=0.0.0.0 lets the students' laptops in (the default, 127.0.0.1, only this machine).
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "installing Debian's nginx for make class and the class test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx >/dev/null; }

class: venv nginx
	$(BIN)/python -m optviz warm
	$(BIN)/python deploy/class.py --address $(CLASS_ADDRESS) --port $(CLASS_PORT) --replicas $(REPLICAS)

run: venv
	$(BIN)/python -m optviz warm
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

lint: test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Compile (or load) the kernels once before the suite, so no test's timeout pays for the JIT.
test: test-deps chromium nginx lint
	$(BIN)/python -m optviz warm
	$(BIN)/python -m pytest -q

bench: test-deps
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
