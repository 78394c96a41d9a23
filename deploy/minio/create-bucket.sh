#!/bin/sh
# One-shot (compose service `createbucket`): create the private bucket for uploaded records.
# Idempotent; anonymous access stays off, so objects are reachable only by presigned URL.
set -eu
mc alias set portal "$S3_ENDPOINT_URL" "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY"
mc mb --ignore-existing "portal/$S3_BUCKET"
mc anonymous set none "portal/$S3_BUCKET"
echo "bucket $S3_BUCKET ready (private)"
