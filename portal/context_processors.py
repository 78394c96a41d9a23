from django.conf import settings

ELDER_MODE_COOKIE = "elder_mode"


def shell(request):
    """What every page of the citizen shell needs: elder mode and the environment flavour."""
    return {
        "elder_mode": request.COOKIES.get(ELDER_MODE_COOKIE) == "1",
        "embedded": settings.EMBEDDED,
    }
