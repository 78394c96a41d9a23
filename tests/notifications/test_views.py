"""Message centre, the unread badge in the header, /dev/outbox/ visibility, and the admin."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Channel, DevSms, Notification, NotificationStatus
from notifications.sending import notification_deliver
from notifications.selectors import INBOX_UNREAD_ATTRIBUTE, inbox_unread_count
from notifications.services import notification_create
from portal.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _event(user, n, template_key="application_submitted"):
    return notification_create(
        event_key=f"application:{n}:{template_key}",
        template_key=template_key,
        params={"number": f"430500-20261122-00001{n}"},
        user=user,
    )


def test_message_centre_lists_only_my_inbox_rows_newest_first(client):
    me, other = UserFactory(), UserFactory()
    _event(me, 1)
    _event(me, 2, "supplement_requested")
    _event(other, 3)
    client.force_login(me)
    html = client.get(reverse("notifications:inbox")).content.decode()
    assert html.index("需补正材料") < html.index("申请已受理")
    assert "430500-20261122-000012" in html and "430500-20261122-000011" in html
    assert "430500-20261122-000013" not in html


def test_message_centre_needs_login(client):
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_opening_a_message_marks_it_read_and_the_badge_counts_down(client, django_capture_on_commit_callbacks):
    me = UserFactory()
    _event(me, 1)
    client.force_login(me)
    assert 'id="unread-badge">1' in client.get("/").content.decode()  # the count is cached now
    # A new message drops the cached count when its transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        _event(me, 2)
    home = client.get("/").content.decode()
    assert 'id="unread-badge">2' in home
    first = Notification.objects.filter(user=me, channel=Channel.INBOX).order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("notifications:detail", args=[first.pk]))
    assert response.status_code == 200 and "430500-20261122-000011" in response.content.decode()
    first.refresh_from_db()
    read_at = first.read_at
    assert read_at is not None
    client.get(reverse("notifications:detail", args=[first.pk]))
    first.refresh_from_db()
    assert first.read_at == read_at  # read once
    assert 'id="unread-badge">1' in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notifications:mark_all_read"))
    assert "unread-badge" not in client.get("/").content.decode()


def test_the_badge_counts_when_the_cache_is_down(client, settings, caplog):
    """An unreachable cache costs a COUNT per page, never the page."""
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on port 9
                                   "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}
    me = UserFactory()
    _event(me, 1)
    client.force_login(me)
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200 and 'id="unread-badge">1' in response.content.decode()
    # On PostgreSQL the count came with the user (portal.auth_backends); a user read without it
    # (another backend, or SQLite) falls back to the cache, and to a COUNT when that is down.
    assert getattr(response.wsgi_request.user, INBOX_UNREAD_ATTRIBUTE) == 1
    me = User.objects.get(pk=me.pk)
    assert inbox_unread_count(user=me) == 1
    assert "cache unavailable for the inbox badge" in caplog.text  # the broken cache was really asked


def test_the_badge_is_counted_with_the_user_and_follows_reads(client):
    me = UserFactory()
    unread = [n for n in _event(me, 1) + _event(me, 2) if n.channel == Channel.INBOX]
    client.force_login(me)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("applications:list")).content.decode()
    assert 'id="unread-badge">2<' in page
    assert not [q for q in queries.captured_queries if "count(" in q["sql"].lower() and "notification" in q["sql"]
                and "portal_user" not in q["sql"]], "the badge needs no query of its own"
    # The page of the message just opened shows the count after it was read, not the one read at sign-in.
    assert 'id="unread-badge">1<' in client.get(reverse("notifications:detail", args=[unread[0].pk])).content.decode()
    client.post(reverse("notifications:mark_all_read"))
    assert 'id="unread-badge"' not in client.get(reverse("applications:list")).content.decode()


def test_someone_elses_message_is_404_and_stays_unread(client):
    me, other = UserFactory(), UserFactory()
    theirs = [n for n in _event(other, 1) if n.channel == Channel.INBOX][0]
    client.force_login(me)
    assert client.get(reverse("notifications:detail", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_sms_rows_are_not_messages(client):
    me = UserFactory()
    sms = [n for n in _event(me, 1) if n.channel == Channel.SMS][0]
    client.force_login(me)
    assert client.get(reverse("notifications:detail", args=[sms.pk])).status_code == 404


def test_badge_is_absent_for_anonymous_visitors(client):
    assert "unread-badge" not in client.get("/").content.decode()


def test_message_centre_page_does_not_grow_queries_with_messages(client, django_assert_max_num_queries):
    me = UserFactory()
    for n in range(25):
        _event(me, n)
    client.force_login(me)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200 and "第 1 / 2 页" in response.content.decode()


def test_dev_outbox_lists_recent_sms_newest_first_only_with_debug_and_dev_gateway(client, settings):
    for phone, n in (("13700000001", 1), ("13700000002", 2)):
        (sms,) = notification_create(
            event_key=f"e{n}", template_key="application_submitted",
            params={"number": f"N-{n}"}, phone=phone, channels=(Channel.SMS,),
        )
        notification_deliver(notification_id=sms.pk)
    assert DevSms.objects.count() == 2
    settings.DEBUG, settings.SMS_GATEWAY, settings.SMS_FAILOVER_GATEWAY = True, "dev", ""
    html = client.get("/dev/outbox/").content.decode()
    assert html.index("13700000002") < html.index("13700000001")
    assert "N-2" in html
    settings.DEBUG = False
    assert client.get("/dev/outbox/").status_code == 404
    settings.DEBUG, settings.SMS_GATEWAY = True, "aliyun"
    assert client.get("/dev/outbox/").status_code == 404
    settings.SMS_GATEWAY, settings.SMS_FAILOVER_GATEWAY = "dev", "tencent"
    assert client.get("/dev/outbox/").status_code == 404


@pytest.fixture
def staff_client(client, settings):
    # The staff second factor is the reviews area's (and tested there); these tests are about the
    # notification admin only.
    settings.STAFF_MFA_REQUIRED = False
    client.force_login(UserFactory(staff=True, is_superuser=True))
    return client


def test_admin_lists_with_masked_numbers_and_finds_dead_rows(staff_client):
    (alive,) = notification_create(
        event_key="a", template_key="application_submitted", params={"number": "N1"},
        phone="13812340001", channels=(Channel.SMS,),
    )
    (dead,) = notification_create(
        event_key="b", template_key="application_rejected", params={"number": "N2"},
        phone="13812340002", channels=(Channel.SMS,),
    )
    Notification.objects.filter(pk=dead.pk).update(status=NotificationStatus.DEAD, last_error="isv.X")
    url = reverse("admin:notifications_notification_changelist")
    html = staff_client.get(url).content.decode()
    assert "138****0001" in html and "13812340001" not in html
    dead_only = staff_client.get(url, {"attention": "dead"}).content.decode()
    assert "138****0002" in dead_only and "138****0001" not in dead_only
    # Search by the full number works even though the list masks it.
    assert "138****0002" in staff_client.get(url, {"q": "13812340002"}).content.decode()
    detail = staff_client.get(reverse("admin:notifications_notification_change", args=[dead.pk])).content.decode()
    assert "isv.X" in detail and "13812340002" not in detail


def test_admin_resend_action_goes_through_the_service(staff_client, published, django_capture_on_commit_callbacks):
    (dead,) = notification_create(
        event_key="c", template_key="application_approved", params={"number": "N3"},
        phone="13812340003", channels=(Channel.SMS,),
    )
    (sent,) = notification_create(
        event_key="d", template_key="application_approved", params={"number": "N4"},
        phone="13812340004", channels=(Channel.SMS,),
    )
    Notification.objects.filter(pk=dead.pk).update(status=NotificationStatus.DEAD, attempts=5, delivery_uncertain=True)
    Notification.objects.filter(pk=sent.pk).update(status=NotificationStatus.SENT)
    published.clear()
    url = reverse("admin:notifications_notification_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"action": "resend", "_selected_action": [dead.pk, sent.pk]}, follow=True)
    html = response.content.decode()
    dead.refresh_from_db()
    sent.refresh_from_db()
    assert dead.status == NotificationStatus.PENDING and dead.attempts == 0 and not dead.delivery_uncertain
    assert dead.last_error.startswith("resent by user")
    assert sent.status == NotificationStatus.SENT
    assert "已重新排队 1 条短信" in html and "只有发送失败的短信可以重发" in html
    assert (dead.pk, None) in published


def test_admin_rows_cannot_be_edited_by_form(staff_client):
    (row,) = notification_create(
        event_key="e", template_key="application_approved", params={"number": "N5"},
        phone="13812340005", channels=(Channel.SMS,),
    )
    url = reverse("admin:notifications_notification_change", args=[row.pk])
    staff_client.post(url, {"status": "sent"})
    row.refresh_from_db()
    assert row.status == NotificationStatus.PENDING


def test_message_centre_in_english(client):
    me = UserFactory()
    _event(me, 1)
    client.force_login(me)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("notifications:inbox")).content.decode()
    assert "Application accepted" in html and "acceptance number 430500-20261122-000011" in html
