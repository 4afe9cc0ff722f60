#!/usr/bin/env bash
# Restore a backup made by platform/deploy/backup.sh into a running stack, usually a new and empty one
# (`docker-compose -p mooc up -d` on fresh volumes; the db container has created the role and database from
# DATABASE_URL, and web has migrated). What the stack held before is replaced.
#
#   platform/deploy/restore.sh DIR
#
# Steps: verify the checksums; stop nginx, web, worker and beat (nothing writes meanwhile); pg_restore --clean in
# one transaction (objects keep their owner, the role of DATABASE_URL); replace the media and submissions
# volumes' contents; start the services again (web migrates, for a backup of older code). Stops at the
# first error. Environment: as backup.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

log() { echo "restore: $*" >&2; }
dir=${1:?usage: platform/deploy/restore.sh DIR}
[[ -f "$dir/db.dump" && -f "$dir/SHA256SUMS" ]] || { log "$dir holds no backup (db.dump, SHA256SUMS)"; exit 2; }
(cd "$dir" && sha256sum --quiet -c SHA256SUMS) || { log "checksums do not match: the backup is damaged"; exit 1; }
client=$(platform/deploy/ensure-compose.sh | tail -n 1)
read -r -a compose <<<"$client"
compose+=(-p "${MOOC_PROJECT:-mooc}")

t=$SECONDS
# nginx too: it resolved web's address when it started, and a restarted web container may get another one.
"${compose[@]}" stop nginx web worker beat >&2
"${compose[@]}" exec -T -u postgres db sh -c \
    'name=${DATABASE_URL##*/}; exec pg_restore --clean --if-exists --single-transaction --exit-on-error -d "${name%%\?*}"' \
    <"$dir/db.dump"
log "database restored in $((SECONDS - t))s"
for volume in media submissions; do
    [[ -f "$dir/$volume.tar" ]] || continue
    # A one-off container of the web service mounts the same volumes; the files keep their owner (mooc).
    "${compose[@]}" run --rm --no-deps -T web sh -c \
        "find /srv/mooc/$volume -mindepth 1 -delete && tar -C /srv/mooc/$volume -xf -" <"$dir/$volume.tar"
    log "$volume restored"
done
"${compose[@]}" up -d >&2
log "done in $((SECONDS - t))s; web migrates, then serves the restored data"
