"""The published list of a whole-village campaign (阳光信贷 张榜公示): every approved household's head, their ID
number masked (320324********0744), and the pre-approved limit, posted in the village so that neighbours can see
who was granted what — as a sheet (XLSX) for the branch and a printable A4 page (PDF) in the contracts' Noto
Sans SC. Pure: rows in, bytes out."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import xlsxwriter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from domain.credit.contract_fonts import contract_fonts

HEADERS = ("序号 No.", "村 Village", "户主 Head of household", "身份证号 ID number", "预授信额度(元) Limit (¥)")


@dataclass(frozen=True)
class Row:
    village: str
    head_name: str
    head_id_number: str  # masked
    limit: Decimal


@dataclass(frozen=True)
class PublishedList:
    title_zh: str
    campaign_name: str
    published_on: date
    rows: tuple[Row, ...]

    @property
    def total(self) -> Decimal:
        return sum((r.limit for r in self.rows), Decimal(0))


def _footer(published: PublishedList) -> str:
    return (
        f"共{len(published.rows)}户,预授信额度合计{published.total:,.0f}元。公示日期:{published.published_on:%Y-%m-%d}。"
        "如有异议,请向所属支行反映。 / "
        f"{len(published.rows)} households, ¥{published.total:,.0f} in all; posted {published.published_on:%Y-%m-%d}. "
        "Objections to the branch."
    )


def to_xlsx(published: PublishedList) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("公示名单")
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0"})
    sheet.write(0, 0, f"{published.title_zh} / {published.campaign_name}", bold)
    sheet.write_row(2, 0, HEADERS, bold)
    for i, row in enumerate(published.rows, start=1):
        sheet.write_number(2 + i, 0, i)
        sheet.write_string(2 + i, 1, row.village)
        sheet.write_string(2 + i, 2, row.head_name)
        sheet.write_string(2 + i, 3, row.head_id_number)
        sheet.write_number(2 + i, 4, float(row.limit), money)
    sheet.write(4 + len(published.rows), 0, _footer(published))
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 3, 22)
    sheet.set_column(4, 4, 18)
    book.close()
    return out.getvalue()


def to_pdf(published: PublishedList) -> bytes:
    fonts = contract_fonts()
    title = ParagraphStyle("title", fontName=fonts.bold, fontSize=16, leading=22, alignment=1)
    body = ParagraphStyle("body", fontName=fonts.regular, fontSize=9, leading=13)
    data = [list(HEADERS)] + [
        [str(i), r.village, r.head_name, r.head_id_number, f"{r.limit:,.0f}"]
        for i, r in enumerate(published.rows, start=1)
    ]
    table = Table(data, colWidths=[14 * mm, 36 * mm, 36 * mm, 50 * mm, 38 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), fonts.regular),
                ("FONTNAME", (0, 0), (-1, 0), fonts.bold),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("ALIGN", (4, 1), (4, -1), "RIGHT"),
            ]
        )
    )
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
        title=published.title_zh,
    )  # fmt: skip
    document.build(
        [
            Paragraph(published.title_zh, title),
            Paragraph(published.campaign_name, body),
            Spacer(0, 4 * mm),
            table,
            Spacer(0, 4 * mm),
            Paragraph(_footer(published), body),
        ]
    )
    return out.getvalue()
