"""Every SMS text: short Chinese, with the acceptance number and a next step; never a full ID
number or a diagnosis, whatever a caller passes."""
import re

import pytest
from django.utils import translation

from notifications.templates_text import ALLOWED_FIELDS, TEMPLATES, TITLES, render_text, template_fields

ID_NUMBER = "43050219560314123X"
SAMPLE = {"code": "482913", "number": "430500-20261122-000017", "end_date": "2026-12-31", "count": "3"}
# Diseases from the catalog seeds and the national five: none may appear in a text.
DIAGNOSES = ["高血压", "糖尿病", "恶性肿瘤", "尿毒症", "透析", "器官移植", "脑性瘫痪", "小胖威利", "肿瘤", "癌"]
# Everything a careless caller might put in params.
HOSTILE = {**SAMPLE, "id_number": ID_NUMBER, "disease": "恶性肿瘤门诊放化疗", "diagnosis": "2型糖尿病", "name": "张三"}


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_template_is_short_chinese_without_id_number_or_diagnosis(key):
    with translation.override("zh-hans"):
        text = render_text(key, HOSTILE)
    assert re.search(r"[\u4e00-\u9fff]", text)
    assert len(text) <= 70  # one SMS segment for Chinese (70 characters), signature aside
    assert not re.search(r"\d{17}[\dXx]", text)
    assert ID_NUMBER not in text and "张三" not in text
    assert not [word for word in DIAGNOSES if word in text]
    assert set(template_fields(key)) <= ALLOWED_FIELDS
    assert key in TITLES


@pytest.mark.parametrize("key", sorted(k for k in TEMPLATES if "number" in template_fields(k)))
def test_case_texts_carry_the_acceptance_number_and_a_next_step(key):
    text = render_text(key, SAMPLE)
    assert SAMPLE["number"] in text
    assert any(step in text for step in ("查看", "登录", "重新申请", "重新备案", "享受", "有效期", "重新计算", "直接结算"))


def test_an_id_number_smuggled_into_an_allowed_field_is_masked():
    text = render_text("application_submitted", {"number": ID_NUMBER})
    assert ID_NUMBER not in text and "430***********123X" in text


def test_placeholder_order_follows_the_chinese_text_even_in_english():
    with translation.override("en"):
        assert template_fields("certification_expiring") == ["number", "end_date"]


def test_keys_others_already_use_are_kept():
    assert {
        "login_code",
        "application_submitted",
        "supplement_requested",
        "application_approved",
        "application_rejected",
        "certification_expiring",
        "extension_decided",
        "login_unknown_account",  # portal.adapters, with enumeration prevention
        "signup_account_exists",
    } <= set(TEMPLATES)
