#!/usr/bin/env bash
# Make a Docker engine answer on this machine (Debian/Ubuntu, run as root or with sudo).
#
# Idempotent: installs Debian's docker.io and debootstrap only when missing, starts dockerd in
# the background only when no engine answers (log: /tmp/dockerd.log, override DOCKERD_LOG), then
# waits up to DOCKER_WAIT_S seconds (default 60) for `docker info`. On failure it prints one line
# and exits 1.
#
# debootstrap is installed too because hosts that cannot pull images build the runner's base image
# from Debian packages (see grader/sandbox/image.py: ensure_base_image).
set -euo pipefail

LOG="${DOCKERD_LOG:-/tmp/dockerd.log}"
WAIT_S="${DOCKER_WAIT_S:-60}"

die() { echo "install-docker: $*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "must run as root (or with sudo available)"
    SUDO="sudo -n"
fi

engine_answers() { docker info >/dev/null 2>&1 || $SUDO docker info >/dev/null 2>&1; }

# Whether a dockerd process exists (it may still be starting). Pure bash: procps may be absent.
dockerd_running() {
    local comm
    for comm in /proc/[0-9]*/comm; do
        [ "$(cat "$comm" 2>/dev/null)" = dockerd ] && return 0
    done
    return 1
}

# 1. Packages (only what is missing).
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
    # shellcheck disable=SC2207
    missing=($(printf '%s\n' "${missing[@]}" | sort -u))
    echo "install-docker: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null || die "apt-get update failed"
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
fi

# 2. Engine.
if engine_answers; then
    echo "install-docker: engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
    exit 0
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    # A systemd host: the packaged service is the right way to run the engine.
    $SUDO systemctl start docker >/dev/null 2>&1 || true
fi

if ! engine_answers && ! dockerd_running; then
    echo "install-docker: starting dockerd in the background (log: $LOG)"
    # setsid + nohup: the daemon outlives this script and the shell that ran it.
    $SUDO setsid nohup dockerd >"$LOG" 2>&1 </dev/null &
fi

for _ in $(seq 1 "$WAIT_S"); do
    if engine_answers; then
        echo "install-docker: engine ready ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
        exit 0
    fi
    sleep 1
done

die "no Docker engine answered within ${WAIT_S}s; last dockerd log line: $(tail -n 1 "$LOG" 2>/dev/null || echo 'none')"
