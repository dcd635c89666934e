"""The repository layer: the only place that speaks SQL. Handlers and the CLI call these."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from knowledge.districts import canonical_district
from knowledge.model import FaqEntry, SourceDocument, SourceRef, Station

from .db import Database, serialize
from .inbox import InboxRepository
from .models import (
    AdminRow,
    AuditRow,
    FaqRow,
    KbMetaRow,
    SourceDocumentRow,
    StationRow,
    SynonymRow,
    UserPreferenceRow,
    utcnow,
)
from .state_repositories import ConversationRepository, PersistenceRepository
from .usage_repositories import (  # noqa: F401 - LoggedQuery is part of this module's interface
    FeedbackRepository,
    LoggedQuery,
    QueryLogRepository,
    RetentionPolicy,
    RetentionRepository,
)

KB_VERSION = "kb_version"
FILES_IMPORTED = "files_imported"     # knowledge.kbfiles.fingerprint of the files the last clean import read


def _upsert(s: Session, model, values: dict, key: str, update: dict) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE: a first write that two workers may make at once."""
    dialect_insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    s.execute(dialect_insert(model).values(**values).on_conflict_do_update(index_elements=[key], set_=update))


def _entry_from_row(row: FaqRow) -> FaqEntry:
    return FaqEntry(
        id=row.id, question=row.question, answer=row.answer, district=row.district, category=row.category,
        alternates=list(row.alternates or []), keywords=list(row.keywords or []),
        sources=[SourceRef(s["document"], s["quote"]) for s in row.sources or []], active=row.active,
    )


def _district(name: str | None) -> str | None:
    """Every write stores the full name ("临平" -> "临平区"): the engine and the filters compare full names."""
    return canonical_district(name) or name


def _apply_entry(row: FaqRow, entry: FaqEntry) -> None:
    row.question, row.answer, row.category = entry.question, entry.answer, entry.category
    row.district = _district(entry.district)
    row.alternates, row.keywords = list(entry.alternates), list(entry.keywords)
    row.sources = [{"document": s.document, "quote": s.quote} for s in entry.sources]
    row.active = entry.active


def _doc_from_row(row: SourceDocumentRow) -> SourceDocument:
    return SourceDocument(id=row.id, title=row.title, district=row.district, years=row.years,
                          publisher=row.publisher or "", text=row.text, union_text_ends_at=row.union_text_ends_at)


def _station_from_row(row: StationRow) -> Station:
    return Station(id=row.id, name=row.name, district=row.district, latitude=row.latitude, longitude=row.longitude,
                   kind=row.kind, address=row.address, hours=row.hours, services=list(row.services or []),
                   is_example=row.is_example, active=row.active)


@dataclass
class KnowledgeSnapshot:
    """Everything the engine indexes, read in one transaction."""
    version: int
    entries: list[FaqEntry]
    documents: list[SourceDocument]
    synonyms: list[list[str]]


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)   # edited by an admin and changed in the files
    documents: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


