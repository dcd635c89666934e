#!/usr/bin/env python3
"""Memory over a long run: N questions through the bot's services (answer, cache, query log, reply
memory), without Telegram, printing resident memory and the size of each in-process structure.

    python bench/memory_growth.py [--questions 30000] [--users 3000]

Questions are the labelled ones with a random tail, so most are distinct (as real
wording is); users pick a district now and then. Every 5,000 questions it prints RSS
and the entries held by each cache, so a structure that grows without bound shows as
a column that keeps rising while the others level off. With --trace, the largest
allocation growths between the start and the end (tracemalloc, by file:line; slow).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.flood import FloodGate  # noqa: E402
from bot.setup import open_app  # noqa: E402
from handlers.services import BotServices  # noqa: E402
from knowledge import normalize  # noqa: E402

DISTRICTS = ["临平区", "拱墅区", "富阳区", "上虞区", "建德市", None]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


async def run(args) -> None:
    tmp = tempfile.TemporaryDirectory()
    app = open_app(load_settings(DATABASE_URL=f"sqlite:///{Path(tmp.name) / 'mem.db'}", _env_file=None))
    services = BotServices(app, FloodGate(10_000))
    path = ROOT / "tests" / "data" / "labelled_questions.jsonl"
    base = [json.loads(x)["q"] for x in path.read_text("utf-8").splitlines() if x.strip()]
    rng = random.Random(7)
    tails = "呢吗呀啊么吧的了好请问一下怎么办具体多少哪里时间手续材料"
    await services.ask("体检", None, 1)                   # warm up: indexes, pinyin tables
    await services.writer.drain()
    gc.collect()
    if args.trace:
        tracemalloc.start(1)
        first = tracemalloc.take_snapshot()
    print(f"start: {rss_mb():.1f} MB resident", flush=True)
    print(f"{'questions':>9} {'RSS MB':>7} {'answers':>7} {'replies':>7} {'districts':>9} {'flood':>6} "
          f"{'codes':>6} {'pinyin':>7} {'backlog':>7}")
    for i in range(1, args.questions + 1):
        user = rng.randint(1, args.users)
        question = rng.choice(base) + "".join(rng.choice(tails) for _ in range(rng.randint(0, 4)))
        if rng.random() < 0.02:
            await services.set_district(user, rng.choice(DISTRICTS))
        services.flood.check(user)
        district = await services.district_of(user)
        answered = await services.ask(question, district, user)
        services.remember_reply(user, i, answered)
        if i % 500 == 0:
            await services.writer.drain()
        if i % 5000 == 0:
            gc.collect()
            print(f"{i:>9} {rss_mb():>7.1f} {len(services.cache._items):>7} {len(services.replies):>7} "
                  f"{len(services._districts):>9} {len(services.flood):>6} {len(normalize._CODES):>6} "
                  f"{normalize._code_of_char.cache_info().currsize:>7} {services.writer.backlog:>7}", flush=True)
    await services.close()
    gc.collect()
    if args.trace:
        print("largest growth (tracemalloc):")
        for stat in tracemalloc.take_snapshot().compare_to(first, "lineno")[:8]:
            print(f"  {stat.size_diff / 2**20:7.2f} MB  {stat.count_diff:>8} blocks  {stat.traceback[0]}")
    app.db.dispose()
    tmp.cleanup()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=30_000)
    ap.add_argument("--users", type=int, default=3000)
    ap.add_argument("--trace", action="store_true", help="also report allocation growth by line (slow)")
    asyncio.run(run(ap.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
