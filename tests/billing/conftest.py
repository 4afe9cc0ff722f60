"""Billing tests run Celery tasks in-process (for real, eagerly) unless a test starts its own worker:
nothing here may leave a message in a broker another process reads."""

import pytest


@pytest.fixture(autouse=True)
def _billing_tasks_eager(celery_eager):
    return celery_eager
