#!/usr/bin/env bash
# The worker's image, built and tested on this machine with podman: no Docker daemon, no registry login.
#   bash scripts/image.sh build           builds the Dockerfile into localhost/video-ops:latest (WHISPER_CUDA=1
#                                         adds GPU transcription, WHISPER_MODEL=NAME bakes a Whisper model in)
#   bash scripts/image.sh test            runs .runpod/tests.json inside the image as the RunPod Hub would,
#                                         checks FFmpeg, the user and the fitness checks; prints size and cold start
#   bash scripts/image.sh job '<JSON>'    runs one job ({"input": {...}}) inside the image; outputs land in
#                                         ./output/image and the result JSON is the last line printed
#   bash scripts/image.sh run CMD...      runs a command inside the image, as its user, in its working folder
# Containers are run by chroot into a podman mount: `podman run` needs cgroups and rlimits that some
# sandboxes (and these machines) refuse. /dev is shared, so a GPU the machine has is visible inside.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${VIDEO_OPS_IMAGE:-localhost/video-ops:latest}"
PUBLIC_BASE="docker.io/library/debian:bookworm-slim"
LOCAL_BASE="localhost/debian:bookworm-slim"

fail() {
  echo "image.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Installs the Debian packages named when their command is missing (podman, mmdebstrap), as setup.sh
# installs FFmpeg.
need() {
  local command=$1 package=$2
  command -v "$command" >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 ||
    fail "$command is not installed and this machine has no apt-get to install it; install $package (podman 4 or newer) and run this again."
  echo "image.sh: installing $package" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null ||
    fail "could not install $package with apt-get; install it and run this again."
}

preflight() {
  [ "$(id -u)" = 0 ] ||
    fail "this needs root: podman's chroot isolation and the image mounts it uses run as root here (try: sudo bash scripts/image.sh $*)."
  need podman podman
}

# The public base when it is here or can be pulled; otherwise the same Debian release made locally
# with mmdebstrap from this machine's apt sources (kept in podman's storage for later builds).
base_image() {
  local pull_log
  pull_log=$(mktemp)
  if podman image exists "$PUBLIC_BASE" || timeout 300 podman pull -q "$PUBLIC_BASE" >/dev/null 2>"$pull_log"; then
    rm -f "$pull_log"
    echo "$PUBLIC_BASE"
    return
  fi
  if podman image exists "$LOCAL_BASE"; then
    echo "image.sh: $PUBLIC_BASE cannot be pulled here; using $LOCAL_BASE, made earlier with mmdebstrap" >&2
  else
    echo "image.sh: $PUBLIC_BASE cannot be pulled here ($(tail -n 1 "$pull_log")); making the same base locally with mmdebstrap from this machine's apt sources" >&2
    need mmdebstrap mmdebstrap
    make_local_base
  fi
  rm -f "$pull_log"
  echo "$LOCAL_BASE"
}

# debian:bookworm-slim is a minbase bootstrap with merged /usr, without manuals, docs (but their
# copyright files) and translations; this makes the same from the machine's own Debian mirrors.
# mmdebstrap merges /usr with the usrmerge package, which brings Perl: both go again, as
# usr-is-merged asserts the merge.
make_local_base() {
  local tarball sources=()
  tarball=$(mktemp --suffix=.tar)
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] && grep -qs '^[^#]*bookworm' "$file" && sources+=("$file")
  done
  mmdebstrap --quiet --variant=minbase --format=tar --include=usr-is-merged,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --customize-hook='chroot "$1" apt-get purge -y -qq usrmerge libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl perl perl-modules-5.36 libperl5.36 libgdbm-compat4 >/dev/null' \
    bookworm "$tarball" "${sources[@]}" >&2 ||
    fail "mmdebstrap could not make a Debian bookworm base from this machine's apt sources."
  podman import --quiet --change 'CMD ["bash"]' "$tarball" "$LOCAL_BASE" >/dev/null
  rm -f "$tarball"
}

build() {
  preflight build
  local base ffmpeg_version="" secrets started
  base=$(base_image)
  # The FFmpeg the tests on this machine run, so that the image ships the same build.
  if dpkg-query -W -f='${Status}' ffmpeg 2>/dev/null | grep -q "install ok installed"; then
    ffmpeg_version=$(dpkg-query -W -f='${Version}' ffmpeg)
  fi
  secrets=$(mktemp -d)
  trap 'rm -rf "$secrets"' RETURN
  # pip inside the build trusts what this machine trusts and uses its index settings; both are build
  # secrets, mounted only while pip runs.
  local bundle
  for bundle in "${PIP_CERT:-}" "${REQUESTS_CA_BUNDLE:-}" "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
    [ -n "$bundle" ] && [ -f "$bundle" ] && break
  done
  if [ -n "$bundle" ] && [ -f "$bundle" ]; then cp "$bundle" "$secrets/ca-bundle"; else : >"$secrets/ca-bundle"; fi
  python3 scripts/pip_settings.py >"$secrets/pip-conf"
  echo "image.sh: building $IMAGE from $base with FFmpeg ${ffmpeg_version:-(the newest the base offers)}" >&2
  started=$(date +%s)
  podman build --isolation chroot --layers \
    --build-arg BASE_IMAGE="$base" --build-arg FFMPEG_VERSION="$ffmpeg_version" \
    --build-arg WHISPER_CUDA="${WHISPER_CUDA:-}" --build-arg WHISPER_MODEL="${WHISPER_MODEL:-}" \
    --secret id=ca-bundle,src="$secrets/ca-bundle" --secret id=pip-conf,src="$secrets/pip-conf" \
    --tag "$IMAGE" --file Dockerfile . >&2 ||
    fail "podman could not build $IMAGE; its output above says which step failed."
  echo "image.sh: built $IMAGE in $(($(date +%s) - started)) s, $(image_size) uncompressed" >&2
}

