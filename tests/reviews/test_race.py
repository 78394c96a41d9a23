"""Two staff deciding the same case at the same moment: exactly one wins (real PostgreSQL locks)."""
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from applications.models import ApplicationStatus as S, Certification
from reviews import services
from reviews.reasons import RejectionReason
from tests.reviews.factories import submitted_application

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls):
    """Run the calls in threads released together; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.parametrize("attempt", range(3))
def test_approve_and_reject_at_once_one_wins(shaoyang, sy_reviewer, sy_reviewer2, attempt):
    case = submitted_application(region_obj=shaoyang)
    results = _race(
        lambda: services.application_approve(application_id=case.pk, user=sy_reviewer),
        lambda: services.application_reject(application_id=case.pk, user=sy_reviewer2,
                                            reason=RejectionReason.CRITERIA_NOT_MET),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], ValidationError)
    assert "可能已被他人处理" in " ".join(errors[0].messages)  # the clear message the loser sees
    case.refresh_from_db()
    assert case.status in (S.APPROVED, S.REJECTED)
    assert Certification.objects.filter(application=case).count() == (1 if case.status == S.APPROVED else 0)
    assert case.events.filter(kind__in=("approved", "rejected")).count() == 1


def test_two_approvals_at_once_create_one_certification(shaoyang, sy_reviewer, sy_reviewer2):
    case = submitted_application(region_obj=shaoyang)
    results = _race(
        lambda: services.application_approve(application_id=case.pk, user=sy_reviewer),
        lambda: services.application_approve(application_id=case.pk, user=sy_reviewer2),
    )
    assert sum(isinstance(r, Certification) for r in results) == 1
    assert Certification.objects.filter(application=case).count() == 1


def test_two_claims_at_once_one_assignee(shaoyang, sy_reviewer, sy_reviewer2):
    case = submitted_application(region_obj=shaoyang)
    results = _race(
        lambda: services.application_claim(application_id=case.pk, user=sy_reviewer),
        lambda: services.application_claim(application_id=case.pk, user=sy_reviewer2),
    )
    assert sum(isinstance(r, Exception) for r in results) == 1, results
    case.refresh_from_db()
    assert case.status == S.IN_REVIEW and case.assignee in (sy_reviewer, sy_reviewer2)
    assert case.events.filter(kind="claimed").count() == 1
