"""Settings, read from the environment (prefix OPSFLOW_) and passed explicitly, never global."""

from pathlib import Path

from pydantic import Field
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
    script_cpu_seconds: float = 1.0
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
        description="where people reach this service; notifications link to task pages under it",
    )
    webhook_allowed_networks: list[str] = Field(
        default_factory=list,
        description="networks (CIDR, e.g. 10.20.0.0/16) webhooks may reach although they are loopback, "
        "private or link-local: on-premise receivers. Empty: public addresses only "
        "(engine/webhook_targets.py)",
    )
