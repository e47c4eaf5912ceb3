#!/usr/bin/env bash
# Re-fetch the real npm tarballs that the incident replays and benign controls under
# fixtures/scenarios/ are built on, and check each one against the sha512 recorded both
# here and in its scenario.toml.
#
#   scripts/fetch-replay-tarballs.sh           fetch missing or mismatching tarballs, then check all
#   scripts/fetch-replay-tarballs.sh --check   check the committed tarballs only (no network)
#   scripts/fetch-replay-tarballs.sh --force   fetch every tarball again
#
# Fetching runs `npm pack <name>@<version>` (it downloads the published tarball unchanged
# and runs no package scripts). The tarballs are small and committed, so tests never need
# this script; it documents where every byte came from and lets anyone re-derive them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scenarios="$root/fixtures/scenarios"

# scenario  package  version  dist.integrity (from `npm view <package>@<version> dist.integrity`)
TARBALLS=(
  "replay-eslint-scope       eslint-scope         3.7.1   sha512-ivpbtpUgg9SJS4TLjK7KdcDhqc/E3CGItsvQbBNLkNGUeMhd5qnJcryba/brESS+dg3vrLqPuc/UcS7jRJdN5A=="
  "replay-eslint-scope       eslint-scope         3.7.3   sha512-W+B0SvF4gamyCTmUc+uITPY0989iXVfKvhwtmJocTaYoc/3khEHmEmvfY/Gn9HA9VV75jrQECsHizkNw1b68FA=="
  "replay-eslint-scope       esrecurse            4.2.1   sha512-64RBB++fIOAXPw3P9cy89qfMlvZEXZkqqJkjqqXIvzP5ezRZjW+lPWjw35UX/3EhUPFYbg5ER4JYgDw4007/DQ=="
  "replay-eslint-scope       estraverse           4.2.0   sha512-VHvyaGnJy+FuGfcfaM7W7OZw4mQiKW73jPHwQXx2VnMSUBajYmytOT5sKEfsBvNPtGX6YDwcrGDz2eocoHg0JA=="
  "replay-ua-parser-js       ua-parser-js         0.7.28  sha512-6Gurc1n//gjp9eQNXjD9O3M/sMwVtN5S8Lv9bvOYBfKfDNiIIhqiyi01vMBO45u4zkDE420w/e0se7Vs+sIg+g=="
  "replay-ua-parser-js       ua-parser-js         0.7.30  sha512-uXEtSresNUlXQ1QL4/3dQORcGv7+J2ookOG2ybA/ga9+HYEXueT2o+8dUJQkpedsyTyCJ6jCCirRcKtdtx1kbg=="
  "replay-chalk-clipper      chalk                5.6.0   sha512-46QrSQFyVSEyYAgQ22hQ+zDa60YHA4fBstHmtSApj1Y5vKtG27fWowW03jCk5KcbXEWPZUIR894aARCA/G1kfQ=="
  "replay-chalk-clipper      chalk                5.6.2   sha512-7NzBL0rN6fMUW+f7A6Io4h40qQlG+xGmtMxfbnH/K7TAtt8JQWVQK+6g0UXKMeVJoyV5EkkNsErQ8pVD3bLHbA=="
  "replay-plain-injection    base-x               4.0.1   sha512-uAZ8x6r6S3aUM9rbHGVOIsR15U/ZSc82b3ymnCPsT45Gk1DDvhDPdIgB5MrhirZWt+5K0EEPQH985kNqZgNPFw=="
  "replay-new-dependency     ms                   2.1.3   sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=="
  "replay-git-prepare        tiny-invariant       1.3.3   sha512-+FbBPE1o9QAYvviau/qC5SE3caw21q3xkvWKBtja5vgqOWIHHJ3ioaq1VPfn/Szqctz2bU/oYeKd9/z5BL+PVg=="
  "replay-dormant-preinstall rc                   1.2.8   sha512-y3bGgqKj3QBdxLbLkomlohkvsA8gdAiUQlSBJnBhfn+BPxg4bc62d8TcBW15wavDfgexCgccckhcZvywyQYPOw=="
  "replay-dormant-preinstall deep-extend          0.6.0   sha512-LOHxIOaPYdHlJRtCQfDIVZtfw/ufM8+rVj649RIHzcm/vGwQRXFt6OPqIFWsm2XEMrNIEtWR64sY1LEKD2vAOA=="
  "replay-dormant-preinstall ini                  1.3.8   sha512-JV/yugV2uzW5iMRSiZAyDtQd+nxtUnjeLt0acNdw98kKLrvuRVyB80tsREOE7yvGVgalhZ6RNXCmEHkUKBKxew=="
  "replay-dormant-preinstall minimist             1.2.5   sha512-FM9nNUYrRBAELZQT3xeZQ7fmMOBg6nWNmJKTcgsJeaLstP/UODVpGsr5OhXhhXg6f+qtJ8uiZ+PUxkDWcgIXLw=="
  "replay-dormant-preinstall strip-json-comments  2.0.1   sha512-4gB8na07fecVVkOI6Rs4e7T6NOTki5EmL7TUduTs6bu3EdnSycntVJ4re8kgZA+wx9IueI2Y11bfbgwtzuE0KQ=="
  "benign-minified-bump      js-cookie            3.0.5   sha512-cEiJEAEoIbWfCZYKWhVwFuvPX1gETRYPw6LlaTKoxD3s2AkXzkCjnp6h0V77ozyqj0jakteJ4YqDJT830+lVGw=="
  "benign-minified-bump      js-cookie            3.0.6   sha512-mYhz0Og/Wv8bZJcBC6rRzYG+rYf8DyQSK3rcUbuGHQIgSsX6uynAIVoaPgqf0udH2AGS953hGFy3w6on1rJzMw=="
  "benign-env-http-lib       tunnel               0.0.6   sha512-1h/Lnq9yajKY2PEbBadPXj3VxsDDu844OnaAo52UVmIzIvwwtBPIuNvkjuzBlTWpfJyUbG3ez0KSBibQkj4ojg=="
)

