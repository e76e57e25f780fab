"""Usage events at scale: 10,000,000 events as JSONL and as Parquet, aggregated as `kbctl
health --usage` aggregates them (kbctl.usage.read.count_events over a 90-day window).

    python bench/usage.py [DIR] [--events N]

Generates with DuckDB itself (seconds, not minutes) into DIR or a temporary folder, then
measures each format in a fresh process: wall time of the aggregation and the process's peak
resident memory. Targets (a 2-core machine): JSONL at most 15 s and 1 GB; Parquet several
(here: 3) times faster than JSONL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JSONL_SECONDS, MAX_MEGABYTES, PARQUET_SPEEDUP = 15.0, 1024, 3.0
AS_OF = dt.date(2026, 11, 30)

_EVENTS = """
SELECT
  strftime(TIMESTAMP '2026-08-01' + to_seconds((hash(i) % (120 * 86400))::BIGINT),
           '%Y-%m-%dT%H:%M:%SZ') AS time,
  ['help-center', 'faq-bot', 'hotline', 'assistant'][1 + (i % 4)::INT] AS channel,
  CASE WHEN i % 10 = 0 THEN 'search'
       ELSE ['view', 'view', 'view', 'view', 'helpful', 'unhelpful', 'serve', 'serve'][1 + (hash(i * 7) % 8)::INT]
  END AS event,
  CASE WHEN i % 10 <> 0 THEN 'entry-' || (hash(i * 3) % 10000)::VARCHAR END AS entry,
  CASE WHEN i % 10 = 0 THEN ['携号转网', 'pay bill', '流量 结转', 'roaming pass'][1 + (hash(i * 13) % 4)::INT]
       || ' ' || (hash(i * 5) % 5000)::VARCHAR END AS query,
  CASE WHEN i % 10 = 0 THEN (hash(i * 11) % 4)::INT END AS results
FROM range({n}) t(i)
"""


def generate(folder: Path, events: int) -> tuple[Path, Path]:
    import duckdb

    jsonl, parquet = folder / "events.jsonl", folder / "events.parquet"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"COPY ({_EVENTS.format(n=events)}) TO '{jsonl}' (FORMAT json)")
    con.execute(f"COPY (SELECT * FROM read_json('{jsonl}', format = 'newline_delimited')) "
                f"TO '{parquet}' (FORMAT parquet)")
    con.close()
    return jsonl, parquet


def measure(path: Path) -> dict:
    """In this process: aggregate `path` once; seconds and peak RSS in MB."""
    from kbctl.usage.read import count_events
    from kbctl.usage.sources import Source

    source = Source(path, "parquet" if path.suffix == ".parquet" else "jsonl", path.name)
    start = time.perf_counter()
    counts = count_events([source], AS_OF - dt.timedelta(days=89), AS_OF)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "megabytes": _peak_megabytes(), "groups": len(counts.events),
            "events": sum(e.count for e in counts.events), "unreadable": counts.unreadable}


def _peak_megabytes() -> float:
    """This process's peak RSS. Linux's VmHWM starts afresh at exec; ru_maxrss would carry
    the parent's peak (the generator's) into the child."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
        return int(status.split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_child(path: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--measure", str(path)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory() as temp:
        folder = args.folder or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        jsonl, parquet = generate(folder, args.events)
        print(f"generated {args.events:,} events in {time.perf_counter() - start:.1f} s: "
              f"JSONL {jsonl.stat().st_size / 1e6:,.0f} MB, Parquet {parquet.stat().st_size / 1e6:,.0f} MB")
        results = {name: _in_child(path) for name, path in (("jsonl", jsonl), ("parquet", parquet))}
    for name, r in results.items():
        print(f"{name:8} {r['seconds']:6.2f} s  peak RSS {r['megabytes']:6.0f} MB  "
              f"{r['events']:,} events in the window, {r['groups']:,} groups")
    j, p = results["jsonl"], results["parquet"]
    print(f"target JSONL <= {JSONL_SECONDS:.0f} s: {_verdict(j['seconds'] <= JSONL_SECONDS)}")
    print(f"target JSONL <= {MAX_MEGABYTES} MB: {_verdict(j['megabytes'] <= MAX_MEGABYTES)}")
    print(f"target Parquet <= {MAX_MEGABYTES} MB: {_verdict(p['megabytes'] <= MAX_MEGABYTES)}")
    speedup = j["seconds"] / p["seconds"] if p["seconds"] else float("inf")
    print(f"target Parquet >= {PARQUET_SPEEDUP:.0f}x faster than JSONL ({speedup:.1f}x): "
          f"{_verdict(speedup >= PARQUET_SPEEDUP)}")


if __name__ == "__main__":
    main()
