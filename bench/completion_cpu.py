"""CPU time per completion of the handbook journey, in-process through the engine facade (SQLite).

CPU time of this process is far less disturbed by other load on a shared machine than wall time
over HTTP, so two versions of the code compare well with it: run it in each checkout.

    PYTHONPATH=$PWD .venv/bin/python -m bench.completion_cpu [--runs 7]
"""

import argparse
import dataclasses
import time

from bench.common import fresh_database
from bench.handbook import JOURNEY, PROCESS, TEAM, data, pick
from bench.profile import build, setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="handbook instances timed (after one warm-up)")
    args = parser.parse_args()
    with fresh_database("sqlite") as db:
        tokens = setup("handbook", db)
        engine = build(db.url)
        people = {name: engine.identity.authenticate(tokens[name]) for name in TEAM.values()}

        def one_instance() -> float:
            """CPU ms per completion over one journey."""
            leader = people["lei"]
            instance = engine.runtime.start_process_instance_by_key(
                PROCESS, principal=leader, variables=data("start_trigger")
            )
            tasks = engine.tasks.inbox(principal=leader, scope="offered", instance_id=instance.id).items
            start = time.process_time()
            for element_id, role, form_data in JOURNEY:
                task = pick([dataclasses.asdict(t) for t in tasks], element_id, TEAM[role])
                tasks = engine.tasks.complete(task["id"], form_data, principal=people[TEAM[role]]).open_tasks
            return (time.process_time() - start) / len(JOURNEY) * 1000

        one_instance()
        samples = sorted(one_instance() for _ in range(args.runs))
        engine.close()
    print(
        f"handbook completion, CPU per completion: median {samples[len(samples) // 2]:.2f} ms, "
        f"min {samples[0]:.2f} ms ({args.runs} journeys of {len(JOURNEY)} completions)"
    )


if __name__ == "__main__":
    main()
