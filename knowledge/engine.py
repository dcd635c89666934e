"""The answer engine: one question (the user's district, the conversation so far) in, one honest answer out.

Plain and synchronous: Telegram handlers, the console and the CLI all call
`AnswerEngine.answer`. The pipeline, each step in its own module:

    prepare (question.py, message.py) → retrieve (matcher.py lexical, semantic.py)
    → fuse (fusion.py) → decide (decision.py) → compose (compose.py)

It never states a fact that is not in an entry or, for the passage fallback, a
quoted sentence of a source document.
"""
from __future__ import annotations

import heapq
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass

import numpy as np

from . import aspects, compose, followup
from .answer import BOT_CATEGORY, HOTLINE, Answer, SourceCitation, Suggestion, tidy, where_to_ask
from .conversation import Turn
from .decision import Decision, DecisionParams, ModelParams, decide
from .districts import DISTRICTS, canonical_district, foreign_place
from .embedding import PASSAGE, QUERY, Vectorizer
from .fusion import Candidate, best_lexical, fuse
from .indexing import Blocks, ReadWriteLock, changes, side_pool
from .matcher import PhrasingIndex, Prepared, TextPreparer
from .model import FaqEntry, SourceDocument
from .normalize import SynonymMap
from .passages import PassageIndex
from .question import Question, QuestionReader, syllables
from .semantic import SemanticIndex

__all__ = ["HOTLINE", "BOT_CATEGORY", "Answer", "AnswerEngine", "SourceCitation", "Suggestion", "tidy",
           "where_to_ask"]

DECISION_CACHE = 4096    # readings whose decision is kept (see AnswerEngine.__init__)
LEXICAL_LIMIT = 12       # candidates each lexical variant contributes
SEMANTIC_LIMIT = 10      # candidates the semantic retriever contributes
MIN_SYLLABLES = 2        # "好", "123456": under two syllables is never a confident question
BARE_SYLLABLES = 3       # a message this short with no topic of its own is read against the last turn
NEW_PART_COVERAGE = 0.75 # a follow-up's reading must explain this much of what the follow-up adds
NEWER_DOCUMENT_MARGIN = 0.15   # how much more of the question a new document's sentence must explain
MEMO = 20_000            # normalised texts remembered while building (repeated quotes), at most
INCREMENTAL_LIMIT = 50   # more changed entries than this: AnswerEngine.apply declines, the caller rebuilds


@dataclass
class Retrieval:
    """Everything the decision sees for one question (also what bench/fit_decision.py learns from)."""
    question: Question
    candidates: list[Candidate]
    vector: np.ndarray | None = None      # the question's embedding, when the semantic retriever is on


def _by_id(entry: FaqEntry) -> str:
    return entry.id


