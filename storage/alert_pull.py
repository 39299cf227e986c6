"""The Alertmanager poll's lease and last outcome (table AlertPull in storage.alerts, the feature's tables).

One row, so one replica polls and every replica can tell how it went. The lease is taken with one
atomic UPDATE (free, expired, or already ours), so two replicas asking at the same moment cannot
both win; a holder that stops renewing loses it when `lease_until` passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, intersect, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.alerts import FIRING, Alert, AlertGroup, AlertPull
from storage.clock import as_utc

MAX_ERROR = 500  # characters of the last error kept for /iris status and /readyz
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PullState:
    holder: str
    lease_until: datetime
    url: str
    polled_at: datetime | None
    failing_since: datetime | None
    error: str | None


def take_lease(session: Session, name: str, holder: str, now: datetime, until: datetime) -> bool:
    """Hold (or keep holding) the poll until `until`; False while another holder's lease runs."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(AlertPull)
        .values(name=name, holder="", lease_until=EPOCH, url="")
        .on_conflict_do_nothing(index_elements=["name"])
    )
    result = session.execute(
        update(AlertPull)
        .where(
            col(AlertPull.name) == name,
            or_(col(AlertPull.lease_until) < now, col(AlertPull.holder) == holder),
        )
        .values(holder=holder, lease_until=until)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release_lease(session: Session, name: str, holder: str) -> None:
    """Let another replica take the poll at its next try, instead of after the lease runs out."""
    session.execute(
        update(AlertPull)
        .where(col(AlertPull.name) == name, col(AlertPull.holder) == holder)
        .values(lease_until=EPOCH)
    )


def record_success(session: Session, name: str, holder: str, url: str, now: datetime) -> None:
    session.execute(
        update(AlertPull)
        .where(col(AlertPull.name) == name, col(AlertPull.holder) == holder)
        .values(url=url, polled_at=now, failing_since=None, error=None)
    )


def record_failure(session: Session, name: str, holder: str, url: str, error: str, now: datetime) -> None:
    """The outage's start is kept from its first failure; the error is the latest."""
    row = session.get(AlertPull, name)
    if row is None or row.holder != holder:
        return
    row.url = url
    row.error = error[:MAX_ERROR]
    if row.failing_since is None:
        row.failing_since = now
    session.add(row)


def state_of(session: Session, name: str) -> PullState | None:
    row = session.get(AlertPull, name)
    if row is None:
        return None
    return PullState(
        holder=row.holder,
        lease_until=as_utc(row.lease_until),
        url=row.url,
        polled_at=as_utc(row.polled_at),
        failing_since=as_utc(row.failing_since),
        error=row.error,
    )


def firing_groups(session: Session, source: str) -> list[tuple[AlertGroup, list[Alert]]]:
    """The source's groups stored as firing, each with its firing alerts (what a poll compares with)."""
    groups = session.exec(
        select(AlertGroup).where(AlertGroup.source == source, AlertGroup.status == FIRING)
    ).all()
    ids = [group.id for group in groups]
    alerts: dict[int, list[Alert]] = {group_id: [] for group_id in ids if group_id is not None}
    if ids:
        query = select(Alert).where(col(Alert.group_id).in_(ids), Alert.status == FIRING)
        for alert in session.exec(query.order_by(col(Alert.id))).all():
            alerts[alert.group_id].append(alert)
    return [(group, alerts[group.id or 0]) for group in groups]


def firing_in_both(session: Session, polled: str, pushed: str) -> int:
    """Alerts firing both in a polled group and in a webhook's: the same alert (Alertmanager's
    fingerprint) reaching IRIS both ways, so shown twice."""

    def firing(source: str) -> Any:
        return (
            select(Alert.fingerprint)
            .join(AlertGroup, col(Alert.group_id) == col(AlertGroup.id))
            .where(AlertGroup.source == source, AlertGroup.status == FIRING, Alert.status == FIRING)
        )

    both = intersect(firing(polled), firing(pushed)).subquery()
    return int(session.execute(select(func.count()).select_from(both)).scalar_one())
