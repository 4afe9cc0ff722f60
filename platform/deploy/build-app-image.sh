#!/usr/bin/env bash
# Build the application image from Debian packages and PyPI wheels, with no container registry.
#
#   platform/deploy/build-app-image.sh [--force] [--print-tag]
#
# The tag is mooc-app:<first 12 hex of a sha256 over every file that goes into the image>: this
# recipe, requirements.txt and the application code (what `git ls-files` lists, without tests/,
# bench/ and the files that only run the image: docker-compose.yml, smoke.sh, ensure-compose.sh, the
# backup and restore scripts, the READMEs, the .env.example). Nothing changed: a no-op. The newest build is also tagged mooc-app:latest, which
# docker-compose.yml runs unless MOOC_APP_IMAGE says otherwise. The last line on stdout is the tag;
# progress goes to stderr.
#
# How (the same way as platform/sandbox/build-image.sh):
#   1. the host's pip downloads a wheelhouse for requirements.txt, resolved for bookworm's Python
#      (so this machine's pip configuration, mirrors included, is used; cached under var/deploy-cache/);
#   2. mmdebstrap builds a bookworm root file system with packages.txt from the Debian mirror this
#      machine already uses; customize hooks add the user `mooc`, copy the code and the wheelhouse
#      in, and run install-app.sh there (venv in /srv/mooc/venv, collectstatic into /srv/mooc/static);
#   3. the tar stream goes straight into `docker import`, which sets the entrypoint and environment.
#
# Environment: MOOC_DEBIAN_MIRROR (default: the first Debian URI in
# /etc/apt/sources.list.d/debian.sources, else http://deb.debian.org/debian); MOOC_DEPLOY_CACHE
# (default var/deploy-cache).
set -euo pipefail

RECIPE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$RECIPE_DIR/../.." && pwd)
REPO=mooc-app
log() { echo "build-app-image: $*" >&2; }
# shellcheck source=../scripts/debian-image.sh
source "$RECIPE_DIR/../scripts/debian-image.sh"
image_parse_args "$@"

# The files of the image, relative to the repository root, NUL-separated and sorted. Local state
# (var/, .venv/, .env) never goes in: git's ignore rules apply, and without git the same folders
# are left out by name.
context_files() {
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do [[ -f "$ROOT/$f" && ! -L "$ROOT/$f" ]] && printf '%s\0' "$f"; done
    else
        (cd "$ROOT" && find . \( -name .git -o -name .venv -o -name var -o -name node_modules -o -name __pycache__ \
            -o -name test-artifacts -o -name '.*_cache' \) -prune -o -type f ! -name '*.pyc' ! -name .env -print0 |
            sed -z 's|^\./||')
    fi | grep -z -v -E '^(tests|bench)/|(^|/)\.env$|^(README\.md|docker-compose\.yml|platform/deploy/(smoke\.sh|ensure-compose\.sh|backup\.sh|restore\.sh|README\.md|\.env\.example))$' | LC_ALL=C sort -z
}

context_hash() {
    (cd "$ROOT" && context_files | xargs -0 sha256sum | sha256sum | cut -c1-12)
}

TAG="$REPO:$(context_hash)"
if [[ -n "$print_only" ]]; then
    echo "$TAG"
    exit 0
fi

image_build_lock_or_done "${MOOC_APP_BUILD_LOCK:-/tmp/mooc-app-build.lock}"
ensure_mmdebstrap

