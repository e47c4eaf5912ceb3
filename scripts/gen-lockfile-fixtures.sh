#!/usr/bin/env bash
# Generate real lockfiles with the real package managers for turncoat-lockfile's tests.
#
# Installs npm, pnpm 10 and 8, Yarn 1 and 4 and Bun from the npm registry into a scratch
# prefix, writes a few tiny scenario projects, lets every tool lock each of them (scripts
# ignored), and copies the lockfiles plus a counts.json into
# crates/turncoat-lockfile/tests/fixtures/. Git hosts are not needed: the git scenario uses
# a local bare repository, the tarball scenario a 127.0.0.1 http.server started here.
#
# Usage: scripts/gen-lockfile-fixtures.sh        (needs node, npm, git, python3; network to
#                                                 the npm registry only)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/crates/turncoat-lockfile/tests/fixtures"
# A fixed scratch path keeps the file:/git+file: paths that tools record reproducible.
WORK=/tmp/turncoat-lockfile-fixtures
PORT=${FIXTURE_PORT:-48765}
REGISTRY=https://registry.npmjs.org/

rm -rf "$WORK"
mkdir -p "$WORK" "$OUT"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

# Isolate from the user's npm config (e.g. omit-lockfile-registry-resolved).
cat >"$WORK/npmrc" <<EOF
registry=$REGISTRY
fund=false
audit=false
update-notifier=false
EOF
export npm_config_userconfig="$WORK/npmrc"
export npm_config_globalconfig="$WORK/npmrc-global"
export HOME_BAK="$HOME"
export XDG_CACHE_HOME="$WORK/cache" YARN_CACHE_FOLDER="$WORK/cache/yarn1"
export BUN_INSTALL_CACHE_DIR="$WORK/cache/bun" BUN_CONFIG_REGISTRY="$REGISTRY"
export COREPACK_ENABLE_STRICT=0 YARN_ENABLE_TELEMETRY=0 YARN_ENABLE_IMMUTABLE_INSTALLS=0
export npm_config_store_dir="$WORK/cache/pnpm-store"

echo "== installing the tools into $WORK/tools"
TOOLS="$WORK/tools"
mkdir -p "$TOOLS"
(cd "$TOOLS" && echo '{"private":true}' >package.json &&
  npm install --no-audit --no-fund --loglevel=error \
    npm@10 pnpm@10 pnpm8@npm:pnpm@8 yarn@1 yarnberry@npm:@yarnpkg/cli-dist@4 bun@1)
NPM="node $TOOLS/node_modules/npm/bin/npm-cli.js"
PNPM="node $TOOLS/node_modules/pnpm/bin/pnpm.cjs"
PNPM8="node $TOOLS/node_modules/pnpm8/bin/pnpm.cjs"
YARN1="node $TOOLS/node_modules/yarn/bin/yarn.js"
YARN4="node $TOOLS/node_modules/yarnberry/bin/yarn.js"
BUN="$TOOLS/node_modules/.bin/bun"

# --- Sources for the git and tarball scenarios --------------------------------------
mkdir -p "$WORK/src/tiny-git" "$WORK/src/tiny-tar" "$WORK/serve"
cat >"$WORK/src/tiny-git/package.json" <<'EOF'
{"name": "tiny-git", "version": "1.0.0", "main": "index.js"}
EOF
echo 'module.exports = 1;' >"$WORK/src/tiny-git/index.js"
(cd "$WORK/src/tiny-git" && git init -q -b main && git add . &&
  git -c user.name=fixture -c user.email=fixture@invalid -c commit.gpgsign=false \
    commit -q -m init --date '2020-01-01T00:00:00Z' &&
  git clone -q --bare . "$WORK/git/tiny-git.git")
cat >"$WORK/src/tiny-tar/package.json" <<'EOF'
{"name": "tiny-tar", "version": "1.0.0", "main": "index.js"}
EOF
echo 'module.exports = 2;' >"$WORK/src/tiny-tar/index.js"
(cd "$WORK/src/tiny-tar" && $NPM pack --pack-destination "$WORK/serve" --loglevel=error >/dev/null)
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$WORK/serve" >/dev/null 2>&1 &
SERVER_PID=$!
sleep 1

