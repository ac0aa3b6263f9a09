"""The committed schema.graphql is the schema the code builds: clients read it, reviews diff it."""

from pathlib import Path

from schema import build_schema


def test_committed_schema_matches_code() -> None:
    committed = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text(encoding="utf-8")
    assert committed.strip() == build_schema().as_str().strip(), "run `make schema` and commit schema.graphql"
