"""Usage events in, counts out: DuckDB reads every file and groups the window's events in SQL,
so rows never pass through Python; what comes back is one row per (event, entry, channel)
and per zero-result query spelling, however many millions of events there were.

Every file becomes rows of the same columns (`moment`, the event's instant in microseconds
since the epoch, compared with the window's UTC bounds; `channel`, `event`, `entry`, `query`;
`zero`, a search with `results: 0`; `ok`, the line could be read as an event). A line that is
not an event is counted, never fatal: a JSONL line that is not a JSON object is a row of NULLs,
CSV lines DuckDB cannot split are counted from its rejects table, and a row missing what its
event needs is `ok = false`.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kbctl.errors import UsageError
from kbctl.usage.sources import Source

if TYPE_CHECKING:
    import duckdb

COLUMNS = ("time", "channel", "event", "entry", "query", "results")
_ENTRY_EVENTS = "('view', 'helpful', 'unhelpful', 'serve')"
# RFC 3339 date-time: an offset (Z or ±hh:mm) is required; DuckDB's cast alone would take a
# bare date or a local time too.
_RFC3339 = (r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
            r"([Zz]|[+-][0-9]{2}:[0-9]{2})")
_COUNT = r"0|[1-9][0-9]{0,17}"
_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
             "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


@dataclass(frozen=True)
class EventCount:
    event: str
    entry: str | None  # None for searches
    channel: str
    count: int


@dataclass(frozen=True)
class QueryCount:
    query: str  # as searched
    channel: str
    count: int  # zero-result searches within the window


@dataclass(frozen=True)
class Counts:
    events: tuple[EventCount, ...]  # within the window
    gaps: tuple[QueryCount, ...]  # zero-result searches within the window, by spelling
    unreadable: int  # lines that are not events, in or out of the window


def count_events(sources: list[Source], start: dt.date, end: dt.date) -> Counts:
    """Events of `sources` whose UTC date is in [start, end], grouped."""
    import duckdb  # only health with usage data pays for loading it

    con = duckdb.connect(":memory:", config={"threads": str(max(1, min(os.cpu_count() or 1, 8)))})
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET enable_progress_bar = false")  # a terminal would get it mid-report
        rows = " UNION ALL ".join(_rows(con, source, i) for i, source in enumerate(sources))
        grouped = con.execute(_GROUPED.format(rows=rows), _bounds(start, end)).fetchall()
        rejected = _rejected(con, sources)
    except duckdb.Error as exc:
        raise UsageError(f"--usage: cannot read usage data: {_first_line(exc)}") from None
    finally:
        con.close()
    return _counts(grouped, rejected)


def _bounds(start: dt.date, end: dt.date) -> list[int]:
    """The window as microseconds since the epoch: from start 00:00 UTC to the end of `end`."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

    def micros(day: dt.date) -> int:
        return int((dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) - epoch).total_seconds()) * 1_000_000

    return [micros(start), micros(end + dt.timedelta(days=1)) - 1]


# Few and plain group columns: DuckDB inlines the row expressions (the time parse among them)
# into every expression that names them, so each extra CASE over `ok` would parse again, and
# each extra column costs the hash table time. `name` is the entry, or a zero-result query.
_GROUPED = """
SELECT CASE WHEN NOT ok THEN 0 WHEN moment BETWEEN $1 AND $2 THEN 1 ELSE 2 END AS state,
       event, channel,
       CASE WHEN event = 'search' THEN CASE WHEN zero THEN query END ELSE entry END AS name,
       count(*) AS n
FROM ({rows}) GROUP BY ALL
"""
_UNREADABLE, _INSIDE = 0, 1


def _rows(con: duckdb.DuckDBPyConnection, source: Source, index: int) -> str:
    path = _literal(str(source.path))
    if source.format == "jsonl":
        return _checked(_from_text(_jsonl_fields(path)))
    if source.format == "csv":
        return _checked(_from_text(_csv_fields(path, _csv_header(source.path), index)))
    return _checked(_parquet_fields(con, path))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _jsonl_fields(path: str) -> str:
    # With ignore_errors a line that is not JSON (or not an object) becomes a row of NULLs,
    # which `_checked` counts as unreadable; blank lines are no rows at all.
    columns = ", ".join(f"{name}: 'VARCHAR'" for name in COLUMNS)
    return (f"SELECT {', '.join(COLUMNS)} FROM read_json({path}, format = 'newline_delimited', "
            f"ignore_errors = true, columns = {{{columns}}})")


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            return next(csv.reader([handle.readline()]), [])
    except OSError as exc:
        raise UsageError(f"--usage: usage file {str(path)!r} cannot be read: {exc.strerror}") from None


