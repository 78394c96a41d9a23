"""System checks for the account setup: a mistyped identity provider fails at start-up, not at
the moment a citizen tries to verify.

An *unavailable* provider (the development one outside development) is not reported here: until
a province's face-check service is wired in, production runs without one, and the identity page
already tells citizens plainly that verification is unavailable.
"""
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def identity_provider_check(app_configs, **kwargs):
    from portal.identity_providers import identity_provider_get

    try:
        identity_provider_get()
    except ImproperlyConfigured as exc:
        return [
            Error(
                str(exc),
                hint="Set IDENTITY_PROVIDER to a portal.identity_providers.IdentityProvider subclass.",
                id="portal.E001",
            )
        ]
    return []
