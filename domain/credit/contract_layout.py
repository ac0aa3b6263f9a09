"""How a loan contract looks on paper and what it says (domain.credit.contracts checks the terms first): A4,
the parties in a table, eight clauses each kept on one page, the signature block, then the repayment schedule as
an annex that breaks across pages with its header repeated; every page carries the contract number and
第 n 页 共 m 页. Headings are bilingual, the clauses Chinese.

The interest clauses state in words the conventions domain.credit.schedules computes by: the monthly rate is
the annual rate / 12 whatever the month's length, a first period that is not a whole month earns interest on
actual days / 360, and each amount the borrower pays is rounded to the fen, half up, once.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table
from reportlab.platypus.tables import TableStyle

from domain.credit.capital_amounts import amount_in_capitals
from domain.credit.contract_fonts import ContractFonts
from domain.credit.due_dates import is_repayment_date
from domain.credit.enums import GUARANTEE_NAMES, REPAYMENT_METHOD_NAMES, GuaranteeType, RepaymentMethod
from domain.credit.schedules import DAYS_IN_YEAR, RepaymentSchedule

if TYPE_CHECKING:
    from domain.credit.contracts import ContractTerms

MARGIN = 20 * mm


def lay_out(terms: ContractTerms, fonts: ContractFonts) -> tuple[bytes, int]:
    """The PDF's bytes and its number of pages. reportlab's invariant mode gives the same bytes for the same
    story: no creation time (1 January 2000, or SOURCE_DATE_EPOCH where set) and an ID derived from the content."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=18 * mm,
        bottomMargin=MARGIN,
        title=f"个人借款合同 {terms.contract_number}",  # no personal data in the document's properties
        author=terms.bank_name,
        subject="Personal Loan Contract",
        creator="掌上信贷 Palm Credit",
        invariant=1,
        lang="zh-CN",
    )
    footer = f"合同编号 Contract No. {terms.contract_number}"
    canvases: list[_NumberedCanvas] = []

    def canvas(*args: Any, **kwargs: Any) -> _NumberedCanvas:
        canvases.append(_NumberedCanvas(*args, footer=footer, font=fonts.regular, **kwargs))
        return canvases[-1]

    document.build(list(_story(terms, _Styles(fonts))), canvasmaker=canvas)
    return buffer.getvalue(), canvases[-1].page_count


class _Styles:
    def __init__(self, fonts: ContractFonts) -> None:
        regular, bold = fonts.regular, fonts.bold
        self.regular, self.bold = regular, bold
        self.title = ParagraphStyle("title", fontName=bold, fontSize=20, leading=28, alignment=TA_CENTER)
        self.subtitle = ParagraphStyle("subtitle", fontName=regular, fontSize=11, leading=16, alignment=TA_CENTER)
        self.number = ParagraphStyle("number", fontName=regular, fontSize=10, leading=16, alignment=TA_RIGHT)
        self.heading = ParagraphStyle(
            "heading", fontName=bold, fontSize=11.5, leading=18, spaceBefore=7, spaceAfter=2, wordWrap="CJK"
        )
        self.body = ParagraphStyle(
            "body", fontName=regular, fontSize=10.5, leading=17, firstLineIndent=21, wordWrap="CJK"
        )
        self.cell = ParagraphStyle("cell", fontName=regular, fontSize=10, leading=15, wordWrap="CJK")
        self.label = ParagraphStyle("label", fontName=bold, fontSize=10, leading=15, wordWrap="CJK")


def _story(terms: ContractTerms, styles: _Styles) -> Iterator[Flowable]:
    yield Paragraph("个人借款合同", styles.title)
    yield Paragraph("Personal Loan Contract", styles.subtitle)
    yield Paragraph(f"合同编号 Contract No.：{escape(terms.contract_number)}", styles.number)
    yield Spacer(0, 3 * mm)
    yield _parties(terms, styles)
    yield Spacer(0, 3 * mm)
    yield Paragraph(
        "乙方向甲方申请借款，甲方同意向乙方发放贷款。为明确双方的权利和义务，根据《中华人民共和国民法典》等法律法规，"
        "甲乙双方经平等协商，订立本合同，共同遵守。",
        styles.body,
    )
    for number, (heading_zh, heading_en, paragraphs) in enumerate(_clauses(terms), start=1):
        clause: list[Flowable] = [Paragraph(f"第{_CLAUSE_NUMBERS[number]}条 {heading_zh} {heading_en}", styles.heading)]
        clause += [Paragraph(text, styles.body) for text in paragraphs]
        yield KeepTogether(clause)
    yield Spacer(0, 6 * mm)
    yield KeepTogether([_signatures(terms, styles)])
    yield PageBreak()
    yield Paragraph("附件 还款计划表", styles.title)
    yield Paragraph("Annex: Repayment Schedule", styles.subtitle)
    yield Paragraph(f"合同编号 Contract No.：{escape(terms.contract_number)}", styles.number)
    yield Spacer(0, 2 * mm)
    yield _schedule_table(terms.schedule, styles)


