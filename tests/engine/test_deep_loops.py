"""An automatic loop (scripts and gateways only) runs all its rounds in one step. Its finished rounds
are compacted as it goes, so it runs to its end however many rounds it takes; where they cannot be cut,
a loop that runs past what SpiffWorkflow's iterators can follow (depth 1000) becomes an incident: it
never stops silently or ends as if it were done."""

import pytest

from tests.engine.conftest import ADMIN


def test_a_short_loop_runs_through(engine, deployed) -> None:
    deployed("deep_loop")
    instance = engine.runtime.start_process_instance_by_key(
        "deep_loop", principal=ADMIN, variables={"counter": 0, "limit": 50}
    )
    detail = engine.runtime.get_instance(instance.id, principal=ADMIN)
    assert detail.instance.incident is None
    assert [t.element_id for t in detail.open_tasks] == ["Task_done"]
    assert detail.instance.variables["counter"] == 50


def test_a_loop_of_a_thousand_rounds_runs_to_its_end_in_one_step(engine, deployed) -> None:
    deployed("deep_loop")
    instance = engine.runtime.start_process_instance_by_key(
        "deep_loop", principal=ADMIN, variables={"counter": 0, "limit": 1000}
    )
    detail = engine.runtime.get_instance(instance.id, principal=ADMIN)
    assert detail.instance.incident is None
    assert [t.element_id for t in detail.open_tasks] == ["Task_done"]
    assert detail.instance.variables["counter"] == 1000
    assert detail.path.elements["Script_count"] == 1000  # the diagram counts the compacted rounds
    assert detail.path.flows["Flow_again"] == 999


def test_a_loop_deeper_than_spiffworkflow_can_follow_is_an_incident_not_a_silent_end(
    engine, deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.runtime._instances.runner, "compaction", False)  # rounds that cannot be cut
    deployed("deep_loop")
    instance = engine.runtime.start_process_instance_by_key(
        "deep_loop", principal=ADMIN, variables={"counter": 0, "limit": 400}
    )
    detail = engine.runtime.get_instance(instance.id, principal=ADMIN)
    assert detail.instance.status == "running"
    assert detail.instance.incident is not None
    assert "deeper than SpiffWorkflow can follow" in detail.instance.incident["message"]
    assert [h.type for h in detail.history][-1] == "incident"


def test_an_incident_is_resolved_by_running_the_failed_step_again_with_corrected_data(
    engine, deployed
) -> None:
    deployed("deep_loop")
    instance = engine.runtime.start_process_instance_by_key(
        "deep_loop", principal=ADMIN, variables={"limit": 3}
    )
    failed = engine.runtime.get_instance(instance.id, principal=ADMIN).instance
    assert failed.incident["element_id"] == "Script_count"  # `counter` was never given
    assert "counter" in failed.incident["message"]

    resolved = engine.runtime.retry(instance.id, principal=ADMIN, variables={"counter": 0})
    assert resolved.incident is None
    detail = engine.runtime.get_instance(instance.id, principal=ADMIN)
    assert [t.element_id for t in detail.open_tasks] == ["Task_done"]
    assert detail.instance.variables["counter"] == 3
    assert [h.type for h in detail.history if h.type.startswith("incident")] == [
        "incident",
        "incident_retried",
    ]
