"""The `opsflow` command line: the names other tools rely on, and clear failures."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import uvicorn
import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.cli import uvicorn_options
from tests.helpers.processes import ROOT, run, stop, wait_healthy
from tests.helpers.server import free_port


def opsflow(*args: str, db_url: str) -> subprocess.CompletedProcess:
    return run(*args, database_url=db_url)


def test_deploy_start_users_and_tokens_from_the_command_line(db_url: str) -> None:
    deployed = opsflow("deploy", str(ROOT / "forms"), str(ROOT / "processes"), db_url=db_url)
    assert deployed.returncode == 0, deployed.stderr
    assert "deployed process ops_optimization version 1" in deployed.stdout
    again = opsflow("deploy", str(ROOT / "forms"), str(ROOT / "processes"), db_url=db_url)
    assert "unchanged ops_optimization" in again.stdout

    added = opsflow("user", "add", "lei", "--role", "leader", "--role", "admin", db_url=db_url)
    assert added.returncode == 0 and "leader" in added.stdout
    token = opsflow("token", "lei", db_url=db_url)
    assert token.returncode == 0 and token.stdout.strip().startswith("opf_")

    trigger = json.dumps("user_feedback")
    started = opsflow(
        "start",
        "ops_optimization",
        "--business-key",
        "CLI-1",
        "--var",
        f"trigger={trigger}",
        "--var",
        'title="提升注册转化率"',
        "--var",
        'description="投诉集中在注册环节"',
        db_url=db_url,
    )
    assert started.returncode == 0, started.stderr
    assert len(started.stdout.strip()) == 36  # the instance id


def test_groups_and_their_members_from_the_command_line(db_url: str) -> None:
    created = opsflow(
        "group", "add", "accounting", "--name-zh", "会计", "--name-en", "Accounting", db_url=db_url
    )
    assert created.returncode == 0, created.stderr
    assert "created group accounting (会计 / Accounting)" in created.stdout
    assert (
        opsflow("user", "add", "mia", "--group", "accounting", "--group", "leader", db_url=db_url).returncode
        == 0
    )
    assert (
        opsflow("user", "add", "lei", "--role", "leader", db_url=db_url).returncode == 0
    )  # --role still works
    added = opsflow("group", "member", "add", "accounting", "lei", db_url=db_url)
    assert added.returncode == 0 and "lei, mia" in added.stdout

    listed = opsflow("group", "list", db_url=db_url).stdout.splitlines()
    assert "accounting\t会计 / Accounting\tlei, mia" in listed
    assert "leader\t组长 / Leader\tlei, mia" in listed  # the handbook's lanes exist from the start
    assert "integration\t集成账户 / Integration\tno members" in listed

    removed = opsflow("group", "member", "remove", "accounting", "mia", db_url=db_url)
    assert removed.returncode == 0 and removed.stdout.split("\t")[-1].strip() == "lei"


@pytest.mark.parametrize(
    "args, message",
    [
        (("start", "no_such_process"), "no_such_process is not deployed"),
        (("start", "ops_optimization", "--var", "trigger=not json"), "not JSON"),
        (("start", "ops_optimization", "--var", "novalue"), "NAME=JSON"),
        (("token", "nobody"), "user nobody not found"),
        (("deploy", "/no/such/file.bpmn"), "no such file"),
        (("user", "add", "x y", "--role", "leader"), "user name"),
        (("user", "add", "mia", "--group", "accounting"), "there is no group accounting"),
        (("group", "member", "add", "no_such_group", "lei"), "group no_such_group not found"),
        (("group", "add", "has space"), "a group id is"),
    ],
)
def test_failures_exit_non_zero_with_a_clear_message(
    db_url: str, args: tuple[str, ...], message: str
) -> None:
    opsflow("deploy", str(ROOT / "forms"), str(ROOT / "processes"), db_url=db_url)
    result = opsflow(*args, db_url=db_url)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_bpmn_file_is_reported_with_its_line_and_nothing_is_deployed(
    db_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.bpmn"
    broken.write_text(
        (ROOT / "processes" / "ops_optimization.bpmn").read_text().replace("</bpmn:userTask>", "", 1)
    )
    result = opsflow("deploy", str(broken), db_url=db_url)
    assert result.returncode == 1
    assert "broken.bpmn, line" in result.stderr


def test_serve_runs_on_uvloop_and_httptools() -> None:
    config = uvicorn.Config(lambda *_: None, **uvicorn_options())
    config.load()
    assert issubclass(config.http_protocol_class, HttpToolsProtocol)  # with our header and URL limits
    loop = config.get_loop_factory()()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


@pytest.mark.parametrize("flags, logged", [((), True), (("--no-access-log",), False)])
def test_serve_logs_a_line_per_request_unless_told_not_to(
    tmp_path: Path, flags: tuple[str, ...], logged: bool
) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), *flags],
        cwd=ROOT,
        env={
            **os.environ,
            "OPSFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "OPSFLOW_RUN_WORKER": "0",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server)
    finally:
        stop(server)
    output = server.stdout.read()
    assert "Application startup complete" in output
    assert ('"GET /health HTTP/1.1" 200' in output) is logged
