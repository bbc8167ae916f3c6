"""Task lists build their views by position (engine.services.mappers.task_views): the view's fields must
be the columns' order, with the two candidate lists where task_views puts them."""

import dataclasses

from engine.services.mappers import _CANDIDATES_AT, TASK_VIEW_COLUMNS
from engine.views import TaskView


def test_a_task_view_has_the_columns_order_with_the_candidates_in_between() -> None:
    columns = [c.name for c in TASK_VIEW_COLUMNS]
    fields = [f.name for f in dataclasses.fields(TaskView)]
    at = _CANDIDATES_AT
    assert fields == [*columns[:at], "candidate_users", "candidate_groups", *columns[at:]]
