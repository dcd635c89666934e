"""The CLI contract the evaluation drives: `run_bot.py ask` with --json and --jsonl."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture
def run(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    env.pop("TELEGRAM_BOT_TOKEN", None)

    def _run(*args, stdin=None):
        return subprocess.run([sys.executable, "run_bot.py", *args], cwd=ROOT, env=env, input=stdin,
                              capture_output=True, text=True, timeout=120)
    return _run


def test_ask_json_prints_one_object_with_the_contract_fields(run):
    out = run("ask", "--district", "临平", "--json", "免费体检名额")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["matched"] is True and data["district"] == "临平区"
    assert set(data) >= {"matched", "answer", "faq_id", "score", "district", "sources", "suggestions"}


def test_ask_text_names_the_source(run):
    out = run("ask", "上虞妈咪小屋")
    assert out.returncode == 0 and "来源：《" in out.stdout


def test_ask_jsonl_answers_every_line_in_order_including_bad_ones(run):
    lines = [{"q": "临平免费体检名额", "district": None}, {"q": "今天几号", "district": None},
             {"q": "免费体检名额", "district": "临平区"}]
    feed = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\nnot json\n\n" + \
        json.dumps({"q": "", "district": None}) + "\n"
    out = run("ask", "--jsonl", stdin=feed)
    assert out.returncode == 0, out.stderr
    results = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(results) == 5
    assert results[0]["matched"] and not results[1]["matched"] and results[2]["district"] == "临平区"
    assert results[3]["matched"] is False and "JSON" in results[3]["answer"]
    assert results[4]["matched"] is False


def test_unknown_district_argument_is_a_clear_error(run):
    out = run("ask", "--district", "火星区", "体检")
    assert out.returncode == 2 and "未知的区县" in out.stderr


def test_kb_import_is_idempotent_and_export_writes_files(run, tmp_path):
    first = run("kb", "import")
    assert first.returncode == 0 and first.stdout.startswith("OK:")
    second = run("kb", "import")
    assert "0 added, 0 updated" in second.stdout
    out = run("kb", "export", "--out", str(tmp_path / "out"))
    assert out.returncode == 0 and (tmp_path / "out" / "linping.yaml").exists()


def test_bad_setting_is_reported_without_a_traceback(run, tmp_path):
    env_run = subprocess.run([sys.executable, "run_bot.py", "ask", "体检"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60, env={**os.environ, "DATABASE_URL": "mysql://x"})
    assert env_run.returncode == 2
    assert "DATABASE_URL" in env_run.stderr and "Traceback" not in env_run.stderr


def test_console_answers_a_typed_question_offline(run):
    out = run("console", stdin="/district 临平\n免费体检名额\n/quit\n")
    assert out.returncode == 0, out.stderr
    assert "已设置区县：临平区" in out.stdout and "20000" in out.stdout


def test_run_bot_alone_migrates_imports_then_chats_in_the_console(run):
    """`python run_bot.py` with no arguments is what `make run` does (here without a token: the console)."""
    out = run(stdin="/district 临平\n免费体检名额\n/quit\n")
    assert out.returncode == 0, out.stderr
    schema, imported = out.stdout.splitlines()[:2]
    assert schema.startswith("OK: schema at head") and imported.startswith("OK: ") and " added" in imported
    assert "控制台" in out.stdout + out.stderr and "20000" in out.stdout
    again = run(stdin="/quit\n")                       # idempotent: nothing added the second time
    assert "0 added, 0 updated" in again.stdout


def test_ask_jsonl_answers_past_bad_bytes_and_lone_surrogates(run, tmp_path):
    feed = b"\n".join([
        '{"q": "临平免费体检名额"}'.encode(),
        b'{"q": "\\ud800\xe4\xbd\x93\xe6\xa3\x80"}',             # a lone surrogate escaped in JSON
        b'{"q": "\xff\xfe bad bytes"}',                         # not UTF-8 at all
        b'\xed\xa0\x80',                                        # a surrogate encoded as UTF-8 (CESU)
        b'{"q": ["list"], "district": 5}',
        b'{"q": "\xe4\xbd\x93\xe6\xa3\x80", "district": ["x"]}',
        b'[1, 2]',
        '{"q": "上虞妈咪小屋"}'.encode(),
    ]) + b"\n"
    out = subprocess.run([sys.executable, "run_bot.py", "ask", "--jsonl"], cwd=ROOT, input=feed, capture_output=True,
                         timeout=120, env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'j.db'}"})
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-2000:]
    results = [json.loads(x) for x in out.stdout.decode("utf-8").splitlines()]
    assert len(results) == 8
    assert results[0]["matched"] and results[7]["matched"]
    for lineno in range(2, 8):
        bad = results[lineno - 1]
        assert bad["kind"] == "error" and bad["line"] == lineno and f"第 {lineno} 行" in bad["error"], bad
        assert set(bad) >= {"matched", "answer", "faq_id", "score", "district", "sources", "suggestions"}


def test_the_engine_answers_a_question_with_a_lone_surrogate(engine):
    assert engine.answer("\ud800临平免费体检名额").matched
