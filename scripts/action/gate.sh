#!/usr/bin/env bash
# Run the gate once, writing the Markdown and SARIF reports; record the verdict, the report and the SARIF paths as
# step outputs. Exit 0 on pass and on a violation (later steps post the report, the last one
# fails); a tool error (exit 2) fails here.
set -euo pipefail
out="${RUNNER_TEMP:-/tmp}"
if [ -z "${BASE_REF:-}" ]; then
  echo "turncoat: no base revision (not a pull request? set the base-ref input)" >&2
  exit 2
fi
case "$BASE_REF" in -*) echo "turncoat: base-ref must not start with '-'" >&2; exit 2 ;; esac
# A shallow checkout may lack the base commit.
if ! git cat-file -e "${BASE_REF}^{commit}" 2>/dev/null; then
  git fetch --quiet --depth=1 origin "$BASE_REF"
fi
opts=(--base-ref "$BASE_REF" --color never)
[ "${DETONATE:-false}" = "true" ] && opts+=(--detonate)
files=()
if [ -n "${LOCKFILE:-}" ]; then
  case "$LOCKFILE" in -*) echo "turncoat: lockfile must not start with '-'" >&2; exit 2 ;; esac
  files=("$LOCKFILE")
fi
set +e
# One run writes both reports: judging (and detonating) twice would double the job's time.
turncoat diff "${opts[@]}" --format markdown --output "$out/turncoat.md" --sarif "$out/turncoat.sarif" "${files[@]}" 2>"$out/turncoat.log"
code=$?
set -e
cat "$out/turncoat.log" >&2
case "$code" in
  0) verdict=pass ;;
  1) verdict=violation ;;
  *) verdict=error ;;
esac
{
  echo "verdict=$verdict"
  [ -s "$out/turncoat.md" ] && echo "report=$out/turncoat.md"
  [ -s "$out/turncoat.sarif" ] && echo "sarif=$out/turncoat.sarif"
} >> "${GITHUB_OUTPUT:-/dev/null}"
[ "$code" -le 1 ] || exit "$code"
