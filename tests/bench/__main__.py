"""Run the benchmarks: `make bench` runs them all, `make bench BENCH=<name>` one.

A benchmark is a module tests/bench/bench_<name>.py with a main() that ends by
printing one line `BENCH <name> key=value ...`.
"""

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    folder = Path(__file__).parent
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(folder)])
        if m.name.startswith("bench_")
    )


def main(argv: list[str]) -> int:
    names = available()
    wanted = argv or names
    unknown = [name for name in wanted if name not in names]
    if unknown:
        have = ", ".join(names) or "none"
        print(f"bench: no benchmark named {', '.join(unknown)} (have: {have})")
        return 2
    if not wanted:
        print("bench: no benchmarks yet")
        return 0
    for name in wanted:
        importlib.import_module(f"tests.bench.bench_{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
