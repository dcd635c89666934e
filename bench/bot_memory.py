"""Memory of the running bot over a long day: RSS after every 10,000 questions, and what holds it.

Why: a long run grew from 183 to 252 MB over 30,000 questions with no plateau (issue 12); a
structure kept per user or per chat that is never trimmed grows like that. The bot runs in
this process (the Bot API is `python -m local_bot_api` in another, so its memory does not
count), answering N questions from U distinct users in private chats; the texts are the
labelled questions with varied endings, so most of them are new to every cache. After each
10,000 answers the garbage is collected and the RSS printed beside the sizes of the bot's
per-user and per-chat structures. Plateau means: the last two steps grow by little.

    .venv/bin/python bench/bot_memory.py [--n 30000] [--users 10000] [--step 10000] [--tracemalloc]

--tracemalloc prints the 15 allocation sites that grew most between the first and last step
(slow: it triples the run time).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.setup import open_app  # noqa: E402
from handlers import questions as question_handlers  # noqa: E402
from handlers.application import build_application, start_polling, stop  # noqa: E402
from local_bot_api import ServerProcess  # noqa: E402

TOKEN = "5003:BENCH-memory"
ENDINGS = ["", "？", "吗", "呢", "啊", "请问", "，谢谢", "，急", "想了解一下", "怎么办", "有吗", "是真的吗",
           "，麻烦告诉我", "，在线等", "。", "？？", "嘛", "哦", "，我是外卖骑手", "，我是快递员"]


def texts(n: int) -> list[str]:
    lines = (ROOT / "tests" / "data" / "labelled_questions.jsonl").read_text("utf-8").splitlines()
    pool = [json.loads(x)["q"] for x in lines if x.strip()]
    variants = (f"{q}{e}" for e, q in itertools.product(ENDINGS, pool))
    return list(itertools.islice(itertools.cycle(variants), n))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def structures(application) -> dict[str, int]:
    svc = application.bot_data["services"]
    runner = application.bot_data.get("runner")
    sizes = {
        "districts": len(svc._districts), "replies": len(svc.replies), "answer_cache": len(svc.cache._items),
        "rendered": len(question_handlers._RENDERED), "flood": len(svc.flood),
        "user_data": len(application.user_data), "chat_data": len(application.chat_data),
    }
    if runner is not None:
        sizes["parsed"] = len(runner.dispatcher._parsed)
    return sizes


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=30_000)
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--step", type=int, default=10_000)
    p.add_argument("--tracemalloc", action="store_true")
    args = p.parse_args(argv)
    questions = texts(args.n)
    with ServerProcess(TOKEN) as server, tempfile.TemporaryDirectory() as tmp:
        remote = server.client
        app = open_app(load_settings(_env_file=None, DATABASE_URL=f"sqlite:///{Path(tmp) / 'memory.db'}",
                                     TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=server.url,
                                     TELEGRAM_RATE_LIMIT_PER_SECOND=0, LOG_LEVEL="WARNING"))
        application = build_application(app)
        await start_polling(application, poll_timeout=5)
        try:
            warm = [("push_message", {"user_id": 1_000_000 + i, "text": q}) for i, q in enumerate(questions[:500])]
            remote.batch(warm)
            await remote.wait_for_count_async("sendMessage", len(warm), ok=True, timeout=120)
            gc.collect()
            print(f"{'answered':>9} {'RSS MB':>7} {'s':>5}  structures")
            print(f"{0:>9} {rss_mb():7.1f} {0:5.0f}  {structures(application)}")
            if args.tracemalloc:
                tracemalloc.start(8)
                first = None
            started, sent = time.monotonic(), 0
            for step_start in range(0, args.n, args.step):
                chunk = questions[step_start:step_start + args.step]
                for i in range(0, len(chunk), 1000):
                    calls = [("push_message", {"user_id": 10_000 + (sent + j) % args.users, "text": q})
                             for j, q in enumerate(chunk[i:i + 1000])]
                    sent += len(calls)
                    mark = remote.mark()       # only this chunk's replies come back (the harness stays small)
                    remote.batch(calls)
                    await remote.wait_for_count_async("sendMessage", len(calls), ok=True, since=mark, timeout=600)
                await asyncio.sleep(0.5)
                gc.collect()
                print(f"{sent:>9} {rss_mb():7.1f} {time.monotonic() - started:5.0f}  {structures(application)}",
                      flush=True)
                if args.tracemalloc:
                    snapshot = tracemalloc.take_snapshot()
                    if first is None:
                        first = snapshot
            if args.tracemalloc and first is not None:
                by_file = snapshot.compare_to(first, "filename")
                print(f"\nPython allocations grew {sum(s.size_diff for s in by_file) / 2**20:.1f} MiB between the "
                      "first and the last step; by file:")
                for stat in by_file[:8]:
                    print(f"  {stat.size_diff / 1024:9.1f} KiB {stat.count_diff:+8d}  {stat.traceback[0]}")
                print("by allocation site:")
                for stat in snapshot.compare_to(first, "traceback")[:12]:
                    print(f"  {stat.size_diff / 1024:9.1f} KiB {stat.count_diff:+8d}  "
                          f"{' <- '.join(str(f) for f in stat.traceback[:4])}")
        finally:
            await stop(application)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
