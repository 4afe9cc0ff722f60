#!/usr/bin/env bash
# Back up a running one-machine stack (docker-compose.yml): the PostgreSQL database and the media and
# submissions volumes, into one folder.
#
#   platform/deploy/backup.sh DIR            (DIR is created; it must not exist or be empty)
#
# DIR/db.dump           pg_dump custom format, taken in the db container as `postgres` over its socket:
#                       a consistent snapshot while the site keeps running
# DIR/media.tar         the media volume (rendered videos, course archives); absent with MEDIA_STORAGE=s3,
#                       where the bucket is backed up by the object store's own means (versioning, replication)
# DIR/submissions.tar   the submitted notebooks
# DIR/SHA256SUMS        checksums, which restore.sh verifies first
#
# Environment: MOOC_PROJECT (compose project, default mooc) and the variables docker-compose.yml reads
# (MOOC_ENV_FILE, MOOC_APP_IMAGE, MOOC_HTTP_BIND). Restore with platform/deploy/restore.sh DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

log() { echo "backup: $*" >&2; }
dir=${1:?usage: platform/deploy/backup.sh DIR}
if [[ -e "$dir" && -n "$(ls -A "$dir" 2>/dev/null)" ]]; then
    log "$dir exists and is not empty; choose a new folder"
    exit 2
fi
mkdir -p "$dir"
client=$(platform/deploy/ensure-compose.sh | tail -n 1)
read -r -a compose <<<"$client"
compose+=(-p "${MOOC_PROJECT:-mooc}")

t=$SECONDS
# The database named in DATABASE_URL (the db container reads the same env file).
"${compose[@]}" exec -T -u postgres db sh -c 'name=${DATABASE_URL##*/}; exec pg_dump -Fc -d "${name%%\?*}"' >"$dir/db.dump"
log "database: $(du -h "$dir/db.dump" | cut -f1) in $((SECONDS - t))s"
storage=$("${compose[@]}" exec -T web sh -c 'echo "${MEDIA_STORAGE:-local}"' | tr -d '\r')
for volume in media submissions; do
    if [[ "$volume" == media && "$storage" != local ]]; then
        log "media: in the object store (MEDIA_STORAGE=$storage), not in this backup"
        continue
    fi
    "${compose[@]}" exec -T web tar -C "/srv/mooc/$volume" -cf - . >"$dir/$volume.tar"
    log "$volume: $(du -h "$dir/$volume.tar" | cut -f1)"
done
(cd "$dir" && sha256sum -- *.dump *.tar >SHA256SUMS)
log "done: $dir"
