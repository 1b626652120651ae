#!/usr/bin/env bash
# One command for the side-by-side evaluator benchmark (policyengine vs moto, principalmapper, policyuniverse,
# cedarpy, iam-simulate and the toy ceiling), run from anywhere:
#
#   bash bench/peers/run.sh [REPS=5] [RUN_DIR=bench/results/peers-<timestamp>]
#
# 1. peers: reuses $BENCH_PEERS_HOME (default ~/.cache/bench-peers); runs setup.sh only if a venv is missing;
# 2. ours: OURS_PYTHON if set (any python that imports policyengine), else the venv
#    $BENCH_PEERS_HOME/venv-policyengine with this checkout installed editable (re-installed if it points elsewhere);
# 3. regenerates workload/ (deterministic, identical bytes), runs run_all.sh (REPS interleaved rounds of every
#    peer + ours) and prints compare.py's table (also saved as RUN_DIR/summary.md).
# About 70 s per round on 2 cores (iam-simulate dominates): the default 5 rounds take ~6 minutes.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
R=${BENCH_PEERS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/bench-peers}
export BENCH_PEERS_HOME=$R
REPS=${1:-5}
RUN=${2:-$REPO/bench/results/peers-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RUN"
RUN=$(cd "$RUN" && pwd)

# 1. peers
missing=0
for v in moto pmapper puniverse cedar; do [ -x "$R/venv-$v/bin/python" ] || missing=1; done
if command -v npm >/dev/null && [ ! -d "$R/node/node_modules/@cloud-copilot/iam-simulate" ]; then missing=1; fi
if [ "$missing" = 1 ]; then
  echo "== setting up peers in $R"
  bash "$HERE/setup.sh"
fi

# 2. ours
if [ -z "${OURS_PYTHON:-}" ]; then
  PY=$(command -v python3.11 || command -v python3)
  V="$R/venv-policyengine"
  [ -x "$V/bin/python" ] || "$PY" -m venv "$V"
  if ! "$V/bin/python" - "$REPO" <<'EOF' 2>/dev/null; then
import os, sys
import policyengine
sys.exit(os.path.realpath(os.path.dirname(os.path.dirname(policyengine.__file__))) != os.path.realpath(sys.argv[1]))
EOF
    echo "== installing $REPO (editable) into $V"
    "$V/bin/pip" install -q -e "$REPO"
  fi
  OURS_PYTHON="$V/bin/python"
fi
export OURS_PYTHON
echo "== ours: $OURS_PYTHON ($($OURS_PYTHON -c 'import policyengine, sys; print(policyengine.__file__, sys.version.split()[0])'))"

# 3. workload + interleaved rounds + comparison
(cd "$HERE" && "$R/venv-moto/bin/python" gen_workload.py >/dev/null)
echo "== $REPS rounds -> $RUN   (machine: $(nproc) cores, $(uname -sm))"
bash "$HERE/run_all.sh" "$REPS" "$RUN"
