"""The instance list as CSV: one row per instance with where it stands, for a spreadsheet."""

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from engine.views import InstanceSummaryView

EXPORT_MAX = 10_000
COLUMNS = (
    "id",
    "process_key",
    "version",
    "business_key",
    "title",
    "status",
    "outcome",
    "started_by",
    "started_at",
    "ended_at",
    "current_steps",
    "holders",
    "due",
    "waiting",
    "overdue",
    "incident",
)


def instances_csv(items: Sequence[InstanceSummaryView]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for i in items:
        steps = i.current_steps
        writer.writerow(
            [
                i.id,
                i.process_key,
                i.version,
                i.business_key or "",
                _safe(str((i.variables or {}).get("title") or "")),
                i.status,
                i.outcome or "",
                i.started_by or "",
                _when(i.started_at),
                _when(i.ended_at),
                "; ".join(_safe(s.name or s.element_id) for s in steps),
                "; ".join(s.assignee or ",".join([*s.candidate_users, *s.candidate_groups]) for s in steps),
                "; ".join(_when(s.due_at) for s in steps),
                "; ".join(
                    w.message or "" if w.kind == "message" else f"timer {_when(w.due_at)}" for w in i.waiting
                ),
                "yes" if i.overdue else "",
                _safe((i.incident or {}).get("message") or ""),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()


def _when(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def _safe(text: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @) is quoted as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
