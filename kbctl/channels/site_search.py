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

import bisect
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

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

    def written(self) -> WrittenIndex:
        terms = sorted(self.postings)
        return WrittenIndex(self.locale, _average_length(self.docs), list(self.categories), self.docs, terms,
                            [_posting_text(_delta(self.postings[t])) for t in terms])

    def script(self) -> str:
        """The index as a script that loads from any host or from disk."""
        return self.written().script()


SCRIPT_HEAD = "window.KBCTL_SEARCH=window.KBCTL_SEARCH||{};\n"
_DECODER = json.JSONDecoder()
# The payload's keys as json.dumps(sort_keys=True) orders them; "post" is read as text.
_KEYS = ("avgdl", "cats", "docs", "locale", "post", "terms", "v")
_POSTINGS_TEXT = re.compile(r"\[(?:\[[0-9,]*\](?:,\[[0-9,]*\])*)?\]")


@dataclass
class WrittenIndex:
    """One locale's index as its script holds it, each term's postings kept as the text it is
    written in (doc gaps and weights, comma-separated): an update decodes only the postings
    of the terms it changes, a small part of millions of numbers."""

    locale: str
    avgdl: float
    cats: list[str]
    docs: list[list]  # [url, title, snippet, length, category number or -1]
    terms: list[str]  # sorted
    post: list[str]  # per term, e.g. "0,10,3,5"

    def script(self) -> str:
        """The script search.js loads: a JSON payload, each part made script-safe (the
        postings are numbers and brackets only)."""
        dump = json_for_script
        postings = ",".join(f"[{text}]" for text in self.post)
        payload = (f'{{"avgdl":{dump(self.avgdl)},"cats":{dump(self.cats)},"docs":{dump(self.docs)},'
                   f'"locale":{dump(self.locale)},"post":[{postings}],"terms":{dump(self.terms)},'
                   f'"v":{INDEX_VERSION}}}')
        return f"{SCRIPT_HEAD}window.KBCTL_SEARCH[{json.dumps(self.locale)}]={payload};\n"


def read_index_script(text: str, locale: str) -> WrittenIndex | None:
    """The index of a script `WrittenIndex.script` wrote for `locale`, or None."""
    head = f"{SCRIPT_HEAD}window.KBCTL_SEARCH[{json.dumps(locale)}]="
    if not (text.startswith(head) and text.endswith(";\n")):
        return None
    body, at = text[len(head):-2], 0
    values: dict[str, Any] = {}
    try:
        for number, key in enumerate(_KEYS):
            lead = ("{" if number == 0 else ",") + f'"{key}":'
            if not body.startswith(lead, at):
                return None
            at += len(lead)
            if key == "post":  # digits, commas and brackets only: the next quote opens "terms"
                end = body.find('"', at) - 1
                if end < at or not _POSTINGS_TEXT.fullmatch(body, at, end):
                    return None
                values[key], at = _split_postings(body[at:end]), end
            else:
                values[key], at = _DECODER.raw_decode(body, at)
    except ValueError:
        return None
    if body[at:] != "}" or values["v"] != INDEX_VERSION or values["locale"] != locale:
        return None
    index = WrittenIndex(locale, values["avgdl"], values["cats"], values["docs"], values["terms"], values["post"])
    if not (isinstance(index.avgdl, float) and isinstance(index.cats, list) and isinstance(index.docs, list)
            and isinstance(index.terms, list) and len(index.terms) == len(index.post)):
        return None
    return index


def _split_postings(text: str) -> list[str]:
    """"[[0,1],[0,5,2,1]]" -> ["0,1", "0,5,2,1"]."""
    return [] if text == "[]" else text[2:-2].split("],[")


def _posting_text(flat: list[int]) -> str:
    return ",".join(map(str, flat))


def _average_length(docs: list[list]) -> float:
    """BM25's average document length, as the payload carries it (search.js computes with it)."""
    return round(sum(d[3] for d in docs) / len(docs), 2) if docs else 0.0


def replace_documents(index: WrittenIndex, replaced: dict[int, tuple[Prepared, Prepared]]) -> WrittenIndex | None:
    """`index` (changed in place) with documents replaced, each by number: (the record it
    was made from, the record it is now). This is the index `SearchIndex` gives for the new
    records, since the documents stay in number and order; when the categories no longer
    first appear in the index's order (they are numbered in that order), None: the index is
    made whole."""
    categories = index.cats
    shown = [replaced[doc][1][2] if doc in replaced else (categories[record[4]] if record[4] >= 0 else None)
             for doc, record in enumerate(index.docs)]
    if list(dict.fromkeys(category for category in shown if category)) != categories:
        return None
    numbers = {name: number for number, name in enumerate(categories)}
    docs = index.docs
    changed: dict[str, dict[int, int | None]] = {}  # token -> doc -> its new weight (None: gone)
    for doc, ((old_weights, _, _), (weights, record, category)) in replaced.items():
        docs[doc] = [*record, numbers[category] if category else -1]
        for token in old_weights.keys() | weights.keys():
            if weights.get(token) != old_weights.get(token):
                changed.setdefault(token, {})[doc] = weights.get(token)
    terms, post = index.terms, index.post
    for token, weights_by_doc in changed.items():
        at = bisect.bisect_left(terms, token)
        present = at < len(terms) and terms[at] == token
        postings = _postings(post[at]) if present else {}
        for doc, weight in weights_by_doc.items():
            if weight is None:
                postings.pop(doc, None)
            else:
                postings[doc] = weight
        flat = _delta([value for doc in sorted(postings) for value in (doc, postings[doc])])
        if present and flat:
            post[at] = _posting_text(flat)
        elif present:
            del terms[at], post[at]
        elif flat:
            terms.insert(at, token)
            post.insert(at, _posting_text(flat))
    index.avgdl = _average_length(docs)
    return index


def _postings(text: str) -> dict[int, int]:
    """A term's postings as written ("gap,weight,gap,weight"), by document."""
    flat = [int(value) for value in text.split(",")] if text else []
    out: dict[int, int] = {}
    doc = 0
    for gap, weight in zip(flat[0::2], flat[1::2]):
        doc += gap
        out[doc] = weight
    return out


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
