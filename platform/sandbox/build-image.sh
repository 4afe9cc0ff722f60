#!/usr/bin/env bash
# Build the grading sandbox image from Debian packages, with no container registry involved.
#
#   platform/sandbox/build-image.sh [--force] [--print-tag]
#
# The tag is mooc-sandbox:<first 12 hex of a sha256 over every file of this recipe directory>
# (grading.sandbox.image.recipe_hash computes the same digest), so the image is rebuilt only when
# the recipe changes; when the tag already exists this is a no-op. The last line on stdout is the
# tag; progress goes to stderr.
#
# How: mmdebstrap builds a bookworm root file system (variant "essential" plus packages.txt: no apt,
# no docs, no man pages, no locales) from the Debian mirror this machine already uses, a customize
# hook drops what the sandbox never runs (purge.txt: compilers and -dev packages that bookworm's
# python3-scipy drags in through python3-pythran, ~600 MB), adds the in-container agent and the unprivileged user `learner` (uid/gid 1000), and the tar
# stream is piped straight into `docker import`, which sets the entrypoint and user.
#
# Environment: MOOC_DEBIAN_MIRROR overrides the mirror (default: the first Debian URI in
# /etc/apt/sources.list.d/debian.sources, else http://deb.debian.org/debian).
set -euo pipefail

RECIPE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=mooc-sandbox
log() { echo "build-image: $*" >&2; }
# shellcheck source=../scripts/debian-image.sh
source "$RECIPE_DIR/../scripts/debian-image.sh"
image_parse_args "$@"

# Same digest as grading/sandbox/image.py: sha256 over the `sha256sum` lines ("<hex>  ./<path>")
# of every regular file, sorted by path bytes; caches and editor droppings excluded.
recipe_hash() {
    (cd "$RECIPE_DIR" &&
        find . -type f ! -path '*/__pycache__/*' ! -name '*.pyc' ! -name '*~' ! -name '.*.swp' -print0 |
        LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
}

TAG="$REPO:$(recipe_hash)"
if [[ -n "$print_only" ]]; then
    echo "$TAG"
    exit 0
fi

image_build_lock_or_done "${MOOC_SANDBOX_BUILD_LOCK:-/tmp/mooc-sandbox-build.lock}"
ensure_mmdebstrap
debian_mirrors

packages=$(package_list "$RECIPE_DIR/packages.txt")
log "building $TAG from $mirror with: $packages"

cd "$RECIPE_DIR"
start=$SECONDS
tmp_tag="$REPO:building-${TAG#*:}-$$"
trap 'docker rmi "$tmp_tag" >/dev/null 2>&1 || true' EXIT
# The agent runs as PID 1 (it reaps orphans itself); see agent/mooc_agent.py for why not tini.
mmdebstrap \
    "${MMDEBSTRAP_SLIM[@]}" \
    --include="$packages" \
    --customize-hook='mkdir -p "$1/opt/mooc" "$1/home/learner"' \
    --customize-hook='copy-in agent/mooc_agent.py agent/mooc_kernel_ext.py agent/ipython_kernel_config.py /opt/mooc' \
    --customize-hook='echo "learner:x:1000:1000:learner:/home/learner:/bin/sh" >>"$1/etc/passwd"' \
    --customize-hook='echo "learner:x:1000:" >>"$1/etc/group"' \
    --customize-hook='echo "learner:!:19000::::::" >>"$1/etc/shadow"' \
    --customize-hook='chown 1000:1000 "$1/home/learner" && chmod 755 "$1/opt/mooc" && chmod 644 "$1"/opt/mooc/*' \
    --customize-hook='find "$1/usr/lib/python3/dist-packages" -depth -type d -name tests ! -path "*h5py*" -exec rm -rf {} +' \
    --customize-hook='chroot "$1" dpkg --purge --force-depends $(chroot "$1" dpkg-query -W -f "\${Package}\n" | grep -E -f "$PWD/purge.txt")' \
    --customize-hook='chroot "$1" env MPLCONFIGDIR=/opt/mooc/mplconfig MPLBACKEND=Agg python3 -c "import matplotlib.pyplot"' \
    --customize-hook='chmod -R a+rX "$1/opt/mooc/mplconfig"' \
    --customize-hook='chroot "$1" python3 -c "import numpy, scipy.optimize, scipy.stats, pandas, matplotlib, sklearn.linear_model, h5py, PIL.Image, ipykernel.kernelapp, jupyter_client, zmq; import sys; sys.path.insert(0, \"/opt/mooc\"); import mooc_agent, mooc_kernel_ext"' \
    --customize-hook='rm -rf "$1"/var/cache/* "$1"/var/log/* "$1"/usr/share/doc/*/changelog*' \
    bookworm - \
    "deb $mirror bookworm main" \
    "deb $mirror bookworm-updates main" \
    "deb $security bookworm-security main" |
    docker import \
        --change 'ENTRYPOINT ["/usr/bin/python3", "-I", "-B", "/opt/mooc/mooc_agent.py"]' \
        --change 'USER 1000:1000' \
        --change 'WORKDIR /home/learner' \
        --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1' \
        --change "LABEL mooc.recipe=${TAG#*:}" \
        - "$tmp_tag" >&2
image_tag_built "$tmp_tag"
trap - EXIT
echo "$TAG"