mode="fetch"
case "${1:-}" in
  "") ;;
  --check) mode="check" ;;
  --force) mode="force" ;;
  *) echo "usage: $0 [--check|--force]" >&2; exit 2 ;;
esac

sha512_b64() {
  python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$1"
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

failed=0
for row in "${TARBALLS[@]}"; do
  read -r scenario name version integrity <<<"$row"
  want="${integrity#sha512-}"
  # npm's tarball file name: the scope's "@" dropped and its "/" turned into "-".
  file="$(printf '%s' "$name" | sed -e 's/^@//' -e 's#/#-#')-$version.tgz"
  dest="$scenarios/$scenario/tarballs/$file"
  toml="$scenarios/$scenario/scenario.toml"

  if ! grep -qF "sha512 = \"$want\"" "$toml" 2>/dev/null; then
    echo "FAIL $scenario: $toml does not record sha512 $want for $name@$version" >&2
    failed=1
  fi

  if [[ "$mode" != "check" ]] && { [[ "$mode" == "force" ]] || [[ ! -f "$dest" ]] || [[ "$(sha512_b64 "$dest")" != "$want" ]]; }; then
    (cd "$tmp" && npm pack "$name@$version" --silent >/dev/null)
    mkdir -p "$(dirname "$dest")"
    mv "$tmp/$file" "$dest"
  fi

  if [[ ! -f "$dest" ]]; then
    echo "FAIL $scenario: missing $dest" >&2
    failed=1
  elif [[ "$(sha512_b64 "$dest")" != "$want" ]]; then
    echo "FAIL $scenario: $file does not match $integrity" >&2
    failed=1
  else
    echo "ok   $scenario/tarballs/$file"
  fi
done
exit "$failed"
