"""What union admins can do, as plain synchronous operations.

Telegram admin handlers and `run_bot.py admin ...` are thin adapters over this.
Every write is validated first, runs in one transaction, is recorded with who and
when (the audit log doubles as the revision history), and re-indexes the engine
at once so the next question sees it.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from rapidfuzz import fuzz

from knowledge import safe_yaml
from knowledge.districts import require_district, union_of
from knowledge.kbfiles import KnowledgeFileError, dump_entries, strip_lines
from knowledge.model import FaqEntry, SourceDocument, Station
from knowledge.station_files import StationProblem, check_row, parse_station_text
from knowledge.text_input import UnreadableText, decode_text
from knowledge.validate import Problem, Validator

from .faq_uploads import EMPTY_FILE, read_csv, read_yaml
from .setup import App

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_DOCX_UNPACKED = 40 * 2**20        # a long article's text is well under a megabyte of XML
DISTRICT_PREFIX = {"拱墅区": "gongshu", "富阳区": "fuyang", "临平区": "linping", "上虞区": "shangyu",
                   "建德市": "jiande"}


class AdminError(ValueError):
    """A refused admin operation, with a message fit to show the admin."""


@dataclass
class ImportResult:
    kind: str                        # "faq" | "stations"
    ok: bool
    problems: list[str] = field(default_factory=list)
    written: int = 0
    total: int = 0
    note: str | None = None          # e.g. which encoding the file was read in

    def report(self) -> str:
        """What the admin reads (plain text in Telegram: `field` is shown as 「field」)."""
        what = "问答条目" if self.kind == "faq" else "驿站"
        head = f"ℹ️ {self.note}\n" if self.note else ""
        if self.ok:
            return head + f"✅ 导入成功：共 {self.total} 条{what}，其中 {self.written} 条有变化。"
        head += f"❌ 文件有 {len(self.problems)} 处问题，没有写入任何数据："
        shown = [re.sub(r"`([^`]+)`", r"「\1」", p) for p in self.problems[:30]]
        more = f"\n……另有 {len(self.problems) - len(shown)} 处" if len(self.problems) > len(shown) else ""
        return head + "\n" + "\n".join(f"· {p}" for p in shown) + more


@dataclass
class UnansweredGroup:
    question: str                    # the most frequent wording
    count: int
    examples: list[str]
    districts: list[str]
    disliked: int = 0                # of which answers got 👎


def actor_of(user_id: int | str) -> str:
    return f"telegram:{user_id}" if isinstance(user_id, int) else str(user_id)


class AdminService:
    def __init__(self, app: App):
        self.app = app
        self.repos = app.repos

    # ---------------------------------------------------------------- who
    def is_admin(self, user_id: int) -> bool:
        return self.repos.admins.is_admin(user_id)

    def list_admins(self) -> list[int]:
        return self.repos.admins.list()

    def record_refusal(self, user_id: int | None, what: str) -> None:
        """A non-admin tried an admin action: only an audit row is written, nothing else changes."""
        self.repos.audit.record(actor_of(user_id if user_id is not None else "unknown"), "refused", "admin",
                                (what or "?")[:100])

    def add_admin(self, actor: int | str, user_id: int) -> bool:
        return self.repos.admins.add(user_id, actor_of(actor))

    def remove_admin(self, actor: int | str, user_id: int) -> bool:
        return self.repos.admins.remove(user_id, actor_of(actor))

    # ---------------------------------------------------------------- entries
    def validator(self) -> Validator:
        from .live_knowledge import load_categories
        return Validator(self.repos.knowledge.documents(), [c["name"] for c in load_categories()])

    def categories(self) -> list[str]:
        return [c["name"] for c in self.app.knowledge.categories]

    def documents(self, district: str | None = None) -> list[SourceDocument]:
        """The documents an entry of `district` may cite: its own and general ones (all when None)."""
        docs = self.repos.knowledge.documents()
        return docs if district is None else [d for d in docs if d.district in (None, district)]

    def search(self, text: str, limit: int = 8) -> list[FaqEntry]:
        """By id, by words of the question (retired entries too, so they can be restored)."""
        text = (text or "").strip()
        everything = self.repos.knowledge.all_entries()
        exact = [e for e in everything if e.id == text]
        if exact:
            return exact
        found = {e.id: e for e in self.app.knowledge.engine.search_entries(text, limit=limit)}
        for e in everything:
            if len(found) >= limit:
                break
            if text and (text in e.id or text in e.question or any(text in a for a in e.alternates)):
                found.setdefault(e.id, e)
        return list(found.values())[:limit]

    def entry_ids(self) -> list[str]:
        """Every entry id, retired ones included."""
        return [e.id for e in self.repos.knowledge.all_entries()]

    def get(self, entry_id: str) -> FaqEntry | None:
        return self.repos.knowledge.get_entry(entry_id)

    def check(self, entry: FaqEntry, is_new: bool = False) -> list[Problem]:
        seen: set[str] = set()
        if is_new and self.repos.knowledge.get_entry(entry.id) is not None:
            return [Problem("", entry.id, "这个 id 已经存在")]
        return self.validator().check_entry(entry.content(), "entry", seen)

    def save(self, entry: FaqEntry, actor: int | str, is_new: bool = False) -> None:
        problems = self.check(entry, is_new)
        if problems:
            raise AdminError("；".join(p.message for p in problems))
        self.repos.knowledge.save_entry(entry, actor_of(actor), action="create" if is_new else "update")
        self.app.knowledge.invalidate()

    def retire(self, entry_id: str, actor: int | str) -> FaqEntry:
        entry = self._require(entry_id)
        entry.active = False
        self.repos.knowledge.save_entry(entry, actor_of(actor), action="retire")
        self.app.knowledge.invalidate()
        return entry

    def add_alternate(self, entry_id: str, question: str, actor: int | str) -> FaqEntry:
        """Teaches an entry a new wording (typically an unanswered question)."""
        entry = self._require(entry_id)
        question = question.strip()
        if not question:
            raise AdminError("问法不能为空")
        if question not in entry.alternates and question != entry.question:
            entry.alternates.append(question)
            self.repos.knowledge.save_entry(entry, actor_of(actor), action="add-alternate")
            self.app.knowledge.invalidate()
        return entry

    def new_id(self, district: str | None, question: str) -> str:
        prefix = DISTRICT_PREFIX.get(district or "", "general")
        digest = hashlib.sha1(f"{question}{datetime.now(UTC).isoformat()}".encode()).hexdigest()[:6]
        return f"{prefix}.admin-{digest}"

    def _require(self, entry_id: str) -> FaqEntry:
        entry = self.repos.knowledge.get_entry(entry_id)
        if entry is None:
            raise AdminError(f"找不到条目 {entry_id}")
        return entry

    # ---------------------------------------------------------------- history
    def history(self, entry_id: str, limit: int = 20):
        return self.repos.audit.history("faq", entry_id, limit)

    def restore(self, revision_id: int, actor: int | str) -> FaqEntry:
        """Makes an entry what it was right after the given revision (itself a new revision)."""
        rev = self.repos.audit.get(revision_id)
        if rev is None or rev.target_type != "faq" or not rev.after:
            raise AdminError(f"找不到可恢复的版本 #{revision_id}")
        entry = FaqEntry.from_content(rev.after)
        self.repos.knowledge.save_entry(entry, actor_of(actor), action=f"restore#{revision_id}")
        self.app.knowledge.invalidate()
        return entry

    # ---------------------------------------------------------------- learning from users
    def unanswered(self, days: int = 30, limit: int = 10, hide_answered: bool = True) -> list[UnansweredGroup]:
        """Unanswered questions and 👎-rated ones, grouped by similarity, most asked first.

        hide_answered: a group nobody disliked whose question the knowledge now answers with an
        entry (an admin already taught it) is left out.
        """
        engine = self.app.knowledge.engine
        preparer = engine.preparer
        items: list[tuple[str, str | None, bool]] = [(q, d, False) for q, d, _ in
                                                      self.repos.queries.recent_unanswered(days)]
        for question, faq_id in self.repos.feedback.disliked(days):   # 👎: the question asked, else the entry's
            asked = question or (engine.by_id[faq_id].question if faq_id in engine.by_id else None)
            if asked:
                items.append((asked, None, True))
        groups: list[dict] = []
        for question, district, disliked in items:
            key = preparer.prepare(question).text or question
            for g in groups:
                if fuzz.ratio(key, g["key"]) >= 80:
                    break
            else:
                g = {"key": key, "wordings": Counter(), "districts": Counter(), "disliked": 0}
                groups.append(g)
            g["wordings"][question.strip()] += 1
            if district:
                g["districts"][district] += 1
            g["disliked"] += disliked
        out = [UnansweredGroup(g["wordings"].most_common(1)[0][0], sum(g["wordings"].values()),
                               [w for w, _ in g["wordings"].most_common(3)], list(g["districts"]), g["disliked"])
               for g in groups]
        shown: list[UnansweredGroup] = []
        for g in sorted(out, key=lambda g: (-g.count, g.question)):
            if len(shown) >= limit:
                break
            if hide_answered and not g.disliked:
                now = engine.answer(g.question, g.districts[0] if g.districts else None)
                if now.matched and now.kind == "faq":
                    continue
            shown.append(g)
        return shown

    # ---------------------------------------------------------------- files
    def import_file(self, filename: str, data: bytes, actor: int | str) -> ImportResult:
        """Validates a whole YAML/CSV file (FAQ entries or stations); writes nothing unless all of it is valid.
        UTF-8 and GBK/GB18030 (what Excel on Chinese Windows saves) are both read; the report says which."""
        if len(data) > MAX_UPLOAD_BYTES:
            return ImportResult("faq", False, [f"文件太大（上限 {MAX_UPLOAD_BYTES // 1024} KB）"])
        name = filename.lower()
        if not name.endswith((".csv", ".yaml", ".yml")):
            return ImportResult("faq", False, ["只支持 .yaml / .yml / .csv 文件"])
        try:
            decoded = decode_text(data)
        except UnreadableText as exc:
            return ImportResult("faq", False, [str(exc)])
        text = decoded.text
        if not text.strip():
            return ImportResult("faq", False, [EMPTY_FILE], note=decoded.note)
        if name.endswith(".csv"):
            header = next(csv.reader(io.StringIO(text)), [])
            kind = "stations" if "latitude" in [h.strip().lower() for h in header] else "faq"
            fmt = "csv"
        else:
            fmt = "yaml"
            kind = "stations" if re.search(r"^stations\s*:", text, re.M) else "faq"
        result = self._import_stations(text, fmt, actor) if kind == "stations" else self._import_faq(text, fmt, actor)
        result.note = decoded.note
        return result

    def _import_faq(self, text: str, fmt: str, actor: int | str) -> ImportResult:
        bad = safe_yaml.unstorable(text) if fmt == "csv" else None
        if bad:
            return ImportResult("faq", False, [str(bad)])
        try:
            rows = read_csv(text) if fmt == "csv" else read_yaml(text)
        except (KnowledgeFileError, csv.Error, ValueError) as exc:
            return ImportResult("faq", False, [str(exc)])
        if not rows:
            return ImportResult("faq", False, ["文件里没有任何条目"])
        validator = self.validator()
        seen: set[str] = set()
        problems: list[str] = []
        for row in rows:
            for p in validator.check_entry(row.raw, f"第 {row.line} 行", seen):
                problems.append(f"第 {row.line_of(p.field)} 行{f' [{p.entry}]' if p.entry else ''}：{p.message}")
        if problems:
            return ImportResult("faq", False, problems, total=len(rows))
        entries = [FaqEntry.from_content(strip_lines(row.raw)) for row in rows]
        written = self.repos.knowledge.save_entries(entries, actor_of(actor))
        self.app.knowledge.invalidate()
        return ImportResult("faq", True, written=written, total=len(entries))

    def _import_stations(self, text: str, fmt: str, actor: int | str) -> ImportResult:
        parsed = parse_station_text(text, fmt)
        if parsed.errors:
            return ImportResult("stations", False, [str(p) for p in parsed.errors], total=len(parsed.stations))
        written = self.repos.stations.replace_many(parsed.stations, actor_of(actor))
        self.app.stations.invalidate()
        return ImportResult("stations", True, written=written, total=len(parsed.stations))

    def export_faq(self) -> bytes:
        return dump_entries(self.repos.knowledge.all_entries()).encode("utf-8")

    # ---------------------------------------------------------------- stations
    def stations(self, district: str | None = None, include_retired: bool = False) -> list[Station]:
        found = self.repos.stations.all() if include_retired else self.repos.stations.active()
        return [s for s in found if district is None or s.district == district]

    def get_station(self, station_id: str) -> Station | None:
        return self.repos.stations.get(station_id)

    def new_station_id(self, district: str | None, name: str) -> str:
        digest = hashlib.sha1(f"{name}{datetime.now(UTC).isoformat()}".encode()).hexdigest()[:6]
        return f"{DISTRICT_PREFIX.get(district or '', 'zj')}-station-{digest}"

    def check_station(self, station: Station, is_new: bool = False) -> list[StationProblem]:
        """The same checks as a station file row (warnings have fatal=False)."""
        if is_new and self.repos.stations.get(station.id) is not None:
            return [StationProblem(None, f"id “{station.id}” 已经存在")]
        return check_row(_station_row(station), None)[1]

    def save_station(self, station: Station, actor: int | str, is_new: bool = False) -> Station:
        """Adds or edits one station (validated like an import); the finder sees it at once."""
        problems = [p for p in self.check_station(station, is_new) if p.fatal]
        if problems:
            raise AdminError("；".join(p.message for p in problems))
        checked, _ = check_row(_station_row(station), None)
        checked.active = station.active
        self.repos.stations.replace_many([checked], actor_of(actor), action="create" if is_new else "update")
        self.app.stations.invalidate()
        return checked

    def retire_station(self, station_id: str, actor: int | str) -> Station:
        station = self.repos.stations.get(station_id)
        if station is None:
            raise AdminError(f"找不到驿站 {station_id}")
        station.active = False
        self.repos.stations.replace_many([station], actor_of(actor), action="retire")
        self.app.stations.invalidate()
        return station

    # ---------------------------------------------------------------- source documents
    def add_document(self, title: str, district: str | None, published: str, filename: str, data: bytes,
                     actor: int | str) -> SourceDocument:
        """A new article (.txt or .docx) that entries can cite and the passage fallback searches."""
        try:
            district = require_district(district)
        except ValueError as exc:
            raise AdminError(str(exc)) from None
        if not title.strip():
            raise AdminError("标题不能为空")
        try:
            day = date.fromisoformat(published.strip())
        except ValueError:
            raise AdminError("日期格式应为 2025-03-01") from None
        text = extract_text(filename, data)
        if len(re.sub(r"\s+", "", text)) < 20:
            raise AdminError("文档里几乎没有文字")
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
        doc = SourceDocument(id=f"admin-{day:%Y%m%d}-{digest}", title=title.strip(), district=district,
                             years=str(day.year), publisher=union_of(district) if district else "",
                             text=text)
        self.repos.knowledge.save_document(doc, actor_of(actor))
        self.app.knowledge.invalidate()
        return doc

    # ---------------------------------------------------------------- statistics
    def stats(self, days: int = 30) -> dict:
        """Counted by the database: fast at hundreds of thousands of logged questions."""
        summary = self.repos.queries.summary(days)
        helpful, unhelpful = self.repos.feedback.counts(days)
        by_id = self.app.knowledge.engine.by_id
        return {
            "days": days,
            "questions": summary.questions,
            "matched": summary.matched,
            "per_day": summary.per_day,
            "per_district": summary.per_district,
            "top_questions": [(by_id[i].question if i in by_id else i, n) for i, n in summary.top_entries],
            "top_unanswered": [(g.question, g.count) for g in self.unanswered(days, 5)],
            "helpful": helpful,
            "unhelpful": unhelpful,
        }

    @staticmethod
    def format_stats(st: dict) -> str:
        n = st["questions"]
        rate = f"{st['matched'] / n:.0%}" if n else "—"
        lines = [f"📊 最近 {st['days']} 天：{n} 个问题，答上 {st['matched']} 个（{rate}）",
                 f"👍 {st['helpful']}  👎 {st['unhelpful']}", "", "按天："]
        lines += [f"  {d}：{a} 问 / {m} 答" for d, (a, m) in list(st["per_day"].items())[-7:]] or ["  （无）"]
        lines += ["", "按区县："]
        lines += [f"  {d}：{a} 问 / {m} 答" for d, (a, m) in st["per_district"].items()] or ["  （无）"]
        lines += ["", "最常问："] + ([f"  {q}（{c}）" for q, c in st["top_questions"]] or ["  （无）"])
        lines += ["", "没答上的："] + ([f"  {q}（{c}）" for q, c in st["top_unanswered"]] or ["  （无）"])
        return "\n".join(lines)


def _station_row(station: Station) -> dict:
    """A station as a file row, so one checker serves imports and single edits."""
    return {"id": station.id, "name": station.name, "district": station.district, "kind": station.kind,
            "latitude": station.latitude, "longitude": station.longitude, "address": station.address,
            "hours": station.hours, "services": list(station.services), "is_example": station.is_example}


def _check_unpacked_size(data: bytes) -> None:
    """A .docx is a zip: 2 MB can unpack to a gigabyte of XML (1.1 GB and 2 minutes for one upload)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(item.file_size for item in z.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise AdminError("无法读取这个 .docx 文件") from None
    if unpacked > MAX_DOCX_UNPACKED:
        raise AdminError(f"这个 .docx 解压后超过 {MAX_DOCX_UNPACKED // 2**20} MB，请另存为 .txt 再上传")


def extract_text(filename: str, data: bytes) -> str:
    name = filename.lower()
    if len(data) > MAX_UPLOAD_BYTES:
        raise AdminError("文件太大")
    if name.endswith(".txt"):
        try:
            return decode_text(data).text           # UTF-8, or GBK/GB18030 as Notepad on Chinese Windows saves
        except UnreadableText as exc:
            raise AdminError(str(exc)) from None
    if name.endswith(".docx"):
        _check_unpacked_size(data)
        try:
            import docx
            document = docx.Document(io.BytesIO(data))
        except Exception:  # python-docx raises several types for a broken file
            raise AdminError("无法读取这个 .docx 文件") from None
        return "\n\n".join(p.text for p in document.paragraphs if p.text.strip())
    raise AdminError("只支持 .txt 和 .docx 文件")
