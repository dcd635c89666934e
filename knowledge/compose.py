"""Composing the reply: the last step of the pipeline, after the decision.

Every reply the engine gives is built here, so its wording, its sources and what it
offers next are decided in one place. Facts come only from an entry's answer or a
quoted source sentence; everything else is framing ("资料没有写明…", where to ask).
"""
from __future__ import annotations

from .answer import BOT_CATEGORY, Answer, SourceCitation, Suggestion, tidy, where_to_ask
from .districts import DISTRICTS
from .model import FaqEntry, SourceDocument


def suggestion(entry: FaqEntry) -> Suggestion:
    return Suggestion(entry.id, entry.question, entry.district)


def citations(entry: FaqEntry, documents: dict[str, SourceDocument]) -> list[SourceCitation]:
    out = []
    for s in entry.sources:
        doc = documents.get(s.document)
        out.append(SourceCitation(doc.title if doc else s.document, s.document,
                                  (doc.district if doc else None) or entry.district or "",
                                  s.quote, doc.years if doc else ""))
    return out


def from_entry(entry: FaqEntry, score: float, district: str | None, documents: dict[str, SourceDocument],
               related: list[Suggestion], lead: str = "") -> Answer:
    body = tidy(entry.answer)
    return Answer(True, (lead + body) if lead else body, entry.id, score, entry.district or district,
                  citations(entry, documents), [], "faq", related, entry.category)


def pair(first: FaqEntry, second: FaqEntry, score: float, district: str | None,
         documents: dict[str, SourceDocument], related: list[Suggestion], lead: str = "") -> Answer:
    """Two close readings of the question: both answers, each under its own question, rather than a guess."""
    text = (f"{lead}您问的可能是下面两项中的一项，资料里分别是这样写的：\n\n"
            f"① {first.question}\n{tidy(first.answer)}\n\n② {second.question}\n{tidy(second.answer)}")
    return Answer(True, text, first.id, score, first.district or second.district or district,
                  citations(first, documents) + citations(second, documents), [], "faq", related, first.category)


def from_passage(doc: SourceDocument, sentence: str, score: float, district: str | None,
                 suggestions: list[Suggestion], lead: str = "") -> Answer:
    text = (f"{lead}没有找到现成的问答，以下是{doc.district or ''}资料原文的摘录，供参考：\n"
            f"「{sentence}」\n"
            f"摘录未必完整，具体条件和办理方式文中没有写明，{where_to_ask(doc.district or district)}")
    return Answer(True, text, None, score, doc.district or district,
                  [SourceCitation(doc.title, doc.id, doc.district or "", sentence, doc.years)],
                  suggestions, "passage", document=doc.id)


def choices(options: list[FaqEntry], district: str | None, score: float) -> Answer:
    """Several entries could be meant, or none: offer them, do not guess. The wording holds for both a
    broad question ("补贴") and one the sources do not cover ("工会能帮我修自行车吗")."""
    text = ("没有找到能直接回答这个问题的一条内容。您想问的可能是下面几项之一，点选即可看到答案；"
            "也可以说得具体一点（哪个区县、哪项福利）；仍有疑问的，" + where_to_ask(district))
    return Answer(False, text, None, score, district, suggestions=[suggestion(e) for e in options], kind="choices")


def pick_district(options: list[FaqEntry], score: float) -> Answer:
    """The same programme differs by district and the user named none: one choice per district."""
    names = "、".join(e.district for e in options if e.district)
    text = (f"这项内容各区县不一样，资料里有{names}的情况。请点选您所在区县的问题，"
            "或者发送 /district 选择区县后再问。")
    return Answer(False, text, None, score, None, suggestions=[suggestion(e) for e in options], kind="choices")


def not_found(district: str | None, options: list[FaqEntry], elsewhere: list[FaqEntry], score: float,
              topic: str | None) -> Answer:
    """On the bot's topics, but nothing answers it: say so plainly, never "out of scope"."""
    first = f"在{district}的资料里" if district else "资料里"
    lines = [f"抱歉，{first}没有写明您问的这一点。" if topic else f"抱歉，{first}没有找到完全对应的答案。"]
    if options:
        lines.append("您可以点选下面的相近问题。")
    if elsewhere:
        names = "、".join(dict.fromkeys(e.district for e in elsewhere if e.district))
        lines.append(f"{names}的资料里有相关内容，但那是其他区县的项目，不一定适用于您。")
    lines.append(where_to_ask(district))
    return Answer(False, "".join(lines), None, score, district,
                  suggestions=[suggestion(e) for e in (options + elsewhere)[:3]], kind="not_found")


def out_of_scope(district: str | None, score: float = 0.0) -> Answer:
    names = "、".join(d.short for d in DISTRICTS)
    text = (f"这个问题超出了我能回答的范围。我只回答{names}工会的职工福利和服务，"
            f"例如医疗互助、体检、疗休养、学历提升、爱心驿站、入会、维权帮扶等。{where_to_ask(district)}")
    return Answer(False, text, None, score, district, kind="out_of_scope")


def foreign(place: str) -> Answer:
    names = "、".join(d.name for d in DISTRICTS)
    text = (f"我目前只有{names}工会的资料，没有{place}的信息，不能替那里回答。"
            f"请咨询{place}当地的总工会，或拨打12351职工服务热线。")
    return Answer(False, text, None, 0.0, None, kind="out_of_scope")


def greeting(district: str | None) -> Answer:
    text = ("您好！我是工会福利问答机器人，可以回答拱墅、富阳、临平、上虞、建德工会的医疗互助、免费体检、"
            "疗休养、学历提升、爱心驿站、入会、法律援助等问题。直接问就行，例如“临平免费体检名额”。")
    return Answer(False, text, None, 0.0, district, kind="greeting")


def thanks(district: str | None) -> Answer:
    return Answer(False, "不客气！还有别的问题随时问我。", None, 0.0, district, kind="thanks")


def empty(district: str | None) -> Answer:
    return Answer(False, "请直接输入您想咨询的问题，例如：“医疗互助怎么报销”“临平读大专有补贴吗”。",
                  None, 0.0, district, kind="empty")


def district_overview(district: str, topics: list[str]) -> Answer:
    text = f"已识别区县：{district}。请告诉我您想了解的内容，例如：{'、'.join(topics[:8])}。"
    return Answer(False, text, None, 0.0, district, kind="greeting")


def is_bot_entry(entry: FaqEntry) -> bool:
    return entry.category == BOT_CATEGORY
