# Promptly — the commands a person needs. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: help run test outbox redrive package clean

help:  ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: $(STAMP)  ## run the desk locally on an embedded AWS: http://127.0.0.1:8000
	$(BIN)/python -m tools.local --port $(PORT)

test: $(STAMP)  ## run the test suite (what CI runs)
	$(BIN)/python -m pytest

redrive: $(STAMP)  ## move parked outbox jobs from the dead-letter queue back (STAGE=dev|prod, AWS credentials)
	PROMPTLY_STAGE=$(STAGE) $(BIN)/python -m tools.redrive

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

clean:  ## remove the virtual environment and build output
	rm -rf $(VENV) build local .pytest_cache .hypothesis