# --- Scenarios ----------------------------------------------------------------------
scenario() { # name, package.json, [workspace member dirs...]
  local name=$1 json=$2
  mkdir -p "$WORK/scenarios/$name"
  printf '%s\n' "$json" >"$WORK/scenarios/$name/package.json"
}
# basic: scoped package, npm alias, dev dep (pulling a second is-number), optional dep,
# a peer dependency that npm auto-installs (ajv via ajv-keywords).
scenario basic '{
  "name": "fixture-basic", "version": "1.0.0", "private": true,
  "dependencies": {
    "is-number": "^7.0.0",
    "@isaacs/string-locale-compare": "^1.1.0",
    "isnum-old": "npm:is-number@^6.0.0",
    "ajv-keywords": "^3.5.2"
  },
  "devDependencies": { "is-odd": "^3.0.1" },
  "optionalDependencies": { "is-plain-obj": "^4.1.0" }
}'
scenario workspaces '{
  "name": "fixture-workspaces", "version": "1.0.0", "private": true,
  "workspaces": ["packages/*"],
  "dependencies": { "is-number": "^7.0.0" }
}'
mkdir -p "$WORK/scenarios/workspaces/packages/a" "$WORK/scenarios/workspaces/packages/b"
echo '{"name": "ws-a", "version": "1.0.0", "dependencies": {"is-odd": "^3.0.1"}}' \
  >"$WORK/scenarios/workspaces/packages/a/package.json"
echo '{"name": "ws-b", "version": "1.0.0", "devDependencies": {"is-number": "^6.0.0"}}' \
  >"$WORK/scenarios/workspaces/packages/b/package.json"
printf 'packages:\n  - "packages/*"\n' >"$WORK/scenarios/workspaces/pnpm-workspace.yaml"
scenario git "{
  \"name\": \"fixture-git\", \"version\": \"1.0.0\", \"private\": true,
  \"dependencies\": { \"tiny-git\": \"git+file://$WORK/git/tiny-git.git\", \"is-number\": \"^7.0.0\" }
}"
scenario tarball "{
  \"name\": \"fixture-tarball\", \"version\": \"1.0.0\", \"private\": true,
  \"dependencies\": { \"tiny-tar\": \"http://127.0.0.1:$PORT/tiny-tar-1.0.0.tgz\", \"is-number\": \"^7.0.0\" }
}"

