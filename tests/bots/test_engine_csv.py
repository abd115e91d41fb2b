"""CSV import: time formats, header or not, and errors that name the line."""

from __future__ import annotations

import pytest

from bots.csv_import import CsvError, parse_csv, parse_csv_text


def test_a_header_in_any_case_and_iso_dates_as_utc_sorted():
    candles = parse_csv_text(
        "Date,Open,HIGH,low,Close,Volume\n2024-01-02,10,12,9,11,100\n2024-01-01,9,10,8,10,50\n"
    )
    assert candles.time.tolist() == [1704067200, 1704153600]
    assert candles.close.tolist() == [10.0, 11.0] and candles.volume.tolist() == [50.0, 100.0]


def test_columns_are_found_by_name_wherever_they_are():
    candles = parse_csv_text("symbol,close,timestamp,low,high,open\nX,11,1704067200,9,12,10\n")
    assert candles.rows() == [(1704067200, 10.0, 12.0, 9.0, 11.0, 0.0)]


@pytest.mark.parametrize(
    "value,expected",
    [
        ("1704067200", 1704067200),
        ("1704067200000", 1704067200),  # milliseconds
        ("2024-01-01T00:00:00Z", 1704067200),
        ("2024-01-01 01:00:00+01:00", 1704067200),
        ("2024-01-01T00:01:00", 1704067260),  # no offset: UTC
    ],
)
def test_time_formats(value, expected):
    assert parse_csv_text(f"{value},1,2,0.5,1.5,3\n").time.tolist() == [expected]


@pytest.mark.parametrize(
    "text,line,words",
    [
        ("time,open,high,low,close\n1704067200,1,2,0.5,1\n1704067260,1,2,oops,1\n", 3, "low"),
        ("1704067200,1,2,0.5,1\n1704067260,1,2\n", 2, "columns"),
        ("time,open,high,low,close\n\n1704067200,1,2,0.5,1\nyesterday,1,2,0.5,1\n", 4, "time"),
        ("1704067200,1,2,0.5,1\n1704067200,1,2,0.5,1\n", 2, "duplicate"),
        ("1704067200,1,0.5,2,1\n", 1, "below low"),
        ("time,open,close\n1,2,3\n", 1, "high"),
        ("1704067200,1,2,0.5,nan\n", 1, "finite"),
    ],
)
def test_a_malformed_line_rejects_the_file_naming_the_line(text, line, words):
    with pytest.raises(CsvError) as error:
        parse_csv_text(text)
    assert error.value.line == line
    assert words in error.value.message
    assert str(error.value).startswith(f"Line {line}:")


def test_an_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("time,open,high,low,close\n")
    with pytest.raises(CsvError, match="no candles"):
        parse_csv(path)


def test_a_file_path_with_a_bom(tmp_path):
    path = tmp_path / "goog.csv"
    path.write_text("\ufeffdate;open;high;low;close;volume\n2024-01-01;1;2;0.5;1.5;7\n", encoding="utf-8")
    assert parse_csv(path).rows() == [(1704067200, 1.0, 2.0, 0.5, 1.5, 7.0)]
