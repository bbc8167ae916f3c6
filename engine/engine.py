"""The ProcessEngine facade: hands out the services, wired once by build_engine (no module globals)."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from engine.bpmn.parser import load_specs
from engine.bpmn.runner import Runner
from engine.bpmn.sandbox import SandboxLimits, make_script_engine
from engine.bpmn.serializer import SpecCache, Specs, WorkflowStore
from engine.bpmn.timers import TimerBounds
from engine.config import Settings
from engine.errors import NotFound
from engine.instances import Instances
from engine.jobs.executor import JobExecutor
from engine.jobs.registry import Wiring, job_kinds
from engine.jobs.worker import Worker
from engine.notifications.channels import ChannelService
from engine.notifications.preferences import PreferenceService
from engine.permissions import PLATFORM_GROUPS, TeamRules
from engine.policy import HANDBOOK, Policy
from engine.services.analytics import AnalyticsService
from engine.services.api_keys import ApiKeyService
from engine.services.audit import AuditService
from engine.services.camunda_history import CamundaHistory
from engine.services.camunda_queries import CamundaQueries
from engine.services.camunda_resources import CamundaResources
from engine.services.console import ConsoleService
from engine.services.decision_store import DecisionCache, Decisions
from engine.services.decisions import DecisionService
from engine.services.documents import DocumentService
from engine.services.external_tasks import ExternalTaskService
from engine.services.groups import GroupService
from engine.services.history import HistoryService
from engine.services.idempotency import IdempotencyService
from engine.services.identity import IdentityService
from engine.services.migrations import MigrationService
from engine.services.repository import RepositoryService, called_documents
from engine.services.runtime import RuntimeService
from engine.services.sso import SsoService
from engine.services.tasks import TaskService
from engine.services.webhooks import WebhookService
from engine.storage import schema
from engine.storage.db import checkpoint, make_engine
from engine.storage.tables import ProcessDefinitionRow
from engine.storage.uow import Transactions, UnitOfWork
from engine.webhook_targets import TargetPolicy


@dataclass
class ProcessEngine:
    settings: Settings
    db: sa.Engine
    policy: Policy
    rules: TeamRules
    repository: RepositoryService
    runtime: RuntimeService
    console: ConsoleService
    migrations: MigrationService
    tasks: TaskService
    identity: IdentityService
    groups: GroupService
    sso: SsoService
    history: HistoryService
    analytics: AnalyticsService
    jobs: JobExecutor
    external_tasks: ExternalTaskService
    webhooks: WebhookService
    api_keys: ApiKeyService
    idempotency: IdempotencyService
    audit: AuditService
    documents: DocumentService
    notification_channels: ChannelService
    notification_preferences: PreferenceService
    decisions: DecisionService
    camunda: CamundaQueries  # Camunda 7-shaped queries for /engine-rest
    camunda_history: CamundaHistory
    camunda_resources: CamundaResources

    def worker(self) -> Worker:
        """A worker loop over this engine's jobs (call .start() to run it in a thread); it wakes when
        this engine commits a job due before its next poll."""
        return Worker(
            self.jobs,
            poll=self.settings.worker_poll_seconds,
            maintenance=lambda: checkpoint(self.db),
            threads=self.settings.job_threads,
            listen=self.jobs.listen,
        )

    def health(self) -> None:
        """Raises when the database cannot be reached."""
        with self.db.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def close(self) -> None:
        self.db.dispose()


def upgrade_database(settings: Settings) -> str:
    """Apply pending migrations; returns the schema revision now in place."""
    db = make_engine(settings.database_url)
    try:
        schema.upgrade(db)
        return schema.current_revision(db) or ""
    finally:
        db.dispose()


def build_engine(settings: Settings, *, migrate: bool = True, policy: Policy = HANDBOOK) -> ProcessEngine:
    """Connect, check (or create) the schema, make sure the groups that exist from the start do, and
    wire the services. `policy` holds the words of the organisation's handbook (engine.policy)."""
    db = make_engine(settings.database_url)
    if migrate:
        schema.ensure_current(db)
    tx = Transactions(db)

    def load_definition(definition_id: str) -> Specs:
        def read(uow: UnitOfWork) -> Specs:
            row = uow.session.get(ProcessDefinitionRow, definition_id)
            if row is None:
                raise NotFound(f"process definition {definition_id} not found")
            called = called_documents(uow.session, row.catalog)
            return load_specs(row.bpmn_xml, row.resource_name, row.key, called)

        return tx.read(read)

    store = WorkflowStore(SpecCache(load_definition))
    limits = SandboxLimits(
        cpu_seconds=settings.script_cpu_seconds, max_memory_growth_mb=settings.script_memory_mb
    )
    bounds = TimerBounds(
        max_years=settings.max_timer_years, min_cycle_seconds=settings.min_timer_cycle_seconds
    )
    runner = Runner(make_script_engine(limits, workers=settings.sandbox_workers, timer_bounds=bounds))
    decisions = Decisions(DecisionCache(), runner.script_engine.environment.evaluate)
    rules = TeamRules(policy)
    instances = Instances(store, runner, policy, cache_size=settings.workflow_cache_size, decisions=decisions)
    runtime = RuntimeService(tx, instances, rules)
    migrations = MigrationService(tx, instances, rules)
    webhook_targets = TargetPolicy(settings.webhook_allowed_networks)
    wiring = Wiring(
        tx=tx,
        instances=instances,
        runtime=runtime,
        migrations=migrations,
        rules=rules,
        policy=policy,
        webhook_targets=webhook_targets,
        public_base_url=settings.public_base_url,
        lock_seconds=settings.job_lock_seconds,
    )
    jobs = JobExecutor(
        tx, job_kinds(wiring), lock_seconds=settings.job_lock_seconds, max_attempts=settings.job_max_attempts
    )
    identity = IdentityService(
        tx, settings.token_ttl_days, principal_cache_seconds=settings.auth_cache_seconds
    )
    groups = GroupService(tx, [*policy.lanes, *PLATFORM_GROUPS], identity.forget_principals)
    groups.ensure_builtin()
    return ProcessEngine(
        settings=settings,
        db=db,
        policy=policy,
        rules=rules,
        repository=RepositoryService(tx),
        runtime=runtime,
        console=ConsoleService(tx, instances, rules),
        migrations=migrations,
        tasks=TaskService(tx, instances, rules),
        identity=identity,
        groups=groups,
        sso=SsoService(tx, identity, settings),
        history=HistoryService(tx, rules),
        analytics=AnalyticsService(tx, policy.leader),
        jobs=jobs,
        external_tasks=ExternalTaskService(tx, instances),
        webhooks=WebhookService(tx, webhook_targets),
        api_keys=ApiKeyService(tx, identity),
        idempotency=IdempotencyService(tx, stale_after=timedelta(seconds=settings.idempotency_stale_seconds)),
        audit=AuditService(tx),
        documents=DocumentService(runtime, settings.document_font),
        notification_channels=ChannelService(tx, webhook_targets),
        notification_preferences=PreferenceService(tx),
        decisions=DecisionService(tx, decisions, rules),
        camunda=CamundaQueries(tx, rules, instances),
        camunda_history=CamundaHistory(tx, rules),
        camunda_resources=CamundaResources(tx),
    )
