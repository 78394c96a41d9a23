"""Presentation helpers for the citizen's application pages (no rules)."""
from django import template
from django.template.base import render_value_in_context
from django.template.defaultfilters import filesizeformat
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils import dateformat
from django.utils.encoding import force_str
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext as _

from applications.models import ApplicationEvent, ApplicationStatus, UploadedMaterial

register = template.Library()

# The badge colour of each status; statuses not listed get the plain badge.
BADGE_CLASSES = {
    ApplicationStatus.APPROVED: "badge ok",
    ApplicationStatus.REJECTED: "badge bad",
    ApplicationStatus.SUPPLEMENT_REQUESTED: "badge warn",
    ApplicationStatus.DRAFT: "badge muted",
    ApplicationStatus.WITHDRAWN: "badge muted",
}


@register.simple_tag
def status_badge(status: str, label=None) -> str:
    """``<span class="badge …">label</span>`` for a status (its display name unless ``label``).

    A tag, not an ``{% include %}``: 我的申请 shows one badge per row, and twenty includes (each a
    template lookup, a context push and an ``if`` chain) were a fifth of the page's rendering.
    """
    if label is None:
        try:
            label = ApplicationStatus(status).label
        except ValueError:  # not a status (a stale value): show it as it is
            label = status
    return format_html('<span class="{}">{}</span>', BADGE_CLASSES.get(status, "badge"), label)


# A key no case will have: reversed once a page, then each row's key is put in its place.
_PK = 987654321987654321
_STEP = 987654321987654322


@register.simple_tag
def application_list_items(applications) -> str:
    """The rows of 我的申请 (``templates/applications/list.html``), what a ``{% for %}`` over them
    wrote, as one string. The template's loop took 1.8 ms for a family's page of 20 rows (0.4 ms
    here): its translations, two ``{% url %}`` lookups, the date filter and a dozen variable
    lookups, every row. Here the labels and URLs are taken once a page; values are escaped as the template did.
    ``tests/applications/test_tags`` holds it to the loop it replaced, byte for byte."""
    detail = reverse("applications:detail", args=[_PK]).split(str(_PK))
    step = reverse("applications:step", args=[_PK, _STEP])
    step_before, step_rest = step.split(str(_PK))
    step_middle, step_after = step_rest.split(str(_STEP))
    no_disease, patient_label, number_label, draft_label, supplement_alert = (
        conditional_escape(_(text))  # as {% translate %} wrote them: escaped
        for text in ("未选病种", "患者", "受理编号", "草稿，最后保存于", "审核人员要求补正材料，请打开查看一次性告知清单。")
    )
    labels = {status.value: status.label for status in ApplicationStatus}
    badges: dict[str, str] = {}
    out = []
    for application in applications:
        status = application.status
        if status == "draft":
            href = f"{step_before}{application.pk}{step_middle}{application.wizard_step}{step_after}"
        else:
            href = f"{detail[0]}{application.pk}{detail[1]}"
        disease = application.disease
        name = conditional_escape(disease.name) if disease else no_disease
        badge = badges.get(status)
        if badge is None:
            badge = badges[status] = status_badge(status, labels.get(status, status))
        region = application.region
        where = f" · {conditional_escape(region.city)}" if region else ""
        if application.acceptance_number:
            number = f'{number_label}：<span class="mono">{conditional_escape(application.acceptance_number)}</span>'
        else:
            saved = application.updated_at
            number = f"{draft_label} {dateformat.format(template_localtime(saved), 'Y-m-d H:i') if saved else ''}"
        alert = f'<div class="app-alert">{supplement_alert}</div>' if status == "supplement_requested" else ""
        out.append(
            "\n  <li>\n"
            f'    <a href="{href}">\n'
            f"      <strong>{name}</strong>\n"
            "    </a>\n"
            f"    {badge}\n"
            f'    <div class="muted">{patient_label}：{conditional_escape(application.patient)}{where}</div>\n'
            f'    <div class="muted">{number}</div>\n'
            f"    {alert}\n"
            "  </li>\n"
        )
    return mark_safe("".join(out))


_FILE_PK = 987654321987654323


def _once_per_page(context, key: str, make):
    """``make()``, kept in the page's ``render_context`` (one rendering of one page, one
    language): a tag called once per slot reverses its URLs and translates its labels once."""
    key = f"application_tags.{key}"
    if key not in context.render_context:
        context.render_context[key] = make()
    return context.render_context[key]


def _url_parts(context, name: str) -> tuple[str, str, str]:
    """``reverse(name, args=[case, file])`` split around the two keys, to be joined per file."""
    def make():
        before, rest = reverse(name, args=[_PK, _FILE_PK]).split(str(_PK))
        middle, after = rest.split(str(_FILE_PK))
        return before, middle, after

    return _once_per_page(context, f"url.{name}", make)


def _choice_label(labels: dict, value) -> str:
    """What ``get_FOO_display()`` returns for ``value``, from ``labels`` (a field's flat choices as
    a dict). ``get_FOO_display`` hashes every choice's lazy label, and so translates all of them,
    on each call: a tenth of the case page's rendering went there."""
    return force_str(labels.get(value, value), strings_only=True)


