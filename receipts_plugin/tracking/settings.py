"""The tracking plugin's per-department switches: open tracking and download links.

They are drawn as columns of the receipts plugin's Read Receipts page (its
``receipts-settings-*`` slots, see :mod:`.hooks`) and saved when that page is, through its
``department_switches_saved`` signal.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence, Set

from flask import Flask

from helpdesk.plugin_api import db, Department
from receipts_plugin.plugin_api import department_switches_saved

from .models import TrackingSettings

#: The switches, by the name of their checkbox (and of ``save_switches``' keyword).
SWITCHES = ("open_tracking", "download_links")


def tracking_settings_for(department_id: int) -> TrackingSettings | None:
    return db.session.get(TrackingSettings, department_id)


def all_tracking_settings() -> dict[int, TrackingSettings]:
    return {s.department_id: s for s in db.session.scalars(db.select(TrackingSettings))}


def save_tracking_switches(departments: Sequence[Department], switches: Mapping[str, Set[int]]) -> None:
    """Set the named switches of every department; a switch not named stays as it is. Does not commit."""
    wanted = {name: ids for name, ids in switches.items() if name in SWITCHES}
    if not wanted:
        return
    existing = all_tracking_settings()
    for department in departments:
        settings = existing.get(department.id)
        if settings is None:
            settings = TrackingSettings(department_id=department.id, open_tracking=False, download_links=False)
            db.session.add(settings)
        for name, ids in wanted.items():
            setattr(settings, name, department.id in ids)


def on_switches_saved(app: Flask, departments: Sequence[Department], switches: Mapping[str, Set[int]]) -> None:
    """``department_switches_saved`` receiver."""
    save_tracking_switches(departments, switches)


def connect(app: Flask) -> None:
    department_switches_saved.connect(on_switches_saved, app, weak=False)
