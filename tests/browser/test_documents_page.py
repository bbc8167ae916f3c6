"""The instance page offers the handbook's documents once the instance holds their data, and downloads
them."""

import pytest

from tests.fixtures.handbook_journey import STAGE_1, TEAM, data

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_team_member_downloads_the_kickoff_minutes_from_the_instance_page(
    sign_in, rest, shot, lang
) -> None:
    instance = rest.call(
        "lei",
        "POST",
        "/api/v1/process-instances",
        201,
        json={
            "process_key": "ops_optimization",
            "business_key": "OPT-DOC",
            "variables": data("start_trigger"),
        },
    )
    page = sign_in("lei", lang=lang)
    page.goto(page.url.split("/inbox")[0] + f"/instances/{instance['id']}")
    page.wait_for_selector("#instance-view:not([hidden])")
    assert page.is_hidden("#documents")  # nothing recorded yet

    for element_id, role, form_data in STAGE_1:
        task = rest.task(TEAM[role], instance["id"], element_id)
        if task["assignee"] is None:  # tasks of the one person the team names are theirs already
            rest.call(TEAM[role], "POST", f"/api/v1/tasks/{task['id']}/claim")
        rest.complete(TEAM[role], task["id"], form_data)
    page.reload()
    item = page.wait_for_selector("[data-document=kickoff-minutes]")
    assert ("表2-1" if lang == "zh" else "Table 2-1") in item.inner_text()
    assert page.query_selector("[data-document=diagnosis-report]") is None
    shot(page, "documents")

    with page.expect_download() as downloaded:
        page.click("[data-document=kickoff-minutes] [data-format=pdf]")
    path = downloaded.value.path()
    assert downloaded.value.suggested_filename == "kickoff-minutes.pdf"
    with open(path, "rb") as f:
        assert f.read(5) == b"%PDF-"
