"""From an approved credit line to money in the account, through GraphQL: the customer manager requests and
records the signing, one back-office person checks, another disburses; the contract PDF opens and its text
(Chinese included) is the contract; the loan's schedule sums to the principal; the customer's loan figures
follow the loans. And the refusals: above the line, after it expired, a wrong signer, a changed contract, the
checker disbursing, the marketer checking."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from models import CreditLine, Customer, Drawdown, Loan, LoanInstalment
from tests.credit_flow import pk_of
from tests.factories import Api, World

LINE = "query($id: ID!) { creditApplication(id: $id) { line { id amount available reserved drawn } } }"
FIELDS = """__typename ... on Drawdown { id state amount annualRate contractSha256 contractNumber availableActions
  loan { principal outstandingPrincipal maturityDate instalments { number principal interest total } } }
  ... on CreditError { code field message }"""
REQUEST = f"mutation($input: RequestDrawdownInput!) {{ requestDrawdown(input: $input) {{ {FIELDS} }} }}"
SIGN = f"mutation($input: SignContractInput!) {{ signContract(input: $input) {{ {FIELDS} }} }}"
CHECK = f"""mutation($id: ID!, $ok: Boolean!, $reason: String! = "") {{
  checkDrawdown(drawdownId: $id, approve: $ok, reason: $reason) {{ {FIELDS} }} }}"""
DISBURSE = f"mutation($id: ID!) {{ disburseDrawdown(drawdownId: $id) {{ {FIELDS} }} }}"
PDF = "query($id: ID!) { node(id: $id) { ... on Drawdown { contractPdf signature } } }"


def request_input(line_id: str, **overrides: Any) -> dict[str, Any]:
    values = {"clientId": "draw-0001-abcdef", "lineId": line_id, "amount": "30000", "termMonths": 12,
              "repaymentMethod": "EQUAL_INSTALMENTS"}  # fmt: skip
    return {**values, **overrides}


def sign_input(drawdown: dict[str, Any], customer: Customer, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    values = {
        "drawdownId": drawdown["id"], "contractSha256": drawdown["contractSha256"], "signerName": customer.name,
        "signerIdNumber": customer.id_number, "method": "FACE_RECOGNITION",
        "recording": {"sha256": hashlib.sha256(b"video").hexdigest(), "durationSeconds": 312,
                      "recordedAt": (now - timedelta(minutes=3)).isoformat()},
    }  # fmt: skip
    return {**values, **overrides}


async def requested(api: Api, line: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = await api.as_("manager1a", REQUEST, {"input": request_input(line["id"], **overrides)})
    assert "errors" not in body, body
    return body["data"]["requestDrawdown"]  # type: ignore[no-any-return]


async def test_a_drawdown_goes_from_request_to_a_loan_by_three_more_people(
    api: Api, world: World, line: dict[str, Any]
) -> None:
    drawdown = await requested(api, line)
    assert drawdown["state"] == "PRICED", drawdown
    assert Decimal(drawdown["annualRate"]) > Decimal("0.03")  # above the LPR
    customer = world.customers["c1a"]
    signed = (await api.as_("manager1a", SIGN, {"input": sign_input(drawdown, customer)}))["data"]["signContract"]
    assert signed["state"] == "SIGNED", signed
    checked = (await api.as_("backoffice", CHECK, {"id": drawdown["id"], "ok": True}))["data"]["checkDrawdown"]
    assert checked["state"] == "CHECKED", checked
    same_person = (await api.as_("backoffice", DISBURSE, {"id": drawdown["id"]}))["data"]["disburseDrawdown"]
    assert (same_person["__typename"], same_person["code"]) == ("CreditError", "SEPARATION_OF_DUTIES")
    disbursed = (await api.as_("backoffice2", DISBURSE, {"id": drawdown["id"]}))["data"]["disburseDrawdown"]
    assert disbursed["state"] == "DISBURSED", disbursed
    loan = disbursed["loan"]
    assert loan["principal"] == "30000.00"
    assert len(loan["instalments"]) == 12
    assert sum(Decimal(i["principal"]) for i in loan["instalments"]) == Decimal("30000.00")
    # the line and the customer's figures follow
    after = (await api.as_("manager1a", LINE, {"id": await _application_gid(line)}))["data"]["creditApplication"][
        "line"
    ]
    assert (after["drawn"], after["reserved"], after["available"]) == ("30000.00", "0.00", "20000.00")
    row = await Customer.get(id=customer.id)
    assert (row.loan_balance, row.credit_line, row.loan_class) == (Decimal("30000.00"), Decimal("50000.00"), "PASS")
    assert await LoanInstalment.all().count() == 12


async def _application_gid(line: dict[str, Any]) -> str:
    from strawberry.relay import to_base64

    row = await CreditLine.get(id=pk_of(line["id"]))
    return to_base64("CreditApplication", row.application_id)  # type: ignore[attr-defined]


async def test_the_contract_pdf_is_the_one_hashed_and_reads_in_chinese(
    api: Api, world: World, line: dict[str, Any]
) -> None:
    drawdown = await requested(api, line)
    body = await api.as_("manager1a", PDF, {"id": drawdown["id"]})
    url = body["data"]["node"]["contractPdf"]
    pdf = base64.b64decode(url.split(",", 1)[1])
    assert hashlib.sha256(pdf).hexdigest() == drawdown["contractSha256"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "个人借款合同" in text
    assert world.customers["c1a"].name in text
    assert "叁万元整" in text
    assert drawdown["contractNumber"] in text
    masked = await api.as_("president1", PDF, {"id": drawdown["id"]})
    assert masked["data"]["node"]["contractPdf"] is None


async def test_a_contract_signed_on_paper_has_no_pdf(api: Api, line: dict[str, Any]) -> None:
    """A drawdown from before the platform issued e-contracts (as the demo book's): 0 pages, no document kept."""
    drawdown = await requested(api, line)
    number = drawdown["contractNumber"]
    placeholder = hashlib.sha256(number.encode()).hexdigest()
    await Drawdown.filter(contract_number=number).update(contract_pages=0, contract_sha256=placeholder)
    body = await api.as_("manager1a", PDF, {"id": drawdown["id"]})
    assert "errors" not in body, body
    assert body["data"]["node"]["contractPdf"] is None


async def test_a_resend_of_the_request_creates_nothing_twice(api: Api, line: dict[str, Any]) -> None:
    first = await requested(api, line)
    again = await requested(api, line)
    assert again["id"] == first["id"]
    assert await Drawdown.all().count() == 1
    reserved = (await CreditLine.get(id=pk_of(line["id"]))).reserved
    assert reserved == Decimal("30000.00")


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"amount": "50001"}, "ABOVE_AVAILABLE_LINE", "amount"),
        ({"amount": "100.50"}, "AMOUNT_NOT_WHOLE_YUAN", "amount"),
        ({"amount": "-1"}, "INVALID_VALUE", "amount"),
        ({"termMonths": 48}, "TERM_OUT_OF_RANGE", "termMonths"),
        ({"repaymentDay": 0}, "INVALID_REPAYMENT_DAY", "repaymentDay"),
    ],
)
async def test_a_bad_request_is_refused_and_holds_nothing(
    api: Api, line: dict[str, Any], overrides: dict[str, Any], code: str, field: str
) -> None:
    refused = await requested(api, line, **overrides)
    assert (refused["__typename"], refused["code"]) == ("CreditError", code), refused
    assert refused["field"] == field
    assert await Drawdown.all().count() == 0
    assert (await CreditLine.get(id=pk_of(line["id"]))).reserved == Decimal("0.00")


