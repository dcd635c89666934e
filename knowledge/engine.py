"""The answer engine: one question (the user's district, the conversation so far) in, one honest answer out.

Plain and synchronous: Telegram handlers, the console and the CLI all call
`AnswerEngine.answer`. The pipeline, each step in its own module:

    prepare (question.py, message.py) → retrieve (matcher.py lexical, semantic.py)
    → fuse (fusion.py) → decide (decision.py) → compose (compose.py)

It never states a fact that is not in an entry or, for the passage fallback, a
quoted sentence of a source document.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import aspects, compose, followup
from .answer import BOT_CATEGORY, HOTLINE, Answer, SourceCitation, Suggestion, tidy, where_to_ask
from .decision import Decision, DecisionParams, decide
from .districts import DISTRICTS, canonical_district, foreign_place
from .conversation import Turn
from .embedding import PASSAGE, QUERY, Vectorizer
from .fusion import Candidate, best_lexical, fuse
from .matcher import PhrasingIndex, Prepared, TextPreparer
from .model import FaqEntry, SourceDocument
from .normalize import SynonymMap
from .passages import PassageIndex
from .question import SEMANTIC_CHARS, Question, QuestionReader, syllables
from .semantic import SemanticIndex

__all__ = ["HOTLINE", "BOT_CATEGORY", "Answer", "AnswerEngine", "SourceCitation", "Suggestion", "tidy",
           "where_to_ask"]

DECISION_CACHE = 4096    # readings whose decision is kept (see AnswerEngine.__init__)
LEXICAL_LIMIT = 12       # candidates each lexical variant contributes
SEMANTIC_LIMIT = 10      # candidates the semantic retriever contributes
ASKING_LIMIT = 5         # … and from a long message's asking clauses alone
MIN_SYLLABLES = 2        # "好", "123456": under two syllables is never a confident question
BARE_SYLLABLES = 3       # a message this short with no topic of its own is read against the last turn
NEW_PART_COVERAGE = 0.75 # a follow-up's reading must explain this much of what the follow-up adds
NEWER_DOCUMENT_MARGIN = 0.15   # how much more of the question a new document's sentence must explain


@dataclass
class Retrieval:
    """Everything the decision sees for one question (also what bench/fit_decision.py learns from)."""
    question: Question
    candidates: list[Candidate]
    vector: np.ndarray | None = None      # the question's embedding, when the semantic retriever is on


class AnswerEngine:
    """An immutable index over one version of the knowledge base."""

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
        self.entries = [e for e in entries if e.active]
        self.by_id = {e.id: e for e in self.entries}
        self.documents = {d.id: d for d in documents}
        self.categories = categories or []
        self.preparer = TextPreparer(SynonymMap(synonyms or []))
        category_texts = {c["name"]: self.preparer.prepare(c["name"]).text for c in self.categories}
        self.reader = QuestionReader(self.preparer, category_texts)
        items: list[tuple[int, Prepared]] = []
        context: list[tuple[int, Prepared]] = []
        for i, e in enumerate(self.entries):
            for text in (e.question, *e.alternates, *e.keywords):
                items.append((i, self.preparer.prepare(text)))
            for text in (e.answer, *(s.quote for s in e.sources)):
                context.append((i, self.preparer.prepare(text)))
        self.passages = PassageIndex(self.preparer, documents, vectors)
        # Documents no entry cites yet (an admin's new article): their sentences may beat an entry.
        self._uncited_documents = set(self.documents) - {s.document for e in self.entries for s in e.sources}
        self.index = PhrasingIndex(items, background=self.passages.prepared_sentences(), context=context)
        self._own_or_general = {d.name: frozenset(i for i, e in enumerate(self.entries) if e.district in (None, d.name))
                                for d in DISTRICTS}
        self._districts = [e.district for e in self.entries]
        # Each entry's keywords as the matcher reads them, with how many entries share each.
        keyword_texts = [[t for t in dict.fromkeys(self.preparer.prepare(k).text for k in e.keywords) if len(t) >= 2]
                         for e in self.entries]
        shared: dict[str, int] = {}
        for texts in keyword_texts:
            for t in texts:
                shared[t] = shared.get(t, 0) + 1
        self._keywords = [[(t, 1.0 / shared[t]) for t in texts] for texts in keyword_texts]
        self._categories = [e.category for e in self.entries]
        self.params = params or DecisionParams.load()
        self.vectors = vectors
        self.semantic: SemanticIndex | None = None
        self._answer_vectors: np.ndarray | None = None
        if vectors is not None and self.entries:
            self._build_semantic(vectors)
        self.model = self.params.for_mode(self.semantic is not None)

    def _build_semantic(self, vectors: Vectorizer) -> None:
        keys, texts = [], []
        for i, e in enumerate(self.entries):
            for text in dict.fromkeys((e.question, *e.alternates)):
                keys.append(i)
                texts.append(text)
        self.semantic = SemanticIndex(keys, vectors.vectors(texts, QUERY))
        self._answer_vectors = vectors.vectors([tidy(e.answer) for e in self.entries], PASSAGE)
        self._masks = {d: self.semantic.mask_of(keys) for d, keys in self._own_or_general.items()}

    # ------------------------------------------------------------------ answering
    def answer(self, question: str | None, district: str | None = None, history: Sequence[Turn] = ()) -> Answer:
        """The reply to one message. `history`: the conversation's recent turns, oldest first
        (knowledge.conversation.recent), for follow-ups such as "那富阳呢"."""
        q = self.reader.read(question, district)
        early = self._before_retrieval(q)
        if early is not None and not (history and early.kind == "greeting" and q.named):
            return early          # a bare district name after a question is a follow-up ("建德呢"), not a greeting
        reading, (decision, vector), continued = self._resolve(q, history)
        answer = self._compose(reading, decision, vector, aspects.asked(q.read.questions() or q.read.focus or q.read.clean))
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
        retrieval = self.retrieve(q)
        result = decide(q, retrieval.candidates, [self._districts[c.key] for c in retrieval.candidates],
                        [self._categories[c.key] for c in retrieval.candidates], self.model), retrieval.vector
        if self.decision_cache_size > 0:
            with self._cache_lock:
                self._decisions[key] = result
                while len(self._decisions) > self.decision_cache_size:
                    self._decisions.popitem(last=False)
        return result

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

    def retrieve(self, q: Question) -> Retrieval:
        """Both retrievers' candidates for the question, fused, each with both retrievers' evidence."""
        district = q.district
        allowed = self._own_or_general.get(district) if district else None
        variants = q.variants
        lexical = [{h.key: h for h in self.index.search(v, allowed, LEXICAL_LIMIT)} for v in variants]
        keys = list(dict.fromkeys(k for hits in lexical for k in hits))
        cos = cos_ans = cos_ask = qvec = None
        if self.semantic is not None:
            mask = self._masks.get(district) if district else None
            qvec = self.vectors.query(q.semantic_text)
            cos, _ = self.semantic.best_per_key(qvec)
            cos_ans = self._answer_vectors @ qvec
            found = [h.key for h in self.semantic.search(qvec, mask, SEMANTIC_LIMIT)]
            if q.read.is_long and q.asking.text and q.asking is not q.focus:
                # A long message is also read by its asking clauses alone: the story around them can
                # pull the whole message toward a neighbouring topic.
                avec = self.vectors.query(q.read.asking()[:SEMANTIC_CHARS])
                cos_ask, _ = self.semantic.best_per_key(avec)
                found += [h.key for h in self.semantic.search(avec, mask, ASKING_LIMIT)]
            keys = list(dict.fromkeys([*keys, *found]))
        for v, hits in zip(variants, lexical):        # every candidate scored by every variant
            missing = [k for k in keys if k not in hits]
            if missing:
                hits.update(self.index.score(v, missing))
        candidates = fuse(best_lexical(lexical), cos, cos_ans, keys, cos_ask)
        asking = next((hits for v, hits in zip(variants, lexical) if v.code == q.asking.code), None)
        last = self.index.score(q.last, [c.key for c in candidates]) if q.last is not q.asking else None
        for c in candidates:
            c.keyword = max((w for t, w in self._keywords[c.key] if t in q.full.text), default=0.0)
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
        passage = self.passages.best(q.focus if q.read.is_long else q.full, district, vector)
        if decision.outcome == "answer" and syllables(q.full.code) >= MIN_SYLLABLES:
            entry = self.entries[best.key]
            own = self._own_instead(q, ranked)
            if own is not None:
                best, entry = own, self.entries[own.key]
            if passage is not None and passage.document.id in self._uncited_documents \
                    and passage.coverage >= best.cov + NEWER_DOCUMENT_MARGIN:
                # A newer document names what the question asks and the entry does not ("骑手暖心驿站").
                return compose.from_passage(passage.document, passage.sentence, passage.score, district,
                                            [compose.suggestion(entry)])
            spread = self._spread(q, ranked)
            if spread is not None:
                return spread
            second = self._close_second(ranked, best)
            if second is not None:
                return self._entry_answer(entry, score, district, ranked, aspect, self.entries[second.key])
            return self._entry_answer(entry, score, district, ranked, aspect)
        if passage is not None:
            suggestions = [compose.suggestion(self.entries[c.key]) for c in ranked[:3] if c.prob >= self.model.suggest]
            return compose.from_passage(passage.document, passage.sentence, passage.score, district, suggestions)
        if decision.outcome == "decline":
            return compose.out_of_scope(district, score)
        if aspect is not None and best is not None and best.prob >= self.model.detail:
            # On topic, asking a detail: what the sources say on the topic, and plainly that they do not say it.
            entry = self.entries[best.key]
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
            e = self.entries[c.key]
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
        entry = self.entries[best.key]
        if entry.district is None:
            return None
        floor = self.model.spread * best.prob
        close = [c for c in ranked[1:] if c.prob >= floor and self._categories[c.key] == entry.category]
        if not any(self._districts[c.key] not in (None, entry.district) for c in close):
            return None
        overview = next((c for c in close if self._districts[c.key] is None), None)
        if overview is not None:
            e = self.entries[overview.key]
            return self._entry_answer(e, 100 * overview.prob, None, ranked, None)
        per_district: dict[str, FaqEntry] = {entry.district: entry}
        for c in close:
            d = self._districts[c.key]
            if d is not None and d not in per_district:
                per_district[d] = self.entries[c.key]
        return compose.pick_district(list(per_district.values()), 100 * best.prob)

    def _related(self, entry: FaqEntry, ranked: list[Candidate]) -> list[Suggestion]:
        related = [compose.suggestion(self.entries[c.key]) for c in ranked[1:]
                   if self.entries[c.key].id != entry.id and c.prob >= self.model.suggest][:3]
        if len(related) < 3:
            for other in self.entries_in(entry.category, entry.district):
                if other.id != entry.id and all(r.faq_id != other.id for r in related):
                    related.append(compose.suggestion(other))
                if len(related) >= 3:
                    break
        return related

    def answer_entry(self, faq_id: str, district: str | None = None) -> Answer | None:
        """The answer for a chosen entry (a tapped suggestion or topic)."""
        entry = self.by_id.get(faq_id)
        if entry is None:
            return None
        return compose.from_entry(entry, 100.0, canonical_district(district) or entry.district, self.documents,
                                  self._related(entry, []))

    # ------------------------------------------------------------------ browsing
    def topics(self, district: str | None = None) -> list[tuple[dict, int]]:
        counts: dict[str, int] = {}
        for e in self._visible(district):
            counts[e.category] = counts.get(e.category, 0) + 1
        return [(c, counts[c["name"]]) for c in self.categories if counts.get(c["name"])]

    def entries_in(self, category: str, district: str | None = None) -> list[FaqEntry]:
        items = [e for e in self._visible(district) if e.category == category]
        return sorted(items, key=lambda e: (e.district is not None, e.district or "", e.id))

    def search_entries(self, text: str, district: str | None = None, limit: int = 10) -> list[FaqEntry]:
        """Entries for an inline query or an admin search, best first (no threshold)."""
        q = self.reader.read(text, district)
        if not q.full.code:
            return []
        retrieval = self.retrieve(q)
        decision = decide(q, retrieval.candidates, [self._districts[c.key] for c in retrieval.candidates],
                          [self._categories[c.key] for c in retrieval.candidates], self.model)
        return [self.entries[c.key] for c in decision.ranked[:limit] if c.prob >= self.model.suggest]

    def _visible(self, district: str | None) -> list[FaqEntry]:
        district = canonical_district(district)
        return [e for e in self.entries if district is None or e.district in (None, district)]
