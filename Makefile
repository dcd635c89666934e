# 工会福利问答机器人 — the two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench grade validate clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11（未找到 $(PYTHON)）"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

run: $(STAMP)
	$(PY) run_bot.py db upgrade
	$(PY) run_bot.py kb import
	$(PY) run_bot.py run

test: $(STAMP)
	$(PY) -m pytest

validate: $(STAMP)
	$(PY) run_bot.py kb validate --strict

lint: $(STAMP)
	$(PY) -m ruff check .

grade: $(STAMP)
	$(PY) ../shared/eval/grade.py --cmd "$(PY) run_bot.py ask --jsonl"

bench: $(STAMP)
	$(PY) bench/engine_latency.py

clean:
	rm -rf $(VENV) data .pytest_cache
