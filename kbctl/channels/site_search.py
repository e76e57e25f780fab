"""The site's offline search: a build-time inverted index per locale, queried by site/search.js.

Why this design
- **Any static host, and even file://.** The index is a plain script, `search-index.<locale>.js`,
  that assigns to a global (`window.KBCTL_SEARCH[locale]`). A `<script src>` loads from disk
  where `fetch()` of a JSON file would be refused, and no server code runs anywhere.
- **Chinese without a dictionary.** CJK text has no spaces, and a word segmenter needs a
  dictionary that is large and domain-blind ("话费", "停复机"). We index overlapping character
  *bigrams* — the approach of Lucene's CJK analyzer: "缴纳话费" gives 缴纳 / 纳话 / 话费, so the
  query 话费 finds it, and the phrase 话费缴纳 (话费 / 费缴 / 缴纳) still finds it through two of
  its three bigrams even though the words are not contiguous in that order. A run of one CJK
  character is indexed as itself; a one-character query matches every bigram holding the
  character (the vocabulary scan costs milliseconds), so unigram postings, which would double
  the index, are not needed.
- **English** words are lower-cased runs of Latin letters and digits, a few stopwords dropped and
  plural `-s`/`-ies` folded; queries match word *prefixes* ("pay" finds "payment"), exact matches
  ranking above prefix ones.
- **Ranking** is BM25 over field-weighted term frequencies (title > questions and tags >
  summary > body), times the share of query terms a document matched, with a bonus when the
  title holds the whole query.
- **Compact**: documents are arrays (`[url, title, snippet, length, category]`) with numeric ids;
  the vocabulary is one sorted array (binary search serves exact and prefix lookups) and each
  term's postings one flat array of (doc-id delta, weighted frequency) pairs.
- **Only what the audience may see**: the text indexed is `Rendered.text` rendered for the
  channel's audience (restricted blocks above it and ivr scripts are cut from the source), plus
  the entry's front-matter title, questions, tags and summary. Never `entry.body`.

The tokenizer below and `analyze()` in site/search.js must stay in step; tests pin both.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

INDEX_VERSION = 1
FIELD_WEIGHTS = {"title": 10, "questions": 5, "tags": 5, "summary": 3, "body": 1}
SNIPPET_CHARS = 160

# BMP ranges only, so that Python and JavaScript (UTF-16) agree on characters and on sort order.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TOKEN = re.compile(f"([0-9a-z\u00df-\u00f6\u00f8-\u024f]+)|([{CJK}]+)")
STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "i", "in", "is", "it", "my", "of", "on", "or", "the", "to", "what", "when", "where", "which", "who", "why", "will", "with", "you", "your"]
)


def stem(word: str) -> str:
    """Fold English plurals: bills → bill, charges → charge, batteries → battery."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_WORDS: dict[str, str] = {}  # word -> its index form ("" for a stopword); the vocabulary is small


def tokens(text: str) -> list[str]:
    """Index tokens of `text`: Latin/digit words (stemmed, stopwords dropped) and CJK bigrams."""
    out: list[str] = []
    known = _WORDS.get
    for word, run in TOKEN.findall(unicodedata.normalize("NFKC", text).lower()):
        if word:
            form = known(word)
            if form is None:
                form = _WORDS[word] = "" if word in STOPWORDS else stem(word)
            if form:
                out.append(form)
        elif len(run) == 1:
            out.append(run)
        else:
            out += [run[i:i + 2] for i in range(len(run) - 1)]
    return out


def snippet(summary: str | None, text: str) -> str:
    """What a result shows under its title: the short answer, else the answer's opening."""
    source = summary or " ".join(text.split())
    if len(source) <= SNIPPET_CHARS:
        return source
    return source[:SNIPPET_CHARS].rstrip() + "…"


Prepared = tuple[dict[str, int], list, "str | None"]


def prepare(url: str, title: str, summary: str | None, text: str,
            questions: list[str], tags: list[str], category: str | None) -> Prepared:
    """A document's weighted tokens and its record: the costly, independent half of `add`."""
    body = tokens(text)
    weights = Counter(body)  # body weight is 1: counted in C
    length = len(body)
    for field_name, value in (("title", title), ("questions", " ".join(questions)),
                              ("tags", " ".join(tags)), ("summary", summary or "")):
        found = tokens(value)
        length += len(found)
        weight = FIELD_WEIGHTS[field_name]
        for token in found:
            weights[token] += weight
    return dict(weights), [url, title, snippet(summary, text), length], category