async def test_an_expired_line_is_not_drawn(api: Api, line: dict[str, Any]) -> None:
    await CreditLine.filter(id=pk_of(line["id"])).update(valid_until=datetime.now(UTC).date() - timedelta(days=1))
    refused = await requested(api, line)
    assert (refused["code"], refused["field"]) == ("LINE_NOT_AVAILABLE", "lineId")
    assert await Drawdown.all().count() == 0


async def test_only_the_marketer_requests(api: Api, line: dict[str, Any]) -> None:
    for user in ("backoffice", "head", "approver"):
        body = await api.as_(user, REQUEST, {"input": request_input(line["id"])})
        assert body["data"]["requestDrawdown"]["code"] in {"WRONG_ROLE", "NOT_FOUND"}, user
    assert await Drawdown.all().count() == 0


async def test_a_wrong_signer_or_a_changed_contract_is_refused(api: Api, world: World, line: dict[str, Any]) -> None:
    drawdown = await requested(api, line)
    customer = world.customers["c1a"]
    other = world.customers["c1b"]
    for overrides, code, field in [
        ({"signerIdNumber": other.id_number}, "IDENTITY_MISMATCH", "signerIdNumber"),
        ({"signerName": "张二"}, "IDENTITY_MISMATCH", "signerName"),
        ({"contractSha256": "0" * 64}, "CONTRACT_CHANGED", "contractSha256"),
        ({"recording": {"sha256": "xyz", "durationSeconds": 300, "recordedAt": datetime.now(UTC).isoformat()}},
         "INVALID_VALUE", "recording.sha256"),
    ]:  # fmt: skip
        body = await api.as_("manager1a", SIGN, {"input": sign_input(drawdown, customer, **overrides)})
        result = body["data"]["signContract"]
        assert (result["code"], result["field"]) == (code, field), result
    assert (await Drawdown.get(id=pk_of(drawdown["id"]))).state == "PRICED"
    # full-width digits in the ID number are the same number
    wide = customer.id_number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    body = await api.as_("manager1a", SIGN, {"input": sign_input(drawdown, customer, signerIdNumber=wide)})
    assert body["data"]["signContract"]["state"] == "SIGNED"


