#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine, for the grading sandbox.
#
# Idempotent and fast when the engine is already up (one `docker info`). Otherwise, as root:
#   1. install Debian's docker.io (only when dockerd is missing), without letting the package's
#      init script start a daemon with default settings;
#   2. start dockerd in the background with no default bridge network and no iptables rules
#      (sandboxes run with network_mode=none, so the engine needs neither), logging to a file and
#      writing a pidfile;
#   3. wait, bounded, until `docker info` succeeds.
#
# Storage driver: overlay2 when the kernel can mount an overlay on the data root's filesystem
# (probed with a real test mount), else vfs. vfs always works but copies every layer in full, so
# container creation is slower; it is only the fallback. Override with MOOC_DOCKER_STORAGE_DRIVER.
#
# Environment (all optional):
#   MOOC_DOCKERD_LOG              default /var/log/mooc-dockerd.log
#   MOOC_DOCKERD_PIDFILE          default /var/run/mooc-dockerd.pid
#   MOOC_DOCKER_DATA_ROOT         default /var/lib/docker
#   MOOC_DOCKER_STORAGE_DRIVER    force a storage driver (overlay2, vfs, fuse-overlayfs)
#   MOOC_DOCKER_WAIT_S            how long to wait for the engine, default 60
# If DOCKER_HOST points at a remote engine, this script only checks it and never starts a local one.
set -euo pipefail

log() { echo "ensure-engine: $*" >&2; }

LOGFILE=${MOOC_DOCKERD_LOG:-/var/log/mooc-dockerd.log}
PIDFILE=${MOOC_DOCKERD_PIDFILE:-/var/run/mooc-dockerd.pid}
DATA_ROOT=${MOOC_DOCKER_DATA_ROOT:-/var/lib/docker}
WAIT_S=${MOOC_DOCKER_WAIT_S:-60}

engine_up() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }

if engine_up; then
    exit 0
fi

