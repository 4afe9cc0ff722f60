#!/usr/bin/env bash
# End-to-end check of the one-machine stack (docker-compose.yml), through nginx on loopback:
# build the image if needed, start the stack under its own project name, check, tear down.
#
#   platform/deploy/smoke.sh            (or: make deploy-smoke)
#
# Checks: the log-in page (200), a static file served by nginx itself, the admin redirecting to
# log-in, a placeholder secret key refused by the production settings; the demo pack imported in the
# web container, then the catalog (200) and a lecture video fetched with a Range header by a learner
# with an active subscription: 206 from nginx through X-Accel-Redirect (ETag/Last-Modified are nginx's,
# Django sends none), refused to an anonymous visitor, and the internal location unreachable from
# outside. When the mooc-sandbox image exists on the engine, also: publish_graders in the worker and
# a notebook graded through Redis → worker → sandbox. Operations: a content security policy and a request id
# on pages, /healthz through nginx while /readyz and /metrics stay internal, request latency and queue depth
# in web's /metrics, JSON access lines in its log, /readyz ready with the worker's engine heartbeat. Last,
# backup.sh, `down -v`, an empty stack, restore.sh, and the restored catalog, session and video are served.
# Exits non-zero on the first failure.
#
# Environment: MOOC_SMOKE_PROJECT (moocdeploy), MOOC_SMOKE_BIND (127.0.0.1:8080),
# MOOC_SMOKE_KEEP=1 leaves the stack running (the command that tears it down is printed at the end),
# MOOC_SMOKE_GRADING=0 skips the grading check (and readiness, which needs a worker's engine),
# MOOC_SMOKE_BACKUP=0 the backup and restore, MOOC_SMOKE_WAIT_S (240) how long the stack may take to serve.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

PROJECT=${MOOC_SMOKE_PROJECT:-moocdeploy}
BIND=${MOOC_SMOKE_BIND:-127.0.0.1:8080}
BASE="http://$BIND"
GRADING=${MOOC_SMOKE_GRADING:-1}
WAIT_S=${MOOC_SMOKE_WAIT_S:-240}  # for the stack to serve after `up` (first migrate included); more on a busy host

