"""Reading and checking station lists (YAML or CSV) before anything is written.

Why a separate checker: the documents give only station counts, so real
addresses will come from a union's spreadsheet. A half-imported spreadsheet
would show riders a wrong map, so every row is checked first and each problem
is reported with its line number; the caller writes nothing unless all rows pass.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from . import safe_yaml
from .districts import DISTRICTS, canonical_district
from .model import Station
from .text_input import UnreadableText, decode_text

DATA_DIR = Path(__file__).resolve().parent / "data"
EXAMPLE_FILE = DATA_DIR / "stations.example.yaml"
CSV_COLUMNS = ["id", "name", "district", "kind", "latitude", "longitude", "address", "hours", "services"]
REQUIRED = ("id", "name", "district", "latitude", "longitude")
LINE_KEY = "__line__"
KIND_MAX = 40                     # the stations.kind column
# Rough box around Zhejiang: catches swapped or mistyped coordinates.
ZHEJIANG_LAT = (27.0, 31.5)
ZHEJIANG_LON = (118.0, 123.5)
# Generous boxes per district (lat_min, lat_max, lon_min, lon_max): outside them is only a warning.
DISTRICT_BOXES = {
    "拱墅区": (30.22, 30.45, 120.02, 120.26),
    "富阳区": (29.70, 30.25, 119.50, 120.25),
    "临平区": (30.30, 30.55, 120.10, 120.45),
    "上虞区": (29.70, 30.30, 120.60, 121.10),
    "建德市": (29.20, 29.80, 118.90, 119.80),
}


@dataclass
class StationProblem:
    line: int | None
    message: str
    fatal: bool = True

    def __str__(self) -> str:
        where = f"第 {self.line} 行" if self.line else "文件"
        return f"{where}：{self.message}" if self.fatal else f"{where}（提醒）：{self.message}"


@dataclass
class StationFile:
    stations: list[Station]
    problems: list[StationProblem]

    @property
    def errors(self) -> list[StationProblem]:
        return [p for p in self.problems if p.fatal]

    @property
    def warnings(self) -> list[StationProblem]:
        return [p for p in self.problems if not p.fatal]


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _services(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = str(value).replace("；", ";").split(";")
    return [s.strip() for s in items if s and s.strip()]


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "y", "是"}


def check_row(row: dict, line: int | None) -> tuple[Station | None, list[StationProblem]]:
    """One station from one row, or the reasons it cannot be one."""
    problems: list[StationProblem] = []
    for name in REQUIRED:
        if _text(row.get(name)) is None:
            problems.append(StationProblem(line, f"缺少必填字段 {name}"))
    district = None
    if _text(row.get("district")):
        district = canonical_district(str(row["district"]))
        if district is None:
            known = "、".join(d.name for d in DISTRICTS)
            problems.append(StationProblem(line, f"未知的区县“{row['district']}”（可选：{known}）"))
    coords: dict[str, float] = {}
    for name, (lo, hi), full in (("latitude", ZHEJIANG_LAT, (-90, 90)), ("longitude", ZHEJIANG_LON, (-180, 180))):
        raw = _text(row.get(name))
        if raw is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            problems.append(StationProblem(line, f"{name} 不是数字：{raw}"))
            continue
        if not math.isfinite(value) or not full[0] <= value <= full[1]:
            problems.append(StationProblem(line, f"{name}={raw} 超出有效范围 {full[0]}～{full[1]}"))
        elif not lo <= value <= hi:
            problems.append(StationProblem(line, f"{name}={raw} 不在浙江省范围内（{lo}～{hi}），经纬度是否写反了？"))
        else:
            coords[name] = value
    station_id = _text(row.get("id"))
    if station_id and len(station_id) > 100:
        problems.append(StationProblem(line, "id 太长（最多 100 个字符）"))
    kind = _text(row.get("kind"))
    if kind and len(kind) > KIND_MAX:
        problems.append(StationProblem(line, f"kind 太长（最多 {KIND_MAX} 个字符）"))
    if problems:
        return None, problems
    station = Station(
        id=station_id, name=_text(row["name"]), district=district,
        latitude=coords["latitude"], longitude=coords["longitude"],
        kind=_text(row.get("kind")) or "爱心驿站", address=_text(row.get("address")), hours=_text(row.get("hours")),
        services=_services(row.get("services")), is_example=_bool(row.get("is_example")), active=True,
    )
    box = DISTRICT_BOXES.get(district or "")
    if box and not (box[0] <= station.latitude <= box[1] and box[2] <= station.longitude <= box[3]):
        problems.append(StationProblem(line, f"坐标 {station.latitude},{station.longitude} 看起来不在{district}，"
                                             f"请核对", fatal=False))
    return station, problems


def _rows_from_csv(text: str) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValueError(f"CSV 表头缺少列：{', '.join(missing)}（应为 {','.join(CSV_COLUMNS)}）")
    reader.fieldnames = header
    rows = []
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue                                  # blank line
        rows.append((reader.line_num, row))
    return rows


def _rows_from_yaml(text: str) -> list[tuple[int | None, dict]]:
    data = safe_yaml.load(text, line_key=LINE_KEY)
    items = data.get("stations") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError("YAML 应为 `stations:` 下的列表")
    rows = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("stations 列表里的每一项都应是键值对")
        line = item.pop(LINE_KEY, None)
        rows.append((line, item))
    return rows


def parse_station_text(text: str, fmt: str) -> StationFile:
    """Checks every row of a YAML or CSV station list (fmt: "yaml" or "csv")."""
    bad = safe_yaml.unstorable(text) if fmt == "csv" else None
    if bad:
        return StationFile([], [StationProblem(bad.line, f"第 {bad.column} 列{bad.problem}")])
    try:
        rows = _rows_from_csv(text) if fmt == "csv" else _rows_from_yaml(text)
    except (ValueError, csv.Error) as exc:            # safe_yaml.YamlRefused is a ValueError
        return StationFile([], [StationProblem(None, str(exc))])
    stations: list[Station] = []
    problems: list[StationProblem] = []
    first_line: dict[str, int | None] = {}
    for line, row in rows:
        station, row_problems = check_row(row, line)
        problems.extend(row_problems)
        if station is None:
            continue
        if station.id in first_line:
            where = f"第 {first_line[station.id]} 行" if first_line[station.id] else "前面"
            problems.append(StationProblem(line, f"id “{station.id}” 重复（{where}已出现）"))
            continue
        first_line[station.id] = line
        stations.append(station)
    if not rows:
        problems.append(StationProblem(None, "文件里没有任何驿站"))
    return StationFile(stations, problems)


def load_station_file(path: Path) -> StationFile:
    """A station list from a .yaml/.yml or .csv file (UTF-8, or GBK/GB18030 as Excel saves it)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".yaml", ".yml", ".csv"}:
        return StationFile([], [StationProblem(None, f"不支持的文件类型 {suffix or '(无扩展名)'}：请用 .yaml 或 .csv")])
    try:
        decoded = decode_text(path.read_bytes())
    except OSError as exc:
        return StationFile([], [StationProblem(None, f"无法读取 {path}：{exc}")])
    except UnreadableText as exc:
        return StationFile([], [StationProblem(None, str(exc))])
    parsed = parse_station_text(decoded.text, "csv" if suffix == ".csv" else "yaml")
    if decoded.note:
        parsed.problems.insert(0, StationProblem(None, decoded.note, fatal=False))
    return parsed
