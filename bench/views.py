"""The baselines: the cheapest view the project's own middleware stack can serve.

Every page is reported as a ratio to these, measured in the same run on the same gunicorn
configuration, because absolute times on a shared 2-core machine are noise.
"""
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
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


@login_required
def signed_in_minimum(request: HttpRequest) -> HttpResponse:
    """What every signed-in request pays before any page work: the session read and the user
    loaded (and checked against the session's hash) behind the full middleware stack; then "ok",
    no template. No citizen page can be cheaper, so its share of the bare view bounds theirs."""
    return HttpResponse("ok")


@login_required
def signed_in_floor(request: HttpRequest) -> HttpResponse:
    """The cheapest page a signed-in citizen can get: the session and the user are loaded and the
    site's shell (``base.html``, with its header badge) is rendered around an empty body. Not the
    target's baseline (that stays ``bare``): it shows how much of a citizen page is the shell."""
    return render(request, "base.html", {})
