"""The `opsflow` command line: serve, deploy, start, users, groups and tokens, database upgrades."""

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.config import Settings
from engine.errors import OpsflowError
from engine.permissions import ADMIN
from engine.views import GroupView, Principal

if TYPE_CHECKING:
    from engine.engine import ProcessEngine

CLI_PRINCIPAL = Principal(user_id="cli", name="cli", groups=frozenset({ADMIN}))


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        code: int = args.run(args)
        return code
    except OpsflowError as exc:
        print(f"opsflow: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"opsflow: no such file: {exc.filename}", file=sys.stderr)
        return 1


def uvicorn_options(*, access_log: bool = True) -> dict[str, Any]:
    """How `opsflow serve` runs uvicorn; bench/empty_app.py serves its baseline the same way.
    uvloop and httptools (uvicorn[standard]) are the C event loop and HTTP parser: named, not "auto",
    so that a broken install fails at start instead of serving slowly. The httptools protocol is ours:
    it refuses oversized URLs and headers (api/http_limits.py)."""
    from api.http_limits import LimitedHttpToolsProtocol

    return {"loop": "uvloop", "http": LimitedHttpToolsProtocol, "log_level": "info", "access_log": access_log}


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.main import create_app
    from engine.engine import build_engine
    from engine.seed import DEMO_PASSWORD, create_demo_users, deploy_handbook

    settings = Settings()
    engine = build_engine(settings)
    if args.demo:
        deployment = deploy_handbook(engine)
        deployed = [f"{d.key} v{d.version}" for d in deployment.definitions] or [
            "handbook already up to date"
        ]
        print("Deployed: " + ", ".join(deployed))
        print(f"Demo users (password {DEMO_PASSWORD!r}) and bearer tokens:")
        for name, token in create_demo_users(engine).items():
            print(f"  {name:5} {token}")
    print(f"opsflow on http://{args.host}:{args.port}  (database: {settings.database_url})", flush=True)
    app = create_app(settings, engine)
    uvicorn.run(app, host=args.host, port=args.port, **uvicorn_options(access_log=args.access_log))
    engine.close()
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from engine.seed import collect_files

    with _engine() as engine:
        result = engine.repository.deploy(collect_files([Path(p) for p in args.paths]), actor="cli")
    for d in result.definitions:
        print(f"deployed process {d.key} version {d.version}")
    for f in result.forms:
        print(f"deployed form {f.key} version {f.version}")
    for key in result.unchanged:
        print(f"unchanged {key}")
    return 0


def _start(args: argparse.Namespace) -> int:
    variables = {}
    for item in args.var:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise OpsflowError(f"--var takes NAME=JSON, got {item!r}")
        try:
            variables[name] = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise OpsflowError(
                f"--var {name}: not JSON ({exc.msg}); quote strings: {name}='\"text\"'"
            ) from None
    with _engine() as engine:
        instance = engine.runtime.start_process_instance_by_key(
            args.process_id, principal=CLI_PRINCIPAL, business_key=args.business_key, variables=variables
        )
    print(instance.id)
    return 0


def _user_add(args: argparse.Namespace) -> int:
    with _engine() as engine:
        user = engine.identity.create_user(args.name, args.groups, password=args.password, actor="cli")
    print(f"created user {user.name} in groups {', '.join(user.groups)}")
    return 0


def _group_add(args: argparse.Namespace) -> int:
    with _engine() as engine:
        group = engine.groups.create_group(
            args.id, name_zh=args.name_zh or "", name_en=args.name_en or "", principal=CLI_PRINCIPAL
        )
    print(f"created group {group.id} ({group.name_zh} / {group.name_en})")
    return 0


def _group_list(_: argparse.Namespace) -> int:
    with _engine() as engine:
        for group in engine.groups.list_groups():
            print(_group_line(group))
    return 0


def _group_member(args: argparse.Namespace) -> int:
    with _engine() as engine:
        change = engine.groups.add_member if args.member_command == "add" else engine.groups.remove_member
        for user in args.users:
            group = change(args.group, user, principal=CLI_PRINCIPAL)
    print(_group_line(group))
    return 0


def _group_line(group: GroupView) -> str:
    members = ", ".join(group.members) or "no members"
    return f"{group.id}\t{group.name_zh} / {group.name_en}\t{members}"


def _token(args: argparse.Namespace) -> int:
    with _engine() as engine:
        print(engine.identity.issue_token(args.name, label="cli"))
    return 0


def _worker(_: argparse.Namespace) -> int:
    import signal

    with _engine() as engine:
        worker = engine.worker()
        signal.signal(signal.SIGTERM, lambda *_: worker.stop(timeout=0))
        print(f"opsflow worker {engine.jobs.owner} running; Ctrl-C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            worker.run_forever()
    return 0


def _db_upgrade(_: argparse.Namespace) -> int:
    from engine.engine import upgrade_database

    print(f"database schema at {upgrade_database(Settings())}")
    return 0


class _engine:
    """`with _engine() as engine:` - a process engine on OPSFLOW_DATABASE_URL, closed afterwards."""

    def __enter__(self) -> "ProcessEngine":
        from engine.engine import build_engine

        self.engine = build_engine(Settings())
        return self.engine

    def __exit__(self, *_: object) -> None:
        self.engine.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opsflow", description="BPMN engine service for the operations handbook"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="deploy the handbook and create demo users")
    serve.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        help="no line per request (saves a few percent of CPU per request; errors are still logged)",
    )
    serve.set_defaults(run=_serve)

    deploy = commands.add_parser("deploy", help="deploy .bpmn/.form files or directories")
    deploy.add_argument("paths", nargs="+", metavar="PATH")
    deploy.set_defaults(run=_deploy)

    start = commands.add_parser("start", help="start a process instance; prints its id")
    start.add_argument("process_id", metavar="PROCESS_ID")
    start.add_argument("--business-key")
    start.add_argument("--var", action="append", default=[], metavar="NAME=JSON")
    start.set_defaults(run=_start)

    user = commands.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="create a user")
    add.add_argument("name", metavar="NAME")
    add.add_argument(
        "--group",
        "--role",  # the name before groups were data
        dest="groups",
        action="append",
        required=True,
        metavar="GROUP",
        help="a group the user is in (repeat for several; `opsflow group list` shows them)",
    )
    add.add_argument("--password")
    add.set_defaults(run=_user_add)

    group = commands.add_parser("group", help="manage groups").add_subparsers(
        dest="group_command", required=True
    )
    group_add = group.add_parser("add", help="create a group")
    group_add.add_argument("id", metavar="ID")
    group_add.add_argument("--name-zh", help="its name in Chinese (default: the id)")
    group_add.add_argument("--name-en", help="its name in English (default: the id)")
    group_add.set_defaults(run=_group_add)
    group.add_parser("list", help="every group and its members").set_defaults(run=_group_list)
    member = group.add_parser("member", help="add or remove members").add_subparsers(
        dest="member_command", required=True
    )
    for action in ("add", "remove"):
        change = member.add_parser(
            action, help=f"{action} users {'to' if action == 'add' else 'from'} a group"
        )
        change.add_argument("group", metavar="GROUP")
        change.add_argument("users", nargs="+", metavar="USER")
        change.set_defaults(run=_group_member)

    token = commands.add_parser("token", help="print a new bearer token for a user")
    token.add_argument("name", metavar="NAME")
    token.set_defaults(run=_token)

    commands.add_parser(
        "worker", help="run only the job worker (timers, deadlines, deliveries)"
    ).set_defaults(run=_worker)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply pending migrations").set_defaults(run=_db_upgrade)
    return parser


if __name__ == "__main__":
    sys.exit(main())
