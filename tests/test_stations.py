"""Rest stations: the grid index against brute force, the file checker, and the all-or-nothing import."""
from __future__ import annotations

import random
import time

import pytest

from bot.cli import main as cli_main
from bot.config import load_settings
from bot.setup import open_app
from knowledge.model import Station
from knowledge.station_files import EXAMPLE_FILE, load_station_file, parse_station_text
from knowledge.stations import StationIndex, brute_force_nearest, haversine_km


def random_stations(n: int, rng: random.Random, box=(29.2, 30.6, 119.2, 121.0)) -> list[Station]:
    return [Station(id=f"s{i}", name=f"站{i}", district=None, latitude=rng.uniform(box[0], box[1]),
                    longitude=rng.uniform(box[2], box[3])) for i in range(n)]


def test_haversine_known_distance():
    # Hangzhou (Wulin) to Shaoxing (city centre): about 48 km.
    assert 44 < haversine_km(30.272, 120.163, 30.000, 120.580) < 52
    assert haversine_km(30, 120, 30, 120) == 0


@pytest.mark.parametrize("n,cell", [(1, 0.05), (7, 0.05), (300, 0.01), (1500, 0.05), (1500, 0.5)])
def test_nearest_matches_brute_force(n, cell):
    rng = random.Random(n * 31 + int(cell * 100))
    stations = random_stations(n, rng)
    index = StationIndex(stations, cell_deg=cell)
    for _ in range(120):
        # inside, around and far outside the stations' area
        lat = rng.uniform(28.0, 32.0) if rng.random() < 0.8 else rng.uniform(-60, 60)
        lon = rng.uniform(118.0, 122.0) if rng.random() < 0.8 else rng.uniform(-170, 170)
        k = rng.choice([1, 3, 5, 12])
        got = [(n_.station.id, round(n_.distance_km, 9)) for n_ in index.nearest(lat, lon, k)]
        want = [(n_.station.id, round(n_.distance_km, 9)) for n_ in brute_force_nearest(stations, lat, lon, k)]
        assert got == want


def test_max_km_limits_results():
    rng = random.Random(5)
    stations = random_stations(2000, rng)
    index = StationIndex(stations)
    for _ in range(50):
        lat, lon = rng.uniform(29.2, 30.6), rng.uniform(119.2, 121.0)
        got = index.nearest(lat, lon, 10, max_km=3.0)
        want = [n for n in brute_force_nearest(stations, lat, lon, 10) if n.distance_km <= 3.0]
        assert [n.station.id for n in got] == [n.station.id for n in want]


def test_ten_thousand_stations_stay_fast_and_local():
    rng = random.Random(10_000)
    stations = random_stations(10_000, rng)
    index = StationIndex(stations)
    queries = [(rng.uniform(29.2, 30.6), rng.uniform(119.2, 121.0)) for _ in range(300)]
    examined = []
    t0 = time.perf_counter()
    for lat, lon in queries:
        index.nearest(lat, lon, 5)
        examined.append(index.examined)
    per_query_ms = (time.perf_counter() - t0) * 1000 / len(queries)
    # A grid search looks at a neighbourhood, never at all 10,000 stations.
    assert max(examined) < 1000 and sum(examined) / len(examined) < 400
    assert per_query_ms < 20        # generous: typically well under 1 ms
    lat, lon = queries[0]
    assert [n.station.id for n in index.nearest(lat, lon, 5)] == \
        [n.station.id for n in brute_force_nearest(stations, lat, lon, 5)]


def test_inactive_and_empty():
    s = Station("a", "A", None, 30.0, 120.0, active=False)
    assert StationIndex([s]).nearest(30, 120) == []
    assert StationIndex([]).nearest(30, 120) == []


