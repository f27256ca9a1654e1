"""Per-department switches: read receipts. Other plugins' switches (tracking's open image
and download links) live in their own tables, drawn on the same admin page through its slots
and saved through :data:`..signals.department_switches_saved`."""
from __future__ import annotations

from collections.abc import Set

from flask import current_app
from sqlalchemy import select

from helpdesk.plugin_api import db, Department

from .models import DepartmentSettings
from .signals import department_switches_saved


def settings_for(department_id: int) -> DepartmentSettings | None:
    return db.session.get(DepartmentSettings, department_id)


def receipts_enabled(department_id: int) -> bool:
    settings = settings_for(department_id)
    return bool(settings and settings.receipts_enabled)


def enabled_department_ids() -> set[int]:
    return set(db.session.scalars(
        select(DepartmentSettings.department_id).where(DepartmentSettings.receipts_enabled.is_(True))))


def all_settings() -> list[tuple[Department, DepartmentSettings | None]]:
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    by_id = {s.department_id: s for s in db.session.scalars(select(DepartmentSettings))}
    return [(d, by_id.get(d.id)) for d in departments]


def save_switches(receipts: Set[int], **others: Set[int]) -> None:
    """Set the switches for every department at once (what the admin page saves): the
    receipts switch here, ``others`` (e.g. ``open_tracking=...``) by the plugins that own them,
    through ``department_switches_saved``; one commit.

    Turning receipts off keeps all recorded data; it only stops asking and hides it."""
    rows = all_settings()
    for department, settings in rows:
        if settings is None:
            settings = DepartmentSettings(department_id=department.id)
            db.session.add(settings)
        settings.receipts_enabled = department.id in receipts
    department_switches_saved.send(current_app._get_current_object(), departments=[d for d, _ in rows],
                                   switches={name: set(ids) for name, ids in others.items()})
    db.session.commit()
