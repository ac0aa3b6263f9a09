import pytest

from domain.customers.errors import CustomerErrorCode
from domain.customers.masking import mask_address, mask_id_number, mask_phone
from domain.customers.phone import normalize_phone
from domain.errors import DomainError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008619912345678", "19912345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("＋８６ １３８－１２３４－５６７８", "13812345678"),  # full-width plus, dashes and digits
        ("（１３８）１２３４　5678", "13812345678"),  # full-width brackets, an ideographic space
        ("١٣٨١٢٣٤٥٦٧٨", "13812345678"),  # Arabic-Indic digits
    ],
)
def test_mobile_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "1381234567", "138123456789", "12812345678", "02512345678", "1381234567a"])
def test_bad_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(DomainError) as caught:
        normalize_phone(raw)
    assert (caught.value.code, caught.value.field) == (CustomerErrorCode.INVALID_PHONE, "phone")


def test_masks_keep_only_what_staff_need() -> None:
    assert mask_id_number("320324198506151234") == "320324********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(None) is None
    assert mask_address("睢宁县王集镇张庄村三组18号") == "睢宁县王集镇****"
    assert mask_address("睢宁县") == "睢宁县"
