"""The peer: the same entries as a minimal Hugo site (one page per entry, one list layout)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

LAYOUT_SINGLE = """<!doctype html><html lang="{{ .Site.LanguageCode }}"><head><meta charset="utf-8">
<title>{{ .Title }}</title></head><body><main data-pagefind-body><h1>{{ .Title }}</h1>
{{ .Content }}</main></body></html>
"""
LAYOUT_LIST = """<!doctype html><html><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></body></html>
"""


def make_hugo_site(kb: Path, site: Path) -> None:
    if site.exists():
        shutil.rmtree(site)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "layouts" / "_default" / "single.html").write_text(LAYOUT_SINGLE, encoding="utf-8")
    (site / "layouts" / "_default" / "list.html").write_text(LAYOUT_LIST, encoding="utf-8")
    (site / "hugo.toml").write_text(
        'baseURL = "https://help.example.com/"\nlanguageCode = "zh-CN"\ntitle = "Bench"\n'
        'disableKinds = ["taxonomy", "term", "RSS"]\n[markup.goldmark.renderer]\nunsafe = false\n',
        encoding="utf-8")
    content = site / "content"
    for path in sorted((kb / "knowledge").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        _, front, body = text.split("---\n", 2)
        title = next((line[7:] for line in front.splitlines() if line.startswith("title: ")), path.stem)
        body = "\n".join(line for line in body.splitlines() if not line.startswith(":::"))
        body = body.replace("](kb:", "](/")
        target = content / path.relative_to(kb / "knowledge")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\n---\n{body}\n", encoding="utf-8")
