"""The shipped content library: valid, in step with the shared taxonomy, and every type reachable."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import pytest

from bot.library.loader import check_library, load_library
from bot.library.matcher import build_matcher

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
SHARED_TAXONOMY = ROOT.parent / "shared" / "taxonomy.toml"


@pytest.fixture(scope="module")
def library():
    """The shipped library, loaded once for this module."""
    return load_library(CONTENT)


def test_shipped_library_passes_content_check():
    assert check_library(CONTENT) == []


@pytest.mark.skipif(not SHARED_TAXONOMY.exists(), reason="no ../shared/taxonomy.toml beside the checkout")
def test_taxonomy_copy_is_identical_to_the_shared_one():
    shipped = tomllib.loads((CONTENT / "taxonomy.toml").read_text(encoding="utf-8"))
    shared = tomllib.loads(SHARED_TAXONOMY.read_text(encoding="utf-8"))
    assert [t["id"] for t in shipped["type"]] == [t["id"] for t in shared["type"]]
    assert shipped == shared


def test_every_type_teaches_the_hotlines_in_both_languages(library):
    for fraud_type in library.types.values():
        for lang in ("zh", "en"):
            steps = " ".join(fraud_type.what_to_do.get(lang))
            assert "110" in steps or "96110" in steps, (fraud_type.id, lang)


def test_every_type_has_enough_material_for_the_matcher_and_the_program(library):
    for fraud_type in library.types.values():
        assert len(fraud_type.phrases.zh) + len(fraud_type.phrases.en) >= 15, fraud_type.id
        assert fraud_type.phrases.en, fraud_type.id
        assert len(fraud_type.cases) >= 3 and len(fraud_type.quiz) >= 6 and len(fraud_type.selfchecks) >= 2


def test_the_pledge_is_versioned_and_bilingual(library):
    assert library.pledge.version >= 1
    assert "96110" in library.pledge.text.zh and "96110" in library.pledge.text.en


def test_every_type_is_reachable_by_a_held_out_description(library):
    matcher = build_matcher(library)
    with (ROOT / "bench" / "data" / "eval.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    reached = {row["type"] for row in rows if matcher.top(row["text"])[0] == row["type"]}
    assert reached == set(library.types)


def test_the_benign_library_has_enough_ordinary_messages_in_both_languages(library):
    kinds = library.benign()
    assert {"courier", "bank", "school", "teacher", "platform", "government", "refund", "asking"} <= set(kinds)
    for lang in ("zh", "en"):
        assert sum(len(k.messages.get(lang)) for k in kinds.values()) >= 150
    assert all(k.advice.zh and k.advice.en for k in kinds.values())


def test_a_broken_benign_file_is_named_in_the_problems(tmp_path):
    import shutil

    shutil.copytree(CONTENT, tmp_path / "content")
    (tmp_path / "content" / "benign" / "courier.toml").write_text('[messages]\nzh = ["快递到了"]\n', encoding="utf-8")
    problems = check_library(tmp_path / "content")
    assert any(p.startswith("benign/courier.toml: courier: advice") for p in problems)
    assert any(p.startswith("benign/courier.toml: courier: messages.en") for p in problems)
