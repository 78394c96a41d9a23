"""Resident ID numbers as the citizen types them: each problem gets its own message."""
import pytest
from django.core.exceptions import ValidationError

from applications.id_numbers import id_check_char, mask_id_number
from portal.id_validation import id_number_clean


def _with_check(first17: str) -> str:
    return first17 + id_check_char(first17)


@pytest.mark.parametrize(
    "number",
    [
        # Verified examples from reference/domain-research.md §5.
        "11010519491231002X",
        "440524188001010014",
        "34052419800101001X",
        "360426199101010071",
        "110101202311012176",
        # Address codes that no longer exist stay valid on issued cards.
        _with_check("43052119600101001"),  # 邵东县 (now 430582)
        _with_check("41102319700101002"),  # 许昌县 (now 411003)
        _with_check("52022119800101003"),  # 水城县
        _with_check("52022219520229004"),  # 盘县, born on a leap day
        _with_check("43999919600101001"),  # an address code in no table at all
    ],
)
def test_valid_numbers_pass(number):
    assert id_number_clean(number) == number


def test_lowercase_x_spaces_and_full_width_are_accepted():
    assert id_number_clean(" 110105 19491231 002x ") == "11010519491231002X"
    assert id_number_clean("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "code", "words"),
    [
        ("1101051949123100", "id_number_length", "应为 18 位，您输入了 16 位"),
        ("11010519491231002X1", "id_number_length", "您输入了 19 位"),
        ("110105491231002", "id_number_old_format", "15 位"),
        ("11010519491231A02X", "id_number_characters", "前 17 位应为数字"),
        ("X10105194912310021", "id_number_characters", "前 17 位应为数字"),
        (_with_check("00010519491231002"), "id_number_province", "省级行政区代码"),
        (_with_check("11010519490231002"), "id_number_birth_date", "出生日期"),  # 31 February
        (_with_check("11010519491331002"), "id_number_birth_date", "出生日期"),  # month 13
        (_with_check("11010520991231002"), "id_number_birth_date", "出生日期"),  # in the future
        ("110105194912310021", "id_number_checksum", "校验码"),
    ],
)
def test_each_problem_has_its_own_message(number, code, words):
    with pytest.raises(ValidationError) as caught:
        id_number_clean(number)
    assert caught.value.code == code
    assert words in caught.value.messages[0]


def test_masked_form_hides_the_birth_date():
    assert mask_id_number("11010519491231002X") == "110105********002X"
