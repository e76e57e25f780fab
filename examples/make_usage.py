"""Write examples/usage.jsonl: a few thousand usage events (CONTRACT 7) over the sample KB.

Deterministic (a fixed seed, sorted entries): the same KB gives the same bytes. The story it
tells, for `kbctl health --usage examples/usage.jsonl --as-of 2027-02-28`:
- most published entries are read on the help center and served by the FAQ bot;
- UNUSED entries get no event at all (the `unused` rule);
- UNHELPFUL entries are voted down (the `unhelpful` rule);
- customers search for things no entry answers, in Chinese and English, spelt differently
  (the `content-gap` rule, after normalization);
- a retired entry id and a channel the KB does not have show up (the `usage-skipped` note).

Run from the repository root: python examples/make_usage.py
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from kbctl.config import load_config
from kbctl.load import load_kb

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "usage.jsonl"
FIRST_DAY, DAYS = dt.date(2026, 12, 1), 90  # the events span 2026-12-01 .. 2027-02-28
UNUSED = ("satellite-sms", "fttr-whole-home", "e-invoice")
UNHELPFUL = {"overdue-suspension": 0.25, "broadband-troubleshooting-en": 0.3, "esim-activation": 0.35}
# (spellings, searches) of questions no entry answers; and one searched too rarely to report.
GAPS = [
    (("携号转网进度查询", "携号转网 进度查询", "携号转网进度查询？"), 14),
    (("副卡怎么注销", "副卡 怎么注销"), 9),
    (("流量结转",), 6),
    (("How do I cancel a roaming day pass?", "how do i cancel a roaming day pass", "cancel roaming day pass"), 5),
    (("5G home router setup", "5g home router setup"), 7),
    (("wifi calling",), 2),
]
FOUND = ["交话费", "账单", "宽带报修", "eSIM", "pay bill", "roaming", "lost phone", "发票"]


def main() -> None:
    rng = random.Random(17)
    kb = load_kb(ROOT, load_config(ROOT))
    published = sorted(e.id for e in kb.valid_entries if e.is_published)
    events: list[tuple[str, dict]] = []
    for entry in published:
        if entry not in UNUSED:
            events += _entry_events(rng, entry)
    for spellings, count in GAPS:
        for i in range(count):
            events.append(_event(rng, "help-center", "search", query=spellings[i % len(spellings)], results=0))
    for _ in range(400):
        events.append(_event(rng, "help-center", "search", query=rng.choice(FOUND), results=rng.randint(1, 12)))
    events += [_event(rng, "help-center", "view", entry="double-11-promo-2024") for _ in range(4)]
    events += [_event(rng, "wechat-mini", "view", entry=rng.choice(published)) for _ in range(5)]
    events.sort(key=lambda item: (item[0], json.dumps(item[1], ensure_ascii=False)))
    OUT.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for _, e in events), encoding="utf-8")
    print(f"{len(events)} events written to {OUT.relative_to(ROOT)}")


def _entry_events(rng: random.Random, entry: str) -> list[tuple[str, dict]]:
    views = rng.randint(10, 60)
    out = [_event(rng, "help-center", "view", entry=entry) for _ in range(views)]
    out += [_event(rng, "faq-bot", "serve", entry=entry) for _ in range(rng.randint(0, 15))]
    share = UNHELPFUL.get(entry, 0.85)
    votes = rng.randint(8, 20) if entry in UNHELPFUL else rng.randint(0, views // 6)
    for _ in range(votes):
        vote = "helpful" if rng.random() < share else "unhelpful"
        out.append(_event(rng, "help-center", vote, entry=entry))
    return out


def _event(rng: random.Random, channel: str, event: str, **fields) -> tuple[str, dict]:
    day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
    moment = dt.datetime.combine(day, dt.time(rng.randint(7, 22), rng.randrange(60), rng.randrange(60)))
    # Most clients report UTC; some report China Standard Time, as RFC 3339 allows.
    if rng.random() < 0.2:
        stamp = (moment + dt.timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%S") + "+08:00"
    else:
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat(), {"time": stamp, "channel": channel, "event": event, **fields}


if __name__ == "__main__":
    main()
