"""Generate a realistic knowledge base of any size, with a git history, for benchmarks.

    python bench/generate.py OUT --entries 10000 --commits 300

zh-CN entries with en-US translations for a third of them, a two-level taxonomy, links and
related entries, restricted and IVR blocks, hotline opt-ins, and a backdated git history in
which a few hundred commits each touch a handful of entries. Deterministic for a given size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import subprocess
from pathlib import Path

TOPICS = [("billing", "账单", "Billing"), ("account", "账户", "Account"), ("network", "网络", "Network"),
          ("roaming", "漫游", "Roaming"), ("plans", "套餐", "Plans"), ("service", "服务", "Service"),
          ("devices", "终端", "Devices"), ("broadband", "宽带", "Broadband")]
SUBTOPICS = [("basics", "基础", "Basics"), ("payments", "缴费", "Payments"), ("issues", "故障", "Issues"),
             ("rules", "规则", "Rules"), ("guides", "指南", "Guides"), ("offers", "优惠", "Offers"),
             ("security", "安全", "Security"), ("support", "支持", "Support")]
ZH_WORDS = ["话费", "缴费", "账单", "流量", "套餐", "宽带", "漫游", "实名", "认证", "密码", "重置", "补卡", "携号转网", "发票", "充值", "退款", "投诉", "网络", "信号", "光猫", "路由器", "营业厅", "客服", "积分", "优惠", "活动", "国际", "长途", "短信", "语音", "合约", "停机", "复机"]
EN_WORDS = ["bill", "payment", "plan", "data", "roaming", "network", "signal", "router", "password", "reset", "invoice", "refund", "complaint", "balance", "account", "store", "activation", "transfer", "porting", "coverage", "speed", "outage"]
TYPES = ["faq"] * 6 + ["howto", "troubleshooting", "policy", "reference"]
CONFIG_HEAD = """name: Benchmark Telecom Help Center
default_locale: zh-CN
locales: [zh-CN, en-US]
base_url: https://help.example.com
owners:
  team-a: {name: 甲组, github: "@example/team-a"}
  team-b: {name: 乙组, github: "@example/team-b"}
  team-c: {name: 丙组}
review:
  default_interval: 180d
  intervals: {policy: 90d}
  warn_within: 14d
channels:
  help-center:  {kind: site, audience: public}
  agent-portal: {kind: site, audience: internal}
  faq-bot:      {kind: faq,  audience: public, site: help-center}
  hotline:      {kind: ivr,  audience: public, select: opt-in, max_prompt_seconds: 30}
