"""Run every benchmark, one after the other, each in its own Python process; then print the targets.

.venv/bin/python -m bench.run_all            # full sizes (about 12 minutes on 2 cores)
.venv/bin/python -m bench.run_all --quick    # small sizes: a smoke check (about 2 minutes)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench.common import PYTHON, RESULTS, ROOT, machine_info, print_machine, write_result

BENCHMARKS = ["sequential", "concurrent", "inbox", "growth", "memory"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset")
    args = parser.parse_args()
    info = machine_info()
    print_machine(info)
    names = [n for n in args.only.split(",") if n]
    failed, seconds = [], {}
    for name in names:
        print(f"\n===== bench.{name}{' --quick' if args.quick else ''} =====", flush=True)
        t0 = time.perf_counter()
        cmd = [PYTHON, "-m", f"bench.{name}", *(["--quick"] if args.quick else [])]
        if subprocess.run(cmd, cwd=ROOT).returncode != 0:
            failed.append(name)
        seconds[name] = round(time.perf_counter() - t0, 1)
    targets = []
    for name in names:
        path = RESULTS / f"{name}.json"
        if name not in failed and path.exists():
            targets += [{**t, "benchmark": name} for t in json.loads(path.read_text()).get("targets", [])]
    print("\n===== summary =====")
    for t in targets:
        print(
            f"  [{'PASS' if t['pass'] else 'MISS'}] {t['target']}: {t['value']} {t['unit']} "
            f"(target {t['op']} {t['limit']} {t['unit']})"
        )
    for name in failed:
        print(f"  [FAIL] bench.{name} did not finish")
    print(f"  time per benchmark (s): {seconds}")
    write_result(
        "run_all",
        {"machine": info, "quick": args.quick, "seconds": seconds, "failed": failed, "targets": targets},
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
