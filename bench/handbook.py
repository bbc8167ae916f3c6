"""The handbook journey (as in tests/api/test_handbook_journey.py): which user completes which task with
which form data, in order; both loops back (diagnosis, design) are taken once."""

from __future__ import annotations

from bench.common import Client
from tests.fixtures.handbook_journey import JOURNEY, TEAM, data

USERS = {name: [role] for role, name in TEAM.items()}
PROCESS = "ops_optimization"


def run_handbook(clients: dict[str, Client], n: int = 0) -> int:
    """One instance through the whole journey; `clients` by user name. Returns completions done."""
    leader = clients[TEAM["leader"]]
    instance = leader.start(PROCESS, data("start_trigger"), business_key=f"OPT-BENCH-{n}")
    open_tasks = leader.inbox(label="inbox", scope="offered", instance=instance["id"])["items"]
    done = 0
    for element_id, role, form_data in JOURNEY:
        task = pick(open_tasks, element_id, TEAM[role])
        detail = clients[TEAM[role]].complete(task["id"], form_data)
        done += 1
        open_tasks = detail["open_tasks"]
    if detail["instance"]["status"] != "completed" or detail["instance"]["outcome"] != "optimized":
        raise RuntimeError(f"the handbook instance ended as {detail['instance']}")
    return done


def pick(open_tasks: list[dict], element_id: str, doer: str) -> dict:
    """The open task of `element_id` that is the doer's: assigned to them, else one nobody holds yet
    (every team member proposes strategies: one task each, each assigned to its member)."""
    candidates = [t for t in open_tasks if t["element_id"] == element_id and t["assignee"] in (doer, None)]
    if not candidates:
        open_ids = [t["element_id"] for t in open_tasks]
        raise RuntimeError(f"{element_id} is not open for {doer}; open: {open_ids}")
    return min(candidates, key=lambda t: t["assignee"] is None)  # the doer's own first
