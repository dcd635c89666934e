"""The Telegram layer's pure parts: callback data, rendering, settings, token redaction."""
from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from bot.config import load_settings
from bot.logging_setup import RedactSecrets
from handlers import callbacks as cb
from handlers import render
from handlers.addressing import strip_mention
from knowledge.engine import Answer, SourceCitation, Suggestion
from knowledge.model import Station
from knowledge.stations import Nearby


def test_callback_data_always_fits_64_bytes(engine):
    long_id = "district.category." + "很长的编号" * 20
    for faq_id in [e.id for e in engine.entries] + [long_id]:
        for data in (cb.entry_data(faq_id), cb.feedback_data(True, faq_id), cb.station_data(faq_id)):
            assert len(data.encode()) <= 64
    table = cb.RefTable([long_id, "short.id"])
    assert table.resolve(cb.ref_of(long_id)) == long_id
    assert table.resolve("short.id") == "short.id" and table.resolve("#nothing") is None
    assert cb.parse(cb.feedback_data(False, "a.b")) == ("f", ["0", "a.b"])
    assert cb.parse(cb.feedback_data(True, None)) == ("f", ["1", "-"])
    assert cb.parse(cb.category_data(3, 2)) == ("c", ["3", "2"])
    assert cb.parse("garbage") == ("garbage", []) and cb.parse(None) == ("", [])
    assert cb.district_from("x") == (True, None) and cb.district_from("2") == (True, "临平区")
    assert cb.district_from("99") == (False, None)


def test_matched_answer_has_source_related_and_feedback(engine):
    answer = engine.answer("临平免费体检名额", "临平区")
    assert answer.matched
    text = render.answer_text(answer)
    assert text.startswith(answer.answer.strip()) and text.endswith(answer.source_line())
    rows = render.answer_keyboard(answer).inline_keyboard
    assert 1 <= len(rows) <= 4
    assert [b.callback_data[:4] for b in rows[-1]] == ["f:1:", "f:0:"]
    assert all(r[0].callback_data.startswith("q:") for r in rows[:-1])
    voted = render.with_vote(render.answer_keyboard(answer), helpful=False)
    assert [b.text for b in voted.inline_keyboard[-1]] == ["👍 有帮助", "✅ 👎 没帮助"]
    assert [b.callback_data for b in voted.inline_keyboard[-1]] == [b.callback_data for b in rows[-1]]
    assert voted.inline_keyboard[:-1] == rows[:-1]


def test_passage_is_marked_as_excerpt():
    answer = Answer(True, "以下是原文摘录：「……」", None, 70.0, "临平区",
                    [SourceCitation("启航新征程", "doc", "临平区", "……", "2021–2026")], [], "passage")
    text = render.answer_text(answer, note=render.LONG_NOTE)
    assert text.startswith(render.LONG_NOTE) and "📄 摘录" in text
    assert "来源：《启航新征程》（临平区，2021–2026）" in text


def test_not_found_offers_suggestions_with_their_district():
    answer = Answer(False, "抱歉，没有找到。", None, 50.0, None,
                    suggestions=[Suggestion("x.y", "免费体检怎么报名？", "建德市")], kind="not_found")
    rows = render.answer_keyboard(answer).inline_keyboard
    assert rows == ((rows[0][0],),) and "（建德市）" in rows[0][0].text and rows[0][0].callback_data == "q:x.y"


def test_long_text_is_cut_for_telegram():
    assert len(render.fit("字" * 5000)) <= 4096


def test_example_stations_are_always_marked():
    ex = Station("e1", "示例驿站（拱墅区）1号", "拱墅区", 30.27, 120.16, address="示例地址，非真实站点",
                 is_example=True)
    real = Station("r1", "武林驿站", "拱墅区", 30.28, 120.17, address="某路1号", hours="8:00-20:00",
                   services=["休息", "饮水"])
    venue = render.venue_fields(ex)
    assert "示例" in venue["title"] and "非真实" in venue["address"]
    assert render.venue_fields(real)["title"] == "武林驿站"
    text, markup = render.nearby_message([Nearby(real, 0.35), Nearby(ex, 2.5)], far_km=50)
    assert "350 米" in text and "2.5 公里" in text and render.EXAMPLE_WARNING in text and "休息、饮水" in text
    assert [row[0].callback_data for row in markup.inline_keyboard] == ["s:e1"]
    text, _ = render.nearby_message([Nearby(real, 0.35)], far_km=50)
    assert render.EXAMPLE_WARNING not in text
    text, markup = render.nearby_message([Nearby(ex, 900.0)], far_km=50)
    assert "50 公里内没有" in text and render.EXAMPLE_WARNING in text and markup is None
    text, _ = render.district_stations_message([ex], "拱墅区")
    assert render.EXAMPLE_WARNING in text


def test_strip_mention():
    assert strip_mention("@Union_Bot  体检 怎么报", "union_bot") == "体检 怎么报"
    assert strip_mention("问下 @union_bot", "union_bot") == "问下"
    assert strip_mention("@other_bot 体检", "union_bot") == "@other_bot 体检"


