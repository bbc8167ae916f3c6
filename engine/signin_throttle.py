"""Wrong passwords slow down whoever types them, not the account's owner: failures are counted per
user name AND client address. After MAX_FAILURES wrong passwords for a name from one address within
WINDOW, that address is refused for that name (429) until the window has passed; the owner signing in
from anywhere else is not affected, so nobody can lock a person out by guessing at their name.

The failures are the audit log's sign_in_failed events (visible to admins, and counted in the database:
every server process sees them), with the client address in their details. Behind a reverse proxy the
address is the one the proxy forwards (uvicorn trusts X-Forwarded-For from 127.0.0.1 by default).
"""

from datetime import timedelta

from sqlmodel import Session, select

from engine import events
from engine.errors import TooManyAttempts
from engine.storage.tables import AuditEventRow, utcnow

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


def refuse_if_throttled(session: Session, name: str, client: str | None) -> None:
    since = utcnow() - WINDOW
    details = session.exec(
        select(AuditEventRow.details).where(
            AuditEventRow.type == events.SIGN_IN_FAILED,
            AuditEventRow.actor == name,
            AuditEventRow.at >= since,
        )
    ).all()
    if sum(1 for d in details if (d or {}).get("client") == client) >= MAX_FAILURES:
        raise TooManyAttempts(
            f"too many failed sign-ins for {name} from this address; try again in a quarter of an hour"
        )


def record_failure(session: Session, name: str, client: str | None) -> None:
    events.record(session, events.SIGN_IN_FAILED, actor=name, details={"client": client})