if [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != unix://* ]]; then
    log "DOCKER_HOST=${DOCKER_HOST} does not answer; not starting a local engine for a remote host"
    exit 1
fi

if [[ $(id -u) -ne 0 ]]; then
    log "the engine is not running and starting it needs root"
    exit 1
fi

# --- 1. install ---------------------------------------------------------------------------------
if ! command -v dockerd >/dev/null 2>&1 || ! command -v containerd >/dev/null 2>&1; then
    log "installing docker.io from Debian"
    export DEBIAN_FRONTEND=noninteractive
    # The package's postinst would start dockerd with default settings (bridge, iptables) through
    # its init script; a policy-rc.d that says "no" prevents that. Only ours is removed afterwards.
    created_policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    install_pkgs() { apt-get install -y --no-install-recommends docker.io containerd runc tini; }
    if ! install_pkgs >/tmp/mooc-apt-install.log 2>&1; then
        log "apt-get install failed once; running apt-get update and retrying"
        apt-get update >/tmp/mooc-apt-update.log 2>&1 || true
        install_pkgs >/tmp/mooc-apt-install.log 2>&1 || {
            cat /tmp/mooc-apt-install.log >&2
            [[ -n "$created_policy" ]] && rm -f /usr/sbin/policy-rc.d
            exit 1
        }
    fi
    [[ -n "$created_policy" ]] && rm -f /usr/sbin/policy-rc.d
fi
# The Debian package may put its own client first on PATH or not at all; either answers.
command -v docker >/dev/null 2>&1 || { log "no docker client after install"; exit 1; }

# --- 2. start -----------------------------------------------------------------------------------
# The pidfile outlives its daemon when the machine (or session) that ran it was stopped without a
# clean shutdown, and its pid may since belong to another process: it counts only while that pid is
# a live dockerd.
# Live (not zombie) processes with this exact name.
live_pids() { ps -C "$1" -o pid=,stat= 2>/dev/null | awk '$2 !~ /^Z/ {print $1}'; }

pidfile_dockerd() {
    local pid
    [[ -s "$PIDFILE" ]] || return 1
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    live_pids dockerd | grep -qx "$pid" || return 1
    echo "$pid"
}

dockerd_pid=""
if dockerd_pid=$(pidfile_dockerd); then
    log "dockerd (pid $dockerd_pid) is running but not answering yet; waiting for it"
else
    dockerd_pid=""
    # A dockerd started elsewhere (another pidfile) would fight over the socket: report it.
    if [[ -n "$(live_pids dockerd)" ]]; then
        log "a dockerd not started by this script is running but does not answer: $(live_pids dockerd | tr '\n' ' ')"
        exit 1
    fi
    if [[ -e "$PIDFILE" ]]; then
        log "removing the stale pidfile $PIDFILE (its dockerd is gone)"
        rm -f "$PIDFILE"
    fi
    # Same for the containerd that dockerd supervises: a stale pid there would be trusted.
    if [[ -z "$(live_pids containerd)" ]]; then
        rm -f /var/run/docker/containerd/containerd.pid
    fi
    mkdir -p "$DATA_ROOT" "$(dirname "$LOGFILE")" "$(dirname "$PIDFILE")"
    driver=${MOOC_DOCKER_STORAGE_DRIVER:-}
    if [[ -z "$driver" ]]; then
        # Keep the driver of an existing data root: switching would hide its images.
        if [[ -d "$DATA_ROOT/overlay2" && -n "$(ls -A "$DATA_ROOT/overlay2" 2>/dev/null)" ]]; then
            driver=overlay2
        elif [[ -d "$DATA_ROOT/vfs" && -n "$(ls -A "$DATA_ROOT/vfs" 2>/dev/null)" ]]; then
            driver=vfs
        else
            probe=$(mktemp -d "$DATA_ROOT/.overlay-probe.XXXXXX")
            mkdir -p "$probe/l" "$probe/u" "$probe/w" "$probe/m"
            if mount -t overlay overlay -o "lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w" "$probe/m" 2>/dev/null; then
                umount "$probe/m"
                driver=overlay2
            else
                driver=vfs
                log "overlay mount failed on $DATA_ROOT; falling back to the vfs storage driver (slower)"
            fi
            rm -rf "$probe"
        fi
    fi

    log "starting dockerd (storage driver $driver, log $LOGFILE)"
    touch "$LOGFILE"
    log_start=$(wc -l <"$LOGFILE")
    # setsid + nohup: the daemon must outlive this script and the shell (or CI step) that ran it.
    setsid nohup dockerd \
        --data-root="$DATA_ROOT" \
        --pidfile="$PIDFILE" \
        --storage-driver="$driver" \
        --bridge=none \
        --iptables=false \
        --ip-masq=false \
        --ip-forward=false \
        --log-driver=json-file --log-opt max-size=1m --log-opt max-file=1 \
        >>"$LOGFILE" 2>&1 </dev/null &
    dockerd_pid=$!
fi

# --- 3. wait ------------------------------------------------------------------------------------
show_log() {
    # Only what this daemon wrote, when it is the one we started: older runs' lines mislead.
    if [[ -n "${log_start:-}" ]]; then
        tail -n +"$((log_start + 1))" "$LOGFILE" | tail -n 40 >&2 || true
    else
        tail -n 40 "$LOGFILE" >&2 || true
    fi
}
deadline=$((SECONDS + WAIT_S))
until engine_up; do
    if ((SECONDS >= deadline)); then
        log "dockerd did not answer within ${WAIT_S}s; what it logged:"
        show_log
        exit 1
    fi
    # By name rather than by $!: setsid may fork, and an exited daemon may linger as a zombie.
    if [[ -z "$(live_pids dockerd)" ]]; then
        log "dockerd${dockerd_pid:+ (pid $dockerd_pid)} exited; what it logged:"
        show_log
        exit 1
    fi
    sleep 0.5
done
log "engine is up ($(docker info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null))"
