"""The site search's query side in Python: how site/search.js ranks an index, for `kbctl mcp`.

An agent asking `kbctl mcp` and a reader typing in the help center's search box get the same
entries in the same order: this module is a line-by-line port of `analyze`, `expand`,
`scoreTerm` and `search` in site/search.js, over the index `SearchIndex` builds (the same
tokenizer constants, imported from kbctl/channels/site_search.py). tests/test_mcp.py runs
search.js in node over a built index and holds both rankings equal; the constants below are
read back from search.js there, so neither side can drift alone.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from dataclasses import dataclass

from kbctl.channels.site_search import CJK, STOPWORDS, SearchIndex, stem

K1 = 2.0
B = 0.6
PREFIX_FACTOR = 0.75
CHAR_FACTOR = 0.8
MAX_EXPANSIONS = 64
MAX_RESULTS = 50
TITLE_BONUS = 1.5

_RUN = re.compile(f"[0-9a-z\u00df-\u00f6\u00f8-\u024f]+|[{CJK}]+")
_IS_CJK = re.compile(f"^[{CJK}]")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class QueryTerm:
    token: str
    kind: str  # "w": a word, matched as a prefix; "g": a CJK bigram; "c": one CJK character


@dataclass(frozen=True)
class Hit:
    doc: int  # the document's number in its index (the order entries were added)
    score: float


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def analyze(text: str) -> list[QueryTerm]:
    """The query's terms, as search.js `analyze` makes them."""
    words: list[str] = []
    out: list[QueryTerm] = []
    for run in _RUN.findall(normalize(text)):
        if _IS_CJK.match(run):
            if len(run) == 1:
                out.append(QueryTerm(run, "c"))
            out += [QueryTerm(run[i:i + 2], "g") for i in range(len(run) - 1)]
        else:
            words.append(run)
    kept = [word for word in words if word not in STOPWORDS]
    out += [QueryTerm(stem(word), "w") for word in (kept if kept or out else words)]
    return list(dict.fromkeys(out))  # the first of each, in order


class Searcher:
    """One locale's index, ready for queries (the arrays search.js reads from the payload)."""

    def __init__(self, index: SearchIndex):
        self.terms = sorted(index.postings)
        self.postings = [index.postings[term] for term in self.terms]  # [doc, weight, ...]
        self.lengths = [doc[3] for doc in index.docs]
        self.titles = [_SPACE.sub("", normalize(doc[1])) for doc in index.docs]
        # The payload carries avgdl rounded to two places, and search.js computes with that.
        self.avgdl = round(sum(self.lengths) / len(self.lengths), 2) if self.lengths else 0.0

    def expand(self, term: QueryTerm) -> list[tuple[int, float]]:
        """The vocabulary terms a query term stands for, each with a factor (1: exact)."""
        terms = self.terms
        if term.kind == "c":
            return [(i, 1 if t == term.token else CHAR_FACTOR) for i, t in enumerate(terms)
                    if term.token in t and _IS_CJK.match(t)]
        i = bisect.bisect_left(terms, term.token)
        if term.kind == "g":
            return [(i, 1)] if i < len(terms) and terms[i] == term.token else []
        out: list[tuple[int, float]] = []
        while i < len(terms) and terms[i].startswith(term.token) and len(out) < MAX_EXPANSIONS:
            out.append((i, 1 if terms[i] == term.token else PREFIX_FACTOR))
            i += 1
        return out

    def score_term(self, ti: int, factor: float, best: dict[int, float]) -> None:
        """BM25 of one vocabulary term; keeps each document's best score for the query term."""
        post = self.postings[ti]
        n, df = len(self.lengths), len(post) / 2
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        avgdl = self.avgdl or 1
        for j in range(0, len(post), 2):
            doc, tf = post[j], post[j + 1]
            s = factor * idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * self.lengths[doc] / avgdl))
            if not best.get(doc, -math.inf) >= s:
                best[doc] = s

    def search(self, query: str) -> list[Hit]:
        """The best MAX_RESULTS documents for `query`, best first (ties: in index order)."""
        terms = analyze(query)
        if not terms:
            return []
        total: dict[int, float] = {}
        matched: dict[int, int] = {}
        for term in terms:
            best: dict[int, float] = {}
            for ti, factor in self.expand(term):
                self.score_term(ti, factor, best)
            for doc in sorted(best):  # search.js walks an object's integer keys in order
                total[doc] = total.get(doc, 0) + best[doc]
                matched[doc] = matched.get(doc, 0) + 1
        whole = _SPACE.sub("", normalize(query))
        hits = []
        for doc in sorted(total):
            cover = matched[doc] / len(terms)
            score = total[doc] * cover * cover
            if whole and whole in self.titles[doc]:
                score *= TITLE_BONUS
            hits.append(Hit(doc, score))
        hits.sort(key=lambda hit: (-hit.score, hit.doc))
        return hits[:MAX_RESULTS]
