"""What an operator watches: health and readiness probes, Prometheus metrics, JSON logs with a request id
that follows the work into Celery tasks. Imports no other app of the project; any app may call ops.api."""
