#!/usr/bin/env bash
# Runs every test nimbus has, installing what they need first:
#   1. cargo fmt --check and clippy (-D warnings)
#   2. Rust unit and integration tests (real servers, aws-sdk-rust clients)
#   3. the boto3 compatibility suite (tests/compat, in a Python venv)
#   4. the benchmark in --quick mode, so it keeps building and working
# Usage: ./test.sh [--no-lint] [--no-bench]
set -euo pipefail
cd "$(dirname "$0")"

lint=1
bench=1
for arg in "$@"; do
  case "$arg" in
    --no-lint) lint=0 ;;
    --no-bench) bench=0 ;;
    *) echo "usage: ./test.sh [--no-lint] [--no-bench]" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }

if [ "$lint" = 1 ]; then
  step "cargo fmt --check"
  cargo fmt --all -- --check
  step "cargo clippy --all-targets -- -D warnings"
  cargo clippy --workspace --all-targets -- -D warnings
fi

step "cargo test (unit and integration tests)"
cargo test --workspace

step "Python venv for the boto3 compatibility suite"
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/compat/requirements.txt

step "pytest tests/compat (boto3 against a live nimbus)"
# `cargo test` above built the binary the integration tests run; building it
# again with -p would only recompile it with other features.
nimbus_bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/nimbus"
[ -x "$nimbus_bin" ] || cargo build -p nimbus
NIMBUS_BIN="$nimbus_bin" .venv/bin/python -m pytest -q tests/compat

if [ "$bench" = 1 ]; then
  step "bench/compare --quick --no-peers"
  bench/compare --quick --no-peers
fi

step "all tests passed"
