# cnnteach: two commands get you going (see README.md).
#   make lab    create .venv, install the course, open JupyterLab on notebooks/ (localhost, token on)
#   make test   create .venv, install the course, run ruff, unit tests, doctests and strict nbval on every lesson
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PY      = $(BIN)/python
STAMP   = $(VENV)/.cnnteach-installed
NBVAL   = --nbval --nbval-current-env --nbval-sanitize-with nbval-sanitize.cfg --nbval-cell-timeout=600
NB     ?= notebooks/[0-9][0-9]_*.ipynb
STUDENT ?= student

.PHONY: lab test lint unit lessons ui outputs student doctor bench clean-venv

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "cnnteach needs Python 3.10 or newer; install it, then run make again (or use the conda route in README.md)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

lab: $(STAMP)  ## open JupyterLab on the lessons, on localhost only, with token authentication on
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks

test: lint unit lessons ui  ## everything CI runs, in order of speed

lint: $(STAMP)  ## ruff: lint and format check (line length 100, config in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

VENDOR_STAMP = build/vendor/.fetched
$(VENDOR_STAMP):  ## reveal.js and MathJax for the offline slides and site, fetched once from the npm registry
	$(PYTHON) tools/publish.py vendor
	touch $(VENDOR_STAMP)

unit: $(STAMP) $(VENDOR_STAMP)  ## unit tests and doctests
	$(PY) -m pytest -m "not ui" --doctest-modules cnnteach tests

lessons: $(STAMP)  ## strict nbval over every lesson (stored outputs must match a fresh run)
	CNNTEACH_MODELS=$${CNNTEACH_MODELS:-$(CURDIR)/build/models} $(PY) -m pytest $(NBVAL) $(NB)

ui: $(STAMP)  ## real-browser tests of JupyterLab (needs Debian's chromium)
	$(PY) -m pytest -m ui tests/ui

outputs: $(STAMP)  ## re-execute lessons in a fresh kernel and store their outputs (NB=notebooks/04_*.ipynb for one)
	$(PY) tools/refresh_outputs.py $(NB)

student: $(STAMP)  ## build the student edition into ./student (STUDENT=dir to change)
	$(BIN)/cnnteach student $(STUDENT)

doctor: $(STAMP)  ## is this machine ready for the course?
	$(BIN)/cnnteach doctor

bench: $(STAMP)  ## speed benchmarks: ratios measured side by side
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)

.PHONY: slides site
slides: $(STAMP) $(VENDOR_STAMP)  ## offline reveal.js decks of every lesson into build/slides (reveal.js fetched once from npm)
	$(PY) tools/publish.py slides

site: $(STAMP) $(VENDOR_STAMP)  ## offline static site of the executed lessons into build/site (open build/site/index.html)
	$(PY) tools/publish.py site
