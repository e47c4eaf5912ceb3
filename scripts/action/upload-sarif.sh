#!/usr/bin/env bash
# Upload the SARIF report to code scanning through the REST API (no third-party action):
# gzip + base64 as the API wants it. Needs GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_SHA,
# GITHUB_REF, GITHUB_TOKEN, SARIF.
set -euo pipefail
: "${GITHUB_API_URL:?}" "${GITHUB_REPOSITORY:?}" "${GITHUB_SHA:?}" "${GITHUB_REF:?}" "${GITHUB_TOKEN:?}" "${SARIF:?}"
[[ "$GITHUB_SHA" =~ ^[0-9a-f]{40}$ ]] || { echo "turncoat: GITHUB_SHA is not a commit id" >&2; exit 2; }
jq -e '.version == "2.1.0" and (.runs | type == "array")' "$SARIF" > /dev/null \
  || { echo "turncoat: $SARIF is not a SARIF 2.1.0 log" >&2; exit 2; }
payload="$(mktemp)"
gzip -c "$SARIF" | base64 -w0 | jq -Rs --arg sha "$GITHUB_SHA" --arg ref "$GITHUB_REF" \
  '{commit_sha: $sha, ref: $ref, sarif: ., tool_name: "turncoat"}' > "$payload"
curl -fsS --retry 2 -X POST \
  -H "Authorization: Bearer $GITHUB_TOKEN" \
  -H "Accept: application/vnd.github+json" \
  -H "X-GitHub-Api-Version: 2022-11-28" \
  "$GITHUB_API_URL/repos/$GITHUB_REPOSITORY/code-scanning/sarifs" \
  --data-binary "@$payload" > /dev/null
echo "turncoat: SARIF uploaded for $GITHUB_REF"
