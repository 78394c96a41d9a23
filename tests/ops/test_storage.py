"""Uploads on S3 through django-storages, with the settings from base.py, against moto's server."""
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3
import pytest

from tests.ops.conftest import manage

BUCKET = "portal-private-test"

# Runs inside `manage.py shell` with STORAGE_BACKEND=s3: exercises the real STORAGES setting.
SCRIPT = """
import json
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
s = storages["default"]
first = s.save("materials/report.pdf", ContentFile(b"first"))
second = s.save("materials/report.pdf", ContentFile(b"second"))
print("RESULT " + json.dumps({
    "backend": type(s).__module__ + "." + type(s).__name__,
    "first": first, "second": second,
    "first_bytes": s.open(first).read().decode(), "second_bytes": s.open(second).read().decode(),
    "url": s.url(first),
    "options": {k: settings.STORAGES["default"]["OPTIONS"][k] for k in ("default_acl", "querystring_auth", "querystring_expire", "file_overwrite")},
}))
"""


@pytest.fixture
def bucket(moto_s3):
    client = boto3.client(
        "s3", endpoint_url=moto_s3, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    client.create_bucket(Bucket=BUCKET)
    return moto_s3, client


def _run(endpoint: str) -> dict:
    env = {
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": endpoint,
        "S3_ACCESS_KEY_ID": "test",
        "S3_SECRET_ACCESS_KEY": "test",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    import os

    result = manage("shell", "-c", SCRIPT, env={**os.environ, **env}, timeout=60)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_uploads_are_private_never_overwritten_and_urls_expire_within_five_minutes(bucket):
    endpoint, client = bucket
    started = time.time()
    out = _run(endpoint)
    assert out["backend"] == "storages.backends.s3.S3Storage"
    assert out["options"] == {"default_acl": "private", "querystring_auth": True, "querystring_expire": 300, "file_overwrite": False}

    # A second upload with the same name gets a new key; the first object is untouched.
    assert out["first"] == "materials/report.pdf" and out["second"] != out["first"]
    assert out["second"].startswith("materials/report_") and out["second"].endswith(".pdf")
    assert (out["first_bytes"], out["second_bytes"]) == ("first", "second")
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {out["first"], out["second"]}

    # Private: only the owner has a grant, and an unsigned request is refused.
    grants = client.get_object_acl(Bucket=BUCKET, Key=out["first"])["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(f"{endpoint}/{BUCKET}/{out['first']}", timeout=10)
    assert excinfo.value.code == 403

    # The presigned URL works, and says it expires within 300 seconds.
    query = urllib.parse.parse_qs(urllib.parse.urlparse(out["url"]).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert "X-Amz-Signature" in query
    signed_at = time.mktime(time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")) - time.timezone
    assert abs(signed_at - started) < 120
    with urllib.request.urlopen(out["url"], timeout=10) as response:
        assert response.read() == b"first"

