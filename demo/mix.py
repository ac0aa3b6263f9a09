"""How the demo county's customers take the bank's products: each product's weight among the products that
suit an applicant, what is usually applied for, the share with a guarantor and what the money is for; the terms
that are usual; and the product versions the book lends under."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from demo.people import Bools
from domain.credit.products import Product
from resolvers.credit.applications import catalogue

TERMS = np.array([3, 6, 12, 24, 36, 60, 120])
TERM_WEIGHTS = np.array([0.5, 1.0, 4.0, 2.5, 1.5, 0.6, 0.3])
JOINT = "lianbao"  # taken by groups of households guaranteeing one another


@dataclass(frozen=True)
class Mix:
    code: str
    weight: float  # among the products that suit an applicant
    amounts: tuple[int, int]  # what is usually applied for, yuan
    guarantor_share: float  # of applications with a guarantor, where the product takes one
    purposes: tuple[str, ...]


MIX = (
    Mix("zhengcun", 0.26, (20_000, 200_000), 0.0,
        ("春耕备耕 / spring ploughing", "扩大种植 / more land under crops", "家庭经营周转 / the household's business")),
    Mix("puhui", 0.22, (20_000, 300_000), 0.2,
        ("住房装修 / home improvement", "购车 / a car", "子女教育 / schooling", "医疗支出 / medical bills")),
    Mix("lianbao", 0.12, (20_000, 150_000), 1.0,
        ("购买化肥种子 / seed and fertiliser", "购买农机 / farm machinery", "扩大养殖 / more livestock")),
    Mix("liushui", 0.45, (30_000, 300_000), 0.0, ("店铺进货 / stock for the shop", "经营周转 / working capital")),
    Mix("shimin", 0.35, (30_000, 300_000), 0.0, ("住房装修 / home improvement", "购车 / a car", "旅游 / travel")),
    Mix("cheyi", 0.35, (20_000, 200_000), 0.0, ("家庭消费 / household spending", "经营周转 / working capital")),
    Mix("dianshang", 0.6, (30_000, 400_000), 0.2, ("旺季备货 / stock for the busy season", "平台推广 / promotion")),
    Mix("cundan_zhiya", 0.03, (10_000, 300_000), 0.0,
        ("临时周转 / a short-term need", "家庭消费 / household spending")),
    Mix("fangdi", 0.03, (100_000, 1_500_000), 0.0, ("经营扩张 / a bigger business", "购置设备 / equipment")),
)  # fmt: skip


def book_products(on: date) -> list[Product]:
    """The version of each product of MIX on sale on a day (the book lends under the current versions: the
    first version of every product precedes the book)."""
    return [catalogue().current(mix.code, on) for mix in MIX]


def terms_within(product: Product, longest: int) -> Bools:
    """Which of TERMS the product lends for, up to `longest` months."""
    within: Bools = (product.term.min_months <= TERMS) & (min(product.term.max_months, longest) >= TERMS)
    return within
