#!/usr/bin/env bash
# make bench: seeds a 100,000-user store, times core operations against raw sled, then runs
# Gatehouse and a blank Tauri app side by side under Xvfb, measures the .deb and the binary,
# and writes BENCHMARKS.md. Every figure is printed next to its budget; the exit status is 1
# when one is missed (the file is written either way).
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench
rm -rf "$out" && mkdir -p "$out"
export GATEHOUSE_PASSWORD="Gatehouse demo store 2026"
missed=0

echo "== seeding 100,000 users, 1,000 invitations, 200,000 audit events"
target/release/gatehouse-seed "$out/data/store" >/dev/null
mkdir -p "$out/app-data" && target/release/gatehouse-seed "$out/app-data/store" --audit-events 0 >/dev/null

echo "== core"
target/release/gatehouse-bench "$out/data/store" "$out/core.md" || missed=1

echo "== memory, phase by phase, on the app's path through core"
cp -a "$out/app-data" "$out/memory-data"
scripts/with-keyring target/release/gatehouse-bench memory "$out/memory-data" "$out/memory.md"
rm -rf "$out/memory-data"

echo "== 100,000 failed sign-ins with random addresses"
# On tmpfs where there is one: each attempt is an argon2id hash and an fsync'd write, and on a
# slow disk the fsyncs alone would take an hour; the figures (what is kept, the store's size, a
# real sign-in after) do not depend on the disk.
flood_dir="$out/flood"
[ -d /dev/shm ] && flood_dir=$(mktemp -d /dev/shm/gatehouse-flood.XXXXXX)
target/release/gatehouse-bench flood "$flood_dir/store" "$out/flood.md" || missed=1
[ "$flood_dir" != "$out/flood" ] && rm -rf "$flood_dir"

echo "== 200 power cuts and every fault of four operations, on faultfs"
# The power-cut and disk-fault tests, optimised, with more cuts than `make test` runs: their
# `powercut:` and `faults:` lines are the figures.
GATEHOUSE_REQUIRE_KEYRING=1 GATEHOUSE_REQUIRE_FUSE=1 GATEHOUSE_POWER_CUTS=200 scripts/with-keyring \
  cargo test -q --release -p gatehouse-core --test integration -- powercut --nocapture \
  --test-threads=1 > "$out/powercut.log" 2>&1 || missed=1
GATEHOUSE_REQUIRE_KEYRING=1 GATEHOUSE_REQUIRE_FUSE=1 scripts/with-keyring \
  cargo test -q --release -p gatehouse-core --test disk_faults -- --nocapture \
  >> "$out/powercut.log" 2>&1 || missed=1
grep -E '^(powercut|faults):' "$out/powercut.log" | sed 's/^/    /' > "$out/powercut.md" || true
cat "$out/powercut.md"

echo "== app, side by side with a blank Tauri app"
# Xvfb has no GPU: WebKit's GL compositing would run on Mesa's software rasterizer (llvmpipe),
# which on 2 cores spends 30-90 ms on each frame that changes, whatever the page. Both apps
# draw with WebKit's non-composited (CPU) renderer instead, as WebKitGTK does without GL.
export WEBKIT_DISABLE_COMPOSITING_MODE=1
# In a D-Bus session with an unlocked keyring, as on a desktop: the automatic backup at start
# is locked with a key kept there.
scripts/with-keyring target/release/bench-app target/release/blank-app target/release/gatehouse-app "$out/app-data" "$out/app.md" || missed=1

