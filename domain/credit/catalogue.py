"""The product catalogue (产品目录): every version of every product, read from rules/products/*.toml.

A new product is a new file; a new version of a product is a new file too (`puhui.v2.toml` beside
`puhui.toml`), so an application started under version 1 is still decided under version 1. The catalogue
answers the version an application keeps (`get`) and the one on sale on a given day (`current`).

Reading is all or nothing: every file is checked and every problem reported at once, each naming its file and
field, in a CatalogueError. A catalogue with one bad file is not loaded, so no product runs on a file the bank
did not mean to write. The decisions a product's stages run are checked against the decision files: each must
exist and read every fixed input the product gives it.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.credit.decision_files import declared_inputs
from domain.credit.errors import CreditErrorCode
from domain.credit.product_checks import Finding, check_product
from domain.credit.products import Product, ProductSpec
from domain.errors import DomainError, not_found

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
PRODUCTS_DIR = RULES_DIR / "products"
DECISIONS_DIR = RULES_DIR / "decisions"


@dataclass(frozen=True)
class CatalogueIssue:
    file: str  # the file's name in the products directory
    field: str  # e.g. "approval_tiers[1].min_amount"; "" for the whole file
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field or '-'}: {self.message_zh} / {self.message_en}"


class CatalogueError(Exception):
    """The product files were not loaded; `issues` says every reason."""

    def __init__(self, issues: Sequence[CatalogueIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class Catalogue:
    """Every version of every product, by code and version."""

    def __init__(self, products: Iterable[Product]) -> None:
        versions: dict[str, list[Product]] = {}
        for product in products:
            versions.setdefault(product.code, []).append(product)
        self._versions = {code: tuple(sorted(found, key=lambda p: p.version)) for code, found in versions.items()}

    def __len__(self) -> int:
        return len(self._versions)

    def codes(self) -> tuple[str, ...]:
        return tuple(sorted(self._versions))

    def versions(self, code: str) -> tuple[Product, ...]:
        if code not in self._versions:
            raise not_found("产品", "product", "product_code")
        return self._versions[code]

    def get(self, code: str, version: int) -> Product:
        """The version an application started with, whether or not it is still on sale."""
        for product in self.versions(code):
            if product.version == version:
                return product
        raise not_found("产品版本", "product version", "product_version")

    def current(self, code: str, on: date) -> Product:
        """The version on sale on `on`: the latest to have taken effect by then."""
        in_effect = [product for product in self.versions(code) if product.effective_from <= on]
        if not in_effect:
            first = self.versions(code)[0]
            raise DomainError(
                CreditErrorCode.PRODUCT_NOT_IN_EFFECT,
                f"{first.name_zh}自 {first.effective_from} 起办理,{on} 尚未开办",
                f"{first.name_en} is offered from {first.effective_from}, not yet on {on}",
                "product_code",
            )
        return in_effect[-1]

    def on_sale(self, on: date) -> tuple[Product, ...]:
        """The current version of every product that has taken effect by `on`, by code."""
        return tuple(self.current(code, on) for code in self.codes() if self._versions[code][0].effective_from <= on)


def load_catalogue(products_dir: Path = PRODUCTS_DIR, decisions_dir: Path = DECISIONS_DIR) -> Catalogue:
    """Reads every product file in `products_dir`, checking the decisions they name against the
    `<name>.json` files in `decisions_dir` and the inputs those files declare. A decision file whose inputs
    cannot be read raises its DecisionError(DECISION_FILE_INVALID), naming the file."""
    files = {path.name: path.read_bytes() for path in sorted(products_dir.glob("*.toml")) if path.is_file()}
    decisions = {
        path.stem: declared_inputs(path.name, path.read_bytes())
        for path in sorted(decisions_dir.glob("*.json"))
        if path.is_file()
    }
    return parse_catalogue(files, decisions)


def parse_catalogue(files: Mapping[str, bytes], decisions: Mapping[str, Collection[str]]) -> Catalogue:
    """The catalogue in `files` (file name to its bytes), whose stages may run the named `decisions` (decision
    name to the inputs it reads)."""
    if not files:
        raise CatalogueError([CatalogueIssue("", "", "没有产品文件", "there are no product files")])
    issues: list[CatalogueIssue] = []
    products: list[Product] = []
    for name in sorted(files):
        product, found = _read(name, files[name], decisions)
        issues += found
        if product is not None:
            products.append(product)
    issues += _across_files(products)
    if issues:
        raise CatalogueError(issues)
    return Catalogue(products)


def _read(
    name: str, raw: bytes, decisions: Mapping[str, Collection[str]]
) -> tuple[Product | None, list[CatalogueIssue]]:
    def issues(findings: Iterable[Finding]) -> list[CatalogueIssue]:
        return [CatalogueIssue(name, *finding) for finding in findings]

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, issues([Finding("", "文件不是 UTF-8 编码", "the file is not UTF-8 text")])
    except tomllib.TOMLDecodeError as error:
        return None, issues([Finding("", f"TOML 格式错误:{error}", f"not valid TOML: {error}")])
    try:
        spec = ProductSpec.model_validate(data)
    except ValidationError as error:
        return None, issues(_describe(detail) for detail in error.errors())
    found = check_product(spec, decisions)
    if name not in (f"{spec.code}.toml", f"{spec.code}.v{spec.version}.toml"):
        found.append(
            Finding(
                "code",
                f"产品 {spec.code} 第 {spec.version} 版的文件应名为 "
                f"{spec.code}.toml 或 {spec.code}.v{spec.version}.toml",
                f"the file of product {spec.code} version {spec.version} is named {spec.code}.toml "
                f"or {spec.code}.v{spec.version}.toml",
            )
        )
    if found:
        return None, issues(found)
    return Product(**dict(spec), file=name, content_hash=hashlib.sha256(raw).hexdigest()), []


def _across_files(products: list[Product]) -> Iterator[CatalogueIssue]:
    """Two files claiming one version, and versions that take effect out of turn."""
    claimed: dict[tuple[str, int], Product] = {}
    for product in products:  # in file name order
        earlier = claimed.setdefault((product.code, product.version), product)
        if earlier is not product:
            yield CatalogueIssue(
                product.file,
                "version",
                f"产品 {product.code} 第 {product.version} 版已由 {earlier.file} 定义",
                f"product {product.code} version {product.version} is already defined by {earlier.file}",
            )
    by_version = sorted(claimed.values(), key=lambda p: (p.code, p.version))
    for before, after in pairwise(by_version):
        if before.code == after.code and after.effective_from <= before.effective_from:
            yield CatalogueIssue(
                after.file,
                "effective_from",
                f"第 {after.version} 版于 {after.effective_from} 生效,"
                f"应晚于第 {before.version} 版的 {before.effective_from}",
                f"version {after.version} takes effect on {after.effective_from}, "
                f"which is not after version {before.version} ({before.effective_from})",
            )


def _describe(detail: ErrorDetails) -> Finding:
    """A field's own validation error, in the file's words and both languages."""
    field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in detail["loc"]).lstrip(".")
    context: dict[str, Any] = dict(detail.get("ctx") or {})
    if detail["type"] == "palm_invalid":
        return Finding(field, context["zh"], context["en"])
    if detail["type"] in _MESSAGES:
        zh, en = _MESSAGES[detail["type"]]
        return Finding(field, zh.format(**context), en.format(**context))
    return Finding(field, f"取值无效:{detail['msg']}", detail["msg"])


_MESSAGES: Mapping[str, tuple[str, str]] = {
    "missing": ("缺少必填字段", "missing field"),
    "extra_forbidden": ("未知字段", "unknown field"),
    "int_type": ("应为整数", "must be a whole number"),
    "string_type": ("应为字符串", "must be a string"),
    "bool_type": ("应为 true 或 false", "must be true or false"),
    "date_type": ("应为日期,如 2024-01-01(不加引号)", "must be a date such as 2024-01-01 (without quotes)"),
    "tuple_type": ("应为数组", "must be an array"),
    "dict_type": ("应为表", "must be a table"),
    "model_type": ("应为表", "must be a table"),
    "greater_than": ("应大于 {gt}", "must be greater than {gt}"),
    "string_too_short": ("不能为空", "must not be empty"),
    "too_short": ("至少需要 {min_length} 项", "needs at least {min_length} item"),
}
