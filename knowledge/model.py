"""Domain records shared by the files, the database and the engine (no ORM here)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from .districts import canonical_district


@dataclass(frozen=True)
class SourceRef:
    document: str
    quote: str


@dataclass
class FaqEntry:
    id: str
    question: str
    answer: str
    district: str | None
    category: str
    alternates: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    active: bool = True

    def content(self) -> dict:
        """The authored content, in file order; what revisions and hashes are taken of."""
        return {
            "id": self.id,
            "district": self.district,
            "category": self.category,
            "question": self.question,
            "alternates": list(self.alternates),
            "keywords": list(self.keywords),
            "answer": self.answer,
            "sources": [{"document": s.document, "quote": s.quote} for s in self.sources],
            **({} if self.active else {"active": False}),
        }

    def content_hash(self) -> str:
        blob = json.dumps(self.content(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    @classmethod
    def from_content(cls, data: dict) -> FaqEntry:
        return cls(
            id=str(data["id"]),
            question=str(data["question"]),
            answer=str(data["answer"]),
            district=canonical_district(data.get("district")) or data.get("district"),   # "临平" -> "临平区"
            category=str(data["category"]),
            alternates=[str(a) for a in data.get("alternates") or []],
            keywords=[str(k) for k in data.get("keywords") or []],
            sources=[SourceRef(str(s["document"]), str(s["quote"])) for s in data.get("sources") or []],
            active=bool(data.get("active", True)),
        )


@dataclass
class SourceDocument:
    id: str
    title: str
    district: str | None
    years: str
    publisher: str
    text: str
    union_text_ends_at: str | None = None
    # What the text reports unless a heading says otherwise: "done" (results) or "plan" (targets);
    # heading (its start) -> tense of the text under it. Read from sources.yaml; the fact checker
    # uses them to tell a target from a result.
    tense: str = ""
    tense_by_heading: dict[str, str] = field(default_factory=dict)

    def union_text(self) -> str:
        """The part of the article that is about the union (what the passage fallback searches)."""
        if self.union_text_ends_at and self.union_text_ends_at in self.text:
            return self.text.split(self.union_text_ends_at, 1)[0]
        return self.text

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Station:
    id: str
    name: str
    district: str | None
    latitude: float
    longitude: float
    kind: str = "爱心驿站"
    address: str | None = None
    hours: str | None = None
    services: list[str] = field(default_factory=list)
    is_example: bool = False
    active: bool = True
