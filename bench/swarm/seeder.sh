#!/usr/bin/env bash
# swarm-bench scenario "update-mesh", seeder (runs in sb-h0): a publisher node.
#
# Set-up (excluded from the times):
#   1. the release tree: SB_FILE copied into a folder (release trees may not
#      hold hard links, so it is a copy), as payload.bin;
#   2. `umesh repo init` (TUF repository: root, targets, snapshot, timestamp,
#      rollouts; keys in <repo>/keys), timestamp v1 saved aside;
#   3. `umesh release add` of the tree as package payload 1.0.0: FastCDC
#      chunks into <repo>/chunks, the index signed as a TUF target (targets
#      v2, snapshot v2, timestamp v2);
#   4. the timestamp held back: timestamp v2 moved out of the repository and
#      v1 put back. Nothing else changes: targets/snapshot v2 and the index sit
#      in the repository, but every reader (the publisher's summary, tuf-js on
#      the followers, `release list`) starts from timestamp.json, so the
#      release is invisible until timestamp v2 is back;
#   5. `umesh keys init` for the publisher node.
# seeder-ctl.mjs (background) declares the seeder ready once the daemon is up
# (seeder.ready.json: pieces = M distinct chunks of the signed index), and at
# GO renames timestamp v2 into <repo>/metadata/timestamp.json: the publisher
# sees it at its next 0.5 s poll and announces it over gossipsub, so the timed
# window holds the announcement, the TUF refresh, the index and the chunks.
# Then this script execs the publisher daemon (`umesh node --repo`), so
# run.sh's PID and seeder_cpu_s are the daemon's own; seeder-ctl.mjs ends it
# at 'stop' or at the deadline.
#
# UMESH_CLI: the umesh bundle to run (default: this project's dist/umesh.mjs).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
for v in SB_RUN_DIR SB_ADDR SB_FILE SB_N SB_PORT SB_DEADLINE_MS; do [ -n "${!v:-}" ] || { echo "seeder: missing env $v" >&2; exit 2; }; done

fail() {
  echo "seeder: FAILED: $*" >&2
  printf '{"error":%s}' "$(printf '%s' "$*" | node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(0, "utf8")))')" >"$SB_RUN_DIR/.seeder.failed.tmp" &&
    mv "$SB_RUN_DIR/.seeder.failed.tmp" "$SB_RUN_DIR/seeder.failed.json"
  exit 1
}
now_ms() { date +%s%3N; }

CLI=${UMESH_CLI:-$HERE/../../dist/umesh.mjs}
[ -f "$CLI" ] || fail "no umesh bundle at $CLI (npm run build in the project, or set UMESH_CLI)"
CLI=$(cd "$(dirname "$CLI")" && pwd)/$(basename "$CLI")
NETWORK=${UMESH_BENCH_NETWORK:-sbench}
PKG=payload
VERSION=1.0.0

W=$SB_RUN_DIR/umesh/seeder
REPO=$W/repo
DATA=$W/node
mkdir -p "$W/tree"
T0=$(now_ms)
cp "$SB_FILE" "$W/tree/payload.bin"
T_COPY=$(now_ms)

node "$CLI" repo init --repo "$REPO" >"$W/repo-init.txt" 2>&1 || fail "umesh repo init: $(tail -1 "$W/repo-init.txt")"
cp "$REPO/metadata/timestamp.json" "$W/timestamp.before.json"
T_INIT=$(now_ms)
node "$CLI" release add "$W/tree" --repo "$REPO" --package "$PKG" --version "$VERSION" --json >"$W/release-add.json" 2>"$W/release-add.err" ||
  fail "umesh release add: $(tail -1 "$W/release-add.err")"
T_ADD=$(now_ms)
# hold the new timestamp back: v2 out, v1 in (tmp + rename, as the repository writes it)
mv "$REPO/metadata/timestamp.json" "$W/timestamp.release.json"
cp "$W/timestamp.before.json" "$REPO/metadata/.timestamp.json.bench.tmp"
mv "$REPO/metadata/.timestamp.json.bench.tmp" "$REPO/metadata/timestamp.json"
LISTED=$(node "$CLI" release list --repo "$REPO" --json 2>&1) || fail "umesh release list: $LISTED"
[ "$LISTED" = "[]" ] || fail "the release is still visible with the timestamp held back: release list says $LISTED"

PEER_ID=$(node "$CLI" keys init --data-dir "$DATA" 2>"$W/keys-init.err" | tail -1) || fail "umesh keys init: $(tail -1 "$W/keys-init.err")"
[[ "$PEER_ID" =~ ^12D3KooW[1-9A-HJ-NP-Za-km-z]+$ ]] || fail "umesh keys init printed no peer id: $PEER_ID"
T_KEYS=$(now_ms)

export SB_UMESH_PID=$$ SB_UMESH_CLI=$CLI SB_UMESH_REPO=$REPO SB_UMESH_DATA=$DATA SB_UMESH_WORK=$W \
  SB_UMESH_PEER_ID=$PEER_ID SB_UMESH_NETWORK=$NETWORK SB_UMESH_PACKAGE=$PKG SB_UMESH_VERSION=$VERSION \
  SB_UMESH_MULTIADDR=/ip4/$SB_ADDR/tcp/$SB_PORT/p2p/$PEER_ID \
  SB_UMESH_SETUP_MS="{\"copy_ms\":$((T_COPY - T0)),\"repo_init_ms\":$((T_INIT - T_COPY)),\"release_add_ms\":$((T_ADD - T_INIT)),\"hold_back_and_keys_ms\":$((T_KEYS - T_ADD))}"
node "$HERE/seeder-ctl.mjs" &

# the publisher: its log (with the publisher's announcement lines, DEBUG) is log-0.txt
export DEBUG=${UMESH_BENCH_DEBUG:-umesh:publisher}
# shellcheck disable=SC2093
exec node "$CLI" node --data-dir "$DATA" --network "$NETWORK" \
  --listen "/ip4/$SB_ADDR/tcp/$SB_PORT" --no-mdns --repo "$REPO"
