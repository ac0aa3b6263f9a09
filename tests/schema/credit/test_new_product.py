"""A new product is a new file and nothing else: a product directory holding the shipped files and one more —
a micro-enterprise loan (小微贷) reusing the inclusive loan's decisions — is on sale, taken, decided and approved
through the same API, and keeps the version it started with when a second version of its file takes effect."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from domain.credit.catalogue import DECISIONS_DIR, PRODUCTS_DIR, load_catalogue
from models import CreditApplication
from resolvers.credit import applications as apps
from tests.credit_flow import (
    application_input,
    approve_every_tier,
    credit_world,
    investigate,
    investigation_input,
    run_queued_work,
    submit,
)
from tests.factories import Api, World


def _new_product(text: str, version: int, effective_from: str) -> str:
    """The inclusive loan's file as another product: its own code, names, version and effective date (the
    top-level keys, before the first table), the rest as it is."""
    own = {"code": '"xiaowei"', "version": str(version), "effective_from": effective_from,
           "name_zh": '"小微贷"', "name_en": '"Micro-enterprise Loan"'}  # fmt: skip
    lines, top = [], True
    for line in text.splitlines():
        top = top and not line.startswith("[")
        key = line.split(" = ", 1)[0]
        lines.append(f"{key} = {own[key]}" if top and key in own else line)
    return "\n".join(lines) + "\n"


@pytest.fixture
def catalogue_with_a_new_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    products = tmp_path / "products"
    shutil.copytree(PRODUCTS_DIR, products)
    template = (PRODUCTS_DIR / "puhui.toml").read_text(encoding="utf-8")
    (products / "xiaowei.toml").write_text(_new_product(template, 1, "2020-01-01"), encoding="utf-8")
    apps.catalogue.cache_clear()
    monkeypatch.setattr(apps, "catalogue", lambda: load_catalogue(products, DECISIONS_DIR))
    return products


async def test_a_new_product_file_is_taken_decided_and_approved(
    api: Api, world: World, catalogue_with_a_new_file: Path
) -> None:
    await credit_world(world)
    on_sale = await api.as_("manager1a", "{ creditProducts { code nameZh version } }")
    assert {"code": "xiaowei", "nameZh": "小微贷", "version": 1} in on_sale["data"]["creditProducts"]
    taken = await submit(api, "manager1a", application_input(world, productCode="xiaowei"))
    assert taken["state"] == "AWAITING_ASSIGNMENT", taken
    await run_queued_work()
    investigated = await investigate(api, "investigator", investigation_input(taken["id"]))
    # the investigator's skills name products by code: a new product needs investigators who take it
    assert investigated["__typename"] == "CreditApplication", investigated
    approved = await approve_every_tier(api, investigated)
    assert approved["state"] == "APPROVED"
    # a second version takes effect: the application keeps the one it started with
    template = (PRODUCTS_DIR / "puhui.toml").read_text(encoding="utf-8")
    (catalogue_with_a_new_file / "xiaowei.v2.toml").write_text(
        _new_product(template, 2, date.today().isoformat()), encoding="utf-8"
    )
    row = await CreditApplication.get(product_code="xiaowei")
    assert row.product_version == 1
    body = await api.as_("head", "query($id: ID!) { creditApplication(id: $id) { product { version } } }",
                         {"id": taken["id"]})  # fmt: skip
    assert body["data"]["creditApplication"]["product"]["version"] == 1
    current = await api.as_("head", "{ creditProducts { code version } }")
    assert {"code": "xiaowei", "version": 2} in current["data"]["creditProducts"]
