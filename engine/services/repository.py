"""Deployments: BPMN and form files in, validated, stored as immutable versions per key."""

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from engine import events, timer_starts
from engine.bpmn.parser import CalledDefinition, ParsedProcess, parse_bpmn_files, start_event
from engine.dmn import DMN_SUFFIXES, ParsedDecision, parse_dmn_files
from engine.errors import Conflict, InvalidDeployment, NotFound, Problem
from engine.forms import bound_variables, check_form
from engine.jsontext import json_depth
from engine.services.decision_store import decision_view, new_decision_rows
from engine.services.groups import unoffered_tasks
from engine.step_data import overlap_warnings
from engine.storage.tables import DeploymentRow, FormDefinitionRow, GroupRow, ProcessDefinitionRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import DefinitionView, DeploymentView, FormView

if TYPE_CHECKING:
    from engine.instances import Definition

_FORM = FormDefinitionRow.__table__
_FORM_LATEST = (
    sa.select(_FORM.c.id).where(_FORM.c.key == sa.bindparam("key")).order_by(_FORM.c.version.desc()).limit(1)
)
_FORM_DEPLOYED_BY = _FORM_LATEST.where(_FORM.c.deployed_at <= sa.bindparam("deployed_at"))
_FORM_VERSION = _FORM_LATEST.where(_FORM.c.version == sa.bindparam("version"))
_DEFINITION = ProcessDefinitionRow.__table__
_LATEST_DEFINITION = (
    sa.select(_DEFINITION.c.id)
    .where(_DEFINITION.c.key == sa.bindparam("key"))
    .order_by(_DEFINITION.c.version.desc())
    .limit(1)
)

BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml", ".xml")
FORM_SUFFIXES = (".form", ".json")
#: JSON levels a form file may nest: each group or list of fields takes two; no real form needs more.
MAX_FORM_JSON_DEPTH = 64


