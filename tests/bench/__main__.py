"""`make bench`: run every benchmark module here (bench_*.py) in turn, each with its
default options. Run one alone with `python -m tests.bench.<module> --help`."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    here = Path(__file__).resolve().parent
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")
    )
    for name in names:
        print(f"\n## {name}\n", flush=True)
        module = importlib.import_module(f"tests.bench.{name}")
        sys.argv = [f"tests.bench.{name}"]
        module.main()


if __name__ == "__main__":
    main()