start=$SECONDS
work=$(mktemp -d /tmp/mooc-app-build.XXXXXX)
tmp_tag="$REPO:building-${TAG#*:}-$$"
cleanup() { rm -rf "$work"; docker rmi "$tmp_tag" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# --- 1. wheelhouse (host pip, host configuration) ---------------------------------------------------
# Resolved for the image's interpreter, bookworm's Python 3.11.2 (Requires-Python is checked against
# it; some current releases need 3.11.5), binary wheels only, so no compiler is involved.
py=${PYTHON:-python3}
image_python=3.11.2
cache=${MOOC_DEPLOY_CACHE:-$ROOT/var/deploy-cache}
wheels="$cache/wheels-py$image_python-$(sha256sum "$ROOT/requirements.txt" | cut -c1-16)"
if [[ ! -f "$wheels/.complete" ]]; then
    log "downloading the wheelhouse $wheels"
    rm -rf "$wheels" && mkdir -p "$wheels"
    platforms=()
    for p in manylinux_2_36 manylinux_2_35 manylinux_2_34 manylinux_2_28 manylinux_2_27 manylinux_2_26 \
        manylinux_2_17 manylinux2014 manylinux_2_5 manylinux1 linux; do
        platforms+=(--platform "${p}_x86_64")
    done
    # (this machine's pip configuration may name local index folders that do not exist: drop those notes)
    "$py" -m pip download -q -r "$ROOT/requirements.txt" -d "$wheels" --only-binary=:all: \
        --python-version "$image_python" --implementation cp --abi cp311 --abi abi3 --abi none \
        "${platforms[@]}" --platform any 2>&1 >&2 | { grep -v "^WARNING: Location 'file://" || true; } >&2
    touch "$wheels/.complete"
fi

# --- 2. context: exactly the hashed files ---------------------------------------------------------
mkdir -p "$work/app"
(cd "$ROOT" && context_files | tar --null -T - -cf -) | tar -C "$work/app" -xf -
if [[ "$(cd "$work/app" && find . -type f -print0 | sed -z 's|^\./||' | LC_ALL=C sort -z | xargs -0 sha256sum |
    sha256sum | cut -c1-12)" != "${TAG#*:}" ]]; then
    log "the working tree changed during the build; run it again"
    exit 1
fi

# --- 3. root file system → docker import ----------------------------------------------------------
debian_mirrors
packages=$(package_list "$RECIPE_DIR/packages.txt")
log "building $TAG from $mirror with: $packages"

# The venv, collectstatic and byte-code: install-app.sh inside the root file system. pip there may
# fetch a dependency the host's resolution left out (see that script): from the host's index if set.
# The host's index and CA bundle (a TLS-intercepting proxy's CA lives there) are used in there too.
index_env=()
if index_url=${PIP_INDEX_URL:-$("$py" -m pip config get global.index-url 2>/dev/null)}; then
    index_env+=("PIP_INDEX_URL=$index_url")
fi
host_cert=${PIP_CERT:-$("$py" -m pip config get global.cert 2>/dev/null || true)}
host_cert=${host_cert:-/etc/ssl/certs/ca-certificates.crt}
if [[ -r "$host_cert" ]]; then
    cp "$host_cert" "$work/host-ca.crt"
    index_env+=("PIP_CERT=/tmp/host-ca.crt")
fi
# collectstatic needs some secret key; this one exists only during the build.
build_key=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')
chroot_env=(env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME=/root PYTHONDONTWRITEBYTECODE=1)
export MOOC_WORK="$work" MOOC_WHEELS="$wheels" MOOC_BUILD_KEY="$build_key"
mmdebstrap \
    "${MMDEBSTRAP_SLIM[@]}" \
    --include="$packages" \
    --customize-hook='chroot "$1" groupadd --system --gid 10001 mooc' \
    --customize-hook='chroot "$1" useradd --system --uid 10001 --gid 10001 --home-dir /srv/mooc --no-create-home --shell /usr/sbin/nologin mooc' \
    --customize-hook='mkdir -p "$1/srv/mooc/app" "$1/srv/mooc/media" "$1/srv/mooc/submissions" "$1/srv/mooc/beat" "$1/tmp/wheels"' \
    --customize-hook='tar -C "$MOOC_WORK/app" -cf - . | tar -C "$1/srv/mooc/app" -xf -' \
    --customize-hook='cp -a "$MOOC_WHEELS"/*.whl "$1/tmp/wheels/" && if [ -f "$MOOC_WORK/host-ca.crt" ]; then cp "$MOOC_WORK/host-ca.crt" "$1/tmp/"; fi' \
    --customize-hook="chroot \"\$1\" ${chroot_env[*]} ${index_env[*]} MOOC_BUILD_KEY=\"\$MOOC_BUILD_KEY\" sh /srv/mooc/app/platform/deploy/install-app.sh" \
    --customize-hook='rm -rf "$1/tmp/wheels" "$1/tmp/host-ca.crt"' \
    --customize-hook='chown -R 10001:10001 "$1/srv/mooc/media" "$1/srv/mooc/submissions" "$1/srv/mooc/beat"' \
    --customize-hook='rm -f "$1/etc/nginx/sites-enabled/default"' \
    --customize-hook='chroot "$1" sh -c "pg_dropcluster 15 main 2>/dev/null || true"' \
    --customize-hook='install -m 755 "$MOOC_WORK/app/platform/deploy/entrypoint.sh" "$1/usr/local/bin/mooc-entrypoint"' \
    --customize-hook='rm -rf "$1"/var/cache/* "$1"/var/log/* "$1"/usr/share/doc/*/changelog* && mkdir -p "$1/var/log/nginx" "$1/var/log/postgresql"' \
    bookworm - \
    "deb $mirror bookworm main" \
    "deb $mirror bookworm-updates main" \
    "deb $security bookworm-security main" |
    docker import \
        --change 'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/mooc-entrypoint"]' \
        --change 'CMD ["web"]' \
        --change 'WORKDIR /srv/mooc/app' \
        --change 'ENV PATH=/srv/mooc/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 DJANGO_SETTINGS_MODULE=config.settings.production STATIC_ROOT=/srv/mooc/static MEDIA_ROOT=/srv/mooc/media SUBMISSIONS_ROOT=/srv/mooc/submissions' \
        --change "LABEL mooc.recipe=${TAG#*:}" \
        - "$tmp_tag" >&2
image_tag_built "$tmp_tag" "$REPO:latest"
echo "$TAG"
