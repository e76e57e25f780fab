"""FAQ channel formats for chatbot platforms (CONTRACT 8): Dialogflow CX FAQ CSV and Azure AI
Language question answering TSV, each parsed back the way its importer reads it.
Fixture: tests/fixtures/rag-kb, channel faq-bot (`formats: [json, dialogflow-csv, azure-qna-tsv]`)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from conftest import BASE_CONFIG, REPO, built_fixture, entry_text, run_cli, write_kb

from kbctl.channels.faq_formats import TSV_HEADER, tsv_field, tsv_value

FIXTURE = REPO / "tests" / "fixtures" / "rag-kb"
AS_OF = "2026-11-22"
LOCALES = ("zh-CN", "en-US")


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = built_fixture(tmp_path_factory, "rag-kb", AS_OF)
    return folder / "faq-bot"


def faq_json(out: Path, locale: str) -> list[dict]:
    return json.loads((out / f"faq.{locale}.json").read_text("utf-8"))["entries"]


def expected_questions(record: dict) -> list[str]:
    found: list[str] = []
    for text in (record["question"], *record["questions"]):
        line = " ".join(text.split())
        if line not in found:
            found.append(line)
    return found


def read_csv(path: Path) -> list[dict[str, str]]:
    """As a Dialogflow CX FAQ import reads it: RFC 4180 CSV with a header row."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, dialect="excel"))


def read_tsv(path: Path) -> tuple[list[str], list[list[str]]]:
    """As question answering reads an import: tab-separated, no quoting, escapes decoded."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[0], [[tsv_value(field) for field in row] for row in rows[1:]]


@pytest.mark.parametrize("locale", LOCALES)
def test_dialogflow_csv_has_a_row_per_question_with_the_answer(out, locale):
    path = out / f"faq.{locale}.csv"
    raw = path.read_bytes().decode("utf-8")
    assert raw.startswith('"question","answer","title","url"\r\n')
    assert not raw.endswith("\n") and "\r\n\r\n" not in raw  # no blank line, not even at the end
    assert '", "' not in raw.replace('""', "")  # no space after a separator
    rows = read_csv(path)
    records = faq_json(out, locale)
    expected = [(q, r["answer"], r["question"], r["url"] or "") for r in records for q in expected_questions(r)]
    assert [(row["question"], row["answer"], row["title"], row["url"]) for row in rows] == expected
    assert all(list(row) == ["question", "answer", "title", "url"] for row in rows)


def test_csv_keeps_quotes_commas_and_line_breaks(out):
    rows = read_csv(out / "faq.en-US.csv")
    answer = rows[0]["answer"]
    assert '"10000",' in answer and "\n" in answer
    assert "Phone shows \"No Service\" again" in [row["question"] for row in rows]  # a tab: one space


@pytest.mark.parametrize("locale", LOCALES)
def test_azure_tsv_has_a_row_per_question_sharing_the_qna_id(out, locale):
    header, rows = read_tsv(out / f"faq.{locale}.tsv")
    assert tuple(header) == TSV_HEADER
    assert all(len(row) == len(TSV_HEADER) for row in rows)
    records = faq_json(out, locale)
    expected = [(q, str(n), r["url"] or "Editorial") for n, r in enumerate(records, start=1)
                for q in expected_questions(r)]
    assert [(row[0], row[7], row[2]) for row in rows] == expected
    for row in rows:
        assert row[4:7] == ["[]", "False", "[]"]
        pairs = dict(pair.split(":", 1) for pair in row[3].split("|"))
        record = next(r for r in records if r["id"] == pairs["id"])
        assert pairs["type"] == record["type"]


def test_tsv_encodes_tabs_and_newlines_in_answers(out):
    raw = (out / "faq.en-US.tsv").read_text("utf-8")
    assert all(line.count("\t") == 7 for line in raw.splitlines())  # no tab or newline inside a field
    _, rows = read_tsv(out / "faq.en-US.tsv")
    answer = rows[0][1]
    assert '"10000",\tor chat' in answer and "\n\nStill nothing?" in answer
    for value in ("a\tb", "line\nline", "C:\\new\\table", "\\n", "x\r\ny"):
        assert tsv_value(tsv_field(value)) == value.replace("\r", "")
        assert "\t" not in tsv_field(value) and "\n" not in tsv_field(value)


def test_tsv_answer_is_markdown_with_links_to_carried_pages(out):
    _, rows = read_tsv(out / "faq.zh-CN.tsv")
    guide = next(row for row in rows if row[0] == "如何缴纳话费？")
    assert "[网络故障](https://help.example.com/zh-CN/no-signal/)" in guide[1]
    assert "| App | 5 分钟 |" in guide[1] and "内部流程" in guide[1] and "agent-secret" not in guide[1]


def test_default_format_is_json_only(tmp_path):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a")})
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(tmp_path / "out"))
    assert result.code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "faq-bot").iterdir()) == [
        "faq.en-US.json", "faq.zh-CN.json", "manifest.json"]


def test_formats_without_json(tmp_path):
    config = BASE_CONFIG.replace("{kind: faq,  audience: public, site: help-center}",
                                 "{kind: faq,  audience: public, site: help-center, formats: [azure-qna-tsv]}")
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a", questions=["别的问法"])}, config=config)
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(tmp_path / "out"))
    assert result.code == 0, result.stderr
    folder = tmp_path / "out" / "faq-bot"
    assert sorted(p.name for p in folder.iterdir()) == ["faq.en-US.tsv", "faq.zh-CN.tsv", "manifest.json"]
    _, rows = read_tsv(folder / "faq.zh-CN.tsv")
    assert [row[0] for row in rows] == ["标题", "别的问法"] and {row[7] for row in rows} == {"1"}
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert manifest["entries"]["a"] == ["faq.zh-CN.tsv"]


def test_an_unknown_format_is_a_usage_error(tmp_path):
    config = BASE_CONFIG.replace("{kind: faq,  audience: public, site: help-center}",
                                 "{kind: faq,  audience: public, formats: [xml]}")
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a")}, config=config)
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(tmp_path / "out"))
    assert result.code == 2 and "kbctl.yaml" in result.stdout + result.stderr


def test_csv_is_what_the_csv_module_reads_back_for_hostile_text():
    from kbctl.channels import faq_formats

    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerow(['a "q", b', "x\ny"])
    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [['a "q", b', "x\ny"]]
    assert faq_formats.CSV_HEADER == ("question", "answer", "title", "url")