class KnowledgeRepository:
    def __init__(self, db: Database):
        self.db = db

    # ------------------------------------------------------------ reading
    def version(self) -> int:
        with self.db.reading() as s:
            row = s.get(KbMetaRow, KB_VERSION)
            return int(row.value) if row else 0

    def imported_fingerprint(self) -> int | None:
        with self.db.reading() as s:
            row = s.get(KbMetaRow, FILES_IMPORTED)
            return int(row.value) if row else None

    def record_import(self, fingerprint: int) -> None:
        """The files with this fingerprint are in the database: the next start need not read them."""
        with self.db.transaction() as s:
            _upsert(s, KbMetaRow, {"key": FILES_IMPORTED, "value": fingerprint}, "key", {"value": fingerprint})

    def snapshot(self) -> KnowledgeSnapshot:
        with self.db.reading() as s:
            row = s.get(KbMetaRow, KB_VERSION)
            entries = [_entry_from_row(r) for r in s.scalars(select(FaqRow).where(FaqRow.active.is_(True))
                                                              .order_by(FaqRow.id))]
            docs = [_doc_from_row(r) for r in s.scalars(select(SourceDocumentRow).order_by(SourceDocumentRow.id))]
            synonyms = [[r.canonical, *r.variants] for r in s.scalars(select(SynonymRow).order_by(SynonymRow.id))]
            return KnowledgeSnapshot(int(row.value) if row else 0, entries, docs, synonyms)

    def get_entry(self, entry_id: str) -> FaqEntry | None:
        with self.db.reading() as s:
            row = s.get(FaqRow, entry_id)
            return _entry_from_row(row) if row else None

    def all_entries(self, include_retired: bool = True) -> list[FaqEntry]:
        with self.db.reading() as s:
            q = select(FaqRow).order_by(FaqRow.id)
            if not include_retired:
                q = q.where(FaqRow.active.is_(True))
            return [_entry_from_row(r) for r in s.scalars(q)]

    def documents(self) -> list[SourceDocument]:
        with self.db.reading() as s:
            return [_doc_from_row(r) for r in s.scalars(select(SourceDocumentRow).order_by(SourceDocumentRow.id))]

    def count_entries(self) -> int:
        with self.db.reading() as s:
            return s.scalar(select(func.count()).select_from(FaqRow)) or 0

    # ------------------------------------------------------------ writing
    @staticmethod
    def _bump(s) -> None:
        """One more knowledge version (the very first bump creates the row, also when two race)."""
        s.flush()
        _upsert(s, KbMetaRow, {"key": KB_VERSION, "value": 1}, "key", {"value": KbMetaRow.__table__.c.value + 1})

    @staticmethod
    def _audit(s, actor: str, action: str, target_type: str, target_id: str | None,
               before: dict | None, after: dict | None) -> None:
        s.add(AuditRow(actor=actor, action=action, target_type=target_type, target_id=target_id,
                       before=before, after=after))

    def save_entry(self, entry: FaqEntry, actor: str, action: str | None = None) -> None:
        """Adds or replaces one entry, with its revision, in one transaction."""
        with self.db.transaction() as s:
            row = s.get(FaqRow, entry.id)
            before = _entry_from_row(row).content() if row else None
            if row is None:
                row = FaqRow(id=entry.id)
                s.add(row)
            _apply_entry(row, entry)
            row.updated_by = actor
            row.updated_at = utcnow()
            self._audit(s, actor, action or ("update" if before else "create"), "faq", entry.id,
                        before, entry.content())
            self._bump(s)

    def save_document(self, doc: SourceDocument, actor: str) -> None:
        with self.db.transaction() as s:
            row = s.get(SourceDocumentRow, doc.id)
            before = _doc_from_row(row).as_dict() if row else None
            if row is None:
                row = SourceDocumentRow(id=doc.id)
                s.add(row)
            row.title, row.district, row.years, row.publisher = doc.title, _district(doc.district), doc.years, \
                doc.publisher
            row.text, row.union_text_ends_at, row.added_by = doc.text, doc.union_text_ends_at, actor
            self._audit(s, actor, "update" if before else "create", "document", doc.id, before, doc.as_dict())
            self._bump(s)

    def save_entries(self, entries: list[FaqEntry], actor: str, action: str = "import") -> int:
        """Several entries in one transaction (an admin's file import): all or nothing."""
        changed = 0
        with self.db.transaction() as s:
            for entry in entries:
                row = s.get(FaqRow, entry.id)
                before = _entry_from_row(row).content() if row else None
                if before == entry.content():
                    continue
                if row is None:
                    row = FaqRow(id=entry.id)
                    s.add(row)
                _apply_entry(row, entry)
                row.updated_by, row.updated_at = actor, utcnow()
                self._audit(s, actor, action, "faq", entry.id, before, entry.content())
                changed += 1
            if changed:
                self._bump(s)
        return changed

    def import_knowledge(self, entries: list[FaqEntry], documents: list[SourceDocument],
                         synonyms: list[list[str]], actor: str = "import", force: bool = False) -> ImportReport:
        """Loads file content idempotently, in one transaction.

        A file change replaces the database copy only while no admin has edited that entry since
        the last import; otherwise it is reported as a conflict (use force to overwrite).
        """
        report = ImportReport()
        with self.db.transaction() as s:
            serialize(s, "knowledge-import")        # two processes importing at once: one after the other
            for doc in documents:
                row = s.get(SourceDocumentRow, doc.id)
                if row is None or (row.text, row.title, row.district, row.years) != \
                        (doc.text, doc.title, _district(doc.district), doc.years):
                    before = _doc_from_row(row).as_dict() if row else None
                    if row is None:
                        row = SourceDocumentRow(id=doc.id)
                        s.add(row)
                    row.title, row.district, row.years = doc.title, _district(doc.district), doc.years
                    row.publisher, row.text, row.union_text_ends_at = doc.publisher, doc.text, doc.union_text_ends_at
                    row.added_by = actor
                    self._audit(s, actor, "import", "document", doc.id, before, {"id": doc.id, "title": doc.title})
                    report.documents += 1
            existing_syn = {r.canonical: r for r in s.scalars(select(SynonymRow))}
            syn_changed = False
            for group in synonyms:
                canonical, variants = group[0], list(group[1:])
                row = existing_syn.get(canonical)
                if row is None:
                    s.add(SynonymRow(canonical=canonical, variants=variants))
                    syn_changed = True
                elif list(row.variants) != variants:
                    row.variants = variants
                    syn_changed = True
            for entry in entries:
                new_hash = entry.content_hash()
                row = s.get(FaqRow, entry.id)
                if row is None:
                    row = FaqRow(id=entry.id, file_hash=new_hash, updated_by=actor)
                    _apply_entry(row, entry)
                    s.add(row)
                    self._audit(s, actor, "import", "faq", entry.id, None, entry.content())
                    report.added.append(entry.id)
                    continue
                current = _entry_from_row(row)
                if row.file_hash == new_hash or current.content_hash() == new_hash:
                    row.file_hash = new_hash
                    report.unchanged += 1
                    continue
                edited_by_admin = row.file_hash is not None and current.content_hash() != row.file_hash
                if edited_by_admin and not force:
                    report.conflicts.append(entry.id)
                    continue
                _apply_entry(row, entry)
                row.file_hash, row.updated_by, row.updated_at = new_hash, actor, utcnow()
                self._audit(s, actor, "import", "faq", entry.id, current.content(), entry.content())
                report.updated.append(entry.id)
            if report.changed or report.documents or syn_changed:
                self._bump(s)
        return report


