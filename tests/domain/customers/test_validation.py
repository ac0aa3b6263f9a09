"""A customer's own fields: names and addresses carry no control or invisible characters."""

import pytest

from domain.customers.validation import check_address, check_name, clean_tags
from domain.errors import DomainError, ErrorCode


@pytest.mark.parametrize(
    ("name", "char"),
    [
        ("张\x00三", "U+0000"),  # NUL
        ("\x1b[31m张三", "U+001B"),  # ESC starting a terminal colour sequence
        ("张\x85三", "U+0085"),  # C1 control (next line)
        ("\u202e三张", "U+202E"),  # right-to-left override: prints reversed
        ("张\u2066三", "U+2066"),  # left-to-right isolate
        ("\u200b\u200b", "U+200B"),  # only zero-width spaces
        ("\u200d", "U+200D"),  # only a zero-width joiner
        ("\ufeff张三", "U+FEFF"),  # a byte-order mark pasted in front
        ("张\t三", "U+0009"),
        ("张\n三", "U+000A"),
        ("张\u2028三", "U+2028"),  # line separator
    ],
)
def test_names_with_control_or_invisible_characters_are_refused(name: str, char: str) -> None:
    with pytest.raises(DomainError) as caught:
        check_name(name)
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_VALUE, "name")
    assert caught.value.message_en == f"name contains a control or invisible character ({char})"
    assert caught.value.message_zh == f"姓名含有控制字符或不可见字符({char})"


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("张三", "张三"),
        (" 欧阳娜娜 ", "欧阳娜娜"),
        ("买买提·艾力", "买买提·艾力"),  # the middle dot of Uyghur names
        ("\u3000王五\u3000", "王五"),  # ideographic spaces around it
        ("Zhang San", "Zhang San"),
    ],
)
def test_ordinary_names_are_kept(name: str, cleaned: str) -> None:
    assert check_name(name) == cleaned


@pytest.mark.parametrize("address", ["睢宁县\x00王集镇", "睢宁县\x1b王集镇", "王集镇\u202e号81", "张庄村\x9b三组"])
def test_addresses_with_control_characters_are_refused(address: str) -> None:
    with pytest.raises(DomainError) as caught:
        check_address(address)
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_VALUE, "address")


def test_an_ordinary_address_is_kept() -> None:
    assert check_address(" 睢宁县王集镇张庄村三组18号 ") == "睢宁县王集镇张庄村三组18号"


def test_tags_with_control_characters_are_refused() -> None:
    with pytest.raises(DomainError) as caught:
        clean_tags(["种植户", "养殖\u200b户"])
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_VALUE, "tags")