class AnswerEngine:
    """An index over one version of the knowledge base; `apply` moves it to the next version in place."""

    def __init__(self, entries: list[FaqEntry], documents: list[SourceDocument],
                 synonyms: list[list[str]] | None = None, categories: list[dict] | None = None,
                 version: int = 0, vectors: Vectorizer | None = None, params: DecisionParams | None = None,
                 decision_cache: int = DECISION_CACHE):
        self.version = version
        # Retrieval and the decision on one reading (text, district) are the costly part of a reply and
        # do not depend on the conversation: a follow-up's standalone reading, or the same question from
        # another user, reuses them. The reply itself is composed afresh each time.
        self._decisions: OrderedDict[tuple, tuple[Decision, np.ndarray | None]] = OrderedDict()
        self.decision_cache_size = decision_cache
        self._cache_lock = threading.Lock()
        self._slots: list[FaqEntry | None] = [e for e in entries if e.active]   # key -> entry (None: removed)
        self.by_id = {e.id: e for e in self._slots}
        self._key_of = {e.id: i for i, e in enumerate(self._slots)}
        self.documents = {d.id: d for d in documents}
        self._document_list = list(documents)
        self._synonym_lists = synonyms or []
        self.categories = categories or []
        self.preparer = TextPreparer(SynonymMap(synonyms or []))
        category_texts = {c["name"]: self.preparer.prepare(c["name"]).text for c in self.categories}
        self.reader = QuestionReader(self.preparer, category_texts)
        self.passages = PassageIndex(self.preparer, documents, vectors)
        memo: dict[str, Prepared] = {}        # quotes (and answers) repeat across entries: prepare each once
        prepared: list[list[Prepared]] = []       # each entry's keywords, normalised (filed below)

        def per_key():
            for i, e in enumerate(self._slots):
                phrasings, context = self._prepared(e, memo)
                prepared.append(_keyword_part(phrasings, e))
                yield i, phrasings, context
        self.index = PhrasingIndex.by_key(per_key(), background=self.passages.prepared_sentences())
        memo.clear()
        # Per district, the keys of its own and of general entries (a filter for both retrievers).
        self._masks = {d.name: np.zeros(len(self._slots), dtype=bool) for d in DISTRICTS}
        self._by_group: dict[tuple[str, str | None], set[int]] = {}     # (category, district) -> keys
        self._cited: dict[str, int] = {}                                # document id -> entries citing it
        self._keywords: list[list[str]] = []
        self._shared: dict[str, int] = {}          # keyword text -> entries that have it
        self._districts: list[str | None] = []
        self._categories: list[str | None] = []
        for i, e in enumerate(self._slots):
            self._districts.append(None)
            self._categories.append(None)
            self._keywords.append([])
            self._file(i, e, prepared[i])
        prepared.clear()
        self.params = params or DecisionParams.load()
        self.vectors = vectors
        self.semantic: SemanticIndex | None = None
        self._answer_index: SemanticIndex | None = None
        if vectors is not None and self._slots:
            self._build_semantic(vectors)
        self.model = self.params.for_mode(self.semantic is not None)
        self._rw = ReadWriteLock()

    def _prepared(self, e: FaqEntry, memo: dict[str, Prepared] | None = None) -> tuple[list[Prepared], list[Prepared]]:
        """An entry's phrasings (question, alternates, keywords) and context (answer, quotes), normalised."""
        memo = {} if memo is None else memo
        if len(memo) > MEMO:
            memo.clear()
        prep = lambda t: memo.get(t) or memo.setdefault(t, self.preparer.prepare(t))  # noqa: E731
        return ([prep(t) for t in (e.question, *e.alternates, *e.keywords)],
                [prep(t) for t in (e.answer, *(s.quote for s in e.sources))])

    def _file(self, key: int, e: FaqEntry, keywords: list[Prepared]) -> None:
        """Files one entry's district, category, keywords and citations under its key."""
        self._districts[key], self._categories[key] = e.district, e.category
        for d, mask in self._masks.items():
            if key >= len(mask):
                mask = self._masks[d] = np.r_[mask, np.zeros(max(key + 1 - len(mask), len(mask) // 4), dtype=bool)]
            mask[key] = e.district in (None, d)
        self._by_group.setdefault((e.category, e.district), set()).add(key)
        for s in e.sources:
            self._cited[s.document] = self._cited.get(s.document, 0) + 1
        # Each entry's keywords as the matcher reads them; their weight is 1 / how many entries share them.
        texts = [t for t in dict.fromkeys(k.text for k in keywords) if len(t) >= 2]
        self._keywords[key] = texts
        for t in texts:
            self._shared[t] = self._shared.get(t, 0) + 1

    def _unfile(self, key: int, e: FaqEntry) -> None:
        for mask in self._masks.values():
            mask[key] = False
        self._by_group[(e.category, e.district)].discard(key)
        for s in e.sources:
            self._cited[s.document] -= 1
        for t in self._keywords[key]:
            self._shared[t] -= 1
        self._keywords[key] = []
        self._districts[key] = self._categories[key] = None

    @property
    def entries(self) -> list[FaqEntry]:
        """The active entries."""
        return [e for e in self._slots if e is not None]

    @property
    def _uncited_documents(self) -> set[str]:
        """Documents no entry cites yet (an admin's new article): their sentences may beat an entry."""
        return {d for d in self.documents if not self._cited.get(d)}

    def _build_semantic(self, vectors: Vectorizer) -> None:
        keys, texts = [], []
        for i, e in enumerate(self._slots):
            for text in dict.fromkeys((e.question, *e.alternates)):
                keys.append(i)
                texts.append(text)
        self.semantic = SemanticIndex(keys, Blocks(vectors, texts, QUERY))
        self._answer_index = SemanticIndex(list(range(len(self._slots))),
                                           Blocks(vectors, [tidy(e.answer) for e in self._slots], PASSAGE))
        self.semantic.prepare()

    # ------------------------------------------------------------------ editing
    def apply(self, entries: list[FaqEntry], documents: list[SourceDocument], synonyms: list[list[str]] | None,
              version: int, limit: int = INCREMENTAL_LIMIT) -> bool:
        """Brings the engine in place to a new version of the knowledge base when only a few entries changed
        (an admin's edit): the answers are a rebuild's. False, and nothing changed, when a rebuild is needed
        (documents or synonyms changed, or more than `limit` entries)."""
        if list(documents) != self._document_list or (synonyms or []) != self._synonym_lists \
                or (self.vectors is not None and self.semantic is None):
            return False
        upserts, retired = changes(self.by_id, entries)
        if len(upserts) + len(retired) > limit:
            return False
        prepared = [(e, *self._prepared(e)) for e in upserts]        # outside the lock: answers go on
        vectors = [(self.vectors.vectors(list(dict.fromkeys((e.question, *e.alternates))), QUERY),
                    self.vectors.vectors([tidy(e.answer)], PASSAGE)) if self.semantic is not None else None
                   for e in upserts]
        with self._rw.writing():
            for faq_id in retired:
                key = self._key_of.pop(faq_id)
                self._unfile(key, self.by_id.pop(faq_id))
                self._slots[key] = None
                self.index.remove(key)
                if self.semantic is not None:
                    self.semantic.remove(key)
                    self._answer_index.remove(key)
            for (e, phrasings, context), vecs in zip(prepared, vectors, strict=True):
                key = self._key_of.get(e.id)
                if key is None:
                    key = self._key_of[e.id] = len(self._slots)
                    self._slots.append(None)
                    self._districts.append(None)
                    self._categories.append(None)
                    self._keywords.append([])
                else:
                    self._unfile(key, self.by_id[e.id])
                self._slots[key] = self.by_id[e.id] = e
                self._file(key, e, _keyword_part(phrasings, e))
                self.index.update(key, phrasings, context)
                if vecs is not None:
                    self.semantic.update(key, vecs[0])
                    self._answer_index.update(key, vecs[1])
            self.version = version
            with self._cache_lock:
                self._decisions.clear()
        return True

    # ------------------------------------------------------------------ answering
    def answer(self, question: str | None, district: str | None = None, history: Sequence[Turn] = ()) -> Answer:
        """The reply to one message. `history`: the conversation's recent turns, oldest first
        (knowledge.conversation.recent), for follow-ups such as "那富阳呢"."""
        with self._rw.reading():
            return self._answer(question, district, history)

    def _answer(self, question: str | None, district: str | None, history: Sequence[Turn]) -> Answer:
        q = self.reader.read(question, district)
        early = self._before_retrieval(q)
        if early is not None and not (history and early.kind == "greeting" and q.named):
            return early          # a bare district name after a question is a follow-up ("建德呢"), not a greeting
        reading, (decision, vector), continued = self._resolve(q, history)
        asked = aspects.asked(q.read.questions() or q.read.focus or q.read.clean)
        answer = self._compose(reading, decision, vector, asked)
        answer.continued = continued
        # What a later follow-up is read against: the answering entry's own question names the topic best.
        entry = self.by_id.get(answer.faq_id) if answer.faq_id else None
        answer.resolved = entry.question if entry else (reading.read.focus or reading.read.clean)
        return answer

    def _decide(self, q: Question) -> tuple[Decision, np.ndarray | None]:
        """The decision on one reading of the message, and the reading's embedding (for passages)."""
        key = (q.raw, q.user_district)
        with self._cache_lock:
            hit = self._decisions.get(key)
            if hit is not None:
                self._decisions.move_to_end(key)
                return hit
        # A big index's semantic scan costs about what the lexical search does, and runs in numpy and the
        # model without the GIL: for a long message (which needs it three times in four) it starts first,
        # on another core. At 100,000 entries that took chatty messages' p50 from 41 to 31 ms; on the
        # shipped knowledge base (an exact index) it gained nothing, so it is not done there.
        ahead = side_pool().submit(self._semantic_hits, q) \
            if self.semantic is not None and not self.semantic.exact and q.read.is_long else None
        try:
            lexical = self.lexical_hits(q) if self._cascading else None
            result = self._sure_without_embedding(q, lexical)
            if result is None:
                retrieval = self.retrieve(q, lexical=lexical, semantic_hits=ahead)
                result = self._decision(q, retrieval, self.model), retrieval.vector
        finally:
            if ahead is not None:
                wait([ahead])        # never left reading the index once this answer is done (an edit may follow)
        if self.decision_cache_size > 0:
            with self._cache_lock:
                self._decisions[key] = result
                while len(self._decisions) > self.decision_cache_size:
                    self._decisions.popitem(last=False)
        return result

    @property
    def _cascading(self) -> bool:
        return self.semantic is not None and self.model.cascade <= 1.0

    def _decision(self, q: Question, retrieval: Retrieval, model: ModelParams) -> Decision:
        cands = retrieval.candidates
        return decide(q, cands, [self._districts[c.key] for c in cands], [self._categories[c.key] for c in cands],
                      model)

    def _sure_without_embedding(self, q: Question, lexical: list[dict] | None = None) -> tuple[Decision, None] | None:
        """The lexical-only decision, when it answers at least as surely as the fitted `cascade` level
        (bench/fit_decision.py --cascade: a step safer than the lowest level at which no labelled reply
        changes): most plain questions are settled by their words, and embedding them is most of the cost."""
        if not self._cascading:
            return None
        retrieval = self.retrieve(q, semantic=False, lexical=lexical)
        decision = self._decision(q, retrieval, self.params.lexical)
        if decision.outcome == "answer" and decision.best.prob >= self.model.cascade:
            return decision, None
        return None

    def _resolve(self, q: Question, history: Sequence[Turn]) -> tuple[Question, tuple, str | None]:
        """The reading of the message to answer: on its own, or against the last turn (knowledge.followup).
        Returns (reading, decision, the earlier question it continued or None)."""
        last = history[-1] if history else None
        if last is None:
            return q, self._decide(q), None
        # The conversation's district carries over to a message that names none.
        alone_q = q if q.named or not last.district else self.reader.read(q.raw, last.district)
        alone = self._decide(alone_q) if q.full.code else (Decision("decline", []), None)
        bare = syllables(q.focus.code) <= BARE_SYLLABLES       # "多少人", "怎么申请": no topic of its own
        marked = bare or followup.continues(q.read.clean)
        answered = alone[0].outcome == "answer"
        if answered and not marked and alone[0].best.prob >= self.model.pair_below:
            return alone_q, alone, None        # sure on its own: the last turn does not bend it
        district = q.named[0] if q.named else (last.district or q.user_district)
        new = self.preparer.prepare(followup.new_part(q.read.clean))
        best: tuple[tuple, Question, tuple] | None = None
        for text in followup.readings(q.read.clean, last):
            rq = self.reader.read(text, district)
            if not rq.full.code:
                continue
            d = self._decide(rq)
            top = d[0].best
            if top is None:
                continue
            # A sibling ("本科呢") must be about what is new, not the last turn's item ("大专").
            covers = self.index.score(new, [top.key]).get(top.key) if new.code else None
            rank = ((covers.coverage if covers else 0.0) >= NEW_PART_COVERAGE or not new.code, top.prob)
            if best is None or rank > best[0]:
                best = (rank, rq, d)
        # Unmarked, with a topic of its own (on the bot's subjects but matching no entry, or a subject the
        # union does not run) that the earlier entry does not cover: "工会能帮我修自行车吗" or "公积金怎么取"
        # after a 体检 question is a new question, however sure the old topic is. "都跟谁签的" has none.
        own_topic = best is not None and not (best[0][0] or marked) and \
            (alone[0].outcome == "choices" or alone_q.other_topic)
        if best is not None and best[2][0].outcome == "answer" and not own_topic and \
                (not answered or best[2][0].best.prob >= alone[0].best.prob or marked):
            return best[1], best[2], last.question
        return alone_q, alone, None

    def _before_retrieval(self, q: Question) -> Answer | None:
        """Messages that need no search: empty, pleasantries, a bare district, a place we do not serve."""
        if not q.plain:
            return compose.empty(q.district)
        if q.read.only_pleasantries or (not q.full.code and not q.named):
            return compose.thanks(q.district) if q.read.is_thanks else compose.greeting(q.district)
        if not q.full.code:
            return compose.district_overview(q.district, [c["name"] for c, _ in self.topics(q.district)])
        place = None if q.named else foreign_place(q.read.clean, q.read.asking() if q.read.is_long else None)
        if place:
            return compose.foreign(place)
        return None

    def _allowed(self, q: Question) -> np.ndarray | None:
        """The keys the question may be answered from: its district's and the general ones (None: all)."""
        return self._masks.get(q.district) if q.district else None

    def lexical_hits(self, q: Question) -> list[dict]:
        """The lexical retriever's hits for each reading of the question (whole, focus, asking clauses)."""
        allowed = self._allowed(q)
        return [{h.key: h for h in self.index.search(v, allowed, LEXICAL_LIMIT)} for v in q.variants]

    def _semantic_hits(self, q: Question) -> tuple[np.ndarray, list]:
        """The question's embedding and the semantic retriever's best keys."""
        qvec = self.vectors.query(q.semantic_text)
        return qvec, self.semantic.search(qvec, self._allowed(q), SEMANTIC_LIMIT)

    def retrieve(self, q: Question, semantic: bool = True, lexical: list[dict] | None = None,
                 semantic_hits: Future | None = None) -> Retrieval:
        """Both retrievers' candidates for the question, fused, each with both retrievers' evidence
        (`semantic=False`: the lexical retriever's alone, as the lexical-only engine finds them).
        `lexical`: lexical_hits(q) already found (the cascade's), not searched again; every candidate's
        score by every reading is added to it in place, so the cascade's are not computed twice.
        `semantic_hits`: _semantic_hits(q) already under way."""
        variants = q.variants
        if lexical is None:
            lexical = self.lexical_hits(q)
        keys = list(dict.fromkeys(k for hits in lexical for k in hits))
        cos = cos_ans = qvec = None
        if self.semantic is not None and semantic:
            qvec, hits = semantic_hits.result() if semantic_hits is not None else self._semantic_hits(q)
            keys = list(dict.fromkeys([*keys, *(h.key for h in hits)]))
            # Every candidate's cosines (a small index computes them for all keys at once).
            cos = self.semantic.key_cosines(qvec, keys)
            cos_ans = self._answer_index.key_cosines(qvec, keys)
        for v, hits in zip(variants, lexical, strict=True):        # every candidate scored by every variant
            missing = [k for k in keys if k not in hits]
            if missing:
                hits.update(self.index.score(v, missing))
        candidates = fuse(best_lexical(lexical), cos, cos_ans, keys)
        asking = next((hits for v, hits in zip(variants, lexical, strict=True) if v.code == q.asking.code), None)
        last = self.index.score(q.last, [c.key for c in candidates]) if q.last is not q.asking else None
        for c in candidates:
            c.keyword = max((1.0 / self._shared[t] for t in self._keywords[c.key] if t in q.full.text), default=0.0)
            hit = asking.get(c.key) if asking is not None else None
            c.lex_ask = hit.score / 100.0 if hit else 0.0
            if last is None:
                c.lex_last = c.lex_ask
            else:
                hit = last.get(c.key)
                c.lex_last = hit.score / 100.0 if hit else 0.0
        return Retrieval(q, candidates, qvec)

    def _compose(self, q: Question, decision: Decision, vector: np.ndarray | None,
                 aspect: aspects.Aspect | None = None) -> Answer:
        ranked = decision.ranked
        best = decision.best
        district = q.district
        score = 100 * best.prob if best else 0.0

        def best_passage():
            return self.passages.best(q.focus if q.read.is_long else q.full, district, vector)

        if decision.outcome == "answer" and syllables(q.full.code) >= MIN_SYLLABLES:
            entry = self._slots[best.key]
            own = self._own_instead(q, ranked)
            if own is not None:
                best, entry = own, self._slots[own.key]
            uncited = self._uncited_documents
            # Only a document no entry cites can beat an entry: with none, its sentences are not searched.
            passage = best_passage() if uncited else None
            if passage is not None and passage.document.id in uncited \
                    and passage.coverage >= best.cov + NEWER_DOCUMENT_MARGIN:
                # A newer document names what the question asks and the entry does not ("骑手暖心驿站").
                return compose.from_passage(passage.document, passage.sentence, passage.score, district,
                                            [compose.suggestion(entry)])
            spread = self._spread(q, ranked)
            if spread is not None:
                return spread
            second = self._close_second(ranked, best)
            if second is not None:
                return self._entry_answer(entry, score, district, ranked, aspect, self._slots[second.key])
            return self._entry_answer(entry, score, district, ranked, aspect)
        passage = best_passage()
        if passage is not None:
            suggestions = [compose.suggestion(self._slots[c.key]) for c in ranked[:3] if c.prob >= self.model.suggest]
            return compose.from_passage(passage.document, passage.sentence, passage.score, district, suggestions)
        if decision.outcome == "decline":
            return compose.out_of_scope(district, score)
        if aspect is not None and best is not None and best.prob >= self.model.detail:
            # On topic, asking a detail: what the sources say on the topic, and plainly that they do not say it.
            entry = self._slots[best.key]
            if aspects.evidence(aspect, [s.quote for s in entry.sources]) is None:
                return self._entry_answer(entry, score, district, ranked, aspect)
        options = self._options(ranked)
        if len(options) >= 2:
            return compose.choices(options, district, score)
        return compose.not_found(district, options, [], score, next(iter(q.themes), None))

    def _close_second(self, ranked: list[Candidate], best: Candidate) -> Candidate | None:
        """A runner-up so close to an unsure best that the reply should give both (same district scope)."""
        if self.model.pair <= 0 or best.prob >= self.model.pair_below:
            return None
        scope = (self._districts[best.key], None)
        return next((c for c in ranked if c is not best and c.prob >= self.model.pair * best.prob
                     and self._districts[c.key] in scope), None)

    def _entry_answer(self, entry: FaqEntry, score: float, district: str | None, ranked: list[Candidate],
                      aspect: aspects.Aspect | None, second: FaqEntry | None = None) -> Answer:
        """An entry's answer (or two close ones), led by a sentence on the aspect asked, if one was."""
        lead = ""
        if aspect is not None and entry.category != BOT_CATEGORY:
            quotes = [s.quote for e in (entry, second) if e for s in e.sources]
            said = aspects.evidence(aspect, quotes)
            lead = f"资料里写的是：「{said}」\n" if said else f"资料没有写明{aspect.label}。"
        related = [r for r in self._related(entry, ranked) if second is None or r.faq_id != second.id]
        if second is not None:
            answer = compose.pair(entry, second, score, district, self.documents, related, lead)
        else:
            answer = compose.from_entry(entry, score, district, self.documents, related, lead)
        answer.aspect = aspect.name if aspect else None
        return answer

    def _options(self, ranked: list[Candidate]) -> list[FaqEntry]:
        """The entries to offer when the question is on topic but no single one is sure: the most likely
        three, not two of one programme."""
        out: list[FaqEntry] = []
        for c in ranked:
            e = self._slots[c.key]
            if all((o.district, o.category) != (e.district, e.category) for o in out):
                out.append(e)
            if len(out) == 3:
                break
        return out

    def _own_instead(self, q: Question, ranked: list[Candidate]) -> Candidate | None:
        """District known, best is the cross-district overview: the district's own entry on the same theme,
        if it is close, answers for that district."""
        best = ranked[0]
        if q.district is None or self._districts[best.key] is not None:
            return None
        floor = self.model.own * best.prob
        return next((c for c in ranked[1:] if self._districts[c.key] == q.district and c.prob >= floor
                     and self._categories[c.key] == self._categories[best.key]), None)

    def _spread(self, q: Question, ranked: list[Candidate]) -> Answer | None:
        """No district known, and the best entry is one district's programme among several districts' close
        ones: the cross-district overview if there is one, else a choice per district. A fact only one district
        has is answered as that district's."""
        if q.district is not None or not ranked:
            return None
        best = ranked[0]
        entry = self._slots[best.key]
        if entry.district is None:
            return None
        floor = self.model.spread * best.prob
        close = [c for c in ranked[1:] if c.prob >= floor and self._categories[c.key] == entry.category]
        if not any(self._districts[c.key] not in (None, entry.district) for c in close):
            return None
        overview = next((c for c in close if self._districts[c.key] is None), None)
        if overview is not None:
            e = self._slots[overview.key]
            return self._entry_answer(e, 100 * overview.prob, None, ranked, None)
        per_district: dict[str, FaqEntry] = {entry.district: entry}
        for c in close:
            d = self._districts[c.key]
            if d is not None and d not in per_district:
                per_district[d] = self._slots[c.key]
        return compose.pick_district(list(per_district.values()), 100 * best.prob)

    def _related(self, entry: FaqEntry, ranked: list[Candidate]) -> list[Suggestion]:
        related = [compose.suggestion(self._slots[c.key]) for c in ranked[1:]
                   if self._slots[c.key].id != entry.id and c.prob >= self.model.suggest][:3]
        if len(related) < 3:
            for other in self.entries_in(entry.category, entry.district, first=7):   # self, 3 related, 3 more
                if other.id != entry.id and all(r.faq_id != other.id for r in related):
                    related.append(compose.suggestion(other))
                if len(related) >= 3:
                    break
        return related

    def answer_entry(self, faq_id: str, district: str | None = None) -> Answer | None:
        """The answer for a chosen entry (a tapped suggestion or topic)."""
        with self._rw.reading():
            return self._answer_entry(faq_id, district)

    def _answer_entry(self, faq_id: str, district: str | None) -> Answer | None:
        entry = self.by_id.get(faq_id)
        if entry is None:
            return None
        return compose.from_entry(entry, 100.0, canonical_district(district) or entry.district, self.documents,
                                  self._related(entry, []))

    # ------------------------------------------------------------------ browsing
    def topics(self, district: str | None = None) -> list[tuple[dict, int]]:
        with self._rw.reading():
            counts: dict[str, int] = {}
            for (category, d), keys in self._by_group.items():
                if self._visible_in(d, district):
                    counts[category] = counts.get(category, 0) + len(keys)
            return [(c, counts[c["name"]]) for c in self.categories if counts.get(c["name"])]

    def entries_in(self, category: str, district: str | None = None, first: int | None = None) -> list[FaqEntry]:
        """A category's entries for a district, general ones first; `first`: only that many (a big base)."""
        with self._rw.reading():
            groups = sorted(((d, keys) for (c, d), keys in self._by_group.items()
                             if c == category and self._visible_in(d, district) and keys),
                            key=lambda g: (g[0] is not None, g[0] or ""))   # general first, then by district
            out: list[FaqEntry] = []
            for _, keys in groups:                              # a big base: stop once `first` are found
                items = [self._slots[k] for k in keys]
                if first is None:
                    out.extend(sorted(items, key=_by_id))
                else:
                    out.extend(heapq.nsmallest(first - len(out), items, key=_by_id))
                    if len(out) >= first:
                        break
            return out

    def search_entries(self, text: str, district: str | None = None, limit: int = 10) -> list[FaqEntry]:
        """Entries for an inline query or an admin search, best first (no threshold)."""
        with self._rw.reading():
            return self._search_entries(text, district, limit)

    def _search_entries(self, text: str, district: str | None, limit: int) -> list[FaqEntry]:
        q = self.reader.read(text, district)
        if not q.full.code:
            return []
        decision = self._decision(q, self.retrieve(q), self.model)
        return [self._slots[c.key] for c in decision.ranked[:limit] if c.prob >= self.model.suggest]

    @staticmethod
    def _visible_in(entry_district: str | None, district: str | None) -> bool:
        district = canonical_district(district)
        return district is None or entry_district in (None, district)


def _keyword_part(phrasings: list[Prepared], e: FaqEntry) -> list[Prepared]:
    """An entry's keywords among its prepared phrasings (AnswerEngine._prepared puts them last)."""
    return phrasings[len(phrasings) - len(e.keywords):]
