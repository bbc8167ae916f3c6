"""Everything lives in the database: a new app on the same database carries on where the last stopped."""

import pytest

from tests.api.test_handbook_journey import JOURNEY, assert_finished_optimized, run_journey
from tests.helpers.api import Api

pytestmark = pytest.mark.usefixtures("outsiders")


def test_the_journey_survives_a_server_restart_between_every_two_steps(api: Api) -> None:
    restarts = 0

    def restart() -> Api:
        nonlocal restarts
        restarts += 1
        return api.restart()

    instance_id = run_journey(api, restart=restart)
    assert restarts == len(JOURNEY)
    assert_finished_optimized(api, instance_id)