_CLAUSE_NUMBERS = "〇一二三四五六七八九十"


def _parties(terms: ContractTerms, styles: _Styles) -> Table:
    borrower = terms.borrower
    rows = [
        ("贷款人（甲方）Lender", terms.bank_name),
        ("经办机构 Outlet", terms.outlet),
        ("借款人（乙方）Borrower", borrower.name),
        ("身份证号码 ID number", borrower.id_number),
        ("联系电话 Phone", borrower.phone),
        ("住址 Address", borrower.address),
    ]
    table = Table(
        [[Paragraph(label, styles.label), Paragraph(escape(value), styles.cell)] for label, value in rows],
        colWidths=[48 * mm, 122 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _clauses(terms: ContractTerms) -> Iterator[tuple[str, str, list[str]]]:
    schedule, product = terms.schedule, terms.product
    method_zh, method_en = REPAYMENT_METHOD_NAMES[terms.repayment_method]
    guarantee_zh, guarantee_en = GUARANTEE_NAMES[terms.guarantee_type]
    last_due = schedule.instalments[-1].due_date
    yield (
        "借款产品",
        "Loan Product",
        [
            f"本合同项下的借款为甲方的{escape(product.name_zh)}（{escape(product.name_en)}），"
            f"产品代码 {escape(product.code)}，第 {product.version} 版。"
        ],
    )
    yield (
        "借款金额",
        "Loan Amount",
        [f"借款金额为人民币（大写）<b>{amount_in_capitals(terms.principal)}</b>（小写 ¥{_money(terms.principal)}）。"],
    )
    yield (
        "借款期限",
        "Term",
        [
            f"借款期限为 {terms.term_months} 个月，"
            f"自放款日 {_date_zh(terms.disbursed_on)} 起至 {_date_zh(last_due)} 止。"
        ],
    )
    yield "借款利率与计息", "Interest", _interest_paragraphs(terms)
    yield "还款方式", "Repayment", _repayment_paragraphs(terms, method_zh, method_en)
    guarantee = f"本合同项下借款的担保方式为{guarantee_zh}（{guarantee_en}）。"
    if terms.guarantee_type is not GuaranteeType.CREDIT:
        guarantee += "担保的具体事项由担保人与甲方另行签订担保合同约定。"
    yield "担保方式", "Guarantee", [guarantee]
    yield (
        "合同生效",
        "Effect",
        ["本合同自甲方盖章、乙方签字（或电子签名）之日起生效，至乙方还清本合同项下全部借款本金和利息之日终止。"],
    )
    yield (
        "附件",
        "Annex",
        [f"附件《还款计划表》共 {schedule.term_months} 期，是本合同不可分割的组成部分，与本合同具有同等法律效力。"],
    )


def _interest_paragraphs(terms: ContractTerms) -> list[str]:
    schedule = terms.schedule
    paragraphs = [
        f"借款年利率为 {_percent(terms.annual_rate)}，在借款期限内固定不变。月利率为年利率除以十二，"
        "不论当月天数多少均按月利率计息：每期利息为该期期初剩余本金乘以月利率。"
    ]
    if is_repayment_date(schedule.disbursed_on, schedule.repayment_day):
        paragraphs.append("还款日与放款日为每月同一日，各期均为整月。")
    else:
        first = schedule.instalments[0]
        days = (first.due_date - schedule.disbursed_on).days
        paragraphs.append(
            f"首期自放款日起至首个还款日 {_date_zh(first.due_date)} 止，共 {days} 天，其利息为借款本金乘以年利率"
            f"乘以实际天数再除以 {DAYS_IN_YEAR}；其余各期均为整月。"
        )
    paragraphs.append(
        "每期应还款额、每期利息及等额本金方式下的每期本金，均以分为单位四舍五入；计算过程不作舍入，只在得出应付金额时舍入一次。"
    )
    return paragraphs


_METHOD_RULES = {
    RepaymentMethod.EQUAL_INSTALMENTS: [
        "每期应还款额相同，按下式计算（年利率为零时为借款本金 ÷ 期数）；每期归还的本金为当期应还款额减去当期利息：",
        "每期应还款额 = 借款本金 × 月利率 × (1 + 月利率)<super>期数</super> ÷ [(1 + 月利率)<super>期数</super> − 1]",
    ],
    RepaymentMethod.EQUAL_PRINCIPAL: ["每期归还相同的本金，为借款本金 ÷ 期数；每期利息随剩余本金减少而减少。"],
    RepaymentMethod.INTEREST_MONTHLY_PRINCIPAL_AT_MATURITY: ["每期只支付利息，借款本金于最后一期一次归还。"],
}


def _repayment_paragraphs(terms: ContractTerms, method_zh: str, method_en: str) -> list[str]:
    schedule = terms.schedule
    day = schedule.repayment_day
    due = f"还款日为每月 {day} 日" + ("；当月没有该日的，为当月最后一日" if day > 28 else "")
    return [
        f"还款方式为{method_zh}（{method_en}），共 {schedule.term_months} 期。{due}。",
        *_METHOD_RULES[terms.repayment_method],
        "最后一期归还尚欠的全部本金，其利息与其他各期同样计算，因此最后一期应还款额可能与其他各期相差若干分。",
        f"按还款计划，乙方应还本金合计 ¥{_money(schedule.total_principal)}，"
        f"利息合计 ¥{_money(schedule.total_interest)}，"
        f"本息合计 ¥{_money(schedule.total_payment)}。乙方应于每个还款日前将当期应还款项足额存入还款账户。",
    ]


def _signatures(terms: ContractTerms, styles: _Styles) -> Table:
    def cell(text: str) -> Paragraph:
        return Paragraph(text, styles.cell)

    blank_date = "日期 Date：&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;年&nbsp;&nbsp;&nbsp;&nbsp;月&nbsp;&nbsp;&nbsp;&nbsp;日"
    table = Table(
        [
            [
                Paragraph("甲方（盖章）Lender (seal)", styles.label),
                Paragraph("乙方（签字）Borrower (signature)", styles.label),
            ],
            [cell(escape(terms.bank_name)), cell(escape(terms.borrower.name))],
            [cell("负责人或授权代理人（签字）<br/>Authorised signatory:"), cell("签字 Signature：")],
            [cell(blank_date), cell(blank_date)],
            [cell(f"签订地点 Place：{escape(terms.outlet)}"), cell("")],
        ],
        colWidths=[85 * mm, 85 * mm],
        rowHeights=[None, None, 16 * mm, None, None],
    )
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 1), (-1, -1), 4)]))
    return table