# --- Locking ------------------------------------------------------------------------
NOTES="$WORK/notes.txt"
: >"$NOTES"
lock() { # tool-id, lockfile name, scenario, command...
  local tool=$1 file=$2 sc=$3
  shift 3
  local dir="$WORK/run/$tool/$sc"
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  cp -r "$WORK/scenarios/$sc" "$dir"
  case $tool in
    yarn-berry)
      printf 'nodeLinker: node-modules\nnpmRegistryServer: "%s"\nenableGlobalCache: false\nenableTelemetry: false\nunsafeHttpWhitelist:\n  - "127.0.0.1"\n' \
        "${REGISTRY%/}" >"$dir/.yarnrc.yml"
      touch "$dir/yarn.lock" ;;
    bun) printf '[install]\nregistry = "%s"\n' "$REGISTRY" >"$dir/bunfig.toml" ;;
  esac
  echo "== $tool / $sc"
  if (cd "$dir" && "$@") >"$dir.log" 2>&1 && [ -s "$dir/$file" ]; then
    mkdir -p "$OUT/$tool/$sc"
    cp "$dir/$file" "$OUT/$tool/$sc/$file"
    cp "$dir/package.json" "$OUT/$tool/$sc/package.json"
    if [ -d "$dir/packages" ]; then
      for m in "$dir"/packages/*; do
        mkdir -p "$OUT/$tool/$sc/packages/$(basename "$m")"
        cp "$m/package.json" "$OUT/$tool/$sc/packages/$(basename "$m")/package.json"
      done
    fi
  else
    echo "$tool/$sc: skipped: $(tail -n 3 "$dir.log" | tr '\n' ' ' | cut -c1-300)" | tee -a "$NOTES"
  fi
}

rm -rf "${OUT:?}"/npm "${OUT:?}"/pnpm10 "${OUT:?}"/pnpm8 "${OUT:?}"/yarn-classic "${OUT:?}"/yarn-berry "${OUT:?}"/bun
for sc in basic workspaces git tarball; do
  lock npm package-lock.json "$sc" $NPM install --package-lock-only --ignore-scripts --loglevel=error
  lock pnpm10 pnpm-lock.yaml "$sc" $PNPM install --lockfile-only --ignore-scripts --registry="$REGISTRY" --config.auto-install-peers=true
  lock pnpm8 pnpm-lock.yaml "$sc" $PNPM8 install --lockfile-only --ignore-scripts --registry="$REGISTRY"
  lock yarn-classic yarn.lock "$sc" $YARN1 install --ignore-scripts --non-interactive --registry "$REGISTRY" --no-progress
  lock yarn-berry yarn.lock "$sc" $YARN4 install --mode=update-lockfile
  lock bun bun.lock "$sc" "$BUN" install --lockfile-only --ignore-scripts --save-text-lockfile
done

# --- Counts -------------------------------------------------------------------------
# Each tool's count is the number of package entries the tool itself wrote (see README).
VERSIONS=$(cat <<EOF
{"npm": "$($NPM --version)", "pnpm10": "$($PNPM --version)", "pnpm8": "$($PNPM8 --version)",
 "yarn-classic": "$($YARN1 --version)", "yarn-berry": "$(cd /tmp && $YARN4 --version)", "bun": "$($BUN --version)"}
EOF
)
python3 - "$OUT" "$WORK" "$NOTES" "$VERSIONS" <<'PY'
import json, os, re, sys
out, work, notes, versions = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])

def npm_entries(p):
    d = json.load(open(p))
    return sum(1 for k in d["packages"] if k != "")

def pnpm_entries(p):
    # Top-level keys of the `packages:` section (2-space indented, ending with ':').
    n, inside = 0, False
    for line in open(p):
        if not line.startswith(" ") and line.strip():
            inside = line.startswith("packages:")
            continue
        if inside and re.match(r"^  \S.*:\s*(\{\})?\s*$", line):
            n += 1
    return n

def yarn_entries(p):
    n = 0
    for line in open(p):
        if line and not line[0].isspace() and not line.startswith("#") and line.rstrip().endswith(":"):
            if line.startswith("__metadata:") or '@workspace:."' in line or "@workspace:.:" in line:
                continue
            n += 1
    return n

def bun_entries(p):
    text = open(p).read()
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    return len(json.loads(text).get("packages", {}))

counters = {"package-lock.json": npm_entries, "pnpm-lock.yaml": pnpm_entries,
            "yarn.lock": yarn_entries, "bun.lock": bun_entries}
counts = []
for tool in sorted(os.listdir(out)):
    tdir = os.path.join(out, tool)
    if not os.path.isdir(tdir):
        continue
    for sc in sorted(os.listdir(tdir)):
        for f, fn in counters.items():
            p = os.path.join(tdir, sc, f)
            if os.path.exists(p):
                # Strip the scratch path so fixtures are reproducible.
                text = open(p).read().replace(work, "/tmp/turncoat-lockfile-fixtures")
                open(p, "w").write(text)
                counts.append({"file": f"{tool}/{sc}/{f}", "tool": tool,
                               "tool_version": versions.get(tool, ""), "entries": fn(p)})
skipped = [l.strip() for l in open(notes) if l.strip()]
json.dump({"method": "entries = package entries the tool wrote: npm `packages` keys minus the root; "
           "pnpm `packages` keys; yarn entries minus __metadata and the root workspace; bun `packages` keys",
           "files": counts, "skipped": skipped}, open(os.path.join(out, "counts.json"), "w"), indent=1)
print(f"wrote {len(counts)} lockfiles; {len(skipped)} skipped")
PY