class RepositoryService:
    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    def deploy(
        self, files: Iterable[tuple[str, bytes]], *, name: str = "", actor: str | None = None
    ) -> DeploymentView:
        files = list(files)
        if not files:
            raise InvalidDeployment("nothing to deploy: send at least one .bpmn, .dmn or .form file")
        return self._tx.write(lambda uow: self._deploy(uow, files, name, actor))

    def validate(self, files: Iterable[tuple[str, bytes]]) -> list[Problem]:
        """Every problem a deployment of these files would report, storing nothing."""
        return self._tx.read(lambda uow: self._check(uow.session, list(files))[2])

    def _deploy(
        self, uow: UnitOfWork, files: list[tuple[str, bytes]], name: str, actor: str | None
    ) -> DeploymentView:
        session = uow.session
        forms, parsed, problems, warnings, decisions = self._check(session, files)
        if problems:
            raise InvalidDeployment("the deployment was rejected", problems)
        warnings = [*warnings, *unoffered_tasks(session, parsed)]
        deployment = DeploymentRow(id=str(uuid.uuid4()), name=name, deployed_by=actor, deployed_at=utcnow())
        new_forms, new_definitions, unchanged = [], [], []
        for key, (_filename, schema) in forms.items():
            digest = _digest(json.dumps(schema, sort_keys=True, ensure_ascii=False))
            latest = _latest(session, FormDefinitionRow, key)
            if latest is not None and latest.content_hash == digest:
                unchanged.append(key)
                continue
            new_forms.append(
                FormDefinitionRow(
                    id=str(uuid.uuid4()),
                    key=key,
                    version=(latest.version + 1) if latest else 1,
                    form_schema=schema,
                    content_hash=digest,
                    deployment_id=deployment.id,
                    deployed_at=utcnow(),
                )
            )
        for process in parsed:
            digest = _digest(process.process_id + "\n" + process.xml)
            latest = _latest(session, ProcessDefinitionRow, process.process_id)
            if latest is not None and latest.content_hash == digest:
                unchanged.append(process.process_id)
                continue
            new_definitions.append(
                ProcessDefinitionRow(
                    id=str(uuid.uuid4()),
                    key=process.process_id,
                    version=(latest.version + 1) if latest else 1,
                    name=process.name,
                    resource_name=process.resource_name,
                    bpmn_xml=process.xml,
                    content_hash=digest,
                    catalog=process.catalog,
                    deployment_id=deployment.id,
                    deployed_at=utcnow(),
                )
            )
        _resolve_calls_within(session, new_definitions)
        new_decisions = new_decision_rows(
            session, decisions, deployment.id, deployment.deployed_at, unchanged
        )
        if not new_forms and not new_definitions and not new_decisions:
            return DeploymentView(None, [], [], unchanged, warnings)
        session.add(deployment)
        session.flush()
        session.add_all([*new_forms, *new_definitions, *new_decisions])
        try:
            session.flush()
        except IntegrityError as exc:
            raise Conflict("another deployment of the same key happened at the same time; try again") from exc
        for row in new_definitions:
            timer_starts.schedule(session, row.id, row.key, row.catalog)
            events.record(
                session,
                events.DEFINITION_DEPLOYED,
                actor=actor,
                details={"key": row.key, "version": row.version, "definition_id": row.id},
            )
        for row in new_forms:
            events.record(
                session, events.FORM_DEPLOYED, actor=actor, details={"key": row.key, "version": row.version}
            )
        for row in new_decisions:
            events.record(
                session,
                events.DECISION_DEPLOYED,
                actor=actor,
                details={"key": row.key, "version": row.version, "decision_id": row.id},
            )
        return DeploymentView(
            deployment.id,
            [definition_view(r) for r in new_definitions],
            [form_view(r) for r in new_forms],
            unchanged,
            warnings,
            [decision_view(r) for r in new_decisions],
        )

    def _check(
        self, session: Session, files: list[tuple[str, bytes]]
    ) -> tuple[dict, list, list[Problem], list[Problem], list[ParsedDecision]]:
        problems: list[Problem] = []
        forms: dict[str, tuple[str, dict]] = {}
        bpmn_files: list[tuple[str, bytes]] = []
        dmn_files: list[tuple[str, bytes]] = []
        for filename, content in files:
            lower = filename.lower()
            if lower.endswith(DMN_SUFFIXES):
                dmn_files.append((filename, content))
            elif lower.endswith(FORM_SUFFIXES):
                _read_form(filename, content, forms, problems)
            elif lower.endswith(BPMN_SUFFIXES):
                bpmn_files.append((filename, content))
            else:
                message = "unknown file type: deploy .bpmn, .dmn and .form files"
                problems.append(Problem(message, file=filename))
        deployed_forms = set(session.exec(select(FormDefinitionRow.key).distinct()).all())
        form_files = {_stem(filename): key for key, (filename, _schema) in forms.items()}
        parsed = parse_bpmn_files(
            bpmn_files,
            roles=set(session.exec(select(GroupRow.id)).all()),  # lanes may map to them by id or name
            form_keys=deployed_forms | forms.keys(),
            form_files=form_files,
            find_called=lambda key, binding, pin: find_called(session, key, binding, pin),
        )
        problems += parsed.problems
        for key, schema in parsed.forms.items():
            forms[key] = (f"{key} (camunda:formData)", schema)
        seen: dict[str, str] = {}
        for process in parsed.processes:
            if process.process_id in seen:
                problems.append(
                    Problem(
                        f"process id {process.process_id} is also defined in {seen[process.process_id]}",
                        file=process.resource_name,
                    )
                )
            seen[process.process_id] = process.resource_name
        decisions, dmn_problems = parse_dmn_files(dmn_files)
        problems += dmn_problems
        by_key: dict[str, str] = {}
        for item in decisions:
            if item.decision.id in by_key:
                key, file = item.decision.id, item.decision.resource_name
                message = f"decision id {key} is also defined in {by_key[key]}"
                problems.append(Problem(message, file=file, element_id=key))
            by_key[item.decision.id] = item.decision.resource_name
        warnings = [*parsed.warnings, *_overlapping_step_data(session, parsed.processes, forms)]
        return forms, parsed.processes, problems, warnings, decisions

    def list_definitions(self) -> list[DefinitionView]:
        """The latest version of each process."""
        return self._tx.read(lambda uow: [definition_view(r) for r in latest_definitions(uow.session)])

    def list_versions(self, key: str) -> list[DefinitionView]:
        def query(uow: UnitOfWork) -> list[DefinitionView]:
            rows = uow.session.exec(
                select(ProcessDefinitionRow)
                .where(ProcessDefinitionRow.key == key)
                .order_by(ProcessDefinitionRow.version.desc())
            ).all()
            if not rows:
                raise NotFound(f"process {key} is not deployed")
            return [definition_view(r) for r in rows]

        return self._tx.read(query)

    def get_definition(self, key: str, version: int | None = None) -> DefinitionView:
        return self._tx.read(lambda uow: definition_view(find_definition(uow.session, key, version)))

    def get_definition_xml(self, key: str, version: int | None = None) -> str:
        return self._tx.read(lambda uow: find_definition(uow.session, key, version).bpmn_xml)

    def list_forms(self) -> list[FormView]:
        def query(uow: UnitOfWork) -> list[FormView]:
            rows = uow.session.exec(
                select(FormDefinitionRow).order_by(FormDefinitionRow.key, FormDefinitionRow.version)
            ).all()
            latest: dict[str, FormDefinitionRow] = {r.key: r for r in rows}
            return [form_view(r) for r in latest.values()]

        return self._tx.read(query)

    def get_form(self, key: str, version: int | None = None) -> FormView:
        def query(uow: UnitOfWork) -> FormView:
            row = find_form(uow.session, key, version)
            if row is None:
                raise NotFound(f"form {key} is not deployed")
            return form_view(row)

        return self._tx.read(query)


