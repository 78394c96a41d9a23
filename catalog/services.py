"""Writes to the catalog. The shipped data files are loaded by ``catalog.loader.catalog_load``;
an agency's official list comes in through ``disease_list_import``."""
from __future__ import annotations

import tablib
from import_export.results import Result

from catalog.loader import catalog_load  # noqa: F401  (re-exported: the catalog's write entry points)
from catalog.models import Region
from catalog.resources import DiseaseResource


def disease_list_import(
    *, region: Region, dataset: tablib.Dataset, dry_run: bool = False, file_name: str | None = None, user=None
) -> Result:
    """Import one region's disease list, all or nothing: if any row is invalid or fails, the
    whole file is rolled back and the result lists every problem with its row number."""
    return DiseaseResource(region=region).import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        file_name=file_name,
        user=user,
    )
