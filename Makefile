# The course's commands. `make book` and `make test` are the two in the README;
# each sets up everything it needs on a fresh machine first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_PARALLEL := -n 2 --dist loadscope --no-loadscope-reorder

.PHONY: book lab test test-fast execute lint constraints chromium check-kernels clean bench

## book: set up, build the website and open it in a browser
book: $(STAMP)
	$(BIN)/jupyter-book build . -W --keep-going
	@$(BIN)/python -m webbrowser -t "file://$(CURDIR)/_build/html/index.html" \
		>/dev/null 2>&1 || true
	@echo "The course: file://$(CURDIR)/_build/html/index.html"
	@echo "Run the chapters yourself: make lab"

## lab: open the chapters in JupyterLab (as root too: it then needs --allow-root)
lab: $(STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) book/

## test: set up, then run every test (unit, notebooks, book build, browser, grader)
test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

## test-fast: the unit tests only
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not build and not browser"

## bench: run the benchmarks, write bench/results.md, results.json, seeds.png;
## BENCH_FLAGS="--test-command --book" also times `make test` and the book build
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_FLAGS)

## execute: re-run every chapter and instructor notebook in place (for authors);
## the student versions in book/exercises come from `course-grade release`
execute: $(STAMP)
	$(BIN)/python -m course_utils.notebooks execute $(wildcard book/*.ipynb) exercises/source

## constraints: re-pin the whole environment after changing requirements.txt
# Frozen from a scratch pip environment, not from .venv: the pip route installs
# what install-excludes.txt leaves out of .venv, and needs it pinned too.
constraints:
	scratch=$$(mktemp -d) && $(PYTHON) -m venv "$$scratch" \
	  && "$$scratch/bin/python" -m pip install --quiet --no-compile -r requirements.txt \
	  && ( sed -n '1,2p' constraints.txt; "$$scratch/bin/python" -m pip freeze \
	       --exclude-editable | grep -v '^-e' ) > constraints.txt.new \
	  && mv constraints.txt.new constraints.txt; status=$$?; rm -rf "$$scratch"; exit $$status

# uv installs (pinned in requirements.txt, bootstrapped with the venv's own pip;
# it installs the pinned pip too): pip's packages (checked with pip freeze) but
# those install-excludes.txt names, and why, in 21 s instead of pip's 55 s
# here, byte-compiling included; if uv cannot be installed or run, pip
# installs everything.
# Everything is byte-compiled now, course_utils too: where
# PYTHONDONTWRITEBYTECODE is set (as on this machine) Python never caches what
# it compiles, and every kernel, test worker and grading sandbox compiled its
# imports again (1.5-2 s each; the test command took 25 s longer).
$(STAMP): requirements.txt constraints.txt install-excludes.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	{ $(BIN)/python -m pip install --quiet "$$(grep '^uv==' requirements.txt)" \
	  && $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python \
	       -r requirements.txt --excludes install-excludes.txt; } \
	  || { echo "uv could not install or run; installing with pip instead (slower)"; \
	       $(BIN)/python -m pip install --quiet -r requirements.txt; }
	$(BIN)/python -m compileall -q course_utils
	touch $(STAMP)

## chromium: the browser tests drive a system Chromium (chromium, chromium-browser
## or google-chrome); on Debian/Ubuntu as root it is installed with apt
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	  || command -v google-chrome >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; \
	  else \
	    echo "The browser tests need Chromium: sudo apt-get install chromium"; exit 1; \
	  fi; }

## check-kernels: re-run every chapter under each OpenBLAS kernel and numpy SIMD
## level this CPU runs, and report any cell whose output differs (for authors)
check-kernels: $(STAMP)
	$(BIN)/python bench/check_kernels.py

clean:
	rm -rf _build tests/artifacts