def _overlapping_step_data(
    session: Session, processes: list[ParsedProcess], forms: dict[str, tuple[str, dict[str, Any]]]
) -> list[Problem]:
    """Warnings: variables the forms of two steps of a process both bind (engine.step_data). A step's form
    is the one of this deployment, else the deployed version its binding names."""
    schemas: dict[tuple[str, int | None], dict[str, Any] | None] = {}

    def variables_of(entry: dict[str, Any]) -> list[str] | None:
        key = entry["form_key"]
        pinned = str((entry.get("properties") or {}).get("formRefVersion", ""))
        version = int(pinned) if entry.get("form_binding") == "version" and pinned.isdigit() else None
        if (key, version) not in schemas:
            if version is None and key in forms:
                schemas[key, version] = forms[key][1]
            else:
                row = find_form(session, key, version)
                schemas[key, version] = row.form_schema if row else None
        schema = schemas[key, version]
        return bound_variables(schema) if isinstance(schema, dict) else None

    return [
        warning
        for process in processes
        for warning in overlap_warnings(
            process.process_id, process.resource_name, process.catalog, process.shared_variables, variables_of
        )
    ]


def latest_definitions(session: Session) -> list[ProcessDefinitionRow]:
    latest = (
        select(ProcessDefinitionRow.key, func.max(ProcessDefinitionRow.version).label("v"))
        .group_by(ProcessDefinitionRow.key)
        .subquery()
    )
    return list(
        session.exec(
            select(ProcessDefinitionRow)
            .join(
                latest,
                (ProcessDefinitionRow.key == latest.c.key) & (ProcessDefinitionRow.version == latest.c.v),
            )
            .order_by(ProcessDefinitionRow.key)
        ).all()
    )


def find_definition(session: Session, key: str, version: int | None = None) -> ProcessDefinitionRow:
    query = select(ProcessDefinitionRow).where(ProcessDefinitionRow.key == key)
    if version is not None:
        query = query.where(ProcessDefinitionRow.version == version)
    row = session.exec(query.order_by(ProcessDefinitionRow.version.desc())).first()
    if row is None:
        suffix = f" version {version}" if version is not None else ""
        raise NotFound(f"process {key}{suffix} is not deployed")
    return row


def find_form(session: Session, key: str, version: int | None = None) -> FormDefinitionRow | None:
    query = select(FormDefinitionRow).where(FormDefinitionRow.key == key)
    if version is not None:
        query = query.where(FormDefinitionRow.version == version)
    return session.exec(query.order_by(FormDefinitionRow.version.desc())).first()


def definition_view(row: ProcessDefinitionRow) -> DefinitionView:
    start = start_event(row.catalog, row.key)
    return DefinitionView(
        row.id,
        row.key,
        row.version,
        row.name,
        row.resource_name,
        row.deployed_at,
        start.get("form_key") if start else None,
        start is not None,
    )


def form_view(row: FormDefinitionRow) -> FormView:
    return FormView(row.id, row.key, row.version, row.form_schema, row.deployed_at)


def _latest(session: Session, table: type, key: str):
    return session.exec(select(table).where(table.key == key).order_by(table.version.desc())).first()


