"""Command line: `python run_bot.py ask|kb|db|stations|console|run ...`."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from knowledge.districts import require_district
from knowledge.facts import WARNING
from knowledge.kbfiles import DATA_DIR, KnowledgeFileError, export_entries, fingerprint, load_all

from .config import MAX_TELEGRAM_ID, describe_settings_error, load_settings
from .setup import App, InvalidKnowledge, SetupError, open_app, validate_files


def _settings_or_exit():
    try:
        return load_settings()
    except ValidationError as exc:
        for line in describe_settings_error(exc):
            print(line, file=sys.stderr)
        raise SystemExit(2) from None


def _telegram_id_arg(value: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 20 and 0 < int(text) <= MAX_TELEGRAM_ID):
        raise argparse.ArgumentTypeError(f"“{value[:30]}”不是 Telegram 用户 ID"
                                         f"（1 到 {MAX_TELEGRAM_ID} 之间的半角数字）")
    return int(text)


def _district_arg(value: str | None) -> str | None:
    try:
        return require_district(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_ask(args) -> int:
    app = open_app(_settings_or_exit())
    engine = app.knowledge.engine
    if args.jsonl:
        from .jsonl_batch import answer_lines, binary_streams
        sys.stdout.flush()
        answer_lines(engine, *binary_streams(sys.stdin, sys.stdout))
        return 0
    question = " ".join(args.question)
    answer = engine.answer(question, args.district)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(answer.as_text())
    return 0


def cmd_kb(args) -> int:
    if args.kb_command == "validate":
        try:
            files = load_all(Path(args.data_dir))
        except KnowledgeFileError as exc:
            print(f"FAIL: {exc}")
            return 1
        problems = validate_files(files, strict=args.strict)
        for p in problems:
            print(p)
        n = len(files.faq_raw)
        errors = [p for p in problems if p.level != WARNING]
        warned = len(problems) - len(errors)
        tail = f", {warned} warning(s)" if args.strict else ""
        print(f"{'FAIL' if problems else 'OK'}: {n} entries checked, {len(errors)} problem(s){tail}")
        return 1 if problems else 0
    if args.kb_command == "import":
        try:
            app = open_app(_settings_or_exit(), load_knowledge=False)
            from .setup import import_files
            report = import_files(app.repos, load_all(Path(args.data_dir)), force=args.force)
            if not report.conflicts:       # the next start skips these very files, re-imports any others
                app.repos.knowledge.record_import(fingerprint(Path(args.data_dir)))
        except InvalidKnowledge as exc:
            for p in exc.problems:
                print(p)
            print(f"FAIL: nothing imported, {len(exc.problems)} problem(s)")
            return 1
        except KnowledgeFileError as exc:
            print(f"FAIL: nothing imported: {exc}")
            return 1
        print(f"OK: {len(report.added)} added, {len(report.updated)} updated, {report.unchanged} unchanged, "
              f"{report.documents} document(s) loaded")
        for entry_id in report.conflicts:
            print(f"kept admin edit: {entry_id} (the file changed too; --force overwrites)")
        return 0
    if args.kb_command == "export":
        app = open_app(_settings_or_exit(), load_knowledge=False)
        written = export_entries(app.repos.knowledge.all_entries(), Path(args.out))
        for path in written:
            print(f"wrote {path}")
        return 0
    if args.kb_command == "embed":
        from knowledge.embedding import write_seed
        try:
            path, total, embedded = write_seed(Path(args.data_dir))
        except RuntimeError as exc:
            print(f"FAIL: {exc}")
            return 1
        print(f"OK: {total} vectors in {path} ({embedded} newly embedded)")
        return 0
    if args.kb_command == "stats":
        from knowledge.stats import coverage_report
        app = open_app(_settings_or_exit())
        print(coverage_report(app.knowledge.engine))
        return 0
    return 2


def cmd_admin(args) -> int:
    """Server-side admin operations, the same as the Telegram admin menu."""
    from .admin import AdminError, AdminService
    app = open_app(_settings_or_exit())
    svc = AdminService(app)
    actor = f"cli:{args.actor}"
    try:
        if args.admin_command == "add":
            print("OK" if svc.add_admin(actor, args.user_id) else "already an admin")
        elif args.admin_command == "remove":
            print("OK" if svc.remove_admin(actor, args.user_id) else "not removed (unknown, or the last admin)")
        elif args.admin_command == "list":
            print("\n".join(map(str, svc.repos.admins.list())) or "(no admins)")
        elif args.admin_command == "import":
            path = Path(args.file)
            result = svc.import_file(path.name, path.read_bytes(), actor)
            print(result.report())
            return 0 if result.ok else 1
        elif args.admin_command == "retire":
            svc.retire(args.entry_id, actor)
            print(f"retired {args.entry_id}")
        elif args.admin_command == "history":
            for rev in svc.history(args.entry_id):
                print(f"#{rev.id} {rev.created_at:%Y-%m-%d %H:%M} {rev.actor} {rev.action}")
        elif args.admin_command == "restore":
            entry = svc.restore(args.revision_id, actor)
            print(f"restored {entry.id} to revision #{args.revision_id}")
        elif args.admin_command == "unanswered":
            for g in svc.unanswered(args.days, args.limit):
                print(f"{g.count:>4}  {g.question}  {'/'.join(g.districts)}")
        elif args.admin_command == "stats":
            print(svc.format_stats(svc.stats(args.days)))
        elif args.admin_command == "add-document":
            path = Path(args.file)
            doc = svc.add_document(args.title, args.district, args.date, path.name, path.read_bytes(), actor)
            print(f"added document {doc.id}")
        elif args.admin_command == "stations":
            for st in svc.stations(args.district, include_retired=args.all):
                flags = ("" if st.active else " [retired]") + (" [example]" if st.is_example else "")
                print(f"{st.id}  {st.name}  {st.district}  {st.latitude},{st.longitude}{flags}")
        elif args.admin_command in ("station-add", "station-edit"):
            return _station_write(svc, args, actor)
        elif args.admin_command == "station-retire":
            svc.retire_station(args.station_id, actor)
            print(f"retired {args.station_id}")
    except AdminError as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    return 0


def _station_write(svc, args, actor: str) -> int:
    """`admin station-add` / `station-edit`: the same checks as the Telegram station form."""
    from dataclasses import replace

    from knowledge.model import Station

    from .admin import AdminError

    fields = {k: v for k, v in {"name": args.name, "district": args.district, "latitude": args.lat,
                                "longitude": args.lon, "address": args.address, "hours": args.hours,
                                "kind": args.kind}.items() if v is not None}
    if args.services is not None:
        fields["services"] = [x.strip() for x in args.services.replace("；", ";").split(";") if x.strip()]
    is_new = args.admin_command == "station-add"
    if is_new:
        flags = {"name": "--name", "district": "--district", "latitude": "--lat", "longitude": "--lon"}
        missing = [flag for key, flag in flags.items() if key not in fields]
        if missing:
            print(f"FAIL: required: {' '.join(missing)}", file=sys.stderr)
            return 1
        station = Station(id=args.id or svc.new_station_id(fields.get("district"), fields["name"]), **fields)
    else:
        current = svc.get_station(args.station_id)
        if current is None:
            raise AdminError(f"找不到驿站 {args.station_id}")
        station = replace(current, **fields)
    for problem in svc.check_station(station, is_new):
        if not problem.fatal:
            print(problem)
    saved = svc.save_station(station, actor, is_new)
    print(f"{'added' if is_new else 'updated'} station {saved.id}")
    return 0


def cmd_db(args) -> int:
    app = open_app(_settings_or_exit(), load_knowledge=False)
    print(f"OK: schema at head ({app.settings.database_url.split('://')[0]})")
    return 0


def cmd_console(args) -> int:
    from .console import run_console
    run_console(open_app(_settings_or_exit()))
    return 0


def cmd_stations(args) -> int:
    """Imports a station list only if every row is valid (one transaction)."""
    from knowledge.model import Station
    from knowledge.station_files import load_station_file

    parsed = load_station_file(Path(args.file))
    for problem in parsed.problems:
        print(problem)
    if parsed.errors:
        print(f"FAIL: nothing imported, {len(parsed.errors)} problem(s) in {args.file}")
        return 1
    app = open_app(_settings_or_exit(), load_knowledge=False)
    stations = list(parsed.stations)
    retired = 0
    if args.replace_examples:
        incoming = {s.id for s in stations}
        for old in app.repos.stations.active():
            if old.is_example and old.id not in incoming:
                stations.append(Station(**{**old.__dict__, "active": False}))
                retired += 1
    changed = app.repos.stations.replace_many(stations, actor="stations import")
    examples = sum(1 for s in parsed.stations if s.is_example)
    print(f"OK: {len(parsed.stations)} station(s) checked, {changed} row(s) changed"
          + (f", {retired} example station(s) retired" if retired else "")
          + (f"; {examples} marked is_example" if examples else ""))
    return 0


def cmd_run(args) -> int:
    settings = _settings_or_exit()
    if not settings.telegram_bot_token:
        print("未设置 TELEGRAM_BOT_TOKEN，启动控制台对话模式。", file=sys.stderr)
        from .console import run_console
        run_console(open_app(settings))
        return 0
    if args.run_telegram is None:
        print("这个入口不含 Telegram 机器人：请用 python run_bot.py run 启动。", file=sys.stderr)
        return 2
    from .logging_setup import configure_logging
    configure_logging(settings)          # before open_app, so start-up messages are logged (token redacted)
    return args.run_telegram(open_app(settings)) or 0


def cmd_default(parser: argparse.ArgumentParser, args) -> int:
    """`python run_bot.py` alone does what `make run` does: migrate, import the knowledge files, then the
    Telegram bot when TELEGRAM_BOT_TOKEN is set, else the console."""
    for step in (["db", "upgrade"], ["kb", "import"]):
        step_args = parser.parse_args(step)
        code = step_args.func(step_args)
        if code:
            return code
    return cmd_run(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run_bot.py", description="工会福利问答机器人。不带参数：迁移数据库、导入知识库，"
                                "然后启动机器人（设置了 TELEGRAM_BOT_TOKEN）或控制台对话（没有设置）。")
    sub = p.add_subparsers(dest="command")

    ask = sub.add_parser("ask", help="answer a question (or JSON lines from stdin with --jsonl)")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--district", type=_district_arg, default=None)
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--jsonl", action="store_true")
    ask.set_defaults(func=cmd_ask)

    kb = sub.add_parser("kb", help="knowledge-base files: validate, import, export, stats")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    for name in ("validate", "import"):
        k = kb_sub.add_parser(name)
        k.add_argument("--data-dir", default=str(DATA_DIR))
        if name == "import":
            k.add_argument("--force", action="store_true", help="overwrite admin edits with the files")
        else:
            k.add_argument("--strict", action="store_true",
                           help="also list what a fact rule could not decide (warnings), and fail on them")
    exp = kb_sub.add_parser("export")
    exp.add_argument("--out", default=str(DATA_DIR / "faq"))
    kb_sub.add_parser("stats")
    emb = kb_sub.add_parser("embed", help="write the shipped embedding seed for the knowledge files")
    emb.add_argument("--data-dir", default=str(DATA_DIR))
    kb.set_defaults(func=cmd_kb)

    adm = sub.add_parser("admin", help="admin operations: admins, imports, history, unanswered, stats")
    adm.add_argument("--actor", default="operator", help="recorded as who made the change")
    adm_sub = adm.add_subparsers(dest="admin_command", required=True)
    for name in ("add", "remove"):
        adm_sub.add_parser(name).add_argument("user_id", type=_telegram_id_arg)
    adm_sub.add_parser("list")
    adm_sub.add_parser("import", help="a YAML/CSV file of FAQ entries or stations").add_argument("file")
    adm_sub.add_parser("retire").add_argument("entry_id")
    adm_sub.add_parser("history").add_argument("entry_id")
    adm_sub.add_parser("restore").add_argument("revision_id", type=int)
    for name in ("unanswered", "stats"):
        a = adm_sub.add_parser(name)
        a.add_argument("--days", type=int, default=30)
        a.add_argument("--limit", type=int, default=20)
    doc = adm_sub.add_parser("add-document", help="a new source article (.txt/.docx)")
    doc.add_argument("file")
    doc.add_argument("--title", required=True)
    doc.add_argument("--district", default=None)
    doc.add_argument("--date", required=True, help="publication date, e.g. 2025-03-01")
    sts = adm_sub.add_parser("stations", help="list stations")
    sts.add_argument("--district", type=_district_arg, default=None)
    sts.add_argument("--all", action="store_true", help="retired ones too")
    for name in ("station-add", "station-edit"):
        s_ = adm_sub.add_parser(name, help="add a station" if name == "station-add" else "change some fields")
        if name == "station-edit":
            s_.add_argument("station_id")
        else:
            s_.add_argument("--id", default=None, help="default: made from the district")
        s_.add_argument("--name")
        s_.add_argument("--district", type=_district_arg)
        s_.add_argument("--lat", type=float, help="latitude, e.g. 30.42")
        s_.add_argument("--lon", type=float, help="longitude, e.g. 120.30")
        s_.add_argument("--address")
        s_.add_argument("--hours")
        s_.add_argument("--services", help="separated by ;")
        s_.add_argument("--kind")
    adm_sub.add_parser("station-retire").add_argument("station_id")
    adm.set_defaults(func=cmd_admin)

    db = sub.add_parser("db", help="database: upgrade to the newest schema")
    db.add_argument("db_command", choices=["upgrade"])
    db.set_defaults(func=cmd_db)

    st = sub.add_parser("stations", help="rest stations: import a YAML/CSV list (knowledge/data/STATIONS.md)")
    st_sub = st.add_subparsers(dest="stations_command", required=True)
    imp = st_sub.add_parser("import", help="validate every row, then import all or nothing")
    imp.add_argument("file", help=".yaml or .csv (id,name,district,kind,latitude,longitude,address,hours,services)")
    imp.add_argument("--replace-examples", action="store_true",
                     help="retire the example stations (not real places) that the file does not contain")
    st.set_defaults(func=cmd_stations)

    sub.add_parser("console", help="chat in the terminal").set_defaults(func=cmd_console)
    sub.add_parser("run", help="the Telegram bot if TELEGRAM_BOT_TOKEN is set, else the console").set_defaults(
        func=cmd_run)
    return p


def main(argv: list[str] | None = None, *, run_telegram: Callable[[App], int] | None = None) -> int:
    """``run_telegram`` is the Telegram bot (handlers.application.run_telegram), given by the entry
    point run_bot.py so that bot/ never imports handlers/ (handlers use bot's services, not back)."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    parser = build_parser()
    parser.set_defaults(run_telegram=run_telegram)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        return _run(cmd_default, parser, args)
    return _run(args.func, args)


def _run(fn, *args) -> int:
    try:
        return fn(*args)
    except SetupError as exc:
        print(f"无法启动：{exc}", file=sys.stderr)
        return 1
