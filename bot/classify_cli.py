"""`wuzha classify [--json]`: one description per line on stdin, the top fraud type and score per line."""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    """Add the classify subcommand."""
    parser = sub.add_parser("classify", help="classify descriptions read from stdin, one per line")
    parser.add_argument("--json", action="store_true",
                        help='one JSON object per line: {"type", "score", "top3", "sure", "benign", ...}')
    parser.add_argument("--top", type=int, default=3, help="with --json, how many runners-up to list (default 3)")
    parser.set_defaults(func=cmd_classify)


def cmd_classify(args, config) -> int:
    """Read descriptions from stdin and print the best type and its score for each line."""
    from bot.library.loader import load_library
    from bot.library.matcher import build_matcher

    matcher = build_matcher(load_library(config.content_path()))
    stdin = open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)
    out = open(sys.stdout.fileno(), "w", encoding="utf-8", closefd=False, buffering=1)
    for line in stdin:
        body = line.rstrip("\r\n")
        verdict = matcher.judge(body)
        ranked = verdict.ranked
        type_id, score = ranked[0]
        if args.json:
            record = {
                "type": type_id,
                "score": score,
                "top3": [{"type": t, "score": s} for t, s in verdict.top3],
                "sure": verdict.sure,           # false: the bot offers top3 as choices instead of one answer
                "benign": verdict.benign,       # the kind of ordinary message when type is "other" for that reason
                "urgent": matcher.is_urgent(body),
                "top": [{"type": t, "score": s} for t, s in ranked[: max(1, args.top)]],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            out.write(f"{type_id}\t{score:g}\n")
    out.flush()
    return 0