def _read_form(filename: str, content: bytes, forms: dict, problems: list[Problem]) -> None:
    depth = json_depth(content)
    if depth > MAX_FORM_JSON_DEPTH:  # before parsing: deep enough documents exhaust the recursion limit
        message = f"the form is nested {depth} levels deep; at most {MAX_FORM_JSON_DEPTH} are allowed"
        problems.append(Problem(message, file=filename))
        return
    try:
        schema = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        problems.append(Problem("a form file must be UTF-8 JSON", file=filename))
        return
    except json.JSONDecodeError as exc:
        problems.append(Problem(f"JSON syntax error: {exc.msg}", file=filename, line=exc.lineno))
        return
    if isinstance(schema, dict) and not schema.get("id"):
        schema["id"] = _stem(filename)  # Camunda Modeler forms may have none: the file names them
    form_problems = check_form(schema)
    for p in form_problems:
        problems.append(Problem(p.message, file=filename, element_id=p.component_id, path=p.path or None))
    if form_problems:
        return
    key = schema["id"]
    if key in forms:
        problems.append(Problem(f"form id {key} is also used by {forms[key][0]}", file=filename))
        return
    forms[key] = (filename, schema)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def binds_latest_form(entry: dict) -> bool:
    """Whether the task or start event takes the newest version of its form (the default binding)."""
    binding = entry.get("form_binding", "latest")
    pinned = str((entry.get("properties") or {}).get("formRefVersion", ""))
    return not (binding == "deployment" or (binding == "version" and pinned.isdigit()))


def resolve_form_id(session: Session, entry: dict, definition: "Definition") -> str | None:
    """The form version of a task or start event, by its binding: `latest` (Camunda's default) takes
    the newest version; `deployment` the newest deployed together with or before the process version;
    `version` the one named by camunda:formRefVersion. Only the id is read: versions are immutable
    and cached by id (Instances.form)."""
    key = entry.get("form_key")
    if not key:
        return None
    binding = entry.get("form_binding", "latest")
    pinned = str((entry.get("properties") or {}).get("formRefVersion", ""))
    if binds_latest_form(entry):
        query, params = _FORM_LATEST, {"key": key}
    elif binding == "deployment":
        query, params = _FORM_DEPLOYED_BY, {"key": key, "deployed_at": definition.deployed_at}
    else:
        query, params = _FORM_VERSION, {"key": key, "version": int(pinned)}
    return session.connection().execute(query, params).scalar()


def latest_definition_id(session: Session, key: str) -> str:
    found = session.connection().execute(_LATEST_DEFINITION, {"key": key}).scalar()
    if found is None:
        raise NotFound(f"process {key} is not deployed")
    return found


def _stem(filename: str) -> str:
    return filename.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".form").removesuffix(".json")


# --- call activities ------------------------------------------------------------------------------


def find_called(session: Session, key: str, binding: str, pin: str | None) -> CalledDefinition | None:
    """The deployed version of `key` that a call activity binds to: the latest (also for `deployment`
    bindings resolved within the deployment, which never reach here), a numbered version, or the
    latest with a camunda:versionTag."""
    query = select(ProcessDefinitionRow).where(ProcessDefinitionRow.key == key)
    if binding == "version":
        if not (pin or "").isdigit():
            return None
        query = query.where(ProcessDefinitionRow.version == int(pin))
    rows = session.exec(query.order_by(ProcessDefinitionRow.version.desc())).all()
    if binding == "versionTag":
        rows = [r for r in rows if _version_tag(r) == pin]
    if not rows:
        return None
    row = rows[0]
    return CalledDefinition(
        row.id, row.catalog, [(row.resource_name, row.bpmn_xml), *called_documents(session, row.catalog)]
    )


def called_documents(session: Session, catalog: dict[str, dict]) -> list[tuple[str, str]]:
    """(resource name, XML) of the deployed versions a catalog's call activities call (the catalog
    holds the called processes' own entries too, so one level reaches them all)."""
    ids = sorted({e["called_definition_id"] for e in catalog.values() if e.get("called_definition_id")})
    if not ids:
        return []
    rows = session.exec(select(ProcessDefinitionRow).where(ProcessDefinitionRow.id.in_(ids))).all()
    return [(r.resource_name, r.bpmn_xml) for r in sorted(rows, key=lambda r: r.id)]


def _resolve_calls_within(session: Session, rows: list[ProcessDefinitionRow]) -> None:
    """Call activities that call a process of the same deployment get its version's id (new, or the
    latest when its content was unchanged)."""
    ids = {r.key: r.id for r in rows}
    for row in rows:
        catalog = {k: dict(v) for k, v in row.catalog.items()}
        for entry in catalog.values():
            if entry.get("called_in_deployment") and not entry.get("called_definition_id"):
                key = entry["called_key"]
                entry["called_definition_id"] = ids.get(key) or latest_definition_id(session, key)
        row.catalog = catalog


def _version_tag(row: ProcessDefinitionRow) -> str | None:
    match = re.search(
        rf'<[^>]*process[^>]*id="{re.escape(row.key)}"[^>]*versionTag="([^"]*)"', row.bpmn_xml
    ) or re.search(rf'<[^>]*process[^>]*versionTag="([^"]*)"[^>]*id="{re.escape(row.key)}"', row.bpmn_xml)
    return match.group(1) if match else None
