"""Citizen message centre (/messages/) and the developer SMS inbox (/dev/outbox/)."""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from notifications.gateways.config import dev_gateway_configured
from notifications.selectors import dev_sms_list_recent, inbox_list_for_user
from notifications.services import inbox_mark_all_read, inbox_message_open
from notifications.templates_text import render_text, render_title


def _present(notification) -> dict:
    return {
        "pk": notification.pk,
        "title": render_title(notification.template_key),
        "text": render_text(notification.template_key, notification.params),
        "created_at": notification.created_at,
        "unread": notification.read_at is None,
    }


@login_required
def inbox(request):
    page = Paginator(inbox_list_for_user(user=request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "messages_list": [_present(n) for n in page.object_list]},
    )


@login_required
def message_detail(request, notification_id: int):
    notification = inbox_message_open(user=request.user, notification_id=notification_id)
    return render(request, "notifications/detail.html", {"message_item": _present(notification)})


@login_required
@require_POST
def mark_all_read(request):
    inbox_mark_all_read(user=request.user)
    return redirect("notifications:inbox")


def dev_outbox(request):
    """What the dev gateway 'sent', so a newcomer can log in without a phone. Never in production:
    only with DEBUG on and the dev gateway configured; otherwise the page does not exist."""
    if not (settings.DEBUG and dev_gateway_configured()):
        raise Http404
    return render(request, "notifications/dev_outbox.html", {"sms_list": dev_sms_list_recent(limit=50)})
