"""Usage events in, counts out: DuckDB reads every file and groups the window's events in SQL,
so rows never pass through Python; what comes back is one row per (event, entry, channel)
and per zero-result query spelling, however many millions of events there were.

Every file becomes rows of the same columns (`day`, the event's UTC date; `channel`, `event`,
`entry`, `query`; `zero`, a search with `results: 0`; `ok`, the line could be read as an
event). A line that is not an event is counted, never fatal: JSONL lines are read as text and
parsed with `try`, CSV lines DuckDB cannot split are counted from its rejects table, and a row
missing what its event needs is `ok = false`.
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
        rows = " UNION ALL ".join(_rows(con, source, i) for i, source in enumerate(sources))
        grouped = con.execute(_GROUPED.format(rows=rows), [start, end]).fetchall()
        rejected = _rejected(con, sources)
    except duckdb.Error as exc:
        raise UsageError(f"--usage: cannot read usage data: {_first_line(exc)}") from None
    finally:
        con.close()
    return _counts(grouped, rejected)


_GROUPED = """
WITH rows AS ({rows}),
windowed AS (
  SELECT ok, CASE WHEN ok THEN event END AS event,
         CASE WHEN ok AND event <> 'search' THEN entry END AS entry,
         CASE WHEN ok THEN channel END AS channel,
         CASE WHEN ok AND event = 'search' AND zero THEN query END AS query
  FROM rows WHERE NOT ok OR day BETWEEN $1 AND $2
)
SELECT ok, event, entry, channel, query, count(*) AS n FROM windowed
GROUP BY ALL ORDER BY ALL
"""


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
    # Each line is one text value: no delimiter or quote a JSON line could hold unescaped.
    lines = (f"read_csv({path}, columns = {{'line': 'VARCHAR'}}, header = false, delim = '\\x01',"
             " quote = '', escape = '', auto_detect = false, new_line = '\\n')")
    paths = ", ".join(f"'$.{name}'" for name in COLUMNS)
    picked = ", ".join(f"f[{i + 1}] AS {name}" for i, name in enumerate(COLUMNS))
    return (f"SELECT {picked} FROM (SELECT try(json_extract_string(line, [{paths}])) AS f "
            f"FROM {lines} WHERE line IS NOT NULL AND trim(line) <> '')")


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


def _text_day(column: str) -> str:
    return (f"CASE WHEN regexp_full_match({column}, '{_RFC3339}') "
            f"THEN CAST(timezone('UTC', TRY_CAST({column} AS TIMESTAMPTZ)) AS DATE) END")


def _from_text(fields: str) -> str:
    """Text columns → day, channel, event, entry, query, counted, zero."""
    return (f"SELECT {_text_day('time')} AS day, channel, event, entry, query, "
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
    return (f"SELECT {_parquet_day(types.get('time'))} AS day, {text}, {counted} AS counted, "
            f"{zero} AS zero FROM read_parquet({path})")


def _parquet_day(kind: str | None) -> str:
    if kind == "VARCHAR":
        return _text_day("time")
    if kind is not None and kind.startswith("TIMESTAMP WITH TIME ZONE"):
        return "CAST(timezone('UTC', time) AS DATE)"
    if kind is not None and (kind.startswith("TIMESTAMP") or kind == "DATE"):
        return "CAST(time AS DATE)"  # a timestamp without offset is taken as UTC
    return "CAST(NULL AS DATE)"


def _checked(fields: str) -> str:
    """What an event needs: a date, a channel, and an entry, or a query with a result count."""
    ok = ("day IS NOT NULL AND coalesce(channel, '') <> '' AND CASE "
          "WHEN event = 'search' THEN query IS NOT NULL AND coalesce(counted, false) "
          f"WHEN event IN {_ENTRY_EVENTS} THEN coalesce(entry, '') <> '' ELSE false END")
    return (f"SELECT day, channel, event, entry, query, coalesce(zero, false) AS zero, "
            f"coalesce({ok}, false) AS ok FROM ({fields})")


def _rejected(con: duckdb.DuckDBPyConnection, sources: list[Source]) -> int:
    total = 0
    for index, source in enumerate(sources):
        if source.format == "csv":
            row = con.execute(f"SELECT count(DISTINCT line) FROM rejects_{index}").fetchone()
            total += int(row[0]) if row else 0
    return total


def _counts(grouped: list[tuple], rejected: int) -> Counts:
    events, gaps, unreadable = [], [], rejected
    for ok, event, entry, channel, query, n in grouped:
        if not ok:
            unreadable += n
            continue
        events.append(EventCount(event, entry, channel, n))
        if query is not None:
            gaps.append(QueryCount(query, channel, n))
    return Counts(tuple(events), tuple(gaps), unreadable)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
