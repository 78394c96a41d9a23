"""Staff enter next year's holidays in the admin; the queue warns until they do."""
import datetime as dt

import pytest
from django.urls import reverse

from catalog.models import CalendarDay
from catalog.working_days import is_workday

pytestmark = pytest.mark.django_db


def test_supervisor_enters_2027_and_the_warning_goes(mfa_login, sy_supervisor, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 22, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False)
    client = mfa_login(sy_supervisor)
    queue = reverse("admin:applications_application_changelist")
    assert "2027 年的节假日安排尚未录入" in client.get(queue).content.decode()
    response = client.post(reverse("admin:catalog_calendarday_add"), {
        "date": "2027-01-01", "is_workday": "", "name": "元旦", "source": "国办发明电〔2026〕X号",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CalendarDay.objects.filter(date=dt.date(2027, 1, 1), is_workday=False).exists()
    assert not is_workday(dt.date(2027, 1, 1))
    assert "2027 年的节假日安排尚未录入" not in client.get(queue).content.decode()


def test_reviewer_cannot_edit_the_calendar(mfa_login, sy_reviewer):
    assert mfa_login(sy_reviewer).get(reverse("admin:catalog_calendarday_add")).status_code == 403