taxonomy:
"""


def taxonomy_yaml() -> str:
    lines = []
    for i, (tid, zh, en) in enumerate(TOPICS):
        lines += [f"  - id: {tid}", f"    title: {{zh-CN: {zh}, en-US: {en}}}", f'    dtmf: "{i + 1}"',
                  "    children:"]
        for sid, szh, sen in SUBTOPICS:
            lines.append(f"      - {{id: {sid}, title: {{zh-CN: {zh}{szh}, en-US: {en} {sen}}}}}")
    return "\n".join(lines) + "\n"


def sentence(rng: random.Random, words, n: int, sep: str) -> str:
    return sep.join(rng.choice(words) for _ in range(n))


def zh_body(rng, index, targets) -> str:
    parts = [f"## 办理说明\n\n{sentence(rng, ZH_WORDS, 40, '')}。\n",
             "## 操作步骤\n\n" + "".join(f"{k}. {sentence(rng, ZH_WORDS, 12, '')}。\n" for k in range(1, 5)),
             f"\n详情参见[相关说明](kb:{targets[0]})和[更多问题](kb:{targets[1]}#办理说明)。\n",
             f"\n| 项目 | 说明 |\n|---|---|\n| 费用 | {rng.randint(1, 99)} 元 |\n| 时效 | {rng.randint(1, 7)} 天 |\n"]
    if index % 5 == 0:
        parts.append(f"\n::: internal\n坐席核实身份后可办理，系统代码 SYS-{index}。\n:::\n")
    if index % 40 == 0:
        parts.append("\n::: ivr\n您好，办理此业务请登录星海通信App，或拨打客服热线10000。\n:::\n")
    parts.append(f"\n## 常见问题\n\n{sentence(rng, ZH_WORDS, 60, '')}。\n")
    return "\n".join(parts)


def en_body(rng, targets) -> str:
    return (f"## Overview\n\n{sentence(rng, EN_WORDS, 60, ' ').capitalize()}.\n\n"
            "## Steps\n\n" + "".join(f"{k}. {sentence(rng, EN_WORDS, 10, ' ').capitalize()}.\n" for k in range(1, 5))
            + f"\nSee [related](kb:{targets[0]}).\n\n## Notes\n\n{sentence(rng, EN_WORDS, 80, ' ')}.\n")


def entry(rng, index, total, hotline_slots) -> tuple[str, str, list[tuple[str, str]]]:
    topic = TOPICS[index % len(TOPICS)]
    sub = SUBTOPICS[(index // len(TOPICS)) % len(SUBTOPICS)]
    category = f"{topic[0]}/{sub[0]}"
    eid = f"kb-{index:05d}"
    visibility = "internal" if index % 50 == 7 else "public"
    public_targets = [f"kb-{(index + d) % total:05d}" for d in (8, 16)]
    targets = [t if int(t[3:]) % 50 != 7 else f"kb-{(int(t[3:]) + 1) % total:05d}" for t in public_targets]
    meta = [f"id: {eid}", f"title: 关于{sentence(rng, ZH_WORDS, 3, '')}的问题 {index}",
            f"type: {TYPES[index % len(TYPES)]}", "status: published", f"owner: team-{'abc'[index % 3]}",
            f"visibility: {visibility}", f"category: {category}",
            f"tags: [{rng.choice(ZH_WORDS)}, {rng.choice(ZH_WORDS)}{index % 7}]",
            f"summary: {sentence(rng, ZH_WORDS, 10, '')}。", f"related: [{targets[0]}]",
            f"last_reviewed: {dt.date(2026, 6, 1) + dt.timedelta(days=index % 150)}"]
    if index % 40 == 0 and hotline_slots.get(category, 0) < 5:
        hotline_slots[category] = hotline_slots.get(category, 0) + 1
        meta.append("channels: [help-center, agent-portal, faq-bot, hotline]")
    translation = []
    if index % 3 == 0 and visibility == "public":
        en_meta = [f"id: {eid}-en", f"title: About {sentence(rng, EN_WORDS, 3, ' ')} question {index}",
                   f"type: {TYPES[index % len(TYPES)]}", "status: published", f"owner: team-{'abc'[index % 3]}",
                   "locale: en-US", f"category: {category}", f"translation_of: {eid}",
                   f"summary: {sentence(rng, EN_WORDS, 12, ' ').capitalize()}.",
                   f"last_reviewed: {dt.date(2026, 6, 1) + dt.timedelta(days=index % 150)}"]
        en_targets = [f"kb-{(index + 3 * d) % total:05d}-en" for d in (1,)]
        en_targets = [t if int(t[3:8]) % 3 == 0 and int(t[3:8]) % 50 != 7 and int(t[3:8]) < total - 3 else f"{eid}-en" for t in en_targets]
        en_text = "---\n" + "\n".join(en_meta) + "\n---\n" + en_body(rng, en_targets if en_targets[0] != f"{eid}-en" else [f"{eid}-en#overview"])
        translation.append((f"{category}/{eid}.en.md", en_text))
    text = "---\n" + "\n".join(meta) + "\n---\n" + zh_body(rng, index, targets)
    return f"{category}/{eid}.md", text, translation


def generate(out: Path, entries: int, commits: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "knowledge").mkdir(parents=True)
    (out / "kbctl.yaml").write_text(CONFIG_HEAD + taxonomy_yaml(), encoding="utf-8")
    (out / ".gitignore").write_text("dist/\n.kbctl/\n", encoding="utf-8")
    files: list[Path] = []
    slots: dict[str, int] = {}
    count = 0
    index = 0
    zh_total = _zh_count(entries)
    while count < entries:
        rel, text, extra = entry(rng, index, zh_total, slots)
        for r, t in [(rel, text), *extra][: entries - count]:
            path = out / "knowledge" / r
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(t, encoding="utf-8")
            files.append(path)
            count += 1
        index += 1
    if commits:
        make_history(out, files, commits, rng)


def _zh_count(entries: int) -> int:
    """How many zh-CN entries (indices) make `entries` files, counting their translations."""
    count = index = 0
    while count < entries:
        count += 1 + (1 if index % 3 == 0 and index % 50 != 7 else 0)
        index += 1
    return index


def make_history(out: Path, files: list[Path], commits: int, rng: random.Random) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    run = lambda *a, **kw: subprocess.run(["git", *a], cwd=out, env={**env, **kw}, check=True,
                                          capture_output=True)
    run("init", "-q", "-b", "main")
    start = dt.datetime(2026, 1, 5, 9, 0)
    run("add", "-A")
    run("commit", "-q", "-m", "Import knowledge base", GIT_AUTHOR_DATE=start.isoformat(),
        GIT_COMMITTER_DATE=start.isoformat())
    for number in range(1, commits):
        when = (start + dt.timedelta(hours=number * 24 * 300 // commits)).isoformat()
        for path in rng.sample(files, k=min(20, len(files))):
            with path.open("a", encoding="utf-8") as handle:
                handle.write(f"\n更新说明 {number}。\n")
        run("commit", "-q", "-a", "-m", f"Update entries ({number})", GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=300)
    args = parser.parse_args()
    generate(args.out, args.entries, args.commits)
    print(f"generated {args.entries} entries with {args.commits} commits in {args.out}")


if __name__ == "__main__":
    main()
