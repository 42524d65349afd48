"""Roles: a supervisor sees everyone's workload and gives messages to someone else; an agent does not."""

from __future__ import annotations

from flask import Flask

from tests.helpers import api_token, app, bearer, csrf, leave_message, login, supervisor  # noqa: F401

__all__ = ["app"]


def test_roles_are_given_and_listed(app: Flask) -> None:
    supervisor(app)
    runner = app.test_cli_runner()
    assert "bob is now a supervisor" in runner.invoke(args=["agents", "role", "bob", "supervisor"]).output
    assert "bob is now an agent" in runner.invoke(args=["agents", "role", "bob", "agent"]).output
    assert runner.invoke(args=["agents", "role", "bob", "king"]).exit_code != 0
    listed = runner.invoke(args=["agents", "list"]).output
    assert any(line.split()[:2] == ["carol", "supervisor"] for line in listed.splitlines())
    assert any(line.split()[:2] == ["ann", "agent"] for line in listed.splitlines())


def test_only_a_supervisor_sees_the_team_or_gives_a_message_away(app: Flask) -> None:
    message_id = leave_message(app)
    client, ann = app.test_client(), bearer(api_token(app))
    assert client.post(f"/agent/api/messages/{message_id}/claim", headers=ann).status_code == 200
    refused = login(app).get("/agent/team")
    assert refused.status_code == 403 and "for supervisors" in refused.get_data(as_text=True)
    assert client.get("/agent/api/team", headers=ann).status_code == 403
    given = client.post(f"/agent/api/messages/{message_id}/reassign", headers=ann, json={"to": "bob"})
    assert given.status_code == 403 and "take it over instead" in given.get_json()["error"]
    assert 'href="/agent/team"' not in login(app).get("/agent/").get_data(as_text=True)

    supervisor(app)
    carol = bearer(api_token(app, "carol"))
    for to, status, said in (("nobody", 409, "no agent named 'nobody'"), ("ann", 409, "already with ann")):
        reply = client.post(f"/agent/api/messages/{message_id}/reassign", headers=carol, json={"to": to})
        assert reply.status_code == status and said in reply.get_json()["error"], reply.get_json()
    moved = client.post(f"/agent/api/messages/{message_id}/reassign", headers=carol, json={"to": "bob"})
    assert moved.status_code == 200 and moved.get_json()["assignee"] == "bob"
    assert moved.get_json()["history"][-1] == {**moved.get_json()["history"][-1], "agent": "carol",
                                                "action": "reassigned", "detail": "from ann to bob"}  # fmt: skip
    bob = bearer(api_token(app, "bob"))
    assert client.post(f"/agent/api/messages/{message_id}/done", headers=bob).status_code == 200
    done = client.post(f"/agent/api/messages/{message_id}/reassign", headers=carol, json={"to": "ann"})
    assert done.status_code == 409 and "reopen it first" in done.get_json()["error"]

    workload = {a["name"]: a for a in client.get("/agent/api/team", headers=carol).get_json()["agents"]}
    assert workload["bob"]["done_today"] == 1 and workload["bob"]["holding"] == 0
    assert workload["carol"]["role"] == "supervisor"


def test_the_team_page_and_giving_from_the_message_page(app: Flask) -> None:
    first, second = leave_message(app), leave_message(app)
    client, ann = app.test_client(), bearer(api_token(app))
    client.post(f"/agent/api/messages/{first}/claim", headers=ann)
    supervisor(app)
    carol = login(app, "carol")
    page = f"/agent/messages/{second}"
    text = carol.get(page).get_data(as_text=True)
    assert "Give to" in text and "<option>bob</option>" in text
    given = carol.post(f"{page}/reassign", data={"to": "ann", "csrf_token": csrf(carol, page)}, follow_redirects=True)
    assert "Given to ann." in given.get_data(as_text=True)
    assert "reassigned (from nobody to ann)" in given.get_data(as_text=True)
    team = carol.get("/agent/team").get_data(as_text=True)
    assert 'href="/agent/team"' in team and "2 in progress" in team and "0 new, unclaimed" in team.replace(
        "<strong>", "").replace("</strong>", "")  # fmt: skip
