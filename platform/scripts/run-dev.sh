#!/usr/bin/env bash
# `make run`'s last step: a Celery worker and beat beside the development server. Ctrl-C stops them all.
# PORT (default 8000) is where the site listens; the webhook URL and the printed links follow it.
set -euo pipefail
PORT="${PORT:-8000}"
export SITE_URL="${SITE_URL:-http://127.0.0.1:${PORT}}"
mkdir -p var/log
if (exec 3<>"/dev/tcp/127.0.0.1/${PORT}") 2>/dev/null; then
  echo "Port ${PORT} is already in use (another 'make run'?). Serve elsewhere with: make run PORT=$((PORT + 1))" >&2
  exit 1
fi
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# Billing: localstripe (a Stripe-compatible fake) on 127.0.0.1 beside the site, unless a real Stripe
# key is set and STRIPE_API_BASE is unset (then everything goes to Stripe and nothing local starts).
if [[ -z "${STRIPE_API_BASE:-}" && "${STRIPE_SECRET_KEY:-}" =~ ^(sk|rk)_(test|live)_ && "${STRIPE_SECRET_KEY}" != *localstripe* ]]; then
  echo "Billing: real Stripe (STRIPE_SECRET_KEY set). Add the webhook /billing/stripe/webhook/ in the Stripe dashboard."
elif [[ -z "${STRIPE_API_BASE:-}" || "${STRIPE_API_BASE}" =~ ^http://(127\.0\.0\.1|localhost)(:|/|$) ]]; then
  ls_port="${LOCALSTRIPE_PORT:-8420}"
  [[ "${STRIPE_API_BASE:-}" =~ :([0-9]+) ]] && ls_port="${BASH_REMATCH[1]}"
  export STRIPE_API_BASE="http://127.0.0.1:${ls_port}"
  export STRIPE_SECRET_KEY="${STRIPE_SECRET_KEY:-sk_test_localstripe}"
  export STRIPE_WEBHOOK_SECRET="${STRIPE_WEBHOOK_SECRET:-whsec_local_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
  if ! .venv/bin/python -c "import localstripe" 2>/dev/null; then
    echo "Installing localstripe (pinned in requirements-dev.txt) for the local billing demo..."
    # (the grep hides pip's notes about this machine's local wheel folders, as bootstrap-venv.sh does)
    .venv/bin/python -m pip install -q "$(grep '^localstripe==' requirements-dev.txt)" 2>&1 \
      | { grep -v "^WARNING: Location 'file://" || true; }
  fi
  if ! curl -fs "${STRIPE_API_BASE}/js.stripe.com/v3/" >/dev/null 2>&1; then
    setsid .venv/bin/python manage.py localstripe --port "${ls_port}" >var/log/localstripe.log 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do curl -fs "${STRIPE_API_BASE}/js.stripe.com/v3/" >/dev/null 2>&1 && break; sleep 0.2; done
    echo "localstripe started on ${STRIPE_API_BASE} (pid ${pids[-1]}, log var/log/localstripe.log)."
  fi
  .venv/bin/python manage.py billing_setup --webhook-url "http://127.0.0.1:${PORT}/billing/stripe/webhook/"
  echo "Billing: test card 4242 4242 4242 4242 on the local card page; e-mails print in this terminal."
fi

# setsid: Ctrl-C reaches only this script, whose cleanup asks each service to stop (a signal sent
# straight to Celery's pool children can leave the worker waiting on a lock they held).
setsid .venv/bin/celery -A config worker -Q celery,grading,email --concurrency 2 --loglevel INFO >var/log/worker.log 2>&1 &
pids+=($!)
echo "Celery worker started (pid ${pids[-1]}, log var/log/worker.log)."
# Beat: the sandbox reaper, course-release e-mails and the nightly billing reconciliation.
setsid .venv/bin/celery -A config beat --schedule var/celerybeat-schedule --loglevel INFO >var/log/beat.log 2>&1 &
pids+=($!)
echo "Celery beat started (pid ${pids[-1]}, log var/log/beat.log)."
# Every e-mail (sign-up, billing, notifications delivered by the worker) is shown here as it is sent.
mail_log="${DEV_MAIL_LOG:-${VAR_DIR:-var}/log/mail.log}"
mkdir -p "$(dirname "$mail_log")"
touch "$mail_log"
tail -n 0 -F "$mail_log" 2>/dev/null | sed -u 's/^/  mail │ /' &
pids+=($!)
echo
echo "Serving on http://127.0.0.1:${PORT}  (Ctrl-C to stop; e-mails appear below as they are sent)"
.venv/bin/python manage.py runserver "127.0.0.1:${PORT}"
