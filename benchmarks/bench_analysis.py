"""Throughput of the analysis handler against the bare model, side by side.

What is measured
----------------
The same N news-like texts (deterministic, seeded), on one core, in this
process, alternating the order every round, median of ``--repeat`` rounds:

(a) the bare model: ``SentimentIntensityAnalyzer.polarity_scores(text)`` for
    each text (vaderSentiment 3.3.2, the real model);
(b) the analysis handler, one SNS event per record as SNS delivers them:
    ``handlers.analysis.handle(event, deps)`` with the real model and an
    in-memory repository holding the items as PENDING (the store on a moto
    server is excluded, as the target asks). This is the handler's whole path:
    SNS parsing, message validation, scoring, the conditional update, the
    summary and its JSON log line (written to /dev/null);
(c) the same handler with all N records in one event (the lower bound of the
    per-invocation overhead).

Target
------
(b) / (a) <= 1.3: the plumbing costs at most 30 % of the model's time. The
script reports the ratios; it does not assert them.

Usage::

    python benchmarks/bench_analysis.py [--texts N] [--repeat R] [--json OUT]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

# This repository's handlers/ are its Lambda sources, not part of the installed library.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import handlers.analysis
from sentiment_pipeline import logs
from sentiment_pipeline.analysis import load_model
from sentiment_pipeline.config import Settings
from sentiment_pipeline.memory import InMemoryRepository
from sentiment_pipeline.models import ItemMessage, NewsArticle

if TYPE_CHECKING:
    from sentiment_pipeline.records import Item

# Vocabulary for headlines and descriptions shaped like NewsAPI's: a headline of
# 8-12 words and a description of two or three sentences (NewsAPI descriptions
# run about 25-60 words). Mixed polarity, so VADER's every branch is exercised.
_SUBJECTS = [
    "Global markets",
    "The central bank",
    "Technology shares",
    "Oil prices",
    "The government",
    "Small investors",
    "A local charity",
    "The coastal storm",
    "European regulators",
    "The championship side",
]
_VERBS = [
    "rally strongly after",
    "slump sharply on",
    "cautiously welcome",
    "brace for",
    "celebrate",
    "warn about",
    "shrug off",
    "struggle with",
    "praise",
    "condemn",
]
_OBJECTS = [
    "strong quarterly earnings across the sector",
    "a surprise interest rate cut",
    "deadly floods in the north",
    "record profits at the largest lenders",
    "a bitter dispute over pay",
    "new safety rules for factories",
    "a stunning comeback in the final minutes",
    "weak demand from overseas buyers",
    "the long-awaited peace agreement",
    "mounting losses and fresh job cuts",
]
_SENTENCES = [
    "Analysts said the outlook remains uncertain, though few expect a sharp downturn this year.",
    "Officials called the result a great success and promised further support for families.",
    "Critics described the decision as a disaster that would hurt the poorest households most.",
    "The figures were broadly in line with expectations, according to a survey of economists.",
    "Residents said they were relieved and grateful after days of fear and sleepless nights.",
    "Shares fell sharply in late trading as worried investors rushed to sell riskier assets.",
    "The company said it was not aware of any wrongdoing and would cooperate fully.",
    "Supporters cheered the brilliant performance, calling it the best night in years.",
]


def texts(n: int, seed: int = 2024) -> list[tuple[str, str]]:
    """(title, description) pairs shaped like NewsAPI's."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        title = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
        description = " ".join(rng.sample(_SENTENCES, rng.randint(2, 3)))
        out.append((title, description))
    return out


def build_items(pairs: list[tuple[str, str]]) -> list[Item]:
    now = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    items = []
    for index, (title, description) in enumerate(pairs):
        article = NewsArticle.model_validate(
            {
                "source": {"id": "bench", "name": "Bench"},
                "title": title,
                "description": description,
                "url": f"https://bench.example/{index}",
                "publishedAt": "2024-05-01T00:00:00Z",
            }
        )
        items.append(article.to_item(now=now, ttl_days=30))
    return items


def sns_event(items: list[Item]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "Sns": {
                    "MessageId": f"00000000-0000-0000-0000-{i:012d}",
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:sentiment-items",
                    "Message": ItemMessage.of(item).model_dump_json(),
                    "Type": "Notification",
                },
            }
            for i, item in enumerate(items)
        ]
    }


def fresh_repository(items: list[Item]) -> InMemoryRepository:
    repo = InMemoryRepository()
    for item in items:
        repo.put_new(item)
    return repo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", dest="json_out")
    args = parser.parse_args(argv)

    with open(os.devnull, "w") as devnull:
        logs.configure("analysis", stream=devnull)
        return run(args.texts, args.repeat, args.json_out)


def run(n: int, repeat: int, json_out: str | None) -> int:
    pairs = texts(n)
    items = build_items(pairs)
    bare_texts = [item.text for item in items]  # exactly the text the handler scores
    analyzer = SentimentIntensityAnalyzer()
    settings = Settings.from_env({})
    model = load_model("vader")
    per_record = [sns_event([item]) for item in items]
    batched = sns_event(items)

    def bare() -> None:
        for text in bare_texts:
            analyzer.polarity_scores(text)

    def handler_per_record() -> None:
        deps = handlers.analysis.Dependencies(settings, model, fresh_repository(items))
        start = time.perf_counter()
        for event in per_record:
            handlers.analysis.handle(event, deps)
        timings["b"].append(time.perf_counter() - start)
        check(deps)

    def handler_batched() -> None:
        deps = handlers.analysis.Dependencies(settings, model, fresh_repository(items))
        start = time.perf_counter()
        result = handlers.analysis.handle(batched, deps)
        timings["c"].append(time.perf_counter() - start)
        assert result["analyzed"] == n, result
        check(deps)

    def check(deps: handlers.analysis.Dependencies) -> None:
        store = deps.store
        assert isinstance(store, InMemoryRepository)
        assert all(i.status == "ANALYZED" and i.analyses == 1 for i in store.items.values())

    timings: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    bare()  # warm-up (lexicon lookups, allocator)
    handler_per_record()
    timings = {"a": [], "b": [], "c": []}
    for round_ in range(repeat):
        order = ["a", "b", "c"] if round_ % 2 == 0 else ["c", "b", "a"]
        for which in order:
            if which == "a":
                start = time.perf_counter()
                bare()
                timings["a"].append(time.perf_counter() - start)
            elif which == "b":
                handler_per_record()
            else:
                handler_batched()

    median = {k: statistics.median(v) for k, v in timings.items()}
    rows = [
        ("(a) bare model, polarity_scores", "a"),
        ("(b) handler, one SNS event per record", "b"),
        ("(c) handler, one event of N records", "c"),
    ]
    print(f"{n} texts, {repeat} rounds, CPython {platform.python_version()}, {platform.machine()}")
    print(f"{'':40} {'median s':>9} {'min s':>7} {'records/s':>10} {'vs (a)':>7}")
    for label, key in rows:
        print(
            f"{label:40} {median[key]:9.3f} {min(timings[key]):7.3f} "
            f"{n / median[key]:10.0f} {median[key] / median['a']:7.2f}"
        )
    print("target: (b) / (a) <= 1.30")
    if json_out:
        with open(json_out, "w") as f:
            json.dump({"texts": n, "timings": timings, "median": median}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
