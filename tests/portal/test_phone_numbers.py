import pytest

from portal.phone_numbers import phone_mask, phone_normalize


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13800138000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086-138-0013-8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("86 13800138000", "13800138000"),
        (" 138-0013-8000 ", "13800138000"),
        ("１３８００１３８０００", "13800138000"),  # full-width digits from a Chinese IME
        ("16212345678", "16212345678"),  # 162: virtual operator range strict lists forget
        ("19212345678", "19212345678"),  # 192: 中国广电
        ("19312345678", "19312345678"),
        ("14512345678", "14512345678"),
    ],
)
def test_mobile_numbers_are_stored_as_11_digits(typed, stored):
    assert phone_normalize(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        None,
        "12800138000",  # second digit 2
        "10800138000",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "+85213800138000",  # Hong Kong prefix
        "+1 13800138000",
        "010-12345678",  # landline
        "1380013800a",
        "0013800138000",
    ],
)
def test_other_input_is_not_a_mobile_number(typed):
    assert phone_normalize(typed) is None


def test_mask_keeps_prefix_and_last_four():
    assert phone_mask("+86 138 0013 8000") == "138****8000"
