"""The admin tools' texts, keyboards and small parsers (no network)."""
from handlers.admin import common, views
from handlers.admin.documents import normalise_date
from handlers.admin.stations import guess_district
from knowledge.model import FaqEntry, SourceRef, Station
from knowledge.validate import Problem


def all_data(markup) -> list[str]:
    return [b.callback_data for row in markup.inline_keyboard for b in row]


def test_buttons_stay_within_64_bytes_even_for_the_longest_ids():
    entry = FaqEntry("a" * 81, "问" * 300, "答", "临平区", "体检", ["x"] * 4, [], [SourceRef("d", "q")])
    station = Station("s" * 100, "驿站" * 50, "临平区", 30.4, 120.3)
    for markup in (views.entry_markup(entry), views.station_markup(station), views.menu_markup(),
                   views.entry_list_markup([entry], "ut"), views.district_picker(), views.confirm_markup(True)):
        for data in all_data(markup):
            assert data.startswith("ad:") and len(data.encode()) <= 64
    verb, args = common.parse(all_data(views.entry_markup(entry))[0])
    assert verb == "e" and args[0] == "q" and args[1].startswith("#")          # a long id travels as its hash
    assert common.parse("d:1") == ("", []) and common.parse(None) == ("", [])


def test_a_preview_always_shows_its_problems_within_one_message():
    entry = FaqEntry("x", "q", "长" * 6000, None, "体检")
    text = views.preview_text(entry, {}, [Problem("", "x", "回答中的数字不在引文中：3")], True, None)
    assert len(text) <= 4096 and text.endswith("· 回答中的数字不在引文中：3")
    assert "确认保存" not in str(views.confirm_markup(False, views.FIELD_NAMES).to_dict())


def test_dates_and_districts_are_read_leniently():
    assert normalise_date("2025.3.1") == normalise_date("2025年3月1日") == "2025-03-01"
    assert normalise_date("2025-02-30") is None and normalise_date("昨天") is None
    assert guess_district(30.45, 120.38) == "临平区" and guess_district(39.9, 116.4) is None
