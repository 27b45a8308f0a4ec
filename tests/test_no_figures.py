"""App code quotes no benchmark figure in its comments and docstrings: timings,
instruction counts, percentages and ratios of speed, rates. Figures go stale the day
they are written and belong in docs/performance.md, with how to measure them again;
a comment says why the code is as it is."""

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "core", "market", "exchange", "settlement")

NUMBER = r"\d[\d,]*(?:\.\d+)?"
FIGURES = {
    "timing": re.compile(
        rf"{NUMBER}\s?(?:ns|µs|us|ms|s|secs?|seconds?|milliseconds?|microseconds?)\b"
    ),
    "instruction count": re.compile(
        rf"{NUMBER}\s?[kKMG]?\s(?:[a-z]+\s){{0,2}}instructions\b"
    ),
    "speedup": re.compile(
        rf"{NUMBER}\s?(?:x|\u00d7)(?=[\s,.;:)]|$)"
        rf"|{NUMBER}\s+times\s+(?:as|faster|slower|quicker|more|less|fewer)\b"
        r"|\b(?:faster|slower|quicker)\s+by\s+\d",
        re.IGNORECASE,
    ),
    "rate": re.compile(
        rf"{NUMBER}\s?k?\s?(?:requests?|req|orders?|commands?|batches|events|ops|"
        r"operations|trades|rows|queries|statements)\s?(?:/\s?s|per\s+sec(?:ond)?)\b",
        re.IGNORECASE,
    ),
}
PERCENT = re.compile(rf"{NUMBER}\s?%|\bper\s?cent\b", re.IGNORECASE)
# A percentage is a benchmark figure when its sentence speaks of speed or cost.
PERFORMANCE = re.compile(
    r"\b(?:faster|slower|quicker|time|timed|CPU|throughput|latency|spent|spends|cost|"
    r"costs|more|less|fewer|shorter|longer|orders?|requests?|batch(?:es)?|"
    r"instructions|profil\w*|bench\w*|speed\w*|saves?|saved)\b",
    re.IGNORECASE,
)

# Figures that describe the world, not a measurement of this code: path -> phrases.
ALLOWED = {
    # The physical model of network latency (fibre route factor, CAICT's measurements).
    "market/geo.py": ("5 us", "0.5 ms", "9.7 ms", "17.1 ms"),
    # The heartbeat's maximum age (settings.HEARTBEAT_MAX_AGE_SECONDS).
    "config/views.py": ("30 s",),
    # The trades panel's polling interval (its template's hx-trigger).
    "exchange/web/views.py": ("3 s",),
}


def figures(text: str) -> list[str]:
    """The benchmark figures quoted in a comment's or a docstring's text."""
    found = []
    for sentence in re.split(r"(?<=[.;:!?])\s+|\n\s*\n", " ".join(text.split("\n"))):
        for pattern in FIGURES.values():
            found += [m.group(0) for m in pattern.finditer(sentence)]
        if PERFORMANCE.search(sentence):
            found += [m.group(0) for m in PERCENT.finditer(sentence)]
    return found


def _comments(source: str) -> list[tuple[int, str]]:
    """Comments as (first line, text), consecutive comment lines joined."""
    blocks: list[tuple[int, str]] = []
    last = -1
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.COMMENT:
            continue
        text = tok.string.lstrip("#").strip()
        if tok.start[0] == last + 1 and blocks:
            blocks[-1] = (blocks[-1][0], f"{blocks[-1][1]}\n{text}")
        else:
            blocks.append((tok.start[0], text))
        last = tok.start[0]
    return blocks


def _docstrings(source: str) -> list[tuple[int, str]]:
    nodes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return [
        (node.body[0].lineno, doc)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, nodes) and (doc := ast.get_docstring(node, clean=False))
    ]


def _app_files() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def test_app_comments_and_docstrings_quote_no_benchmark_figure():
    """Every comment and docstring of config/, core/, market/, exchange/ and
    settlement/ (migrations aside) is free of timings, instruction counts, speed
    percentages, speedups and rates, but for the allow-listed physical figures."""
    quoted = []
    for path in _app_files():
        name = path.relative_to(ROOT).as_posix()
        source = path.read_text(encoding="utf-8")
        for line, text in _comments(source) + _docstrings(source):
            quoted += [
                f"{name}:{line}: {figure!r}"
                for figure in figures(text)
                if figure not in ALLOWED.get(name, ())
            ]
    assert not quoted, "benchmark figures (move them to docs/performance.md):\n" + (
        "\n".join(quoted)
    )


@pytest.mark.parametrize(
    "text",
    [
        "A rebuild cost 12-16 us per open order.",
        "with 45-90 ms pauses",
        "a resting single order went from 18.6 M instructions to 11.2 M",
        "about 1.0 M fewer instructions",
        "a 100-order batch about 15% faster in process",
        "10-20% more orders/s, single orders a few per cent",
        "1.81x faster than the fastest PyPI book",
        "3 times faster",
        "1.81x the fastest PyPI book; 20-order batches 2.4 -> 3.0 x the baseline",
        "1000 instructions",
        "the engine does 452,456 commands/s",
        "210 orders per second",
        "376 requests/s",
    ],
)
def test_benchmark_figures_are_found(text):
    """Each kind of figure the previous comments quoted is recognised."""
    assert figures(text)


@pytest.mark.parametrize(
    "text",
    [
        "Prices are on a 0.01 tick and quantities on a 0.1 lot.",
        "Up to 100 orders, placed in the order given (a 400 otherwise).",
        "east of it lives ~94% of China's population",
        "A 0-1 share as a percentage.",
        "Default 50/s for the API, per key.",
        "Exit 1 with a readable report if any fails.",
        "a frozen dataclass is slower to build",
        "price x quantity is exact; 0x1F is a mask",
    ],
)
def test_other_numbers_are_not_figures(text):
    """Sizes, prices, status codes and a demographic share are not benchmark
    figures; neither is a comparison without a number."""
    assert not figures(text)
