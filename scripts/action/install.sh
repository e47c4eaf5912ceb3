#!/usr/bin/env bash
# Put `turncoat` on PATH: the release named by TURNCOAT_VERSION (its .sha256 checked), else a
# build of this action's own source (the sandbox links libseccomp: installed when missing).
set -euo pipefail
dest="${RUNNER_TEMP:-/tmp}/turncoat-bin"
mkdir -p "$dest"
if [ -n "${TURNCOAT_VERSION:-}" ]; then
  case "$TURNCOAT_VERSION" in
    *[!0-9A-Za-z.+-]*) echo "turncoat: version '$TURNCOAT_VERSION' is not a version" >&2; exit 2 ;;
  esac
  repo="${ACTION_REPOSITORY:-}"
  [ -n "$repo" ] || { echo "turncoat: no action repository to download a release from" >&2; exit 2; }
  asset="turncoat-v${TURNCOAT_VERSION}-$(uname -m)-unknown-linux-gnu.tar.gz"
  base="${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download/v${TURNCOAT_VERSION}"
  tmp="$(mktemp -d)"
  curl -fsSL --retry 3 -o "$tmp/$asset" "$base/$asset"
  curl -fsSL --retry 3 -o "$tmp/$asset.sha256" "$base/$asset.sha256"
  (cd "$tmp" && sha256sum -c "$asset.sha256")
  tar -xzf "$tmp/$asset" -C "$dest" turncoat
else
  if ! pkg-config --exists libseccomp 2>/dev/null && [ ! -e /usr/include/seccomp.h ]; then
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq libseccomp-dev
  fi
  cargo install --locked --quiet --path "$ACTION_PATH/crates/turncoat-cli" --root "$dest"
  mv "$dest/bin/turncoat" "$dest/turncoat"
fi
echo "$dest" >> "${GITHUB_PATH:-/dev/null}"
"$dest/turncoat" --version
