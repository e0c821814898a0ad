#!/usr/bin/env bash
# A short fuzzing pass over every target (default 20 s each), as CI runs it: installs cargo-fuzz
# when missing, seeds the corpora from real files, and fails on the first crash (its input is
# left in fuzz/artifacts/<target>/). Needs a nightly toolchain. Usage: fuzz/run-ci.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-20}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
bash seed.sh
cargo +nightly fuzz build --fuzz-dir . -O
for target in range m3u8 pattern mp4; do
  started=$(date +%s)
  set +e
  cargo +nightly fuzz run --fuzz-dir . -O "$target" "corpus/$target" -- \
    -max_total_time="$secs" -print_final_stats=1 >"artifacts-$target.log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "artifacts-$target.log")
  if [ $rc -ne 0 ]; then
    echo "fuzz target $target failed (its input is in fuzz/artifacts/$target):"
    tail -n 40 "artifacts-$target.log"
    exit 1
  fi
  echo "fuzzed $target: ${runs:-?} runs in $(( $(date +%s) - started )) s"
done