def test_webhook_needs_a_secret_and_tokens_are_checked():
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        load_settings(_env_file=None, WEBHOOK_URL="https://bot.example.org/tg")
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        load_settings(_env_file=None, WEBHOOK_URL="https://bot.example.org/tg", WEBHOOK_SECRET="has space")
    with pytest.raises(ValidationError, match="https"):
        load_settings(_env_file=None, WEBHOOK_URL="http://bot.example.org/tg", WEBHOOK_SECRET="s")
    with pytest.raises(ValidationError, match="TELEGRAM_BOT_TOKEN"):
        load_settings(_env_file=None, TELEGRAM_BOT_TOKEN="not a token")
    with pytest.raises(ValidationError, match="TELEGRAM_API_BASE_URL"):
        load_settings(_env_file=None, TELEGRAM_API_BASE_URL="127.0.0.1:8081")
    s = load_settings(_env_file=None, WEBHOOK_URL="https://bot.example.org/tg/hook", WEBHOOK_SECRET="abc_DEF-1",
                      TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/")
    assert s.webhook_url_path == "tg/hook" and s.telegram_api_base_url == "http://127.0.0.1:8081"
    assert "abc_DEF" not in repr(s)


@pytest.mark.parametrize("given", ["http://127.0.0.1:8081", "http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot",
                                   "http://127.0.0.1:8081/bot/", " http://127.0.0.1:8081/bot "])
def test_api_base_url_in_either_form_is_the_server_address(given):
    """Our form and python-telegram-bot's base_url form (…/bot) both work, normalised once."""
    assert load_settings(_env_file=None, TELEGRAM_API_BASE_URL=given).telegram_api_base_url == "http://127.0.0.1:8081"
    assert load_settings(_env_file=None, TELEGRAM_API_BASE_URL="https://api.telegram.org/bot"
                         ).telegram_api_base_url == "https://api.telegram.org"


def test_token_is_redacted_from_messages_and_tracebacks():
    token = "123456:AAE-secret_PART"
    redactor = RedactSecrets([token, "hook-secret"])
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "POST %s", (f"http://x/bot{token}/getMe",), None)
    assert redactor.filter(record) and token not in record.getMessage() and "<redacted>" in record.getMessage()
    try:
        raise RuntimeError(f"failed for {token} and AAE-secret_PART with hook-secret")
    except RuntimeError:
        import sys
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    redactor.filter(record)
    text = logging.Formatter().format(record)
    assert "AAE-secret_PART" not in text and "hook-secret" not in text and "boom" in text


def test_related_questions_from_another_district_or_topic_are_never_offered(engine):
    from handlers.questions import related_for
    fuyang = next(e for e in engine.entries if e.district == "富阳区" and e.category == "体检")
    elsewhere = [e for e in engine.entries if e.district == "上虞区"][:2]
    unrelated = next(e for e in engine.entries if e.district == "富阳区" and e.category != "体检")
    offered = [Suggestion(e.id, e.question, e.district) for e in (*elsewhere, unrelated)]
    answer = Answer(True, fuyang.answer, fuyang.id, 90.0, "富阳区", related=offered, category=fuyang.category)
    related = related_for(answer, engine)
    assert all(engine.by_id[s.faq_id].category == "体检" for s in related)
    assert all(s.district in (None, "富阳区") for s in related)
    assert [s.district for s in related] == sorted((s.district for s in related), key=lambda d: d != "富阳区")


def test_a_follow_up_says_which_earlier_question_it_continued():
    earlier = "我在临平读大专，工会有没有学历提升的补贴，想问问具体怎么申请"
    answer = Answer(True, "富阳区资料里……", "x.y", 90.0, "富阳区", continued=earlier)
    text = render.answer_text(answer)
    assert text.startswith(f"接着您问的「{earlier[:23]}…」：\n富阳区资料里")
    assert len(render.continued_line(answer)) < 40
    assert not render.answer_text(answer, shared=True).startswith("接着")       # an inline result stands alone
    assert not render.answer_text(Answer(True, "答", "x.y", 90.0, None)).startswith("接着")


def test_the_choose_a_district_hint_is_cut_cleanly():
    body = "各文都没写报名办法。发送 /district 选择您所在的区，可看该区的详细说明；也可咨询所在区县总工会。"
    answer = Answer(True, body, "x.y", 90.0, None)
    assert render.answer_text(answer) == body
    assert render.answer_text(answer, district_chosen=True) == "各文都没写报名办法。可咨询所在区县总工会。"
    assert "/district" not in render.answer_text(answer, shared=True)


def test_help_names_the_bots_username():
    assert "@union_test_bot 加关键词" in render.help_text("union_test_bot")


def test_a_drafts_bytes_and_tuples_survive_the_json_the_persistence_stores():
    import json

    from handlers.persistence import _decode, _encode
    draft = {"kind": "document", "data": b"\x00\xffPK\x03", "position": (30.42, 120.3), "queue": ["t", "d"],
             "entry": {"sources": [{"document": "d", "quote": "q"}]}}
    back = _decode(json.loads(json.dumps(_encode(draft))))
    assert back == {**draft, "position": [30.42, 120.3]} and isinstance(back["data"], bytes)
