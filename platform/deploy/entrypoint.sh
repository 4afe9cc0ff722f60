#!/bin/sh
# Entrypoint of the application image: one image, one role per container.
#
#   db | redis | nginx        the infrastructure, from Debian's packages in this image
#   web                       wait for the database, migrate, then gunicorn config.wsgi
#   worker                    wait for the database, then Celery on $MOOC_WORKER_QUEUES (default: grading,
#                             celery and email; docker-compose.yml runs one worker per queue)
#   beat                      wait for the database, then Celery beat
#   manage ARGS...            wait for the database, then manage.py ARGS (one-off operator commands)
#   anything else             exec'd as given (a shell, for instance)
#
# The app runs as the unprivileged user `mooc`; the worker also gets the group that owns the
# Docker socket, to start sandbox containers on the host's engine. Everything else comes from the
# environment (platform/deploy/.env.example).
set -eu

# Supplementary group: the one owning the Docker socket, when it is mounted (the worker's).
sock_gid=""
if [ -S /var/run/docker.sock ]; then sock_gid=$(stat -c %g /var/run/docker.sock); fi
as_mooc() { exec setpriv --reuid=mooc --regid=mooc --groups "mooc${sock_gid:+,$sock_gid}" "$@"; }

# DATABASE_URL is the one place the database credentials are written: the db role reads it too.
db_url_part() {
    python3 -c 'import os, sys, urllib.parse as u
p = u.urlsplit(os.environ["DATABASE_URL"])
print({"user": u.unquote(p.username or "mooc"), "password": u.unquote(p.password or ""),
       "name": p.path.lstrip("/") or "mooc", "host": p.hostname or "", "port": p.port or 5432}[sys.argv[1]])' "$1"
}

wait_for_db() {
    timeout=${MOOC_DB_WAIT_S:-60}
    python3 - "$timeout" <<'PY'
import os, sys, time, urllib.parse as u
import psycopg2
url, deadline = os.environ["DATABASE_URL"], time.monotonic() + float(sys.argv[1])
while True:
    try:
        psycopg2.connect(url, connect_timeout=3).close()
        break
    except psycopg2.OperationalError as exc:
        if time.monotonic() > deadline:
            host = u.urlsplit(url).hostname
            sys.exit(f"entrypoint: database at {host} not reachable after {sys.argv[1]}s: {exc}")
        time.sleep(1)
PY
}

# Prometheus (ops/metrics.py): each process of gunicorn or of Celery's pool writes its counts to files in this
# folder and a scrape adds them up; emptied at start, as the library requires.
metrics_dir() {
    export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/mooc-metrics}"
    rm -rf "$PROMETHEUS_MULTIPROC_DIR"
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    chown mooc:mooc "$PROMETHEUS_MULTIPROC_DIR"
}

role=${1:-web}
case "$role" in
db)
    PGDATA=${PGDATA:-/var/lib/postgresql/data}
    bin=/usr/lib/postgresql/15/bin
    mkdir -p "$PGDATA" /run/postgresql
    chown postgres:postgres "$PGDATA" /run/postgresql
    chmod 700 "$PGDATA"
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        user=$(db_url_part user) password=$(db_url_part password) name=$(db_url_part name)
        [ -n "$password" ] || { echo "entrypoint: DATABASE_URL has no password" >&2; exit 1; }
        echo "entrypoint: creating the database cluster in $PGDATA (owner role $user, database $name)"
        setpriv --reuid=postgres --regid=postgres --init-groups \
            "$bin/initdb" -D "$PGDATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
            --auth-local=peer --auth-host=scram-sha-256 >/dev/null
        printf "host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n" >>"$PGDATA/pg_hba.conf"
        # Create the role and database on a socket-only server, then stop it.
        setpriv --reuid=postgres --regid=postgres --init-groups \
            "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
        PGPASSWORD_SQL=$(printf "%s" "$password" | sed "s/'/''/g")
        setpriv --reuid=postgres --regid=postgres --init-groups psql -v ON_ERROR_STOP=1 -q -d postgres <<SQL
CREATE ROLE "$user" LOGIN PASSWORD '$PGPASSWORD_SQL';
CREATE DATABASE "$name" OWNER "$user";
SQL
        setpriv --reuid=postgres --regid=postgres --init-groups "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
    fi
    exec setpriv --reuid=postgres --regid=postgres --init-groups \
        "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/run/postgresql
    ;;
redis)
    mkdir -p /data && chown redis:redis /data
    # Append-only file: queued tasks survive a restart of this container.
    exec setpriv --reuid=redis --regid=redis --init-groups redis-server --bind 0.0.0.0 --protected-mode no \
        --dir /data --appendonly yes --save '' --loglevel notice
    ;;
nginx)
    # The one nginx configuration (platform/nginx/mooc.conf), with the upstream of this stack.
    sed "s/server 127\.0\.0\.1:8000;/server ${MOOC_UPSTREAM:-web:8000};/" \
        /srv/mooc/app/platform/nginx/mooc.conf >/etc/nginx/conf.d/mooc.conf
    ln -sf /dev/stdout /var/log/nginx/access.log
    ln -sf /dev/stderr /var/log/nginx/error.log
    nginx -t -q
    exec nginx -g 'daemon off;'
    ;;
web)
    wait_for_db
    (as_mooc python manage.py migrate --noinput)
    metrics_dir
    # No gunicorn access log: the app logs one JSON line per request (logger mooc.access, with its request id).
    as_mooc gunicorn config.wsgi --config python:ops.gunicorn_conf --bind 0.0.0.0:8000 \
        --workers "${GUNICORN_WORKERS:-3}" --timeout "${GUNICORN_TIMEOUT:-60}" --forwarded-allow-ips '*'
    ;;
worker)
    # One queue per worker service in docker-compose.yml (grading | celery | email); all three by default.
    wait_for_db
    metrics_dir
    export METRICS_WORKER_PORT="${METRICS_WORKER_PORT:-9808}"  # the worker's own /metrics, on the compose network
    as_mooc celery -A config worker -Q "${MOOC_WORKER_QUEUES:-grading,celery,email}" \
        --concurrency "${CELERY_CONCURRENCY:-2}" --loglevel INFO
    ;;
beat)
    wait_for_db
    as_mooc celery -A config beat --schedule /srv/mooc/beat/celerybeat-schedule --loglevel INFO
    ;;
manage)
    shift
    wait_for_db
    as_mooc python manage.py "$@"
    ;;
*)
    exec "$@"
    ;;
esac