def _csv_fields(path: str, header: list[str], index: int) -> str:
    names = [name.strip() for name in header]
    columns = ", ".join(f"{_literal(f'c{i}')}: 'VARCHAR'" for i in range(max(len(names), 1)))
    table = (f"read_csv({path}, header = true, delim = ',', quote = '\"', escape = '\"', "
             f"auto_detect = false, columns = {{{columns}}}, store_rejects = true, "
             f"rejects_table = 'rejects_{index}', rejects_scan = 'scans_{index}')")
    fields = ", ".join(f"c{names.index(name)} AS {name}" if name in names else f"NULL AS {name}"
                       for name in COLUMNS)
    return f"SELECT {fields} FROM {table}"


def _text_instant(column: str) -> str:
    # An instant compares with the window's bounds without converting it to a UTC date,
    # which for every row would cost more than reading it.
    return (f"CASE WHEN regexp_full_match({column}, '{_RFC3339}') "
            f"THEN epoch_us(TRY_CAST({column} AS TIMESTAMPTZ)) END")


def _from_text(fields: str) -> str:
    """Text columns → moment, channel, event, entry, query, counted, zero."""
    return (f"SELECT {_text_instant('time')} AS moment, channel, event, entry, query, "
            f"regexp_full_match(results, '{_COUNT}') AS counted, results = '0' AS zero "
            f"FROM ({fields})")


def _parquet_fields(con: duckdb.DuckDBPyConnection, path: str) -> str:
    types = {str(row[0]): str(row[1]).upper() for row in
             con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall()}
    text = ", ".join(f'CAST("{name}" AS VARCHAR) AS {name}' if name in types
                     else f"CAST(NULL AS VARCHAR) AS {name}"
                     for name in ("channel", "event", "entry", "query"))
    results = types.get("results")
    if results in _INTEGERS:
        counted, zero = "results >= 0", "results = 0"
    elif results == "VARCHAR":
        counted, zero = f"regexp_full_match(results, '{_COUNT}')", "results = '0'"
    else:
        counted, zero = "false", "false"
    return (f"SELECT {_parquet_instant(types.get('time'))} AS moment, {text}, {counted} AS counted, "
            f"{zero} AS zero FROM read_parquet({path})")


def _parquet_instant(kind: str | None) -> str:
    if kind == "VARCHAR":
        return _text_instant("time")
    if kind is not None and kind.startswith("TIMESTAMP"):
        return "epoch_us(time)"  # a timestamp without offset is taken as UTC
    if kind == "DATE":
        return "epoch_us(CAST(time AS TIMESTAMP))"
    return "CAST(NULL AS BIGINT)"


def _checked(fields: str) -> str:
    """What an event needs: a date, a channel, and an entry, or a query with a result count."""
    ok = ("moment IS NOT NULL AND coalesce(channel, '') <> '' AND CASE "
          "WHEN event = 'search' THEN query IS NOT NULL AND coalesce(counted, false) "
          f"WHEN event IN {_ENTRY_EVENTS} THEN coalesce(entry, '') <> '' ELSE false END")
    return (f"SELECT moment, channel, event, entry, query, coalesce(zero, false) AS zero, "
            f"coalesce({ok}, false) AS ok FROM ({fields})")


def _rejected(con: duckdb.DuckDBPyConnection, sources: list[Source]) -> int:
    total = 0
    for index, source in enumerate(sources):
        if source.format == "csv":
            row = con.execute(f"SELECT count(DISTINCT line) FROM rejects_{index}").fetchone()
            total += int(row[0]) if row else 0
    return total


def _counts(grouped: list[tuple], rejected: int) -> Counts:
    events: dict[tuple[str, str | None, str], int] = {}
    gaps: dict[tuple[str, str], int] = {}
    unreadable = rejected
    for state, event, channel, name, n in grouped:
        if state == _UNREADABLE:
            unreadable += n
        if state != _INSIDE:
            continue
        key = (event, None if event == "search" else name, channel)
        events[key] = events.get(key, 0) + n
        if event == "search" and name is not None:
            gaps[(name, channel)] = gaps.get((name, channel), 0) + n
    return Counts(tuple(EventCount(*key, n) for key, n in sorted(events.items(), key=_order)),
                  tuple(QueryCount(*key, n) for key, n in sorted(gaps.items())), unreadable)


def _order(item: tuple[tuple[str, str | None, str], int]) -> tuple[str, str, str]:
    (event, entry, channel), _ = item
    return (event, entry or "", channel)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
