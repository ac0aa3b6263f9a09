"""Loan contracts' PDFs per second on one core: each a contract with a 36-month schedule for another borrower —
names, ID numbers, addresses, amounts, rates, repayment methods and days made up from a fixed seed — rendered
one after another in one process. The schedules are built before the clock starts; the fonts are registered
once per process, on the first contract, which is rendered before the clock starts too (its cost is printed).

Prints contracts/s, p50/p99 per contract and the mean size, and ends with one JSON line.
Target: at least 20 contracts/s on one core.

    python benchmarks/credit/contract_pdfs.py            # 500 contracts
    python benchmarks/credit/contract_pdfs.py --small    # 40 contracts
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.credit.contract_fonts import contract_fonts
from domain.credit.contracts import Borrower, ContractProduct, ContractTerms, render_contract
from domain.credit.enums import GuaranteeType, RepaymentMethod
from domain.credit.schedules import build_schedule
from domain.customers.idcard import make_id_number

SEED = 20241202
TERM_MONTHS = 36
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰建国志红玉梅晓燕春华海峰德文"
REGIONS = ("320324", "320321", "320322", "320305", "320381", "320382")  # counties and districts of Xuzhou
TOWNS = ("睢城街道", "王集镇", "双沟镇", "岚山镇", "李集镇", "桃园镇", "官山镇", "高作镇", "沙集镇", "凌城镇")
OUTLETS = ("营业部", "王集支行", "双沟支行", "岚山支行", "李集支行", "桃园支行")
PRODUCTS = (
    ContractProduct(name_zh="普惠贷", name_en="Inclusive Loan", code="puhui", version=1),
    ContractProduct(name_zh="流水贷", name_en="Turnover Loan", code="liushui", version=1),
    ContractProduct(name_zh="车易贷", name_en="Car Owner Loan", code="cheyi", version=1),
)
RATES = ("0.0345", "0.0435", "0.0485", "0.0525", "0.06")


def make_terms(count: int, seed: int = SEED) -> list[ContractTerms]:
    rng = random.Random(seed)
    terms = []
    for number in range(1, count + 1):
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        birth = date(1965, 1, 1) + timedelta(days=rng.randrange(35 * 365))
        borrower = Borrower(
            name=name,
            id_number=make_id_number(rng.choice(REGIONS), birth, rng.randrange(1000)),
            phone=f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
            address=f"江苏省徐州市睢宁县{rng.choice(TOWNS)}{rng.choice(GIVEN)}庄村"
            f"{rng.randint(1, 12)}组{rng.randint(1, 80)}号",
        )
        principal = Decimal(rng.randint(1, 50) * 10_000)
        rate = Decimal(rng.choice(RATES))
        method = rng.choice(list(RepaymentMethod))
        disbursed_on = date(2024, 1, 1) + timedelta(days=rng.randrange(730))
        schedule = build_schedule(
            method=method,
            principal=principal,
            annual_rate=rate,
            term_months=TERM_MONTHS,
            disbursed_on=disbursed_on,
            repayment_day=rng.choice((None, None, 10, 20, 31)),
        )
        terms.append(
            ContractTerms(
                contract_number=f"SNRCB-JK-{disbursed_on:%Y}-{number:06d}",
                bank_name="睢宁农村商业银行",
                outlet=f"睢宁农村商业银行{rng.choice(OUTLETS)}",
                borrower=borrower,
                product=rng.choice(PRODUCTS),
                principal=principal,
                annual_rate=rate,
                term_months=TERM_MONTHS,
                repayment_method=method,
                guarantee_type=rng.choice(list(GuaranteeType)),
                disbursed_on=disbursed_on,
                schedule=schedule,
            )
        )
    return terms


def measure(count: int) -> dict[str, float]:
    """Render `count` contracts with 36-month schedules, each for another borrower, one after another."""
    terms = make_terms(count)
    render_contract(terms[0])  # registers the fonts, once per process
    samples = []
    sizes = 0
    started = time.perf_counter()
    for contract_terms in terms:
        t0 = time.perf_counter_ns()
        sizes += len(render_contract(contract_terms).pdf)
        samples.append(time.perf_counter_ns() - t0)
    wall = time.perf_counter() - started
    samples.sort()
    return {
        "contracts_per_s": count / wall,
        "p50_ms": samples[len(samples) // 2] / 1e6,
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))] / 1e6,
        "mean_bytes": sizes / count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="40 contracts instead of 500")
    parser.add_argument("--contracts", type=int, default=None, help="how many contracts (overrides --small)")
    args = parser.parse_args()
    count = args.contracts or (40 if args.small else 500)

    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    started = time.perf_counter()
    contract_fonts()
    print(f"pinned to CPU {cpu}; fonts registered in {time.perf_counter() - started:.3f} s (once per process)")
    figures = measure(count)
    print(
        f"{count} contracts of {TERM_MONTHS} months: {figures['contracts_per_s']:,.1f} contracts/s  "
        f"p50 {figures['p50_ms']:.1f} ms  p99 {figures['p99_ms']:.1f} ms  "
        f"mean {figures['mean_bytes'] / 1024:,.1f} KiB  (target: ≥ 20 contracts/s on one core)"
    )
    print(
        json.dumps(
            {
                "benchmark": "contract_pdfs",
                "contracts": count,
                "contracts_per_s": round(figures["contracts_per_s"], 1),
                "p50_ms": round(figures["p50_ms"], 2),
                "p99_ms": round(figures["p99_ms"], 2),
                "mean_bytes": round(figures["mean_bytes"]),
            }
        )
    )


if __name__ == "__main__":
    main()
