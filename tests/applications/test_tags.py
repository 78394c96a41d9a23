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


# What templates/applications/_slot_files.html was before ``slot_files`` wrote a slot's files
# (the case page included it with show_verdict=True, the materials step with removable=True).
_SLOT_FILES = """{% load i18n %}<ul class="app-files">
{% for material in slot.files %}
<li class="app-file{% if material.superseded_at %} superseded{% endif %}">
  {% if material.thumbnail %}<img src="{% url 'applications:material_thumb' material.application_id material.pk %}" alt="" width="64" height="64" class="app-thumb">{% endif %}
  <a href="{% url 'applications:material_file' material.application_id material.pk %}" target="_blank" rel="noopener">{{ material.original_name }}</a>
  <span class="muted">{{ material.size|filesizeformat }}</span>
  {% if show_verdict %}{% if material.superseded_at %}<span class="badge muted">{% translate "已替换" %}</span>{% elif material.flagged_for_supplement %}<span class="badge warn">{% translate "需补正" %}</span>{% else %}<span class="badge {% if material.verdict == 'accepted' %}ok{% elif material.verdict == 'pending' %}muted{% else %}bad{% endif %}">{{ material.get_verdict_display }}</span>{% endif %}
  {% if material.verdict_note %}<div class="muted">{{ material.verdict_note }}</div>{% endif %}{% endif %}
  {% if not material.processed %}<div class="muted">{% translate "正在处理图片…" %}</div>{% endif %}
  {% if material.blurry %}<div class="app-alert">{% translate "照片可能不清晰，建议重新拍摄" %}</div>{% endif %}
  {% if removable %}<form method="post" action="{% url 'applications:material_delete' material.application_id material.pk %}" class="inline">{% csrf_token %}<button type="submit" class="link">{% translate "删除" %}</button></form>{% endif %}
</li>
{% endfor %}
</ul>
"""


def _files():
    import datetime as dt

    from applications.models import UploadedMaterial

    when = dt.datetime(2026, 11, 30, 16, 5, tzinfo=dt.timezone.utc)
    files = []
    for pk, (thumbnail, superseded, flagged, verdict, note, processed, blurry) in enumerate([
        ("t/1.jpg", None, False, "accepted", "", True, False),
        ("", when, False, "accepted", "旧的 <b>照片</b>", True, None),
        ("t/3.jpg", None, True, "rejected", "请重拍 & 补充", True, True),
        ("", None, False, "pending", "", False, False),
        ("t/5.jpg", None, False, "rejected", "", True, "missing"),
        ("", None, False, "legacy_verdict", "", True, False),
    ], start=11):
        material = UploadedMaterial(
            pk=pk, application_id=7, slot="hospital_record", original_name=f"病历 <{pk}> & 诊断.jpg", size=pk * 98765,
            thumbnail=thumbnail, superseded_at=superseded, flagged_for_supplement=flagged, verdict=verdict,
            verdict_note=note, processed=processed,
        )
        if blurry != "missing":  # set by the views (applications.views._slot_rows); absent elsewhere
            material.blurry = blurry
        files.append(material)
    return files


def test_a_slots_files_are_what_the_include_wrote(db, rf):
    from django.middleware.csrf import get_token

    token = get_token(rf.get("/"))  # one masked token for both renderings
    for files in (_files(), []):
        for show_verdict, removable in ((True, False), (False, True), (False, False), (True, True)):
            for language in ("zh-hans", "en"):
                with translation.override(language):
                    context = {"slot": {"files": files}, "show_verdict": show_verdict, "removable": removable,
                               "csrf_token": token}
                    expected = Template(_SLOT_FILES).render(Context(context))
                    written = Template(
                        "{% load application_tags %}{% slot_files slot show_verdict=show_verdict removable=removable %}"
                    ).render(Context(context))
                assert written == expected, (language, show_verdict, removable, len(files))
    assert written.count("<li") == 0
    with translation.override("zh-hans"):
        written = Template("{% load application_tags %}{% slot_files slot show_verdict=True removable=True %}").render(
            Context({"slot": {"files": _files()}, "csrf_token": token})
        )
    assert "病历 &lt;11&gt; &amp; 诊断.jpg" in written and "旧的 &lt;b&gt;照片&lt;/b&gt;" in written
    assert written.count(f'name="csrfmiddlewaretoken" value="{token}"') == 6


# What templates/applications/detail.html looped over before ``application_timeline`` wrote it.
_TIMELINE = """{% for event in events %}
    <li><span class="muted">{{ event.created_at|date:"Y-m-d H:i" }}</span> <strong>{{ event.get_kind_display }}</strong>
    {% if event.kind == "supplement_requested" and event.data.items %}<ul>{% for item in event.data.items %}<li>{% if item.text %}{{ item.text }}{% elif item.name %}{{ item.name }}{% else %}{{ item }}{% endif %}</li>{% endfor %}</ul>{% endif %}
    {% if event.data.reasons %}<ul>{% for reason in event.data.reasons %}<li>{{ reason }}</li>{% endfor %}</ul>{% endif %}
    {% if event.data.reason %}<div class="muted">{{ event.data.reason }}</div>{% endif %}
    </li>
  {% endfor %}"""


def _events(with_items_missing: bool = False):
    import datetime as dt

    from applications.models import ApplicationEvent

    at = dt.datetime(2026, 11, 30, 16, 5, tzinfo=dt.timezone.utc)  # 00:05 the next day in Shanghai
    rows = [
        ("submitted", {}),
        ("supplement_requested", {"items": [{"text": "病历 <首页>"}, {"name": "检查 & 报告"}, "诊断证明", {"code": "x"}],
                                  "note": "请一次补齐"}),
        ("supplement_requested", {"items": []}),
        ("rejected", {"reasons": ["不符合 <标准>", "材料不全"], "reason": "见 & 说明"}),
        ("withdrawn", {"reason": "患者已转院"}),
        ("submitted", {"items": [{"text": "not shown: not a supplement request"}]}),
        ("legacy_kind", None),
    ]
    if with_items_missing:
        rows.append(("supplement_requested", {"note": "no items key"}))
    return [ApplicationEvent(pk=i, application_id=7, kind=kind, data=data, created_at=at + dt.timedelta(days=i))
            for i, (kind, data) in enumerate(rows, start=1)]


def test_the_timeline_is_what_the_templates_loop_wrote(db):
    for language in ("zh-hans", "en"):
        with translation.override(language):
            context = {"events": _events()}
            expected = Template(_TIMELINE).render(Context(context))
            written = Template("{% load application_tags %}{% application_timeline events %}").render(Context(context))
        assert written == expected, language
    assert "病历 &lt;首页&gt;" in written and "2026-12-02 00:05" in written and written.count("\n    <li>") == 7
    assert Template("{% load application_tags %}{% application_timeline events %}").render(Context({"events": []})) == ""


def test_a_supplement_request_without_items_lists_nothing(db):
    # The one difference from the loop, on purpose: its ``event.data.items`` fell back to the
    # dict's items() method and listed the data's key/value pairs.
    events = _events(with_items_missing=True)[-1:]
    written = Template("{% load application_tags %}{% application_timeline events %}").render(Context({"events": events}))
    assert "<ul>" not in written and "no items key" not in written
    assert "no items key" in Template(_TIMELINE).render(Context({"events": events}))