def prepare_entry(entry, text: str, category: str | None) -> Prepared:
    """An entry's document: its page, front-matter fields and the answer's text as shown."""
    return prepare(f"{entry.id}/index.html", entry.title, entry.summary, text,
                   entry.questions, entry.tags, category)


class SearchIndex:
    """One locale's index, filled entry by entry while the pages are written."""

    def __init__(self, locale: str):
        self.locale = locale
        self.docs: list[list] = []
        self.categories: dict[str, int] = {}
        self.postings: dict[str, list[int]] = {}  # token -> [doc, weight, doc, weight, ...]

    def add(self, url: str, title: str, summary: str | None, text: str,
            questions: list[str], tags: list[str], category: str | None) -> None:
        self.add_prepared(prepare(url, title, summary, text, questions, tags, category))

    def add_prepared(self, prepared: Prepared) -> None:
        """Add a document weighed by `prepare` (possibly in a worker process), in order."""
        weights, doc_record, category = prepared
        doc = len(self.docs)
        postings = self.postings
        for token, weight in weights.items():
            posting = postings.get(token)
            if posting is None:
                postings[token] = [doc, weight]
            else:
                posting += (doc, weight)
        cat = -1
        if category:
            cat = self.categories.setdefault(category, len(self.categories))
        self.docs.append([*doc_record, cat])

    def payload(self) -> dict:
        terms = sorted(self.postings)
        avgdl = sum(d[3] for d in self.docs) / len(self.docs) if self.docs else 0.0
        return {
            "v": INDEX_VERSION,
            "locale": self.locale,
            "avgdl": round(avgdl, 2),
            "docs": self.docs,
            "cats": list(self.categories),
            "terms": terms,
            "post": [_delta(self.postings[t]) for t in terms],
        }

    def pieces(self) -> IndexPieces:
        """The index as JSON pieces (see IndexPieces)."""
        return IndexPieces(
            locale=self.locale,
            docs=[_json(d) for d in self.docs],
            lengths=[d[3] for d in self.docs],
            categories=dict(self.categories),
            terms=sorted(self.postings),
            post={t: _json(_delta(p)) for t, p in self.postings.items()},
        )

    def script(self) -> str:
        """The index as a script that loads from any host or from disk."""
        return self.pieces().script()


@dataclass
class IndexPieces:
    """A built index kept as JSON pieces: a document's text can change without weighing the
    other 10,000 again. `script()` joins the pieces into exactly the bytes of `payload()`
    as a script."""

    locale: str
    docs: list[str]  # each document's record, as JSON
    lengths: list[int]
    categories: dict[str, int]
    terms: list[str]  # sorted, as in the payload
    post: dict[str, str]  # term -> its postings (doc gaps and weights), as JSON

    def script(self) -> str:
        avgdl = round(sum(self.lengths) / len(self.lengths), 2) if self.lengths else 0.0
        post = self.post
        # Made script-safe piece by piece (the escapes replace single characters), skipping
        # the postings: numbers only, and most of the bytes.
        data = "".join((
            '{"avgdl":', _json(avgdl), ',"cats":', script_safe(_json(list(self.categories))),
            ',"docs":[', script_safe(",".join(self.docs)), '],"locale":', script_safe(_json(self.locale)),
            ',"post":[', ",".join([post[t] for t in self.terms]), '],"terms":', script_safe(_json(self.terms)),
            ',"v":', _json(INDEX_VERSION), "}",
        ))
        locale = json.dumps(self.locale)
        return ("window.KBCTL_SEARCH=window.KBCTL_SEARCH||{};\n"
                f"window.KBCTL_SEARCH[{locale}]={data};\n")

def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _delta(flat: list[int]) -> list[int]:
    """Doc ids as gaps from the previous one (they are added in order), weights as they are."""
    docs = flat[0::2]
    out = flat[:]
    out[2::2] = [b - a for a, b in pairwise(docs)]
    return out


def json_for_script(value) -> str:
    """JSON that is safe inside a script: `<`, `>` and `&` escaped, so content can never close
    a `<script>` element or open a comment, and U+2028/2029 escaped for older parsers."""
    return script_safe(json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True))


def script_safe(text: str) -> str:
    """JSON text made safe inside a script (see json_for_script)."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