echo "== sizes"
deb=$(ls target/release/bundle/deb/*.deb 2>/dev/null | head -1 || true)
bin_mb=$(awk -v b="$(stat -c %s target/release/gatehouse-app)" 'BEGIN { printf "%.1f", b / 1048576 }')
blank_mb=$(awk -v b="$(stat -c %s target/release/blank-app)" 'BEGIN { printf "%.1f", b / 1048576 }')
{
  echo "| figure | blank Tauri app | Gatehouse | budget | |"
  echo "| --- | --- | --- | --- | --- |"
  echo "| binary size (release) | $blank_mb MB | $bin_mb MB | — | |"
  if [ -n "$deb" ]; then
    deb_mb=$(awk -v b="$(stat -c %s "$deb")" 'BEGIN { printf "%.1f", b / 1048576 }')
    ok=$(awk -v m="$deb_mb" 'BEGIN { print (m < 10) ? "met" : "**missed**" }')
    [ "$ok" = met ] || missed=1
    echo "| .deb size | — | $deb_mb MB | < 10 MB | $ok |"
  fi
} > "$out/sizes.md"
cat "$out/sizes.md"

{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` on $(date -u +%Y-%m-%d) on $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM,"
  echo "$(. /etc/os-release && echo "$PRETTY_NAME"), $(rustc --version | cut -d' ' -f1-2). Release builds; the store"
  echo "is seeded by \`gatehouse-seed\`. Rerun with \`make bench\`; it exits non-zero when a budget is missed."
  echo
  echo "## Core: 100,000 users, 1,000 pending invitations, 200,000 audit events"
  echo
  echo "Each operation runs through \`gatehouse-core\` as the app calls it (signed in, checked,"
  echo "audited). The floor is the raw sled work it cannot avoid: reading 50 records for a page,"
  echo "one insert and a flush for a durable change, reading the users tree for an open. The floors"
  echo "run in a child process, so the peak memory is Gatehouse's alone. Accepting checks the new"
  echo "password's strength and hashes it with argon2id, slow on purpose: its store part is its time"
  echo "less the same check and hash timed around it, so its p99 carries their jitter."
  echo
  cat "$out/core.md"
  echo
  echo "## Where the app's memory goes"
  echo
  echo "\`gatehouse-bench memory\` follows the app's path through core on the app's 100,000-user"
  echo "store, in one process with the app's allocator (\`tools/allocator\`: mimalloc, freed pages"
  echo "given back at once): the store opened (the list index built), the automatic backup at"
  echo "start, the Owner's sign-in, then the pages the Users list asks for while it is scrolled end"
  echo "to end. The heap in use counts 21 MB that sled allocates zeroed for metrics it never"
  echo "records, which are never resident."
  echo
  cat "$out/memory.md"
  echo
  echo "## Strangers at the sign-in screen"
  echo
  echo "Every failed sign-in for an address adds a count (kept while it can still lock the"
  echo "address: 30 minutes) and, for the first 20 attempts for unknown addresses in each"
  echo "10-minute window, an audit event; the rest of a window's attempts are one event with their"
  echo "number. Expired counts are swept on every sign-in. The store is on tmpfs for this one: each"
  echo "attempt is an argon2id hash and an fsync'd write, and the figures do not depend on the disk."
  echo
  cat "$out/flood.md"
  echo
  echo "## Power cuts, full disks and failing disks"
  echo
  echo "The store runs on faultfs (\`tools/faultfs\`), a FUSE filesystem that keeps only what a"
  echo "real disk would after a power cut: file data as of its last fsync, names as of their"
  echo "folder's. The crash worker changes the store until the power is cut at a random moment;"
  echo "the image left must open, verify and hold every change reported done. Then an invite, a"
  echo "role change, a backup and a restore are failed with EIO on a write or a sync, or ENOSPC,"
  echo "at every point, each followed by a cut. What each durable change costs is the row"
  echo "\"a durable change's syncs\" above (its floor: sled's own flush, which survives no cut)."
  echo
  cat "$out/powercut.md"
  echo
  echo "## The app under Xvfb, against a blank Tauri 2 app built in the same run"
  echo
  echo "Launch time runs from starting the app through WebDriver (tauri-driver, WebKitWebDriver)"
  echo "until its first screen is in the page (looked for every 5 ms), the same way for both apps. Memory is the resident"
  echo "set of the app and its WebKit processes. Both apps draw with WebKit's non-composited"
  echo "renderer (\`WEBKIT_DISABLE_COMPOSITING_MODE=1\`): Xvfb has no GPU, and GL compositing on"
  echo "Mesa's software rasterizer spends 30-90 ms on every changed frame (the keystroke measured"
  echo "100-260 ms that way on 2026-11-29, of which the page's own work was 10-40 ms)."
  echo
  cat "$out/app.md"
  echo
  echo "What brought memory after scrolling from 1.82× (2026-11-29) to within its budget"
  echo "(2026-12-06), each measured in the app's process or its page's: the C allocator kept what"
  echo "the automatic backup and the index build had used (mimalloc, freed pages given back at"
  echo "once: \`tools/allocator\`); sled held every page a scan had read whatever its cache size (256"
  echo "cache shards, counted 64 accesses at a time: \`vendor/sled\` has 8), and its cache is 2 MB;"
  echo "argon2's 19 MiB stayed after the first sign-in (now freed after each hash); the list index"
  echo "is one vector per field in name order; the automatic backup at start runs on the thread that"
  echo "opened the store (on a thread of its own it left about 20 MB of the allocator's pages"
  echo "resident); the log writer's queue holds 1,024 lines (128,000 took 4 MB); and the page runs"
  echo "without JavaScriptCore's JIT (\`JSC_useJIT=false\`, \`src-tauri/src/shell.rs\`: about 20-40 MB"
  echo "less after scrolling, and no memory of the page's process both writable and executable),"
  echo "with the Users list rendering 4 rows beyond each edge of the view so that a search stays"
  echo "well within its budget in the interpreter."
  echo
  echo "## Sizes"
  echo
  cat "$out/sizes.md"
} > BENCHMARKS.md
echo "BENCHMARKS.md written"
exit $missed
