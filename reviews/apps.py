from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_groups(sender, **kwargs) -> None:
    from reviews.services import staff_groups_ensure

    staff_groups_ensure()


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("审核")

    def ready(self) -> None:
        # Setup, not a business rule: the role groups must exist wherever the schema does
        # (like Django's own permissions, which are created on post_migrate too).
        post_migrate.connect(_ensure_groups, sender=self, dispatch_uid="reviews_ensure_groups")