class StationRepository:
    def __init__(self, db: Database):
        self.db = db

    def active(self) -> list[Station]:
        with self.db.reading() as s:
            return [_station_from_row(r) for r in s.scalars(select(StationRow).where(StationRow.active.is_(True))
                                                               .order_by(StationRow.id))]

    def get(self, station_id: str) -> Station | None:
        with self.db.reading() as s:
            row = s.get(StationRow, station_id)
            return _station_from_row(row) if row else None

    def count(self) -> int:
        """All rows, retired ones included (an emptied list must not bring the examples back)."""
        with self.db.reading() as s:
            return s.scalar(select(func.count()).select_from(StationRow)) or 0

    def all(self) -> list[Station]:
        """Every station, retired ones included (for admins)."""
        with self.db.reading() as s:
            return [_station_from_row(r) for r in s.scalars(select(StationRow).order_by(StationRow.id))]

    def replace_many(self, stations: list[Station], actor: str, action: str | None = None) -> int:
        """Upserts a batch in one transaction; returns how many rows changed (audited as `action`
        when given, else create/update)."""
        with self.db.transaction() as s:
            return self._upsert_all(s, stations, actor, action)

    def seed_if_empty(self, stations: list[Station], actor: str) -> int:
        """First start: these stations, only if the table has none (the check and the write are one
        step, so two processes starting together seed once)."""
        with self.db.transaction() as s:
            serialize(s, "stations-seed")
            if s.scalar(select(func.count()).select_from(StationRow)):
                return 0
            return self._upsert_all(s, stations, actor, None)

    @staticmethod
    def _upsert_all(s: Session, stations: list[Station], actor: str, action: str | None) -> int:
        changed = 0
        for st in stations:
            row = s.get(StationRow, st.id)
            before = _station_from_row(row).__dict__.copy() if row else None
            if row is None:
                row = StationRow(id=st.id)
                s.add(row)
            for key in ("name", "kind", "latitude", "longitude", "address", "hours", "is_example", "active"):
                setattr(row, key, getattr(st, key))
            row.district = _district(st.district)
            row.services = list(st.services)
            after = st.__dict__.copy()
            if before != after:
                changed += 1
                KnowledgeRepository._audit(s, actor, action or ("update" if before else "create"), "station",
                                           st.id, before, after)
        if changed:
            KnowledgeRepository._bump(s)
        return changed


