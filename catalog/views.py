"""Citizen pages of the catalog. Views parse the query string, call selectors and render."""
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.models import Disease, Region
from catalog.selectors import (
    disease_get,
    institution_list,
    policy_table_for,
    province_list,
    region_catalog,
    region_get,
    region_list,
    scheme_list,
)

MAX_QUERY_LENGTH = 50


def _region_or_404(code: str) -> Region:
    try:
        return region_get(code=code)
    except Region.DoesNotExist:
        raise Http404("unknown region") from None


def region_choose(request: HttpRequest) -> HttpResponse:
    """Step 1 lists provinces; ``?province=`` shows step 2, that province's cities."""
    provinces = province_list()
    province = request.GET.get("province")
    if province not in provinces:
        province = None
    return render(
        request,
        "catalog/regions.html",
        {
            "provinces": provinces,
            "province": province,
            "cities": region_list(province=province) if province else [],
        },
    )


def region_detail(request: HttpRequest, region_code: str) -> HttpResponse:
    region = _region_or_404(region_code)
    schemes = list(scheme_list())
    scheme = request.GET.get("scheme") or None
    if scheme not in {s.code for s in schemes}:
        scheme = None
    q = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    return render(
        request,
        "catalog/region.html",
        {
            "region": region,
            "schemes": schemes,
            "scheme": scheme,
            "q": q,
            "catalog": region_catalog(region=region, scheme=scheme, q=q),
        },
    )


def disease_detail(request: HttpRequest, region_code: str, disease_code: str) -> HttpResponse:
    region = _region_or_404(region_code)
    try:
        disease = disease_get(region=region, code=disease_code)
    except Disease.DoesNotExist:
        raise Http404("unknown disease") from None
    return render(
        request,
        "catalog/disease.html",
        {
            "region": region,
            "disease": disease,
            "policies": policy_table_for(disease=disease),
            "reviewing_institutions": institution_list(region=region, may_review=True),
        },
    )
