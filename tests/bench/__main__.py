"""Run the benchmarks: `make bench` runs them all, `make bench BENCH=<name>` one.

A benchmark is a module tests/bench/bench_<name>.py with a main() that ends by
printing one line `BENCH <name> key=value ...`.
"""

import importlib
import pkgutil
import subprocess
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
    if len(wanted) == 1:
        importlib.import_module(f"tests.bench.bench_{wanted[0]}").main()
        return 0
    # Each in a process of its own: a benchmark sets Django up on its own database,
    # which a process can do once (the second one would run on the first's).
    failed = [
        name
        for name in wanted
        if subprocess.run([sys.executable, "-m", "tests.bench", name], check=False).returncode
    ]
    if failed:
        print(f"bench: {', '.join(failed)} failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
