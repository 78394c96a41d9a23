"""The message centre and the developer SMS inbox list rows: their query count must not grow."""
import re

import pytest
from django.urls import reverse

from notifications.models import Channel
from tests.factories import UserFactory
from tests.notifications.factories import DevSmsFactory, NotificationFactory
from tests.query_counts import assert_same_query_count, page_queries

pytestmark = pytest.mark.django_db


def _listed(html: str) -> int:
    return len(re.findall(r'href="/messages/\d+/"', html))


def test_message_centre_does_not_grow_with_messages(client):
    me = UserFactory()
    NotificationFactory(user=me)
    client.force_login(me)
    url = reverse("notifications:inbox")
    few, html = page_queries(client, url)
    assert _listed(html) == 1
    for _ in range(24):
        NotificationFactory(user=me, channel=Channel.INBOX)
        NotificationFactory(user=me, sms=True)  # SMS rows of the same user are not listed
    many, html = page_queries(client, url)
    assert _listed(html) == 20 and "第 1 / 2 页" in html
    assert_same_query_count(few, many, page=url, rows=(1, 20))


def test_dev_outbox_does_not_grow_with_sms(client, settings):
    settings.DEBUG, settings.SMS_GATEWAY, settings.SMS_FAILOVER_GATEWAY = True, "dev", ""
    DevSmsFactory()
    url = reverse("dev_outbox")
    few, html = page_queries(client, url)
    assert html.count('class="phone"') == 1
    DevSmsFactory.create_batch(9)
    many, html = page_queries(client, url)
    assert html.count('class="phone"') == 10
    assert_same_query_count(few, many, page=url, rows=(1, 10))
