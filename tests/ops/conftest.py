"""Fixtures of the operations tests: an S3-compatible store (moto server)."""

from tests.s3 import moto_endpoint, s3_media  # noqa: F401
