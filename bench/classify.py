"""Accuracy and speed of the fraud-type matcher on labelled sets, beside a keyword-counting baseline.

Usage: .venv/bin/python bench/classify.py [--data FILE ...] [--json]
Each data file is TSV with a header: type, lang, text (and optionally source). Rows labelled "other"
are the benign (not fraud) messages and the few scams no type covers; the contract answers both "other".
Reports top-1 per language, per type and for short vs long messages, benign accuracy, the commonest
confusion pairs, how often the matcher is unsure (and how right it is when it is sure), p99 per message,
load time and the memory the library plus the matcher hold. It also calibrates the advice's CHOICES_FROM
(handlers/advice.py: an unsure verdict whose best type scores this much is offered the top three as choices,
below it one clarifying question is asked): for each bar it counts the cost, the fraud descriptions that
get the question although their type was among the three plus the ordinary messages offered fraud types.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.library.loader import load_library  # noqa: E402
from bot.library.matcher import OTHER, Weights, build_matcher, normalize  # noqa: E402
from handlers.advice import CHOICES_FROM  # noqa: E402

_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[A-Za-z]+")
SHORT_CJK = 25          # a Chinese message of at most this many characters counts as short
SHORT_WORDS = 12        # an English one of at most this many words


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


def is_short(body: str) -> bool:
    """Whether a message is short: few Chinese characters, or few English words."""
    cjk = len(_CJK.findall(body))
    return cjk <= SHORT_CJK if cjk else len(_WORD.findall(body)) <= SHORT_WORDS


def _share(right: int, total: int) -> float:
    return round(right / total, 4) if total else 0.0


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, nargs="+", default=[ROOT / "bench" / "data" / "dev16.tsv"])
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per message (the median counts)")
    parser.add_argument("--semantic", type=float, default=0.0,
                        help="also score a matcher fusing the naive Bayes signal with this weight (off in the bot)")
    args = parser.parse_args()

    started = time.perf_counter()
    library = load_library(args.content)
    loaded = time.perf_counter()
    matcher = build_matcher(library)
    built = time.perf_counter()
    tracemalloc.start()                   # a second, traced build: tracing would distort the load time
    memory_mb = tracemalloc.get_traced_memory()[0] / 1e6
    traced = build_matcher(load_library(args.content))
    memory_mb = tracemalloc.get_traced_memory()[0] / 1e6 - memory_mb
    tracemalloc.stop()
    del traced
    baseline = KeywordBaseline(library)
    rows = [row for path in args.data for row in read_rows(path)]

    for _, _, body in rows[:20]:          # warm up caches before timing
        matcher.judge(body)
    times_ms: list[float] = []
    top1 = top3 = base1 = sure = sure_right = 0
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])   # right, total, baseline right
    confusion: dict[str, Counter] = defaultdict(Counter)
    unsure: list[tuple[float, bool, bool]] = []     # best offered score, truth among the three, truth ordinary
    for type_id, lang, body in rows:
        runs = []
        for _ in range(args.repeat):      # the machine is shared: a message's time is its median run
            t0 = time.perf_counter()
            verdict = matcher.judge(body)
            runs.append((time.perf_counter() - t0) * 1000)
        times_ms.append(statistics.median(runs))
        guess = verdict.ranked[0][0]
        right = guess == type_id
        top1 += right
        top3 += type_id in [t for t, _ in verdict.top3]
        base_right = baseline.top(body) == type_id
        base1 += base_right
        sure += verdict.sure
        if not verdict.sure and verdict.benign is None:
            offered = max([s for t, s in verdict.top3 if t != OTHER] or [0.0])
            unsure.append((offered, type_id in [t for t, _ in verdict.top3], type_id == OTHER))
        sure_right += verdict.sure and right
        for group in (f"lang:{lang}", "length:short" if is_short(body) else "length:long"):
            groups[group][0] += right
            groups[group][1] += 1
            groups[group][2] += base_right
        confusion[type_id][guess] += 1

    n = len(rows)
    semantic = None
    if args.semantic:
        fused = build_matcher(library, Weights(semantic=args.semantic))
        semantic = {"weight": args.semantic, "top1": _share(sum(fused.top(b)[0] == t for t, _, b in rows), n)}
        for lang in sorted({lang for _, lang, _ in rows}):
            part = [(t, b) for t, la, b in rows if la == lang]
            semantic[f"top1_{lang}"] = _share(sum(fused.top(b)[0] == t for t, b in part), len(part))
    def choice_cost(bar: float) -> int:
        """Fraud descriptions asked a question although the three held their type, plus ordinary ones offered types."""
        return sum(hit and not ordinary for s, hit, ordinary in unsure if s < bar) + \
            sum(ordinary for s, _, ordinary in unsure if s >= bar)

    offered = [u for u in unsure if u[0] >= CHOICES_FROM]
    choices = {
        "choices_from": CHOICES_FROM,
        "unsure": len(unsure),
        "offered": len(offered),
        "offered_top3": _share(sum(hit for _, hit, ordinary in offered if not ordinary),
                               sum(not ordinary for *_, ordinary in offered)),
        "ordinary_offered": sum(ordinary for *_, ordinary in offered),
        "cost_by_bar": {bar: choice_cost(bar) for bar in range(0, 26, 2)},
    }
    pairs = Counter({(t, g): c for t, counts in confusion.items() for g, c in counts.items() if g != t})
    result = {
        "data": [str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p) for p in args.data],
        "n": n,
        "top1": _share(top1, n),
        "top3": _share(top3, n),
        "baseline_top1": _share(base1, n),
        "top1_by_lang": {g[5:]: _share(v[0], v[1]) for g, v in sorted(groups.items()) if g.startswith("lang:")},
        "top1_by_length": {g[7:]: _share(v[0], v[1]) for g, v in sorted(groups.items()) if g.startswith("length:")},
        "baseline_top1_by_lang": {g[5:]: _share(v[2], v[1]) for g, v in sorted(groups.items())
                                  if g.startswith("lang:")},
        "benign_top1": _share(confusion[OTHER][OTHER], sum(confusion[OTHER].values())),
        "top1_by_type": {t: _share(c[t], sum(c.values())) for t, c in sorted(confusion.items())},
        "confusion_pairs": [{"truth": t, "guess": g, "count": c} for (t, g), c in pairs.most_common(12)],
        "sure_share": _share(sure, n),
        "choices": choices,
        "top1_when_sure": _share(sure_right, sure),
        "p50_ms": round(statistics.median(times_ms), 3),
        "p99_ms": round(percentile(times_ms, 0.99), 3),
        "load_s": round(built - started, 3),
        "library_load_s": round(loaded - started, 3),
        "index_build_s": round(built - loaded, 3),
        "memory_mb": round(memory_mb, 1),
        "semantic": semantic,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"data: {', '.join(result['data'])} ({n} descriptions)")
    print(f"matcher   top-1 {result['top1']:.1%}  top-3 {result['top3']:.1%}  "
          + "  ".join(f"{lang} {acc:.1%}" for lang, acc in result["top1_by_lang"].items())
          + "  " + "  ".join(f"{k} {acc:.1%}" for k, acc in result["top1_by_length"].items())
          + f"  benign {result['benign_top1']:.1%}")
    print(f"baseline  top-1 {result['baseline_top1']:.1%} (keyword counting)  "
          + "  ".join(f"{lang} {acc:.1%}" for lang, acc in result["baseline_top1_by_lang"].items()))
    if semantic:
        print(f"semantic  top-1 {semantic['top1']:.1%} with naive Bayes fused at weight {semantic['weight']:g}  "
              + "  ".join(f"{k[5:]} {v:.1%}" for k, v in semantic.items() if k.startswith("top1_")))
    print(f"unsure    sure on {result['sure_share']:.1%} of messages, top-1 {result['top1_when_sure']:.1%} "
          "when sure (otherwise the bot shows its top three)")
    print(f"choices   {choices['offered']} of {choices['unsure']} unsure messages offered the top three at "
          f"CHOICES_FROM {CHOICES_FROM:g} (type among them for {choices['offered_top3']:.1%} of the frauds, "
          f"{choices['ordinary_offered']} ordinary); cost by bar "
          + " ".join(f"{bar}:{cost}" for bar, cost in choices["cost_by_bar"].items()))
    print(f"speed     p50 {result['p50_ms']} ms  p99 {result['p99_ms']} ms per message; "
          f"load {result['load_s']} s (library {result['library_load_s']} s + index {result['index_build_s']} s); "
          f"memory {result['memory_mb']} MB")
    print("\nper type: right/total  (wrong answers)")
    for type_id in sorted(confusion):
        counts = confusion[type_id]
        total = sum(counts.values())
        wrong = ", ".join(f"{t}×{c}" for t, c in counts.most_common() if t != type_id)
        print(f"  {type_id:<16} {counts[type_id]:>3}/{total:<3} {wrong}")
    print("\nconfusion pairs (truth -> guess)")
    for pair in result["confusion_pairs"]:
        print(f"  {pair['truth']:<16} -> {pair['guess']:<16} {pair['count']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
