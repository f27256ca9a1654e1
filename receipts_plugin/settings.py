"""Per-department switches: read receipts (and, separately, open tracking and download links)."""
from __future__ import annotations

from sqlalchemy import select

from helpdesk.plugin_api import db, Department

from .models import DepartmentSettings


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


def save_switches(receipts: set[int], open_tracking: set[int] | None = None,
                  download_links: set[int] | None = None) -> None:
    """Set the switches for every department at once (what the admin page saves).

    Turning receipts off keeps all recorded data; it only stops asking and hides it."""
    for department, settings in all_settings():
        if settings is None:
            settings = DepartmentSettings(department_id=department.id)
            db.session.add(settings)
        settings.receipts_enabled = department.id in receipts
        if open_tracking is not None:
            settings.open_tracking = department.id in open_tracking
        if download_links is not None:
            settings.download_links = department.id in download_links
    db.session.commit()
