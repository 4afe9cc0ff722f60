#!/usr/bin/env bash
# Make sure a compose client exists for the one-machine stack (docker-compose.yml), as
# platform/docker/ensure-engine.sh makes sure of the engine: fast when `docker-compose` or
# `docker compose` answers; otherwise, as root, install Debian's docker-compose (1.29, reads the
# file's format 2.4), retrying once after `apt-get update`. The last line on stdout is the command
# to run (`docker-compose` or `docker compose`); progress and errors go to stderr.
set -euo pipefail

log() { echo "ensure-compose: $*" >&2; }

found() {
    if command -v docker-compose >/dev/null 2>&1 && docker-compose version >/dev/null 2>&1; then
        echo docker-compose
    elif docker compose version >/dev/null 2>&1; then
        echo "docker compose"
    else
        return 1
    fi
}

if found; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    log "neither docker-compose nor docker compose is installed, and installing it needs root (Debian: apt-get install docker-compose)"
    exit 1
fi
log "neither docker-compose nor docker compose is installed: installing Debian's docker-compose"
export DEBIAN_FRONTEND=noninteractive
install_pkg() { apt-get install -y --no-install-recommends docker-compose; }
if ! install_pkg >/tmp/mooc-apt-compose.log 2>&1; then
    log "apt-get install failed once; running apt-get update and retrying"
    apt-get update >/tmp/mooc-apt-update.log 2>&1 || true
    install_pkg >/tmp/mooc-apt-compose.log 2>&1 || {
        cat /tmp/mooc-apt-compose.log >&2
        exit 1
    }
fi
found || { log "docker-compose was installed but does not answer: $(docker-compose version 2>&1 | tail -n 1)"; exit 1; }
log "installed $(docker-compose version --short 2>/dev/null || echo docker-compose)"
