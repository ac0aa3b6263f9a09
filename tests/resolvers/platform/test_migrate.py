"""The migrations bring a database that holds rows up to date, not only an empty one: a bank's database at an
earlier release, with its staff, migrates to this one (in a process of its own: Tortoise binds its models to one
database per process)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
STEP = """
import asyncio, sys
sys.path.insert(0, {root!r})
from tortoise import Tortoise
from tortoise.migrations.api import migrate
from settings import tortoise_config

async def main():
    try:
        await migrate(config=tortoise_config("sqlite://" + {path!r}), target={target!r})
    finally:
        await Tortoise.close_connections()

asyncio.run(main())
"""


def migrate_to(path: Path, target: str | None) -> None:
    code = STEP.format(root=str(ROOT), path=str(path), target=target)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)  # noqa: S603


def test_a_database_with_staff_migrates_to_the_credit_factory(tmp_path: Path) -> None:
    path = tmp_path / "earlier.sqlite3"
    migrate_to(path, "palmcredit.0008_job_scope_flight_outputs")
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO staff (username, display_name, roles, is_active, password_hash, must_change_password, "
            "token_version, created_at) VALUES (?, ?, ?, 1, 'x', 0, 0, '2026-01-01 00:00:00+00:00')",
            ("investigator", "授信经理", '["CREDIT_INVESTIGATOR"]'),
        )
    migrate_to(path, None)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT product_skills FROM staff").fetchall() == [("[]",)]
        assert db.execute("SELECT count(*) FROM credit_application").fetchone() == (0,)


def test_a_database_with_campaigns_migrates_to_their_decision_pairs(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.sqlite3"
    migrate_to(path, "palmcredit.0011_village_screening")
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO grid_node (level, name, code, path, depth, created_at, updated_at) "
            "VALUES ('VILLAGE', '张庄村', '320324101001', '/1/', 0, '2026-01-01 00:00:00+00:00', "
            "'2026-01-01 00:00:00+00:00')"
        )
        db.execute(
            "INSERT INTO staff (username, display_name, roles, is_active, password_hash, must_change_password, "
            "token_version, created_at) VALUES ('head', '总行', '[\"HEAD_OFFICE\"]', 1, 'x', 0, 0, "
            "'2026-01-01 00:00:00+00:00')"
        )
        db.execute(
            "INSERT INTO village_campaign (village_id, name, collector_ids, reviewer_id, created_by_id, state, "
            "version, created_at, state_since) VALUES (1, '张庄村整村授信', '[]', 1, 1, 'COLLECTING', 1, "
            "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
        )
    migrate_to(path, None)
    with sqlite3.connect(path) as db:
        pair = db.execute("SELECT screening_decision, limit_decision FROM village_campaign").fetchall()
        assert pair == [("village_screening", "village_limit")]
        assert db.execute("SELECT count(*) FROM village_duplicate_candidate").fetchone() == (0,)