async def test_the_marketer_does_not_check_and_a_refusal_releases_the_hold(
    api: Api, world: World, line: dict[str, Any]
) -> None:
    drawdown = await requested(api, line)
    await api.as_("manager1a", SIGN, {"input": sign_input(drawdown, world.customers["c1a"])})
    marketer = (await api.as_("manager1a", CHECK, {"id": drawdown["id"], "ok": True}))["data"]["checkDrawdown"]
    assert marketer["code"] == "WRONG_ROLE"
    no_reason = (await api.as_("backoffice", CHECK, {"id": drawdown["id"], "ok": False}))["data"]["checkDrawdown"]
    assert (no_reason["code"], no_reason["field"]) == ("INVALID_VALUE", "reason")
    refused = await api.as_(
        "backoffice", CHECK, {"id": drawdown["id"], "ok": False, "reason": "材料不全 / papers missing"}
    )
    assert refused["data"]["checkDrawdown"]["state"] == "REFUSED"
    assert (await CreditLine.get(id=pk_of(line["id"]))).reserved == Decimal("0.00")
    assert await Loan.all().count() == 0


CANCEL = (
    f"""mutation($id: ID!, $reason: String!) {{ cancelDrawdown(drawdownId: $id, reason: $reason) {{ {FIELDS} }} }}"""
)


@pytest.mark.parametrize("user", ["head", "admin", "president1", "manager1b", "investigator", "approver", "backoffice"])
async def test_only_the_marketer_signs_or_cancels(api: Api, world: World, line: dict[str, Any], user: str) -> None:
    drawdown = await requested(api, line)
    signed = await api.as_(user, SIGN, {"input": sign_input(drawdown, world.customers["c1a"])})
    assert signed["data"]["signContract"]["code"] in {"WRONG_ROLE", "NOT_FOUND"}
    cancelled = await api.as_(user, CANCEL, {"id": drawdown["id"], "reason": "客户放弃 / customer gave up"})
    assert cancelled["data"]["cancelDrawdown"]["code"] in {"WRONG_ROLE", "NOT_FOUND"}
    row = await Drawdown.get(id=pk_of(drawdown["id"]))
    assert (row.state, row.version) == ("PRICED", 1)


@pytest.mark.parametrize("user", ["head", "admin", "president1", "manager1a", "manager1b", "investigator", "approver"])
async def test_only_the_back_office_checks_and_disburses(
    api: Api, world: World, line: dict[str, Any], user: str
) -> None:
    drawdown = await requested(api, line)
    await api.as_("manager1a", SIGN, {"input": sign_input(drawdown, world.customers["c1a"])})
    checked = await api.as_(user, CHECK, {"id": drawdown["id"], "ok": True})
    assert checked["data"]["checkDrawdown"]["code"] in {"WRONG_ROLE", "NOT_FOUND", "SEPARATION_OF_DUTIES"}
    await api.as_("backoffice", CHECK, {"id": drawdown["id"], "ok": True})
    disbursed = await api.as_(user, DISBURSE, {"id": drawdown["id"]})
    assert disbursed["data"]["disburseDrawdown"]["code"] in {"WRONG_ROLE", "NOT_FOUND", "SEPARATION_OF_DUTIES"}
    assert (await Drawdown.get(id=pk_of(drawdown["id"]))).state == "CHECKED"
    assert await Loan.all().count() == 0


async def test_the_marketer_cancels_and_the_hold_is_released(api: Api, line: dict[str, Any]) -> None:
    drawdown = await requested(api, line)
    cancelled = await api.as_("manager1a", CANCEL, {"id": drawdown["id"], "reason": "客户放弃 / customer gave up"})
    assert cancelled["data"]["cancelDrawdown"]["state"] == "CANCELLED"
    assert (await CreditLine.get(id=pk_of(line["id"]))).reserved == Decimal("0.00")
