"""The tags of the citizen pages: the status badge, and 我的申请's rows against the loop they replaced."""
from django.template import Context, Template
from django.utils import translation


def _badge(source: str, **context) -> str:
    return Template("{% load application_tags %}" + source).render(Context(context))


def test_the_badge_shows_the_status_name_in_its_colour():
    with translation.override("zh-hans"):
        assert _badge("{% status_badge s %}", s="approved") == '<span class="badge ok">已通过</span>'
        assert _badge("{% status_badge s %}", s="supplement_requested") == '<span class="badge warn">待补正</span>'
        assert _badge("{% status_badge s %}", s="in_review") == '<span class="badge">审核中</span>'
    with translation.override("en"):
        assert _badge("{% status_badge s %}", s="rejected").startswith('<span class="badge bad">')


def test_a_given_label_is_escaped_and_an_unknown_status_shown_as_it_is():
    assert _badge("{% status_badge s label %}", s="approved", label="<b>ok</b>") == (
        '<span class="badge ok">&lt;b&gt;ok&lt;/b&gt;</span>'
    )
    assert _badge("{% status_badge s %}", s="legacy") == '<span class="badge">legacy</span>'


# What templates/applications/list.html looped over before ``application_list_items`` wrote its rows.
_LOOP = """{% load i18n application_tags %}{% for application in applications %}
  <li>
    <a href="{% if application.status == 'draft' %}{% url 'applications:step' application.pk application.wizard_step %}{% else %}{% url 'applications:detail' application.pk %}{% endif %}">
      <strong>{% if application.disease %}{{ application.disease.name }}{% else %}{% translate "未选病种" %}{% endif %}</strong>
    </a>
    {% status_badge application.status %}
    <div class="muted">{% translate "患者" %}：{{ application.patient }}{% if application.region %} · {{ application.region.city }}{% endif %}</div>
    <div class="muted">{% if application.acceptance_number %}{% translate "受理编号" %}：<span class="mono">{{ application.acceptance_number }}</span>{% else %}{% translate "草稿，最后保存于" %} {{ application.updated_at|date:"Y-m-d H:i" }}{% endif %}</div>
    {% if application.status == "supplement_requested" %}<div class="app-alert">{% translate "审核人员要求补正材料，请打开查看一次性告知清单。" %}</div>{% endif %}
  </li>
{% endfor %}"""


def _rows():
    import datetime as dt

    from applications.models import Application, Person
    from catalog.models import Disease, Region

    region = Region(code="430500", city="邵阳市 <&>")
    disease = Disease(name="高血压 & <b>病</b>")
    patient = Person(full_name="王小明")
    saved = dt.datetime(2026, 11, 30, 16, 5, tzinfo=dt.timezone.utc)  # 00:05 the next day in Shanghai
    rows = []
    for pk, (status, number, with_disease, with_patient, with_region) in enumerate([
        ("draft", None, True, True, True),
        ("draft", None, False, False, False),
        ("submitted", "430500-20261130-000001", True, True, True),
        ("supplement_requested", "430500-20261130-000002", True, True, False),
        ("approved", "430500 & <x>", False, True, True),
        ("legacy_status", "N-1", True, True, True),
    ], start=7):
        application = Application(pk=pk, status=status, acceptance_number=number, wizard_step=pk % 5 + 1, updated_at=saved)
        application.disease = disease if with_disease else None
        application.patient = patient if with_patient else None
        application.region = region if with_region else None
        rows.append(application)
    saved_none = Application(pk=99, status="draft", acceptance_number=None, wizard_step=2, updated_at=None)
    rows.append(saved_none)
    return rows


def test_the_list_rows_are_what_the_templates_loop_wrote(db):
    rows = _rows()
    for language in ("zh-hans", "en"):
        with translation.override(language):
            expected = Template(_LOOP).render(Context({"applications": rows}))
            written = Template("{% load application_tags %}{% application_list_items applications %}").render(
                Context({"applications": rows})
            )
        assert written == expected, language
    assert "高血压 &amp; &lt;b&gt;病&lt;/b&gt;" in written and "2026-12-01 00:05" in written
    assert written.count("<li>") == len(rows)
    assert Template("{% load application_tags %}{% application_list_items applications %}").render(
        Context({"applications": []})
    ) == ""
