#!/usr/bin/env bash
# Post the Markdown report as one pull-request comment, or update the one turncoat posted
# before (found by the report's marker AND the comment's author: a comment anyone else wrote
# with the marker in it is never edited). Needs GITHUB_API_URL, GITHUB_REPOSITORY,
# GITHUB_EVENT_PATH, GITHUB_TOKEN, REPORT; COMMENT_AUTHOR defaults to github-actions[bot].
set -euo pipefail
: "${GITHUB_API_URL:?}" "${GITHUB_REPOSITORY:?}" "${GITHUB_EVENT_PATH:?}" "${GITHUB_TOKEN:?}" "${REPORT:?}"
author="${COMMENT_AUTHOR:-github-actions[bot]}"
marker='<!-- turncoat-report -->'
pr="$(jq -r '.pull_request.number // empty' "$GITHUB_EVENT_PATH")"
if ! [[ "$pr" =~ ^[0-9]+$ ]]; then
  echo "turncoat: not a pull_request event; no comment posted"
  exit 0
fi
case "$GITHUB_REPOSITORY" in
  */*) ;;
  *) echo "turncoat: GITHUB_REPOSITORY '$GITHUB_REPOSITORY' is not owner/name" >&2; exit 2 ;;
esac
# GitHub refuses comments over 65536 characters: cut, and say so.
body_file="$(mktemp)"
{
  grep -qF "$marker" "$REPORT" || echo "$marker"
  head -c 60000 "$REPORT"
  if [ "$(wc -c < "$REPORT")" -gt 60000 ]; then
    printf '\n\n… (cut: the full report is in the job log and code scanning)\n'
  fi
} > "$body_file"
api() {
  curl -fsS --retry 2 \
    -H "Authorization: Bearer $GITHUB_TOKEN" \
    -H "Accept: application/vnd.github+json" \
    -H "X-GitHub-Api-Version: 2022-11-28" "$@"
}
base="$GITHUB_API_URL/repos/$GITHUB_REPOSITORY/issues"
id=""
for page in $(seq 1 50); do
  resp="$(api "$base/$pr/comments?per_page=100&page=$page")"
  id="$(jq -r --arg m "$marker" --arg a "$author" \
    '[.[] | select(.user.login == $a) | select(.body | contains($m)) | .id] | first // empty' <<<"$resp")"
  [ -n "$id" ] && break
  [ "$(jq 'length' <<<"$resp")" -lt 100 ] && break
done
payload="$(jq -Rs '{body: .}' < "$body_file")"
if [ -n "$id" ]; then
  [[ "$id" =~ ^[0-9]+$ ]] || { echo "turncoat: unexpected comment id" >&2; exit 2; }
  api -X PATCH "$base/comments/$id" --data-binary "$payload" > /dev/null
  echo "turncoat: updated comment $id on #$pr"
else
  api -X POST "$base/$pr/comments" --data-binary "$payload" > /dev/null
  echo "turncoat: commented on #$pr"
fi
