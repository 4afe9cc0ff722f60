"""Fixtures shared by the course page tests: an S3-compatible store (moto server) and a completed course."""

from tests.courseware.test_archive import completed_course  # noqa: F401
from tests.s3 import moto_endpoint, s3_media  # noqa: F401
