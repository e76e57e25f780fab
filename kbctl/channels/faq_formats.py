"""A faq channel's files for chatbot platforms (CONTRACT 8 `formats`), beside faq.<locale>.json:

- `dialogflow-csv` → `faq.<locale>.csv`, a Dialogflow CX FAQ data store document: a header
  row `question,answer,title,url`, then one row per question (the entry's title, then each
  alternate phrasing) with the entry's answer as plain text, its title and its page URL
  (empty where there is none). Every field is quoted (RFC 4180: `"` doubled, line breaks
  kept inside quotes), no space after a comma, and no blank line anywhere, not even at the
  end (the importer rejects both): rows end with CRLF but the last, which ends the file.
- `azure-qna-tsv` → `faq.<locale>.tsv`, an Azure AI Language question answering import:
  the header `Question Answer Source Metadata SuggestedQuestions IsContextOnly Prompts QnaId`
  (tab-separated), one row per question, the rows of one entry sharing its QnaId (1, 2, … in
  file order), so the importer makes one pair with alternate questions. Answer: the answer as
  Markdown (restricted blocks the audience may see keep their text, not their markers).
  Source: the page URL, else `Editorial`. Metadata: `id:<entry id>|type:<type>` and
  `|category:<path>`. SuggestedQuestions and Prompts `[]`, IsContextOnly `False`.
  TSV has no quoting: a field's tab would start a new column and a newline a new row, so
  each field is escaped as QnA Maker-era TSV tools escape answers: a backslash as
  `\\\\`, a newline as `\\n`, a tab as `\\t`, a carriage return dropped. In a question (one
  line of plain text) any run of blanks is one space. Metadata values drop `:` and `|`.
"""

from __future__ import annotations

import csv
import io
import re

from kbctl.channels.base import ChannelContext
from kbctl.channels.markdown_copy import answer_parts, answer_resolver
from kbctl.model import Entry
from kbctl.render import render_entry

CSV_HEADER = ("question", "answer", "title", "url")
TSV_HEADER = ("Question", "Answer", "Source", "Metadata", "SuggestedQuestions", "IsContextOnly", "Prompts", "QnaId")
FORMAT_PATHS = {"dialogflow-csv": "faq.{locale}.csv", "azure-qna-tsv": "faq.{locale}.tsv"}


def questions(entry: Entry) -> list[str]:
    """The entry's question and each alternate phrasing, once each, on one line."""
    out: list[str] = []
    for text in (entry.title, *entry.questions):
        line = " ".join(str(text).split())
        if line and line not in out:
            out.append(line)
    return out


def dialogflow_csv(ctx: ChannelContext, entries: list[Entry], resolver_of, url_of) -> str:
    """`faq.<locale>.csv` for a Dialogflow CX FAQ data store."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for entry in entries:
        rendered = render_entry(entry, ctx.channel.audience_rank, resolver_of(entry))
        answer = rendered.text.replace("\r", "") or entry.summary or entry.title
        for question in questions(entry):
            writer.writerow((question, answer, " ".join(entry.title.split()), url_of(entry) or ""))
    return buffer.getvalue().removesuffix("\r\n")


def azure_tsv(ctx: ChannelContext, entries: list[Entry], url_of) -> str:
    """`faq.<locale>.tsv` for an Azure AI Language question answering import."""
    rows = ["\t".join(TSV_HEADER)]
    for qna_id, entry in enumerate(entries, start=1):
        answer = tsv_field(markdown_answer(ctx, entry, url_of) or entry.summary or entry.title)
        source = tsv_field(url_of(entry) or "Editorial")
        metadata = tsv_field(metadata_field(entry))
        for question in questions(entry):
            rows.append("\t".join((tsv_field(question), answer, source, metadata, "[]", "False", "[]", str(qna_id))))
    return "\n".join(rows) + "\n"


def markdown_answer(ctx: ChannelContext, entry: Entry, url_of) -> str:
    """The answer as Markdown for the channel's audience (kbctl.channels.markdown_copy), links to
    carried entries pointing to their pages, the texts of kept blocks without markers."""
    resolve = answer_resolver(ctx, entry, link_url=url_of)
    return "\n\n".join(part.text for part in answer_parts(ctx, entry, resolve))


def metadata_field(entry: Entry) -> str:
    pairs = [("id", entry.id), ("type", entry.type)] + ([("category", entry.category)] if entry.category else [])
    return "|".join(f"{key}:{_META_UNSAFE.sub('', value)}" for key, value in pairs)


_META_UNSAFE = re.compile(r"[:|\s]")


def tsv_field(text: str) -> str:
    """A value as one TSV field: backslash, newline and tab escaped (`\\\\`, `\\n`, `\\t`)."""
    return text.replace("\r", "").replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def tsv_value(field: str) -> str:
    """The value `tsv_field` encoded (what the importer reads back)."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), field)