def test_example_file_is_valid_and_clearly_marked():
    parsed = load_station_file(EXAMPLE_FILE)
    assert parsed.errors == [] and parsed.warnings == []
    districts = {s.district for s in parsed.stations}
    assert districts == {"拱墅区", "富阳区", "临平区", "上虞区", "建德市"}
    for s in parsed.stations:
        assert s.is_example and "示例" in s.name and "非真实" in (s.address or "")


CSV_HEADER = "id,name,district,kind,latitude,longitude,address,hours,services\n"


def test_csv_rows_are_checked_with_line_numbers():
    text = CSV_HEADER + (
        "gs-1,驿站甲,拱墅,工会驿站,30.30,120.15,某路1号,08:00-20:00,休息;饮水；充电\n"
        "gs-2,,富阳区,,30.05,119.95,,,\n"
        "gs-1,重复,临平区,,30.42,120.30,,,\n"
        "x,错区,滨江区,,30.2,120.2,,,\n"
        "y,写反,建德市,,119.3,29.5,,,\n"
        "z,不是数字,建德市,,abc,119.3,,,\n"
    )
    parsed = parse_station_text(text, "csv")
    errors = {(p.line, p.message.split("（")[0].split("“")[0]) for p in parsed.errors}
    lines = sorted({p.line for p in parsed.errors})
    assert lines == [3, 4, 5, 6, 7]
    assert any("name" in m for line, m in errors if line == 3)
    assert any("重复" in p.message for p in parsed.errors if p.line == 4)
    assert any("滨江区" in p.message for p in parsed.errors if p.line == 5)
    assert any("latitude" in p.message for p in parsed.errors if p.line == 6)
    good = parsed.stations[0]
    assert good.district == "拱墅区" and good.services == ["休息", "饮水", "充电"] and not good.is_example


def test_wrong_district_box_is_only_a_warning():
    parsed = parse_station_text(CSV_HEADER + "a,甲,建德市,,30.30,120.15,,,\n", "csv")
    assert parsed.errors == [] and len(parsed.warnings) == 1 and "建德市" in str(parsed.warnings[0])


def test_yaml_problems_name_their_line():
    text = "stations:\n  - id: a\n    name: 甲\n    district: 临平\n    latitude: 30.42\n    longitude: 120.3\n" \
           "  - id: b\n    district: 临平\n    latitude: 30.42\n    longitude: 120.3\n"
    parsed = parse_station_text(text, "yaml")
    assert [p.line for p in parsed.errors] == [7]
    assert parse_station_text("stations: 3", "yaml").errors


def test_missing_csv_column_is_reported():
    parsed = parse_station_text("id,name\n1,甲\n", "csv")
    assert parsed.errors and "表头" in parsed.errors[0].message


def test_import_writes_nothing_unless_the_whole_file_is_valid(db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    app = open_app(load_settings(DATABASE_URL=db_url, _env_file=None))
    examples = len(app.repos.stations.active())
    assert examples == 15
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_HEADER + "r1,真实驿站,拱墅区,工会驿站,30.31,120.15,某路1号,,\n"
                                "r2,坏的,拱墅区,,300,120.15,,,\n", "utf-8")
    assert cli_main(["stations", "import", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "第 3 行" in out and "nothing imported" in out
    assert app.repos.stations.get("r1") is None

    good = tmp_path / "good.csv"
    good.write_text(CSV_HEADER + "r1,真实驿站,拱墅区,工会驿站,30.31,120.15,某路1号,08:00-20:00,休息;饮水\n",
                    "utf-8-sig")
    assert cli_main(["stations", "import", str(good), "--replace-examples"]) == 0
    active = app.repos.stations.active()
    assert [s.id for s in active] == ["r1"] and not active[0].is_example
    assert app.repos.stations.count() == examples + 1       # examples retired, not deleted
    # a restart does not bring the examples back
    again = open_app(load_settings(DATABASE_URL=db_url, _env_file=None))
    assert [s.id for s in again.repos.stations.active()] == ["r1"]
    again.db.dispose()
    app.db.dispose()