image_size() {
  podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.2f GB (%d bytes)", $1 / 1e9, $1}'
}

# Runs "$@" in a fresh container of the image, with the image's user, working folder and environment,
# plus the VAR=value words in IMAGE_ENV; files under $STAGE (if set) are copied to /tmp/stage first and
# the container's /tmp/video-ops-output is copied to $COLLECT (if set) afterwards.
in_image() {
  podman image exists "$IMAGE" || fail "there is no image $IMAGE yet; run 'bash scripts/image.sh build' first."
  local container root user workdir home uid gid status=0
  container=$(podman create --quiet "$IMAGE")
  root=$(podman mount "$container")
  user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
  workdir=$(podman image inspect --format '{{.Config.WorkingDir}}' "$IMAGE")
  uid=$(chroot "$root" id -u "${user:-root}")
  gid=$(chroot "$root" id -g "${user:-root}")
  home=$(chroot "$root" getent passwd "$uid" | cut -d: -f6)
  local environment=("HOME=$home")
  mapfile -t -O 1 environment < <(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" | sed '/^$/d')
  environment+=(${IMAGE_ENV:-})
  if [ -n "${STAGE:-}" ]; then
    mkdir -p "$root/tmp/stage" && cp -r "$STAGE"/. "$root/tmp/stage/" && chmod -R a+rX "$root/tmp/stage"
  fi
  unshare --mount --propagation private -- sh -c '
    root=$1; shift
    mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" && exec chroot "$@"' \
    sh "$root" --userspec="$uid:$gid" "$root" env -i --chdir="${workdir:-/}" "${environment[@]}" "$@" || status=$?
  if [ -n "${COLLECT:-}" ] && [ -d "$root/tmp/video-ops-output" ]; then
    mkdir -p "$COLLECT" && cp -r "$root/tmp/video-ops-output"/. "$COLLECT/"
  fi
  podman umount "$container" >/dev/null
  podman rm --force "$container" >/dev/null
  return "$status"
}

test_image() {
  preflight test
  local stage status=0
  stage=$(mktemp -d)
  cp .runpod/tests.json scripts/image_test.py "$stage/"
  echo "image: $IMAGE, $(image_size) uncompressed, user $(podman image inspect --format '{{.Config.User}}' "$IMAGE")"
  STAGE=$stage in_image python /tmp/stage/image_test.py /tmp/stage/tests.json || status=$?
  rm -rf "$stage"
  return "$status"
}

job() {
  preflight job
  [ $# -eq 1 ] || fail "job takes one argument, the job as JSON: bash scripts/image.sh job '{\"input\": {...}}'"
  python3 -c 'import json, sys; job = json.loads(sys.argv[1]); assert isinstance(job.get("input"), dict)' "$1" 2>/dev/null ||
    fail "the job must be JSON of the form {\"input\": {...}}."
  local status=0 log
  rm -rf output/image
  log=$(mktemp)
  IMAGE_ENV="VIDEO_OPS_ALLOW_FILE_URLS=1 VIDEO_OPS_OUTPUT_DIR=/tmp/video-ops-output" COLLECT=output/image \
    in_image python -u handler.py --test_input "$1" 2>&1 | tee "$log" >&2 || status=$?
  [ -d output/image ] && echo "image.sh: the job's files are in output/image (/tmp/video-ops-output in the image)" >&2
  # A successful job's whole result is saved as JSON; a failed one is the SDK's last error line.
  python3 - "$log" output/image <<'PY' || status=1
import json, pathlib, sys
saved = sorted(pathlib.Path(sys.argv[2]).glob("*.result.json"))
if saved:
    print(json.dumps(json.loads(saved[0].read_text())))
    sys.exit(0)
errors = [line.split(" failed with error: ", 1)[1] for line in open(sys.argv[1]) if " failed with error: " in line]
print(json.dumps({"error": errors[-1].strip() if errors else "the job left no result; the worker's log above says why"}))
sys.exit(1)
PY
  rm -f "$log"
  return "$status"
}

case "${1:-}" in
  build) build ;;
  test) test_image ;;
  job) shift && job "$@" ;;
  run)
    shift
    [ $# -gt 0 ] || usage
    preflight run
    in_image "$@"
    ;;
  *) usage ;;
esac
