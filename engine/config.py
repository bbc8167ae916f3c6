"""Settings, read from the environment (prefix OPSFLOW_) and passed explicitly, never global."""

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPSFLOW_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{Path.cwd() / 'opsflow.db'}",
        description="SQLAlchemy URL; SQLite file by default, postgresql://... for production.",
    )
    processes_dir: Path = PROJECT_ROOT / "processes"
    forms_dir: Path = PROJECT_ROOT / "forms"
    token_ttl_days: int = 30
    max_upload_bytes: int = 5 * 1024 * 1024
    script_cpu_seconds: float = Field(
        default=1.0, gt=0, description="CPU time one script or expression may use before it is stopped"
    )
    script_memory_mb: int = Field(
        default=512, ge=16, description="memory one script or expression may add before it is stopped"
    )
    sandbox_workers: int = Field(
        default=2,
        ge=1,
        description="sandbox worker processes per server process: scripts and expressions that are not "
        "trivially bounded run there, where they can be stopped by force (engine/bpmn/isolation.py)",
    )
    job_threads: int = Field(
        default=4,
        ge=1,
        description="jobs a worker runs side by side (one per instance at a time): a slow job does not "
        "hold other instances' timers behind it",
    )
    job_max_attempts: int = Field(
        default=5,
        ge=1,
        description="how often a failing or timed-out job is tried (with exponential backoff) before it "
        "stops and becomes an incident on its instance",
    )
    min_timer_cycle_seconds: float = Field(
        default=1.0, ge=0, description="the shortest interval a repeating timer (R/PT...) may have"
    )
    max_timer_years: int = Field(
        default=100, ge=1, description="how far ahead a timer's date or duration may reach"
    )
    run_worker: bool = Field(default=True, description="run the job worker inside `opsflow serve`")
    worker_poll_seconds: float = 0.25
    workflow_cache_size: int = Field(
        default=256,
        ge=0,
        description="deserialized workflows kept per process (keyed by instance and version); 0 turns it off",
    )
    auth_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description="how long a server process trusts a token it has just checked; a token revoked through "
        "another process is refused within this time (through the same process: at once); 0 turns it off",
    )
    document_font: Path = Field(
        default=Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
        description="the CJK font embedded in PDF documents (Debian's fonts-noto-cjk)",
    )
    idempotency_stale_seconds: float = Field(
        default=60, description="an Idempotency-Key still unanswered after this long belongs to a dead server"
    )
    job_lock_seconds: float = Field(
        default=60,
        ge=1,
        description="how long a worker's claim on a job (and on the notifications it sends) lasts: a dead "
        "worker's work is taken over after this; keep it above the slowest delivery",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="where people reach this service: notifications link to task pages under it, and the "
        "identity provider sends browsers back to <this>/auth/oidc/callback",
    )
    webhook_allowed_networks: list[str] = Field(
        default_factory=list,
        description="networks (CIDR, e.g. 10.20.0.0/16) webhooks and chat robots may reach although they "
        "are loopback, private or link-local: on-premise receivers. Empty: public addresses only "
        "(engine/webhook_targets.py)",
    )

    # --- single sign-on (OpenID Connect, authorization code flow with PKCE); off without an issuer ---
    oidc_issuer: str | None = Field(
        default=None,
        description="the identity provider's issuer URL (its discovery document is read from it)",
    )
    oidc_client_id: str = Field(default="", description="opsflow's client id at the identity provider")
    oidc_client_secret: SecretStr = Field(default=SecretStr(""), description="opsflow's client secret")
    oidc_provider_name: str = Field(
        default="SSO", description='shown on the sign-in page: "Sign in with <name>"'
    )
    oidc_scopes: str = "openid profile email"
    oidc_username_claim: str = Field(
        default="preferred_username", description="the ID-token claim whose value is the opsflow user name"
    )
    oidc_groups_claim: str = Field(
        default="groups",
        description="the ID-token claim listing the user's groups; they replace the user's groups at each "
        "sign-in (names opsflow does not know are ignored). Without that claim in a token nothing changes",
    )
    oidc_create_users: bool = Field(
        default=False, description="create a user on their first sign-in (else only known users may sign in)"
    )
    oidc_link_existing_users: bool = Field(
        default=False,
        description="let a provider account sign in as the local user of the same name the first time (only "
        "for a provider whose user names the organisation controls)",
    )

    @model_validator(mode="after")
    def _sso_is_complete(self) -> "Settings":
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("OPSFLOW_OIDC_CLIENT_ID is needed when OPSFLOW_OIDC_ISSUER is set")
        return self
