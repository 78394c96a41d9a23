# syntax=docker/dockerfile:1
# Three stages: `builder` compiles every dependency into wheels (compilers stay out of the
# runtime image), `runtime` is the app (web, worker, beat and the one-shot migrate all run it),
# `proxy` is nginx with this release's collected static files baked in, so a new release never
# serves yesterday's CSS from a stale volume.

FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml ./
COPY portal ./portal
COPY catalog ./catalog
COPY applications ./applications
COPY reviews ./reviews
COPY certifications ./certifications
COPY notifications ./notifications
# Wheels for the dependencies only: the project itself runs from /app as source.
RUN pip wheel --wheel-dir /wheels . \
 && rm -f /wheels/menteportal-*.whl

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=portal.settings.production \
    PORTAL_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles
# No system packages: psycopg2-binary bundles libpq, translations ship compiled (locale/*.mo).
RUN groupadd --system --gid 10001 portal \
 && useradd --system --uid 10001 --gid portal --home-dir /app --shell /usr/sbin/nologin portal
COPY --from=builder /wheels /wheels
RUN pip install --no-index --find-links=/wheels /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY --chown=portal:portal . /app
# collectstatic needs no secrets and no database: the base settings' embedded defaults suffice.
RUN DJANGO_SETTINGS_MODULE=portal.settings python manage.py collectstatic --no-input --verbosity 0 \
 && mkdir -p /app/var && chown -R portal:portal /app/var /app/staticfiles
USER portal:portal
EXPOSE 8000
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py"]

FROM nginx:1.27-alpine AS proxy
# The official image renders /etc/nginx/templates/*.template with envsubst at start.
COPY deploy/nginx/portal.conf.template /etc/nginx/templates/portal.conf.template
RUN rm -f /etc/nginx/conf.d/default.conf
COPY --from=runtime /app/staticfiles /usr/share/nginx/static