_SCHEDULE_HEADER = [
    "期次\nNo.",
    "还款日\nDue date",
    "应还本金\nPrincipal",
    "应还利息\nInterest",
    "应还合计\nPayment",
    "剩余本金\nRemaining",
]


def _schedule_rows(schedule: RepaymentSchedule) -> Iterable[list[str]]:
    for row in schedule.instalments:
        yield [
            str(row.number),
            row.due_date.isoformat(),
            _money(row.principal),
            _money(row.interest),
            _money(row.total),
            _money(row.closing_principal),
        ]
    yield [
        "合计 Total",
        "",
        _money(schedule.total_principal),
        _money(schedule.total_interest),
        _money(schedule.total_payment),
        "",
    ]


def _schedule_table(schedule: RepaymentSchedule, styles: _Styles) -> Table:
    """Breaks across pages with its header repeated on each."""
    table = Table(
        [_SCHEDULE_HEADER, *_schedule_rows(schedule)],
        colWidths=[22 * mm, 26 * mm, 30 * mm, 28 * mm, 30 * mm, 34 * mm],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), styles.regular, 9, 12),
                ("FONT", (0, 0), (-1, 0), styles.bold, 9, 12),
                ("FONT", (0, -1), (-1, -1), styles.bold, 9, 12),
                ("SPAN", (0, -1), (1, -1)),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("ALIGN", (0, 0), (-1, 0), "CENTER"),
                ("ALIGN", (0, 1), (1, -1), "CENTER"),
                ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 1), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 1), (-1, -1), 2),
            ]
        )
    )
    return table


class _NumberedCanvas(Canvas):
    """Holds every page until the last is laid out, then prints on each its footer: the contract number and
    第 n 页 共 m 页, so that no page can be swapped in from another contract unnoticed."""

    def __init__(self, *args: Any, footer: str, font: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._footer_font = font
        self._held: list[dict[str, Any]] = []

    @property
    def page_count(self) -> int:
        return len(self._held)

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._held.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # reportlab's own page reset, untyped in its stubs

    def save(self) -> None:
        total = len(self._held)
        for state in self._held:
            self.__dict__.update(state)
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        width, _ = A4
        page = self.getPageNumber()
        self.setFont(self._footer_font, 8)
        self.setFillColor(colors.grey)
        self.drawString(MARGIN, 10 * mm, self._footer)
        self.drawRightString(width - MARGIN, 10 * mm, f"第 {page} 页 共 {total} 页 Page {page} of {total}")


# Figures


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _percent(rate: Decimal) -> str:
    return f"{format((rate * 100).normalize(), 'f')}%"


def _date_zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