class AuditRepository:
    """Revisions: every change with who, when, before and after."""

    def __init__(self, db: Database):
        self.db = db

    def history(self, target_type: str, target_id: str, limit: int = 50) -> list[AuditRow]:
        with self.db.reading() as s:
            return list(s.scalars(select(AuditRow).where(AuditRow.target_type == target_type,
                                                         AuditRow.target_id == target_id)
                                  .order_by(AuditRow.id.desc()).limit(limit)))

    def get(self, revision_id: int) -> AuditRow | None:
        with self.db.reading() as s:
            return s.get(AuditRow, revision_id)

    def record(self, actor: str, action: str, target_type: str, target_id: str | None,
               before: dict | None = None, after: dict | None = None) -> None:
        with self.db.transaction() as s:
            s.add(AuditRow(actor=actor, action=action, target_type=target_type, target_id=target_id,
                           before=before, after=after))


class PreferenceRepository:
    def __init__(self, db: Database):
        self.db = db

    def district_of(self, user_id: int) -> str | None:
        with self.db.reading() as s:
            row = s.get(UserPreferenceRow, user_id)
            return row.district if row else None

    def set_district(self, user_id: int, district: str | None) -> None:
        """An upsert: a user's first two messages may be handled at once."""
        district = _district(district)
        now = utcnow()
        with self.db.transaction() as s:
            _upsert(s, UserPreferenceRow, {"user_id": user_id, "district": district, "updated_at": now}, "user_id",
                    {"district": district, "updated_at": now})


class AdminRepository:
    def __init__(self, db: Database):
        self.db = db

    def is_admin(self, user_id: int) -> bool:
        with self.db.reading() as s:
            return s.get(AdminRow, user_id) is not None

    def list(self) -> list[int]:
        with self.db.reading() as s:
            return [r.user_id for r in s.scalars(select(AdminRow).order_by(AdminRow.created_at))]

    def add(self, user_id: int, added_by: str) -> bool:
        with self.db.transaction() as s:
            serialize(s, "admins")
            if s.get(AdminRow, user_id) is not None:
                return False
            s.add(AdminRow(user_id=user_id, added_by=added_by))
            s.add(AuditRow(actor=added_by, action="create", target_type="admin", target_id=str(user_id)))
            return True

    def remove(self, user_id: int, removed_by: str) -> bool:
        """Removes an admin, never the last one (someone must be able to add admins back).

        Two admins removing each other at once: the count and the delete are one step (the
        write lock on SQLite, the `admins` advisory lock on PostgreSQL), so the second sees one left.
        """
        with self.db.transaction() as s:
            serialize(s, "admins")
            row = s.get(AdminRow, user_id)
            if row is None or (s.scalar(select(func.count()).select_from(AdminRow)) or 0) <= 1:
                return False
            s.delete(row)
            s.add(AuditRow(actor=removed_by, action="delete", target_type="admin", target_id=str(user_id)))
            return True

    def ensure(self, user_ids: list[int], added_by: str) -> None:
        """The admins named in the settings (every start; two processes starting together add them once)."""
        with self.db.transaction() as s:
            serialize(s, "admins")
            for uid in user_ids:
                if s.get(AdminRow, uid) is None:
                    s.add(AdminRow(user_id=uid, added_by=added_by))


@dataclass
class Repositories:
    """All repositories over one database, built once at start-up."""
    db: Database
    retention_policy: RetentionPolicy | None = None
    knowledge: KnowledgeRepository = field(init=False)
    stations: StationRepository = field(init=False)
    preferences: PreferenceRepository = field(init=False)
    queries: QueryLogRepository = field(init=False)
    feedback: FeedbackRepository = field(init=False)
    admins: AdminRepository = field(init=False)
    audit: AuditRepository = field(init=False)
    conversations: ConversationRepository = field(init=False)
    persistence: PersistenceRepository = field(init=False)
    retention: RetentionRepository = field(init=False)
    inbox: InboxRepository = field(init=False)

    def __post_init__(self):
        self.knowledge = KnowledgeRepository(self.db)
        self.stations = StationRepository(self.db)
        self.preferences = PreferenceRepository(self.db)
        self.queries = QueryLogRepository(self.db)
        self.feedback = FeedbackRepository(self.db)
        self.admins = AdminRepository(self.db)
        self.audit = AuditRepository(self.db)
        self.conversations = ConversationRepository(self.db)
        self.persistence = PersistenceRepository(self.db)
        self.retention = RetentionRepository(self.db, self.retention_policy)
        self.queries.retention = self.retention
        self.inbox = InboxRepository(self.db)
