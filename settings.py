"""Settings read from the environment, once, at import.

DATABASE_URL   where the data lives; default a SQLite file beside the working directory.
REDIS_URL      the job queue; when unset, background jobs run in-process.
SECRET_KEY     signs login tokens; a fixed development key is used outside production mode.
PALMCREDIT_PRODUCTION  "1" turns on production mode: no GraphiQL, no introspection, a real key required.
PALMCREDIT_MAX_UPLOAD_MB  the largest file a grid import may upload, in MB (default 50).
PALMCREDIT_MAX_QUERY_COST  the estimated field resolutions one request may cost (default 20000).
PALMCREDIT_REQUEST_TIMEOUT  seconds one GraphQL request may run before it is ended (default 30).
PALMCREDIT_WORKER_CONCURRENCY  how many tasks (job chunks) one worker runs at once (default 2).
PALMCREDIT_JOB_LEASE  seconds a running chunk stays its worker's without a heartbeat (default 60).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

DEV_SECRET_KEY = "palmcredit-development-key-not-for-production-use"  # noqa: S105


class SettingsError(RuntimeError):
    """The environment describes a configuration that cannot run."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    secret_key: str
    production: bool
    token_ttl_seconds: int
    page_cap: int
    max_query_depth: int
    max_query_tokens: int
    max_query_aliases: int
    login_max_failures: int
    login_lockout_seconds: int
    login_address_max_failures: int
    login_address_window_seconds: int
    max_upload_bytes: int
    max_query_cost: int
    request_timeout_seconds: float
    worker_concurrency: int
    job_lease_seconds: float


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    production = _flag(env.get("PALMCREDIT_PRODUCTION"))
    secret = env.get("SECRET_KEY") or ""
    if not secret:
        if production:
            raise SettingsError("SECRET_KEY must be set in production mode / 生产模式必须设置 SECRET_KEY")
        secret = DEV_SECRET_KEY
    if production and len(secret) < 32:
        raise SettingsError("SECRET_KEY must be at least 32 characters / SECRET_KEY 至少 32 个字符")
    return Settings(
        database_url=env.get("DATABASE_URL") or "sqlite://palmcredit.sqlite3",
        redis_url=env.get("REDIS_URL") or None,
        secret_key=secret,
        production=production,
        token_ttl_seconds=int(env.get("PALMCREDIT_TOKEN_TTL", "28800")),
        page_cap=int(env.get("PALMCREDIT_PAGE_CAP", "100")),
        max_query_depth=int(env.get("PALMCREDIT_MAX_DEPTH", "10")),
        max_query_tokens=int(env.get("PALMCREDIT_MAX_TOKENS", "2000")),
        max_query_aliases=int(env.get("PALMCREDIT_MAX_ALIASES", "15")),
        login_max_failures=int(env.get("PALMCREDIT_LOGIN_MAX_FAILURES", "5")),
        login_lockout_seconds=int(env.get("PALMCREDIT_LOGIN_LOCKOUT", "300")),
        login_address_max_failures=int(env.get("PALMCREDIT_LOGIN_ADDRESS_MAX_FAILURES", "30")),
        login_address_window_seconds=int(env.get("PALMCREDIT_LOGIN_ADDRESS_WINDOW", "900")),
        max_upload_bytes=int(float(env.get("PALMCREDIT_MAX_UPLOAD_MB", "50")) * 1024 * 1024),
        max_query_cost=int(env.get("PALMCREDIT_MAX_QUERY_COST", "20000")),
        request_timeout_seconds=float(env.get("PALMCREDIT_REQUEST_TIMEOUT", "30")),
        worker_concurrency=int(env.get("PALMCREDIT_WORKER_CONCURRENCY", "2")),
        job_lease_seconds=float(env.get("PALMCREDIT_JOB_LEASE", "60")),
    )


MODEL_MODULES = ["models"]


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise configuration for one database: one app, its models and its migrations."""
    return {
        "connections": {"default": database_url},
        "apps": {
            "palmcredit": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


SETTINGS = load_settings()
TORTOISE_ORM = tortoise_config(SETTINGS.database_url)
