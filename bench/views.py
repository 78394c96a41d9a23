"""The baselines: the cheapest view the project's own middleware stack can serve.

Every page is reported as a ratio to these, measured in the same run on the same gunicorn
configuration, because absolute times on a shared 2-core machine are noise.
"""
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@require_POST
def bare_upload(request: HttpRequest) -> HttpResponse:
    """Reads the multipart body (Django parses and spools the file), checks nothing, stores nothing.

    CSRF protection stays on, as on the real upload view, so the two requests differ only by
    what the view does with the file.
    """
    total = sum(upload.size for upload in request.FILES.values())
    return HttpResponse(f"ok {total}")
