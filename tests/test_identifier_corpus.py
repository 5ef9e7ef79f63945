"""The identifier corpus: lines written the way victims type, each with the identifiers a clerk would keep."""

from pathlib import Path

import pytest

from handlers.identifiers import extract_identifiers

CORPUS = Path(__file__).parent / "data" / "identifier_corpus.tsv"


def corpus_lines():
    """(line, expected [(kind, normalized)]) for every entry of the corpus file."""
    rows = []
    for raw in CORPUS.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        line, expected = raw.split("\t")
        pairs = [] if expected == "-" else [tuple(item.split(":", 1)) for item in expected.split(";")]
        rows.append((line, pairs))
    return rows


def test_the_corpus_is_large_and_bilingual():
    rows = corpus_lines()
    assert len(rows) >= 150
    english = [line for line, _ in rows if line.isascii()]
    assert len(english) >= 40 and len(rows) - len(english) >= 100


@pytest.mark.parametrize(("line", "expected"), corpus_lines(), ids=lambda v: v if isinstance(v, str) else None)
def test_every_identifier_in_the_line_is_found_and_nothing_else(line, expected):
    assert [(i.kind, i.normalized) for i in extract_identifiers(line)] == expected
