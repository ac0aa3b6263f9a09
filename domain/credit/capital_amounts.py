"""Amounts in Chinese capital numerals (大写金额), as a contract, a receipt or a cheque writes them beside the
figures so that no digit can be altered: ¥10,500.00 is 壹万零伍佰元整.

The rules are the People's Bank's for filling in notes and settlement documents (正确填写票据和结算凭证的基本规定):

- 壹拾 is written in full, never 拾 alone: ¥10.00 is 壹拾元整.
- One 零 stands for each run of zeros between non-zero digits, across 万 and 亿 too: ¥1,000,500.07 is
  壹佰万零伍佰元零柒分, ¥10,005,000.00 is 壹仟万零伍仟元整. Zeros at the end of the yuan need none.
- An amount that ends at 元 or 角 ends with 整; one with 分 does not: ¥10.50 is 壹拾元伍角整.
- When 角 is zero and 分 is not, 零 follows 元: ¥325.04 is 叁佰贰拾伍元零肆分. The rules allow 元 to be followed
  directly by 角 when the yuan end in zero (¥1,680.32 is 壹仟陆佰捌拾元叁角贰分), and that is the form used here.
- Less than a yuan is written from its first non-zero place: ¥0.05 is 伍分. Nothing at all is 零元整.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from domain.credit.errors import CreditErrorCode
from domain.errors import DomainError

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")  # within a group of four digits
GROUPS = ("", "万", "亿")  # each group of four digits, from the right
LIMIT_YUAN = 10 ** (4 * len(GROUPS))  # 1 万亿: far above any loan, and the end of the simple group names


def amount_in_capitals(amount: Decimal) -> str:
    """The amount, in yuan with at most two decimal places, in capital numerals."""
    yuan, fen = divmod(_fen(amount), 100)
    jiao, fen = divmod(fen, 10)
    if yuan == 0 and jiao == 0 and fen == 0:
        return "零元整"
    words = []
    if yuan:
        words.append(_integer_in_capitals(yuan) + "元")
    if jiao:
        words.append(DIGITS[jiao] + "角")
    elif yuan and fen:
        words.append("零")
    words.append(DIGITS[fen] + "分" if fen else "整")
    return "".join(words)


def _integer_in_capitals(number: int) -> str:
    digits = str(number)
    words = []
    zero_pending = False
    for index, digit in enumerate(map(int, digits)):
        power = len(digits) - 1 - index
        if digit == 0:
            zero_pending = True
        else:
            if zero_pending:
                words.append("零")
                zero_pending = False
            words.append(DIGITS[digit] + PLACES[power % 4])
        if power % 4 == 0 and power > 0 and int(digits[max(0, index - 3) : index + 1]):
            words.append(GROUPS[power // 4])
    return "".join(words)


def _fen(amount: Decimal) -> int:
    if isinstance(amount, Decimal) and amount.is_finite() and 0 <= amount < LIMIT_YUAN:
        fen = Fraction(amount) * 100  # exact, however many digits the Decimal has
        if fen.denominator == 1:
            return fen.numerator
    raise DomainError(
        CreditErrorCode.INVALID_AMOUNT,
        "大写金额须为不小于0且小于1万亿元的金额(元),最多两位小数",
        "an amount in capital numerals must be at least 0 and below 1,000,000,000,000 yuan, with at most 2 decimal"
        " places",
        "amount",
    )
