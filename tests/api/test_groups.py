"""Groups are the organisation's: admins create them and fill them, users belong to any number of them,
and what a user may do follows their groups at once. A disabled user cannot sign in and loses their
claims."""

from tests.helpers.api import Api

PASSWORD = "s3cret-pass"


def sign_in(api: Api, name: str, expect: int = 200) -> str | None:
    answer = api.call(None, "POST", "/api/v1/session", expect, json={"name": name, "password": PASSWORD})
    return answer["token"] if expect == 200 else None


def test_the_handbooks_lanes_and_the_platforms_groups_exist_from_the_start(api: Api) -> None:
    groups = {g["id"]: g for g in api.call("eric", "GET", "/api/v1/groups")}
    assert {"leader", "data", "execution", "support", "designer", "admin", "integration"} <= groups.keys()
    assert groups["data"] == {"id": "data", "name_zh": "数据组", "name_en": "Data", "members": ["dana"]}
    assert api.call("lei", "GET", "/api/v1/me")["groups"] == ["leader"]


def test_an_admin_creates_a_group_names_it_in_both_languages_and_fills_it(api: Api) -> None:
    created = api.call(
        "ada",
        "POST",
        "/api/v1/groups",
        201,
        json={"id": "accounting", "name_zh": "会计", "name_en": "Accounting"},
    )
    assert created == {"id": "accounting", "name_zh": "会计", "name_en": "Accounting", "members": []}
    api.call("ada", "POST", "/api/v1/users", 201, json={"name": "mia", "groups": ["accounting", "data"]})
    api.call("ada", "PUT", "/api/v1/groups/accounting/members/eric")
    api.call("ada", "PATCH", "/api/v1/groups/accounting", json={"name_en": "Accounts"})

    group = api.call("dana", "GET", "/api/v1/groups/accounting")
    assert group == {"id": "accounting", "name_zh": "会计", "name_en": "Accounts", "members": ["eric", "mia"]}
    assert api.call("ada", "GET", "/api/v1/users/mia")["groups"] == ["accounting", "data"]
    assert api.call("eric", "GET", "/api/v1/me")["groups"] == ["accounting", "execution"]

    api.call("ada", "DELETE", "/api/v1/groups/accounting/members/eric")
    assert api.call("eric", "GET", "/api/v1/me")["groups"] == ["execution"]
    api.call("ada", "DELETE", "/api/v1/groups/accounting", 204)
    assert api.call("ada", "GET", "/api/v1/users/mia")["groups"] == ["data"]
    api.call("ada", "GET", "/api/v1/groups/accounting", 404)


def test_only_admins_change_groups(api: Api) -> None:
    api.call("lei", "POST", "/api/v1/groups", 403, json={"id": "sales"})
    api.call("ada", "POST", "/api/v1/groups", 201, json={"id": "sales"})
    api.call("lei", "PUT", "/api/v1/groups/sales/members/lei", 403)
    api.call("dora", "DELETE", "/api/v1/groups/sales", 403)
    api.call("lei", "PATCH", "/api/v1/users/dana", 403, json={"disabled": True})


def test_bad_group_changes_say_what_is_wrong(api: Api) -> None:
    api.call("ada", "POST", "/api/v1/groups", 201, json={"id": "sales"})
    assert "already exists" in api.call("ada", "POST", "/api/v1/groups", 409, json={"id": "sales"})["message"]
    api.call("ada", "POST", "/api/v1/groups", 422, json={"id": "two words"})
    assert "cannot be deleted" in api.call("ada", "DELETE", "/api/v1/groups/leader", 409)["message"]
    assert "user nobody" in api.call("ada", "PUT", "/api/v1/groups/sales/members/nobody", 404)["message"]
    refused = api.call("ada", "POST", "/api/v1/users", 422, json={"name": "kim", "groups": ["marketing"]})
    assert "there is no group marketing" in refused["message"]


def test_the_former_roles_field_still_creates_users_in_groups(api: Api) -> None:
    created = api.call("ada", "POST", "/api/v1/users", 201, json={"name": "kim", "roles": ["support"]})
    assert created["groups"] == ["support"]


def test_membership_gives_rights_at_once_and_removing_it_takes_them(api: Api) -> None:
    files = {"files": ("notes.txt", b"not a model")}
    validate = "/api/v1/deployments/validate"
    api.call("dana", "POST", validate, 403, files=files)
    api.call("ada", "PUT", "/api/v1/groups/designer/members/dana")
    [problem] = api.call("dana", "POST", validate, 200, files=files)  # the same token, a designer now
    assert "unknown file type" in problem["message"]
    api.call("ada", "DELETE", "/api/v1/groups/designer/members/dana")
    api.call("dana", "POST", validate, 403, files=files)


def test_a_disabled_user_cannot_sign_in_loses_their_sessions_and_their_claims(api: Api) -> None:
    api.call(
        "ada", "POST", "/api/v1/users", 201, json={"name": "mei", "groups": ["leader"], "password": PASSWORD}
    )
    api.tokens["mei"] = sign_in(api, "mei")
    started = api.start("mei", {"trigger": "user_feedback", "title": "停用", "description": "被停用的组长"})
    [task] = api.inbox("mei", instance=started["id"])
    api.claim("mei", task["id"])

    disabled = api.call("ada", "PATCH", "/api/v1/users/mei", json={"disabled": True})
    assert disabled["disabled"] is True
    api.call("mei", "GET", "/api/v1/me", 401)
    sign_in(api, "mei", expect=401)
    reoffered = api.call("ada", "GET", f"/api/v1/tasks/{task['id']}")
    assert reoffered["task"]["assignee"] is None

    api.call("ada", "PATCH", "/api/v1/users/mei", json={"disabled": False, "password": "another-pass"})
    api.call(None, "POST", "/api/v1/session", 200, json={"name": "mei", "password": "another-pass"})
