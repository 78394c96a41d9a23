from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.selectors import region_list


def region_choose(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/regions.html", {"regions": region_list()})
