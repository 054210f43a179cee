# nianbao — two commands do everything on a fresh machine:
#   make report   build the bundled school's latest report (prints where the HTML is)
#   make test     run the test suite (everything; what CI runs)
#   make test-fast  the inner loop: every test that starts no kernel, browser or subprocess build
# Both create .venv and install the project into it when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test test-fast lint venv clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)

report: $(STAMP)
	$(BIN)/nianbao build

test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadgroup

test-fast: $(STAMP)
	NIANBAO_HYPOTHESIS=fast $(BIN)/python -m pytest -m "not slow" -n auto

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench

clean:
	rm -rf reports data/processed/*/ .nianbao-cache
