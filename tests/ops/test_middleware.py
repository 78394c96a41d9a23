"""Content-Security-Policy and Cache-Control: no-store on pages with personal data."""
import pytest
from django.conf import settings

from tests.factories import UserFactory


@pytest.mark.django_db
def test_csp_allows_no_inline_script(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_base_template_has_no_inline_handlers_and_loads_the_script(client):
    html = client.get("/").content.decode()
    assert "onchange=" not in html and "onclick=" not in html
    assert "<script>" not in html
    assert 'src="/static/js/portal.js"' in html
    assert "data-autosubmit" in html
    assert client.get("/static/js/portal.js").status_code == 200


@pytest.mark.django_db
def test_public_page_stays_cacheable_for_anonymous(client):
    response = client.get("/")
    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/me/", "/applications/", "/track/", "/messages/", "/reviews/", "/certifications/", "/dev/outbox/", "/admin/login/"]
)
def test_personal_paths_are_no_store_even_when_anonymous_or_404(client, path):
    response = client.get(path)
    assert "no-store" in response["Cache-Control"], (path, response.status_code)


@pytest.mark.django_db
def test_every_response_to_a_signed_in_user_is_no_store(client):
    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_admin_prefix_follows_the_setting():
    from portal.middleware import NoStoreForPersonalDataMiddleware

    middleware = NoStoreForPersonalDataMiddleware(lambda request: None)
    assert "/" + settings.ADMIN_URL.strip("/") + "/" in middleware.prefixes


@pytest.mark.parametrize("preset", [{}, {"Cache-Control": "private, max-age=60"}, {"Expires": "Thu, 01 Jan 2026 00:00:00 GMT"}])
def test_no_store_headers_are_what_djangos_helper_writes(rf, preset):
    """The middleware writes the two headers itself on a plain response (cheaper) and merges with
    Django's helper otherwise: either way the headers equal ``add_never_cache_headers``'s."""
    import time_machine
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse
    from django.utils.cache import add_never_cache_headers

    from portal.middleware import NoStoreForPersonalDataMiddleware

    def view(request):
        return HttpResponse("x", headers=preset)

    with time_machine.travel("2026-12-07 20:01:45.6+00:00", tick=False):
        request = rf.get("/applications/")
        request.user = AnonymousUser()
        ours = NoStoreForPersonalDataMiddleware(view)(request)
        expected = view(request)
        add_never_cache_headers(expected)
    assert {k: ours[k] for k in ("Cache-Control", "Expires")} == {k: expected[k] for k in ("Cache-Control", "Expires")}
    assert "no-store" in ours["Cache-Control"]
