# 工会福利问答机器人 — the two commands a fresh machine needs: `make run` and `make test`.
# Python 3.11–3.13: the newest one found (python3.13, python3.12, python3.11, then python3) unless PYTHON=...
# is given. VENV=... keeps a second interpreter's environment apart (.ci/run uses .venv-3.11 and .venv-3.13).
SUPPORTED := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))
PYTHON ?= $(firstword $(foreach p,python3.13 python3.12 python3.11 python3,\
	$(shell $(p) -c '$(SUPPORTED)' >/dev/null 2>&1 && echo $(p))))
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench grade validate clean

$(PY):
	@test -n "$(PYTHON)" || { echo "需要 Python 3.11–3.13（没有找到 python3.13、python3.12、python3.11）"; exit 1; }
	@$(PYTHON) -c '$(SUPPORTED)' 2>/dev/null || { echo "需要 Python 3.11–3.13（$(PYTHON) 不是）"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

# The same as `python run_bot.py` with no arguments: migrate, import, then the bot (or the console).
run: $(STAMP)
	$(PY) run_bot.py

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
	rm -rf .venv .venv-3.11 .venv-3.12 .venv-3.13 data .pytest_cache
