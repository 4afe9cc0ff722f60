# Shared by the image builds (platform/sandbox/build-image.sh, platform/deploy/build-app-image.sh):
# a Debian root file system from mmdebstrap piped into `docker import`, never a registry. Source it
# after defining `log` and TAG; it only defines functions and one array.

# --force and --print-tag, the only options of both builds.
image_parse_args() {
    force=""
    print_only=""
    for arg in "$@"; do
        case "$arg" in
            --force) force=1 ;;
            --print-tag) print_only=1 ;;
            *) echo "usage: $0 [--force] [--print-tag]" >&2; exit 2 ;;
        esac
    done
}

image_exists() { docker image inspect "$TAG" >/dev/null 2>&1; }

# Print the tag and stop when there is nothing to build; otherwise hold LOCKFILE (one build at a time
# on this machine: a second caller waits, then finds the tag and stops).
image_build_lock_or_done() {
    local lockfile=$1
    if [[ -z "$force" ]] && image_exists; then
        log "$TAG already exists"
        echo "$TAG"
        exit 0
    fi
    exec 9>"$lockfile"
    if ! flock -n 9; then
        log "another build is running; waiting for it"
        flock 9
    fi
    if [[ -z "$force" ]] && image_exists; then
        log "$TAG was built meanwhile"
        echo "$TAG"
        exit 0
    fi
}

ensure_mmdebstrap() {
    command -v mmdebstrap >/dev/null 2>&1 && return 0
    log "installing mmdebstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends mmdebstrap >&2 ||
        { apt-get update >&2 && apt-get install -y --no-install-recommends mmdebstrap >&2; }
}

# Sets `mirror` and `security`: MOOC_DEBIAN_MIRROR, else the first Debian URI this machine's apt uses,
# else deb.debian.org.
debian_mirrors() {
    mirror=${MOOC_DEBIAN_MIRROR:-}
    if [[ -z "$mirror" && -r /etc/apt/sources.list.d/debian.sources ]]; then
        mirror=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    fi
    mirror=${mirror:-http://deb.debian.org/debian}
    security=${mirror%/debian}/debian-security
    mirror=${mirror%/}
}

# Comma-separated package list from a packages.txt (comments and blank lines ignored).
package_list() { grep -v '^\s*#' "$1" | tr -s ' \n' ',' | sed 's/^,//; s/,$//'; }

# No apt, docs, man pages or locales in the image.
MMDEBSTRAP_SLIM=(
    --variant=essential
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/lintian/*'
    --aptopt='Acquire::Languages "none"'
)

# Tag a complete import (a failed mmdebstrap must not leave a tag that makes the next run a no-op) as
# TAG and any further tags given, and drop the image that had TAG before (after --force) unless a
# container uses it.
image_tag_built() {
    local tmp_tag=$1 extra previous
    shift
    previous=$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)
    docker tag "$tmp_tag" "$TAG"
    for extra in "$@"; do docker tag "$tmp_tag" "$extra"; done
    docker rmi "$tmp_tag" >/dev/null
    if [[ -n "$previous" && "$previous" != "$(docker image inspect --format '{{.Id}}' "$TAG")" ]]; then
        docker rmi "$previous" >/dev/null 2>&1 || true
    fi
    log "built $TAG in $((SECONDS - start))s ($(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
}
