"""Accuracy and speed of the fraud-type matcher on a labelled set, beside a keyword-counting baseline.

Usage: .venv/bin/python bench/classify.py [--data bench/data/eval.tsv] [--json]
The data file is TSV with a header: type, lang, text.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.library.loader import load_library  # noqa: E402
from bot.library.matcher import OTHER, build_matcher, normalize  # noqa: E402


def read_rows(path: Path) -> list[tuple[str, str, str]]:
    """(type, lang, text) rows of a labelled TSV file."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        return [(row["type"], row["lang"], row["text"]) for row in reader]


class KeywordBaseline:
    """The plain baseline: count each type's content keywords found in the text (substring match)."""

    def __init__(self, library) -> None:
        self.keywords = {t.id: [normalize(k) for k in t.keywords] for t in library.types.values()}

    def top(self, text: str) -> str:
        """The type with the most keyword hits, "other" when none hits."""
        clean = normalize(text)
        hits = {t: sum(1 for k in keys if k and k in clean) for t, keys in self.keywords.items()}
        best = max(hits, key=lambda t: hits[t])
        return best if hits[best] > 0 else OTHER


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data" / "eval.tsv")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per message (the median counts)")
    args = parser.parse_args()

    started = time.perf_counter()
    library = load_library(args.content)
    loaded = time.perf_counter()
    matcher = build_matcher(library)
    built = time.perf_counter()
    baseline = KeywordBaseline(library)
    rows = read_rows(args.data)

    for _, _, body in rows[:20]:          # warm up caches before timing
        matcher.classify(body)
    times_ms: list[float] = []
    top1 = top3 = base1 = 0
    per_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])   # right, total, baseline right
    confusion: dict[str, Counter] = defaultdict(Counter)
    for type_id, lang, body in rows:
        runs = []
        for _ in range(args.repeat):      # the machine is shared: a message's time is its median run
            t0 = time.perf_counter()
            ranked = matcher.classify(body)
            runs.append((time.perf_counter() - t0) * 1000)
        times_ms.append(statistics.median(runs))
        guess = ranked[0][0]
        top1 += guess == type_id
        top3 += type_id in [t for t, _ in ranked[:3]]
        base_right = baseline.top(body) == type_id
        base1 += base_right
        per_lang[lang][0] += guess == type_id
        per_lang[lang][1] += 1
        per_lang[lang][2] += base_right
        confusion[type_id][guess] += 1

    n = len(rows)
    result = {
        "data": str(args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data),
        "n": n,
        "top1": round(top1 / n, 4),
        "top3": round(top3 / n, 4),
        "baseline_top1": round(base1 / n, 4),
        "top1_by_lang": {lang: round(v[0] / v[1], 4) for lang, v in sorted(per_lang.items())},
        "baseline_top1_by_lang": {lang: round(v[2] / v[1], 4) for lang, v in sorted(per_lang.items())},
        "p50_ms": round(statistics.median(times_ms), 3),
        "p99_ms": round(percentile(times_ms, 0.99), 3),
        "load_s": round(built - started, 3),
        "library_load_s": round(loaded - started, 3),
        "index_build_s": round(built - loaded, 3),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"data: {result['data']} ({n} descriptions)")
    print(f"matcher   top-1 {result['top1']:.1%}  top-3 {result['top3']:.1%}  "
          + "  ".join(f"{lang} {acc:.1%}" for lang, acc in result["top1_by_lang"].items()))
    print(f"baseline  top-1 {result['baseline_top1']:.1%} (keyword counting)  "
          + "  ".join(f"{lang} {acc:.1%}" for lang, acc in result["baseline_top1_by_lang"].items()))
    print(f"speed     p50 {result['p50_ms']} ms  p99 {result['p99_ms']} ms per message; "
          f"load {result['load_s']} s (library {result['library_load_s']} s + index {result['index_build_s']} s)")
    print("\nper type: right/total  (most frequent wrong answers)")
    for type_id in sorted(confusion):
        counts = confusion[type_id]
        total = sum(counts.values())
        wrong = ", ".join(f"{t}×{c}" for t, c in counts.most_common() if t != type_id)
        print(f"  {type_id:<16} {counts[type_id]:>3}/{total:<3} {wrong}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
