"""The status badge tag of the citizen pages."""
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
