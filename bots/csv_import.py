"""CSV candles for import: open time then open/high/low/close/volume.

The time is the first column or the one named time/timestamp/date/datetime (any case): an ISO
date or datetime (taken as UTC when it has no offset), or Unix seconds or milliseconds. Price
columns are found by name (any case) when there is a header, else by position. A malformed
line rejects the whole file with a CsvError naming its 1-based line number.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
from typing import IO

import numpy as np

from bots.candles import Candles

TIME_NAMES = ("time", "timestamp", "date", "datetime", "open_time", "open time")
PRICE_NAMES = ("open", "high", "low", "close", "volume")
# Above this a numeric time is in milliseconds (1e11 s is the year 5138).
MS_THRESHOLD = 100_000_000_000


class CsvError(ValueError):
    """A malformed CSV: `line` is 1-based (0 when the problem is the whole file)."""

    def __init__(self, line: int, message: str):
        self.line = line
        self.message = message
        super().__init__(f"Line {line}: {message}" if line else message)


def parse_time(text: str) -> int:
    """Unix seconds from an ISO date/datetime (UTC unless an offset is given) or s/ms."""
    text = text.strip()
    if not text:
        raise ValueError("empty time")
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number):
            raise ValueError(f"invalid time {text!r}")
        seconds = number / 1000.0 if abs(number) >= MS_THRESHOLD else number
        return int(math.floor(seconds))
    iso = text.replace(" ", "T", 1) if len(text) > 10 and text[10] == " " else text
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    try:
        if len(iso) == 10:
            value = dt.datetime.combine(dt.date.fromisoformat(iso), dt.time())
        else:
            value = dt.datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(f"invalid time {text!r} (expected an ISO date/datetime or Unix s/ms)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(math.floor(value.timestamp()))


def _is_header(row: list[str]) -> bool:
    names = {cell.strip().lower() for cell in row}
    return bool(names & set(PRICE_NAMES)) or bool(names & set(TIME_NAMES))


def parse_csv(source: str | os.PathLike | IO[str]) -> Candles:
    """Candles sorted by time from a CSV path or open text file; CsvError on bad input."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, newline="", encoding="utf-8-sig") as handle:
            return parse_csv_text(handle.read())
    return parse_csv_text(source.read())


def parse_csv_text(text: str) -> Candles:
    """Candles sorted by time from CSV text; CsvError on bad input."""
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    # The delimiter is the first line's most common candidate (a comma unless told otherwise).
    delimiter = max(",;\t|", key=lambda d: (first_line.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns: dict[str, int] | None = None
    width = 0
    times: list[int] = []
    values: list[list[float]] = []
    seen: dict[int, int] = {}
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if columns is None:
            if _is_header(row):
                names = [cell.strip().lower() for cell in row]
                columns = {}
                time_col = next((names.index(n) for n in TIME_NAMES if n in names), 0)
                columns["time"] = time_col
                for name in PRICE_NAMES:
                    if name in names:
                        columns[name] = names.index(name)
                missing = [n for n in ("open", "high", "low", "close") if n not in columns]
                if missing:
                    raise CsvError(line, f"header lacks column(s): {', '.join(missing)}")
                width = len(row)
                continue
            columns = {"time": 0, "open": 1, "high": 2, "low": 3, "close": 4}
            if len(row) >= 6:
                columns["volume"] = 5
            width = len(row)
            if len(row) < 5:
                raise CsvError(
                    line, f"expected at least 5 columns (time, open, high, low, close), got {len(row)}"
                )
        if len(row) < max(columns.values()) + 1:
            raise CsvError(line, f"expected {width} columns, got {len(row)}")
        try:
            t = parse_time(row[columns["time"]])
        except ValueError as exc:
            raise CsvError(line, str(exc)) from None
        numbers = []
        for name in PRICE_NAMES:
            if name not in columns:
                numbers.append(0.0)
                continue
            cell = row[columns[name]].strip()
            try:
                value = float(cell)
            except ValueError:
                raise CsvError(line, f"{name} is not a number: {cell!r}") from None
            if not math.isfinite(value) or value < 0:
                raise CsvError(line, f"{name} must be a finite number >= 0, got {cell!r}")
            numbers.append(value)
        o, h, low, c, _ = numbers
        if h < low:
            raise CsvError(line, f"high {h:g} is below low {low:g}")
        if t in seen:
            raise CsvError(line, f"duplicate time {t} (first on line {seen[t]})")
        seen[t] = line
        times.append(t)
        values.append(numbers)
    if not times:
        raise CsvError(0, "no candles in the file")
    arr = np.asarray(values, dtype=np.float64)
    order = np.argsort(np.asarray(times, dtype=np.int64), kind="stable")
    return Candles(np.asarray(times, dtype=np.int64)[order], *(arr[order, k] for k in range(5)))
