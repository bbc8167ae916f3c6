"""The cost of one decision evaluation: the handbook's anomaly rule and a 60-rule, 3-input table,
evaluated through the BPMN sandbox (as a business rule task does), and the same through the engine
with its history row written (a write transaction on a SQLite file).

    .venv/bin/python -m bench.decisions [--quick]
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from engine.bpmn.sandbox import SandboxedEnvironment
from engine.config import Settings
from engine.dmn import evaluate_decision, parse_dmn
from engine.engine import build_engine

ROOT = Path(__file__).resolve().parent.parent
ANOMALY = ROOT / "processes" / "metric_anomaly_rule.dmn"


def wide_table(rules: int = 60) -> bytes:
    """A COLLECT table over three inputs (region, amount, date), `rules` rows of ranges and lists."""
    rows = []
    for n in range(rules):
        rows.append(
            f'<rule id="Rule_{n}">'
            f'<inputEntry id="A_{n}"><text>"r{n % 7}","r{(n + 1) % 7}"</text></inputEntry>'
            f'<inputEntry id="B_{n}"><text>[{n * 10}..{n * 10 + 50}]</text></inputEntry>'
            f'<inputEntry id="C_{n}"><text>&gt;= date("2026-{1 + n % 12:02d}-01")</text></inputEntry>'
            f'<outputEntry id="O_{n}"><text>{n}</text></outputEntry></rule>'
        )
    inputs = "".join(
        f'<input id="I_{name}"><inputExpression id="E_{name}" typeRef="{kind}"><text>{name}</text>'
        "</inputExpression></input>"
        for name, kind in (("region", "string"), ("amount", "integer"), ("day", "date"))
    )
    return (
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">'
        '<decision id="wide" name="Wide"><decisionTable id="T" hitPolicy="COLLECT" aggregation="SUM">'
        f'{inputs}<output id="O" name="points" typeRef="integer"/>{"".join(rows)}'
        "</decisionTable></decision></definitions>"
    ).encode()


def per_call_us(fn: Callable[[], object], n: int, repeats: int = 3) -> float:
    """Median over `repeats` runs of the mean time of one call, in microseconds."""
    fn()  # warm caches (compiled sandbox expressions)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    n = 200 if parser.parse_args().quick else 2000
    sandbox = SandboxedEnvironment()
    anomaly = parse_dmn(ANOMALY.name, ANOMALY.read_bytes())[0][0].decision
    wide_xml = wide_table()
    wide = parse_dmn("wide.dmn", wide_xml)[0][0].decision
    wide_inputs = {"region": "r3", "amount": 305, "day": "2026-11-15"}
    rows = [
        ("parse + compile the 60-rule table", per_call_us(lambda: parse_dmn("wide.dmn", wide_xml), n // 10)),
        (
            "anomaly rule (3 rules, 1 input), sandboxed",
            per_call_us(
                lambda: evaluate_decision(anomaly, {"consecutive_missed_periods": 3}, sandbox.evaluate), n
            ),
        ),
        (
            "60 rules x 3 inputs, COLLECT SUM, sandboxed",
            per_call_us(lambda: evaluate_decision(wide, wide_inputs, sandbox.evaluate), n),
        ),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        engine = build_engine(Settings(database_url=f"sqlite:///{tmp}/bench.db"))
        engine.repository.deploy(
            [(ANOMALY.name, ANOMALY.read_bytes()), ("wide.dmn", wide_xml)], actor="bench"
        )
        for key, variables in (
            ("metric_anomaly_rule", {"consecutive_missed_periods": 3}),
            ("wide", wide_inputs),
        ):
            cost = per_call_us(
                lambda k=key, v=variables: engine.decisions.evaluate(k, v, actor="bench"), n // 10
            )
            rows.append((f"engine.decisions.evaluate({key}) + history row, SQLite", cost))
        engine.close()
    width = max(len(label) for label, _ in rows)
    print(f"{'one decision evaluation':<{width}}  microseconds")
    for label, cost in rows:
        print(f"{label:<{width}}  {cost:10.1f}")


if __name__ == "__main__":
    main()
