"""The message centre on a 375 px phone: badge in the header, open a message, badge goes."""
import pytest
from django.conf import settings
from django.test import Client

from notifications.services import notification_create
from tests.browser import assert_fits_phone, wait_for_path
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_message_centre_at_375px(live_server, phone_page, screenshot):
    user = UserFactory()
    for n, key in enumerate(("application_submitted", "supplement_requested")):
        notification_create(
            event_key=f"application:1:{key}", template_key=key, params={"number": "430500-20261122-000017"}, user=user
        )
    client = Client()
    client.force_login(user)
    page = phone_page
    page.context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }])
    page.goto(live_server.url + "/")
    assert page.locator("#unread-badge").inner_text().startswith("2")
    page.locator("a.nav-messages").click()
    wait_for_path(page, "/messages/")
    assert page.locator("h1").inner_text() == "消息中心"
    assert_fits_phone(page)
    screenshot(page, "1-message-centre")
    page.get_by_role("link", name="需补正材料").click()
    assert "一次性告知清单" in page.locator("article").inner_text()
    assert page.locator("#unread-badge").inner_text().startswith("1")
    assert_fits_phone(page)
    screenshot(page, "2-message")