say() { echo "smoke: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
pass() { say "ok: $*"; }

# The compose client: docker-compose or docker compose, else Debian's docker-compose is installed
# (as `make engine` installs docker.io).
client=$(platform/deploy/ensure-compose.sh | tail -n 1) || fail "no compose client (platform/deploy/ensure-compose.sh)"
read -r -a compose <<<"$client"
compose+=(-p "$PROJECT")
if curl -s -o /dev/null --max-time 2 "$BASE/"; then
    fail "something already answers on $BIND; stop it or set MOOC_SMOKE_BIND"
fi

t=$SECONDS
MOOC_APP_IMAGE=$(platform/deploy/build-app-image.sh | tail -n 1)
say "image $MOOC_APP_IMAGE ready in $((SECONDS - t))s ($(docker image inspect --format '{{.Size}}' "$MOOC_APP_IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"

MOOC_ENV_FILE=$(mktemp /tmp/mooc-smoke-env.XXXXXX)
secret() { head -c 40 /dev/urandom | base64 | tr -d '\n/+='; }
cat >"$MOOC_ENV_FILE" <<ENV
DJANGO_SECRET_KEY=$(secret)
DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
DJANGO_CSRF_TRUSTED_ORIGINS=$BASE
SITE_URL=$BASE
DJANGO_SECURE_SSL_REDIRECT=true
DJANGO_SECURE_HSTS_SECONDS=0
DATABASE_URL=postgres://mooc:$(secret)@db:5432/mooc
CELERY_BROKER_URL=redis://redis:6379/0
REDIS_URL=redis://redis:6379/1
EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend
GUNICORN_WORKERS=2
CELERY_CONCURRENCY=1
ENV
export MOOC_APP_IMAGE MOOC_ENV_FILE MOOC_HTTP_BIND="$BIND"
# The compose file names the env file, the image and the port through these variables: `down` without
# them fails ("Couldn't find env file"), so the printed command carries them.
teardown="cd $PWD && MOOC_ENV_FILE=$MOOC_ENV_FILE MOOC_APP_IMAGE=$MOOC_APP_IMAGE MOOC_HTTP_BIND=$BIND ${compose[*]} down -v --remove-orphans && rm -f $MOOC_ENV_FILE"

cleanup() {
    local rc=$?
    if ((rc != 0)); then
        say "logs of the failed run (last lines per service):"
        "${compose[@]}" logs --no-color --tail 25 >&2 2>/dev/null || true
    fi
    if [[ -n "${MOOC_SMOKE_KEEP:-}" ]]; then
        say "left running (MOOC_SMOKE_KEEP); tear down with:"
        say "  $teardown"
    else
        "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || say "down failed; run: $teardown"
        rm -f "$MOOC_ENV_FILE"
    fi
    exit "$rc"
}
trap cleanup EXIT

t=$SECONDS
"${compose[@]}" up -d >&2
# Production settings redirect plain HTTP to HTTPS; every request says what the TLS proxy in front of
# nginx would say (nginx passes X-Forwarded-Proto on), so the stack runs as configured for production.
TLS=(-H "X-Forwarded-Proto: https")
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${TLS[@]}" "$@"; }
# The log-in page needs no content: the stack serves once it answers 200 through nginx.
wait_for_login() {
    until [[ "$(code "$BASE/accounts/login/")" == 200 ]]; do
        ((SECONDS - t < WAIT_S)) || fail "the log-in page did not answer 200 within ${WAIT_S}s"
        if "${compose[@]}" ps | grep -q -i -E "exit|restarting"; then
            "${compose[@]}" ps >&2
            fail "a container exited or is restarting"
        fi
        sleep 1
    done
}
wait_for_login
pass "log-in page 200 through nginx, $((SECONDS - t))s after 'up' started"
headers=$(curl -s -D - -o /dev/null "${TLS[@]}" "$BASE/accounts/login/")
grep -qi "^Content-Security-Policy: .*script-src 'self';" <<<"$headers" || fail "no content security policy: $headers"
grep -qi "^X-Request-ID: [0-9a-f]\{32\}" <<<"$headers" || fail "no request id from nginx: $headers"
[[ "$(code "$BASE/healthz")" == 200 ]] || fail "/healthz not 200 through nginx"
[[ "$(code "$BASE/readyz")" == 404 && "$(code "$BASE/metrics")" == 404 ]] || fail "/readyz or /metrics reachable through nginx"
probe() { "${compose[@]}" exec -T web python3 -c "import sys, urllib.request as u
try: r = u.urlopen('http://127.0.0.1:8000$1', timeout=10); print(r.status); sys.stdout.write(r.read().decode())
except Exception as e: print(getattr(e, 'code', e)); sys.stdout.write(e.read().decode() if hasattr(e, 'read') else '')"; }
metrics=$(probe /metrics)
# (Label order differs between single- and multi-process output: match each label.)
grep '^mooc_http_request_duration_seconds_count{' <<<"$metrics" | grep 'view="account_login"' | grep -q 'status="2xx"' ||
    fail "web /metrics has no request latency of the log-in page: $(head -c 300 <<<"$metrics")"
grep -q '^mooc_queue_depth{queue="grading"}' <<<"$metrics" || fail "web /metrics has no queue depth"
logline=$("${compose[@]}" logs --no-color web | grep -m1 '"logger": "mooc.access"' || true)
[[ -n "$logline" ]] || fail "web logs no JSON access line"
pass "CSP and X-Request-ID on pages, /healthz open, /readyz and /metrics internal; metrics and JSON logs in web"

headers=$(curl -s -D - -o /dev/null "${TLS[@]}" "$BASE/static/css/site.css")
grep -q "^HTTP/1.1 200" <<<"$headers" || fail "static file: $(head -1 <<<"$headers")"
# nginx's /static/ location adds "immutable"; whitenoise behind it would not.
grep -qi "^Cache-Control: .*immutable" <<<"$headers" || fail "static file not served by nginx: $headers"
pass "static file 200 from nginx"
plain=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/accounts/login/")
[[ "$plain" == "301 https://"* ]] || fail "plain HTTP: expected a redirect to https, got $plain"
pass "plain HTTP is redirected to HTTPS"
location=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "${TLS[@]}" "$BASE/admin/")
[[ "$location" == "302 $BASE/admin/login/?next=/admin/" ]] || fail "admin: expected a redirect to log-in, got $location"
pass "admin redirects to log-in"
if "${compose[@]}" run --rm --no-deps -e DJANGO_SECRET_KEY=change-me web python manage.py check >/dev/null 2>&1; then
    fail "production settings accepted the placeholder secret key"
fi
pass "placeholder DJANGO_SECRET_KEY refused"

manage() { "${compose[@]}" exec -T "$1" mooc-entrypoint manage "${@:2}"; }
t=$SECONDS
manage web import_pack content/demo >/dev/null || fail "import_pack content/demo"
pass "demo pack imported in the web container in $((SECONDS - t))s"
[[ "$(code "$BASE/courses/")" == 200 ]] || fail "catalog not 200"
[[ "$(code "$BASE/")" == 200 ]] || fail "home page not 200"
pass "catalog and home page 200"

# A learner with an active subscription, logged in by a session made on the server (the session
# cookie is Secure, which curl would not send over plain HTTP).
read -r session item_id < <(manage web shell -c '
import datetime
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from accounts.services import user_create_verified
from billing.models import Subscription
from courses.models import Lecture

now = timezone.now()
user = user_create_verified(email="smoke-learner@example.com", password="smoke-pass-1234", name="Smoke")
Subscription.objects.update_or_create(
    stripe_subscription_id="sub_smoke",
    defaults={"user": user, "status": "active", "current_period_start": now,
              "current_period_end": now + datetime.timedelta(days=30)},
)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
lecture = next(
    lec for lec in Lecture.objects.select_related("item__course").exclude(video="").order_by("item_id")
    if not lec.item.is_preview and lec.item.course.is_released()
)
print(session.session_key, lecture.item_id)
' | tail -n 1)
[[ -n "$session" && -n "$item_id" ]] || fail "could not create the learner session"
video="$BASE/media/lectures/$item_id/video/"
headers=$(curl -s -D - -o /tmp/mooc-smoke-range.$$ "${TLS[@]}" -H "Cookie: sessionid=$session" -H "Range: bytes=100-1123" "$video")
bytes=$(stat -c %s /tmp/mooc-smoke-range.$$)
rm -f /tmp/mooc-smoke-range.$$
grep -q "^HTTP/1.1 206" <<<"$headers" || fail "video with Range: $(head -1 <<<"$headers")"
grep -qi "^Content-Range: bytes 100-1123/" <<<"$headers" || fail "video: no Content-Range: $headers"
((bytes == 1024)) || fail "video: expected 1024 bytes, got $bytes"
grep -qi "^ETag:" <<<"$headers" && grep -qi "^Last-Modified:" <<<"$headers" ||
    fail "video: no ETag/Last-Modified, so nginx did not serve the file: $headers"
grep -qi "^X-Accel-Redirect" <<<"$headers" && fail "video: X-Accel-Redirect leaked to the client"
pass "lecture video: 206, 1024 bytes, served by nginx through X-Accel-Redirect"
status=$(code -H "Range: bytes=0-99" "$video")
[[ "$status" == 302 || "$status" == 403 ]] || fail "anonymous video request got $status"
relative=$(manage web shell -c "from courses.models import Item; print(Item.objects.get(pk=$item_id).lecture.video.name)" | tail -n 1)
[[ "$(code "$BASE/protected-media/$relative")" == 404 ]] || fail "/protected-media/ reachable from outside"
pass "video refused to an anonymous visitor ($status); /protected-media/ is internal (404)"

# Grading: publish the demo graders (self-check in the sandbox), then one notebook end to end.
sandbox=$("${compose[@]}" exec -T worker python -c 'from django.conf import settings; from grading.sandbox import image_tag; print(image_tag(settings.SANDBOX_RECIPE_DIR))' 2>/dev/null | tail -n 1 || true)
if [[ "$GRADING" == 0 ]]; then
    say "skipped: grading (MOOC_SMOKE_GRADING=0)"
elif ! docker image inspect "$sandbox" >/dev/null 2>&1; then
    say "skipped: grading (no sandbox image $sandbox on this engine: platform/sandbox/build-image.sh builds it)"
else
    t=$SECONDS
    manage worker publish_graders >&2 || fail "publish_graders in the worker"
    pass "graders self-checked in $sandbox and published in $((SECONDS - t))s"
    t=$SECONDS
    result=$(manage web shell -c '
import time
from pathlib import Path
from accounts.models import User
from grading.models import Assignment, Submission
from grading.services import submission_create

assignment = Assignment.objects.select_related("item").get(item__slug="vectorised-logistic-regression")
learner = User.objects.get(email="smoke-learner@example.com")
notebook = Path("content/demo/courses/neural-networks-and-deep-learning/assignments/vectorised-logistic-regression/solution.ipynb")
submission = submission_create(assignment=assignment, learner=learner, data=notebook.read_bytes(), filename="solution.ipynb")
deadline = time.monotonic() + 180
while submission.status not in ("graded", "error") and time.monotonic() < deadline:
    time.sleep(0.5)
    submission.refresh_from_db()
print(submission.status, submission.score, submission.max_score)
' | tail -n 1)
    read -r st score max <<<"$result"
    [[ "$st" == graded && -n "$max" && "$score" == "$max" ]] || fail "graded submission: $result"
    pass "solution notebook graded through Redis, the worker and the sandbox: $score/$max in $((SECONDS - t))s"
fi
# Readiness: database, Redis, media storage, and the engine as the worker reports it (its heartbeat).
if [[ "$GRADING" != 0 ]]; then
    t=$SECONDS
    until ready=$(probe /readyz) && [[ "$(head -n 1 <<<"$ready")" == 200 ]]; do
        ((SECONDS - t < 90)) || fail "/readyz not ready within 90s: $ready"
        sleep 2
    done
    pass "/readyz: ready (database, Redis, storage, the worker's engine)"
fi

# Backup and restore: back up the running site, delete the stack with its volumes, start an empty one, restore
# into it, and the site serves the restored data (the catalog, the learner's session and video).
if [[ "${MOOC_SMOKE_BACKUP:-1}" != 0 ]]; then
    backup_dir=$(mktemp -d /tmp/mooc-smoke-backup.XXXXXX)
    t=$SECONDS
    MOOC_PROJECT=$PROJECT platform/deploy/backup.sh "$backup_dir/backup" || fail "backup.sh"
    pass "backup of the database, media and submissions in $((SECONDS - t))s ($(du -sh "$backup_dir/backup" | cut -f1))"
    "${compose[@]}" down -v >&2
    t=$SECONDS
    "${compose[@]}" up -d >&2
    wait_for_login
    [[ "$(code -H "Cookie: sessionid=$session" "$video")" == 404 ]] || fail "the new stack is not empty"
    t=$SECONDS
    MOOC_PROJECT=$PROJECT platform/deploy/restore.sh "$backup_dir/backup" || fail "restore.sh"
    wait_for_login
    catalog=$(curl -s "${TLS[@]}" "$BASE/courses/")
    grep -q "Neural Networks and Deep Learning" <<<"$catalog" || fail "the restored catalog lacks the demo course"
    headers=$(curl -s -D - -o /tmp/mooc-smoke-range.$$ "${TLS[@]}" -H "Cookie: sessionid=$session" -H "Range: bytes=100-1123" "$video")
    bytes=$(stat -c %s /tmp/mooc-smoke-range.$$)
    rm -f /tmp/mooc-smoke-range.$$
    grep -q "^HTTP/1.1 206" <<<"$headers" && ((bytes == 1024)) || fail "restored video: $(head -1 <<<"$headers"), $bytes bytes"
    rm -rf "$backup_dir"
    pass "restored into an empty stack in $((SECONDS - t))s: catalog, the learner's session and video served again"
fi
say "all checks passed"
