from django.db.models import QuerySet

from catalog.models import Region


def region_list() -> QuerySet[Region]:
    return Region.objects.order_by("order", "code")
