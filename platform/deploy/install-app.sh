#!/bin/sh
# Runs inside the image's root file system while build-app-image.sh builds it (chroot, as root):
# the venv from the wheelhouse in /tmp/wheels, collectstatic, byte-code. Not for use elsewhere.
set -eu
venv=/srv/mooc/venv
app=/srv/mooc/app
python3 -m venv "$venv"
# The wheelhouse was resolved by the host's Python 3.11.x; bookworm's 3.11.2 can need a dependency
# more (markers like python_full_version < "3.11.3"). Install the wheelhouse as it is, then let the
# requirements fetch only what is still missing (PIP_INDEX_URL: the host's index, when it sets one).
"$venv/bin/pip" install -q --no-index --no-deps --no-cache-dir --disable-pip-version-check /tmp/wheels/*.whl
"$venv/bin/pip" install -q --no-cache-dir --disable-pip-version-check --find-links /tmp/wheels -r "$app/requirements.txt"
"$venv/bin/pip" check
# Static files are part of the image: nginx serves them from /srv/mooc/static. The settings need
# some secret key to load; this one exists only during the build.
DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY="$MOOC_BUILD_KEY" \
    DJANGO_ALLOWED_HOSTS=localhost STATIC_ROOT=/srv/mooc/static \
    "$venv/bin/python" "$app/manage.py" collectstatic --noinput -v0
rm -rf "$app/var"  # created by the settings module (broker folders of the embedded default)
"$venv/bin/python" -m compileall -q "$app"
