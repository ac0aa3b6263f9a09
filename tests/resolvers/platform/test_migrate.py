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


def test_surveys_an_import_stored_before_0016_are_known_as_the_imports(tmp_path: Path) -> None:
    """A sheet's survey never edited in the app is attributed to the campaign's finished import (so a corrected
    sheet may update it); a survey from the app, or a sheet's edited in the app since, stays the app's."""
    path = tmp_path / "surveys.sqlite3"
    migrate_to(path, "palmcredit.0015_survey_member_survey_index")
    at = "'2026-01-01 00:00:00+00:00'"
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO grid_node (level, name, code, path, depth, created_at, updated_at) "
            f"VALUES ('VILLAGE', '张庄村', '320324101001', '/1/', 0, {at}, {at})"
        )
        db.execute(
            "INSERT INTO staff (username, display_name, roles, is_active, password_hash, must_change_password, "
            f"token_version, created_at) VALUES ('m', '客户经理', '[\"CUSTOMER_MANAGER\"]', 1, 'x', 0, 0, {at})"
        )
        db.execute(
            "INSERT INTO village_campaign (village_id, name, collector_ids, reviewer_id, created_by_id, state, "
            "version, created_at, state_since, screening_decision, limit_decision) VALUES (1, '张庄村整村授信', "
            f"'[1]', 1, 1, 'COLLECTING', 1, {at}, {at}, 'village_screening', 'village_limit')"
        )
        db.execute(
            "INSERT INTO survey_import (campaign_id, file_name, file_format, file_sha256, content, mapping, status, "
            "rows_total, households_total, households_valid, saved, duplicates, errors, problems, problems_total, "
            f"created_by_id, created_at, updated_at) VALUES (1, 'a.csv', 'CSV', '', x'00', '{{}}', 'DONE', 3, 3, 3, "
            f"2, 0, 0, '[]', 0, 1, {at}, {at})"
        )
        for client_id, version in (("sheet-aa", 1), ("sheet-bb", 2), ("app-cc", 1)):
            db.execute(
                "INSERT INTO village_household_survey (campaign_id, client_id, client_version, collector_id, "
                "head_id_number, head_name, surveyed_at, details, created_at, updated_at, address, operations, "
                "land_contracted_mu, land_rented_mu, annual_income, annual_expenses, house_value, vehicle_value, "
                f"machinery_value) VALUES (1, ?, ?, 1, ?, '张三', {at}, '{{}}', {at}, {at}, '', '', 0, 0, 0, 0, 0, "
                "0, 0)",
                (client_id, version, client_id[-2:]),
            )
        db.execute(
            "INSERT INTO village_survey_member (survey_id, campaign_id, id_number, relation) "
            "VALUES (1, 1, 'aa', 'HEAD')"
        )
    migrate_to(path, None)
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT client_id, last_import_id FROM village_household_survey ORDER BY id").fetchall()
        assert rows == [("sheet-aa", 1), ("sheet-bb", None), ("app-cc", None)]
        assert db.execute("SELECT updated FROM survey_import").fetchall() == [(0,)]
        assert db.execute("SELECT id_number FROM village_survey_member").fetchall() == [("aa",)]
