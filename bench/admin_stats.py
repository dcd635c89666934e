#!/usr/bin/env python3
"""`admin stats` with a large query log, before and after aggregating in SQL, and the pruning.

    python bench/admin_stats.py [--rows 300000] [--database-url postgresql+psycopg://...]

Fills a fresh database with `--rows` logged questions asked over the last 30 days
(the worst case for `admin stats --days 30`: every row is in the window), then times
the previous implementation (every row of the window loaded as an object and counted
in Python, kept below as `stats_before`) against `AdminService.stats` in the same run,
and checks both give the same figures. Then it refills the log spread over two years
and times one retention pass (180 days) and `stats` after it.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, insert, select  # noqa: E402

from bot.admin import AdminService  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.models import FeedbackRow, QueryLogRow  # noqa: E402
from bot.setup import open_app  # noqa: E402

UNANSWERED = ["食堂饭卡怎么充值", "工会活动报名", "停车位怎么申请", "年假有几天", "公积金怎么提取", "社保断缴怎么办",
              "加班费怎么算", "工伤认定流程", "食堂几点开门", "宿舍怎么申请"]


def fill(app, rows: int, spread_days: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    entries = app.repos.knowledge.all_entries(include_retired=False)
    now = datetime.now(UTC)
    districts = ["临平区", "拱墅区", "富阳区", "上虞区", "建德市", None]
    with app.db.transaction() as s:
        s.execute(delete(QueryLogRow))
        s.execute(delete(FeedbackRow))
    batch: list[dict] = []
    for i in range(rows):
        matched = rng.random() < 0.8
        entry = rng.choice(entries)
        question = entry.question if matched else rng.choice(UNANSWERED) + rng.choice(["", "？", "呀", "吗"])
        batch.append({"user_id": rng.randint(1, 20000), "channel": "telegram", "question": question,
                      "district": rng.choice(districts), "matched": matched, "kind": "faq" if matched else "not_found",
                      "faq_id": entry.id if matched else None, "score": 80.0 if matched else 20.0, "latency_ms": 3.0,
                      "created_at": now - timedelta(seconds=rng.uniform(60, spread_days * 86400))})
        if len(batch) == 20000 or i == rows - 1:
            with app.db.transaction() as s:
                s.execute(insert(QueryLogRow), batch)
                s.execute(insert(FeedbackRow), [{"user_id": b["user_id"], "faq_id": b["faq_id"],
                                                 "question": b["question"], "helpful": rng.random() < 0.7,
                                                 "created_at": b["created_at"]} for b in batch[::50]])
            batch = []


def stats_before(svc: AdminService, days: int) -> dict:
    """The implementation this bench replaced: every row of the window loaded and counted in Python."""
    since = datetime.now(UTC) - timedelta(days=days)
    with svc.repos.db.reading() as s:
        rows = list(s.scalars(select(QueryLogRow).where(QueryLogRow.created_at >= since).order_by(QueryLogRow.id)))
        feedback = list(s.scalars(select(FeedbackRow).where(FeedbackRow.created_at >= since)))
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_district: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        day = r.created_at.date().isoformat() if r.created_at else "?"
        per_day[day][0] += 1
        per_day[day][1] += r.matched
        per_district[r.district or "未选择"][0] += 1
        per_district[r.district or "未选择"][1] += r.matched
    engine = svc.app.knowledge.engine
    top = Counter(r.faq_id for r in rows if r.faq_id)
    return {
        "days": days, "questions": len(rows), "matched": sum(r.matched for r in rows),
        "per_day": dict(sorted(per_day.items())), "per_district": dict(per_district),
        "top_questions": [(engine.by_id[i].question if i in engine.by_id else i, n) for i, n in top.most_common(5)],
        "top_unanswered": [(g.question, g.count) for g in svc.unanswered(days, 5)],
        "helpful": sum(f.helpful for f in feedback), "unhelpful": sum(not f.helpful for f in feedback),
    }


def timed(fn, rounds: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def comparable(st: dict) -> dict:
    """per_day keys may differ by the database's idea of a date near midnight; compare the rest."""
    return {k: ({d: list(v) for d, v in st[k].items()} if k == "per_district" else st[k])
            for k in st if k != "per_day"} | {"days_total": sum(a for a, _ in st["per_day"].values())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'stats.db'}"
    app = open_app(load_settings(DATABASE_URL=url, QUERY_LOG_RETENTION_DAYS="180", _env_file=None))
    svc = AdminService(app)
    print(f"database: {url.split('://')[0]}, {args.rows:,} logged questions")

    t0 = time.perf_counter()
    fill(app, args.rows, spread_days=29)
    print(f"filled (all within 29 days) in {time.perf_counter() - t0:.1f} s")
    before_s, before = timed(lambda: stats_before(svc, 30))
    after_s, after = timed(lambda: svc.stats(30))
    same = comparable(before) == comparable(after)
    print(f"admin stats --days 30   before: {before_s * 1000:8.0f} ms   after: {after_s * 1000:8.0f} ms   "
          f"ratio {before_s / after_s:5.1f}x   same figures: {same}")

    fill(app, args.rows, spread_days=730)
    print(f"refilled, spread over two years; retention {app.repos.retention.policy.query_days} days")
    year_s, _ = timed(lambda: svc.stats(365), rounds=1)
    t0 = time.perf_counter()
    report = app.repos.retention.prune()
    prune_s = time.perf_counter() - t0
    pruned_s, _ = timed(lambda: svc.stats(365), rounds=1)
    print(f"admin stats --days 365  before pruning: {year_s * 1000:6.0f} ms   pruning: {prune_s * 1000:6.0f} ms "
          f"({report.queries:,} questions, {report.feedback:,} feedback rows removed)   "
          f"after: {pruned_s * 1000:6.0f} ms")
    app.db.dispose()
    tmp.cleanup()
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
