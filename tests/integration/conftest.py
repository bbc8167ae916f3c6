from collections.abc import Iterator

import pytest

from engine.config import Settings
from tests.integration.receiver import Receiver

LOOPBACK = ["127.0.0.0/8"]


@pytest.fixture
def settings(db_url: str) -> Settings:
    """No worker inside the app: tests run the jobs themselves (or start a worker where they say so).
    The receivers listen on loopback, which webhooks may reach only when the settings allow it."""
    return Settings(database_url=db_url, run_worker=False, webhook_allowed_networks=LOOPBACK)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver that is up."""
    receiver = Receiver().start()
    yield receiver
    receiver.stop()
