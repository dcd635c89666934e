"""Opening the application: settings, database migrated, knowledge files loaded."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from knowledge.kbfiles import KnowledgeFiles, fingerprint, load_all
from knowledge.validate import Problem, Validator

from .config import Settings, load_settings
from .db import Database
from .live_knowledge import LiveKnowledge
from .live_stations import LiveStations, load_examples_if_empty
from .repositories import ImportReport, Repositories, RetentionPolicy
from .schema_repair import HalfMadeSchema

log = logging.getLogger(__name__)


class SetupError(Exception):
    """The application cannot start; the message says why and what to do (shown without a traceback)."""


class InvalidKnowledge(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s) in the knowledge files")
        self.problems = problems


def validate_files(files: KnowledgeFiles, strict: bool = False) -> list[Problem]:
    """Errors in the knowledge files; `strict` adds the warnings (what a fact rule could not decide)."""
    validator = Validator(files.documents, [c["name"] for c in files.categories])
    return validator.check_all(files.faq_raw, warnings=strict)


def import_files(repos: Repositories, files: KnowledgeFiles | None = None, force: bool = False) -> ImportReport:
    """Validates every file first; nothing is written unless all of it is valid."""
    files = files or load_all()
    problems = validate_files(files)
    if problems:
        raise InvalidKnowledge(problems)
    return repos.knowledge.import_knowledge(files.entries(), files.documents, files.synonyms, force=force)


@dataclass
class App:
    settings: Settings
    db: Database
    repos: Repositories
    knowledge: LiveKnowledge
    stations: LiveStations | None = field(default=None)

    def __post_init__(self):
        if self.stations is None:
            self.stations = LiveStations(self.repos, self.settings.kb_refresh_seconds)


def _import_changed_files(repos: Repositories) -> ImportReport | None:
    """The shipped files, imported unless the last clean import read these very files (then importing
    again would change nothing). An import that kept an admin's edit over a changed file is not
    recorded, so the conflict is reported at every start until `kb import --force` or a new edit."""
    current = fingerprint()
    if repos.knowledge.imported_fingerprint() == current:
        return None
    report = import_files(repos)
    if not report.conflicts:
        repos.knowledge.record_import(current)
    return report


def _prepare_database(db: Database, repos: Repositories, load_knowledge: bool) -> ImportReport | None:
    """Migrate and import; a second process doing the same at the same moment makes one of the two
    fail on a duplicate table or row, and that one simply tries again and finds the work done."""
    for attempt in range(4):
        try:
            db.migrate()
            return _import_changed_files(repos) if load_knowledge else None
        except HalfMadeSchema as exc:
            raise SetupError(str(exc)) from None
        except (OperationalError, IntegrityError, ProgrammingError):
            if attempt == 3:
                raise
            time.sleep(0.2 * (attempt + 1))
    return None


def open_app(settings: Settings | None = None, load_knowledge: bool = True) -> App:
    """Migrates the database and loads the knowledge files (idempotent; admin edits are kept)."""
    settings = settings or load_settings()
    db = Database(settings.database_url)
    repos = Repositories(db, RetentionPolicy(settings.query_log_retention_days, settings.refusal_audit_retention_days))
    report = _prepare_database(db, repos, load_knowledge)
    if report is not None:
        if report.changed:
            log.info("knowledge imported: %d added, %d updated", len(report.added), len(report.updated))
        for entry_id in report.conflicts:
            log.warning("kept the admin's edit of %s; the file changed too (kb import --force to overwrite)",
                        entry_id)
    if load_knowledge and load_examples_if_empty(repos):
        log.info("stations table was empty: loaded the example stations (not real places)")
    if settings.admin_ids:
        repos.admins.ensure(settings.admin_ids, added_by="settings")
    return App(settings, db, repos, LiveKnowledge(repos, settings.kb_refresh_seconds, settings.embedding_model))