@register.simple_tag(takes_context=True)
def slot_files(context, slot, show_verdict=False, removable=False) -> str:
    """The files of one material slot (``slot["files"]``) as a list: the case page with each file's
    verdict, the materials step with a delete button.

    What ``{% include "applications/_slot_files.html" %}`` wrote, as one string: on the case page
    the include (a template lookup and a context push per slot) and its per-file lookups were a
    third of the rendering. ``tests/applications/test_tags`` holds it to that template, byte for byte.
    """
    files = slot["files"]
    if not files:
        return mark_safe('<ul class="app-files">\n\n</ul>\n')
    thumb, link = _url_parts(context, "applications:material_thumb"), _url_parts(context, "applications:material_file")
    delete = _url_parts(context, "applications:material_delete") if removable else None
    verdicts = _once_per_page(context, "verdicts", lambda: dict(UploadedMaterial._meta.get_field("verdict").flatchoices))
    csrf = CsrfTokenNode().render(context) if removable else ""
    replaced, flagged, processing, blurry, delete_label = _once_per_page(context, "file_labels", lambda: [
        conditional_escape(_(text)) for text in ("已替换", "需补正", "正在处理图片…", "照片可能不清晰，建议重新拍摄", "删除")
    ])
    processing = f'<div class="muted">{processing}</div>'
    blurry = f'<div class="app-alert">{blurry}</div>'
    out = ['<ul class="app-files">\n']
    for material in files:
        keys = (material.application_id, material.pk)
        img = (
            f'<img src="{thumb[0]}{keys[0]}{thumb[1]}{keys[1]}{thumb[2]}" alt="" width="64" height="64" class="app-thumb">'
            if material.thumbnail else ""
        )
        verdict = ""
        if show_verdict:
            if material.superseded_at:
                verdict = f'<span class="badge muted">{replaced}</span>'
            elif material.flagged_for_supplement:
                verdict = f'<span class="badge warn">{flagged}</span>'
            else:
                colour = {"accepted": "ok", "pending": "muted"}.get(material.verdict, "bad")
                verdict = f'<span class="badge {colour}">{conditional_escape(_choice_label(verdicts, material.verdict))}</span>'
            verdict += "\n  "
            if material.verdict_note:
                verdict += f'<div class="muted">{conditional_escape(material.verdict_note)}</div>'
        form = (
            f'<form method="post" action="{delete[0]}{keys[0]}{delete[1]}{keys[1]}{delete[2]}" class="inline">{csrf}'
            f'<button type="submit" class="link">{delete_label}</button></form>'
            if removable else ""
        )
        out.append(
            f'\n<li class="app-file{" superseded" if material.superseded_at else ""}">\n'
            f"  {img}\n"
            f'  <a href="{link[0]}{keys[0]}{link[1]}{keys[1]}{link[2]}" target="_blank" rel="noopener">'
            f"{conditional_escape(material.original_name)}</a>\n"
            f'  <span class="muted">{filesizeformat(material.size)}</span>\n'
            f"  {verdict}\n"
            f"  {'' if material.processed else processing}\n"
            f"  {blurry if getattr(material, 'blurry', False) else ''}\n"
            f"  {form}\n"
            "</li>\n"
        )
    out.append("\n</ul>\n")
    return mark_safe("".join(out))


@register.simple_tag(takes_context=True)
def application_timeline(context, events) -> str:
    """The case page's 办理进度: one ``<li>`` per event the citizen sees, with the items of a
    supplement request, the reasons of a decision and a withdrawal's reason.

    What the template's ``{% for %}`` wrote, as one string (``tests/applications/test_tags``
    compares the two). One difference, on purpose: a supplement request whose data has no
    ``items`` shows no list, where the template's ``event.data.items`` fell back to the dict's
    ``items()`` method and listed its key/value pairs.
    """
    out = []
    kinds = dict(ApplicationEvent._meta.get_field("kind").flatchoices)
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        when = dateformat.format(template_localtime(event.created_at, context.use_tz), "Y-m-d H:i")
        out.append(
            f'\n    <li><span class="muted">{when}</span> <strong>{conditional_escape(_choice_label(kinds, event.kind))}</strong>\n    '
        )
        items = data.get("items") if event.kind == "supplement_requested" else None
        if items:
            out.append("<ul>")
            for item in items:
                text = item.get("text") or item.get("name") or item if isinstance(item, dict) else item
                out.append(f"<li>{render_value_in_context(text, context)}</li>")
            out.append("</ul>")
        out.append("\n    ")
        if data.get("reasons"):
            out.append("<ul>" + "".join(f"<li>{render_value_in_context(r, context)}</li>" for r in data["reasons"]) + "</ul>")
        out.append("\n    ")
        if data.get("reason"):
            out.append(f'<div class="muted">{render_value_in_context(data["reason"], context)}</div>')
        out.append("\n    </li>\n  ")
    return mark_safe("".join(out))
