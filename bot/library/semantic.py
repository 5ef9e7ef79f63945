"""A linear model trained only on the library's own texts: multinomial naive Bayes over the matcher's tokens.

Each class (a fraud type or a benign kind) learns how often every token occurs in its phrases,
keywords and teaching texts. For a message it gives a probability per class, a signal that counts
every shared word at once instead of the best phrase alone; the matcher adds it to its lexical scores.
"""

from __future__ import annotations

import math
from collections import Counter


class NaiveBayes:
    """Class probabilities for a bag of tokens, trained at start from weighted (class, tokens) examples."""

    def __init__(self, examples: list[tuple[int, list[str], float]], n_classes: int, alpha: float = 0.1,
                 sharpness: float = 1.0) -> None:
        counts = [Counter() for _ in range(n_classes)]
        for index, toks, weight in examples:
            for tok in toks:
                counts[index][tok] += weight
        vocabulary = {tok for c in counts for tok in c}
        size = len(vocabulary) or 1
        totals = [sum(c.values()) for c in counts]
        # Unseen-token log probability per class, and the lift of seen tokens above it: a message then
        # costs only the tokens some class has seen.
        self._floor = [math.log(alpha / (t + alpha * size)) for t in totals]
        self._lift: dict[str, list[tuple[int, float]]] = {}
        for index, c in enumerate(counts):
            for tok, count in c.items():
                lift = math.log((count + alpha) / (totals[index] + alpha * size)) - self._floor[index]
                self._lift.setdefault(tok, []).append((index, lift))
        self.n_classes = n_classes
        self.sharpness = sharpness

    def probabilities(self, toks: list[str]) -> list[float]:
        """The posterior probability of every class (uniform prior) for these tokens; uniform when none is known."""
        known = [tok for tok in toks if tok in self._lift]
        if not known:
            return [1.0 / self.n_classes] * self.n_classes
        logs = [floor * len(known) for floor in self._floor]
        for tok in known:
            for index, lift in self._lift[tok]:
                logs[index] += lift
        # Per-token average log-likelihood, so a long message is not more certain just for being long.
        logs = [x * self.sharpness / len(known) for x in logs]
        top = max(logs)
        exps = [math.exp(x - top) for x in logs]
        total = sum(exps)
        return [x / total for x in exps]
