"""What to tell a citizen about a mistyped resident ID number: one specific message per problem.

The rules themselves live in ``applications.id_numbers`` (GB 11643-1999). The 6-digit address
code is never used to refuse a number: cards keep the code in force when they were issued.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from applications.id_numbers import id_number_problem, normalize_id_number

# Chinese input methods produce full-width digits and letters.
_FULL_WIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "\uff38": "X", "\uff58": "x"})


def id_number_messages() -> dict[str, str]:
    return {
        "length": _("身份证号应为 18 位，您输入了 %(count)d 位。"),
        "old_format": _("这是 15 位的一代身份证号，请填写 18 位的二代身份证号。"),
        "characters": _("身份证号前 17 位应为数字，最后一位为数字或 X。"),
        "province": _("身份证号前两位不是有效的省级行政区代码，请核对。"),
        "birth_date": _("身份证号第 7–14 位的出生日期无效，请核对。"),
        "checksum": _("身份证号最后一位（校验码）与前 17 位不符，可能有数字输错，请逐位核对。"),
    }


def id_number_clean(value: str) -> str:
    """The normalised number (upper-case X, no spaces), or a ``ValidationError`` saying what is wrong."""
    number = normalize_id_number(str(value or "").translate(_FULL_WIDTH)).replace("-", "")
    problem = id_number_problem(number)
    if problem is None:
        return number
    if problem == "length" and len(number) == 15 and number.isdigit():
        problem = "old_format"
    message = id_number_messages()[problem]
    if problem == "length":
        message = message % {"count": len(number)}
    raise ValidationError(message, code=f"id_number_{problem}")
