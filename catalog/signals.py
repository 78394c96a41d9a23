"""Keep this process's copy of the catalog (``catalog.selectors.catalog_rows_attach``) honest:
a save or delete of a region, its service settings, a scheme, a disease or a required material
drops it in the process that made the change."""
from django.db.models.signals import post_delete, post_save


def _forget(sender, **kwargs) -> None:
    from catalog.selectors import catalog_copy_forget

    catalog_copy_forget()


def connect() -> None:
    from catalog.models import Disease, Region, RequiredMaterial, Scheme, ServiceSettings

    for model in (Region, ServiceSettings, Scheme, Disease, RequiredMaterial):
        post_save.connect(_forget, sender=model, dispatch_uid=f"catalog-copy-{model.__name__}-save")
        post_delete.connect(_forget, sender=model, dispatch_uid=f"catalog-copy-{model.__name__}-delete")
