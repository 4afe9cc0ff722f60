"""/metrics in the Prometheus text format: request latency by route, queue depth per queue, Celery task and
grading durations, lease expiries and webhook failures."""

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from ops import api as ops
from ops import metrics

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_request_latency_is_counted_by_route_name_not_path(client):
    name = "mooc_http_request_duration_seconds_count"
    before = value(scrape(client), name, view="account_login", method="GET", status="2xx")
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/accounts/login/?next=/somewhere/").status_code == 200
    assert client.get("/no-such-page/").status_code == 404
    after = scrape(client)
    assert value(after, name, view="account_login", method="GET", status="2xx") == before + 2
    assert value(after, name, view="unmatched", method="GET", status="4xx") >= 1
    assert not [key for key in after if key[0] == name and ("view", "ops:metrics") in key[1]]  # scrapes are not counted


def test_queue_depth_is_read_from_the_broker_per_queue(client, settings):
    settings.METRICS_QUEUES = ["ops-test-queue"]
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("ops-test-queue")
    broker.lpush("ops-test-queue", "a", "b", "c")
    try:
        samples = scrape(client)
    finally:
        broker.delete("ops-test-queue")
        broker.close()
    assert value(samples, "mooc_queue_depth", queue="ops-test-queue") == 3
    assert ("mooc_queue_depth", (("queue", "grading"),)) in samples
    assert ("mooc_queue_depth", (("queue", "celery"),)) in samples


def test_grading_tasks_feed_the_grading_latency_and_error_metrics(client):
    before = scrape(client)
    metrics.observe_task(task="grading.tasks.grade_submission", queue="grading", state="SUCCESS", seconds=3.0)
    metrics.observe_task(task="grading.tasks.grade_submission", queue="grading", state="RETRY", seconds=1.0)
    metrics.observe_task(task="notifications.tasks.deliver_pending", queue="celery", state="SUCCESS", seconds=0.1)
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("mooc_grading_duration_seconds_count", outcome="done") == 1
    assert delta("mooc_grading_duration_seconds_sum", outcome="done") == 3.0
    assert delta("mooc_grading_errors_total", outcome="retry") == 1
    assert delta("mooc_task_duration_seconds_count", task="notifications.tasks.deliver_pending", queue="celery",
                 state="SUCCESS") == 1  # fmt: skip
    assert delta("mooc_grading_duration_seconds_count", outcome="retry") == 1


def test_lease_expiries_and_webhook_failures_are_counted_through_the_api(client):
    before = scrape(client)
    ops.lease_expired(queue="grading", count=2)
    ops.lease_expired(queue="grading", count=0)
    ops.webhook_failed(source="stripe", outcome="rejected")
    after = scrape(client)
    lease = "mooc_lease_expiries_total"
    assert value(after, lease, queue="grading") - value(before, lease, queue="grading") == 2
    failures = "mooc_webhook_failures_total"
    got = value(after, failures, source="stripe", outcome="rejected")
    assert got - value(before, failures, source="stripe", outcome="rejected") == 1


def test_a_rejected_stripe_webhook_is_counted(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    name = "mooc_webhook_failures_total"
    before = value(scrape(client), name, source="stripe", outcome="rejected")
    response = client.post("/billing/stripe/webhook/", data=b"{}", content_type="application/json",
                           HTTP_STRIPE_SIGNATURE="t=1,v1=bad")  # fmt: skip
    assert response.status_code == 400
    assert value(scrape(client), name, source="stripe", outcome="rejected") == before + 1


def test_metrics_ask_for_the_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-token")
