# Lucid engine task runner. After cloning, use ./dev <recipe> (it installs the toolchain first).
set shell := ["bash", "-euo", "pipefail", "-c"]
set dotenv-load := false

export PATH := justfile_directory() + "/.bin:" + env_var('PATH')
export FOUNDRY_PROFILE := env_var_or_default('FOUNDRY_PROFILE', if env_var_or_default('CI', '') == "true" { "ci" } else { "default" })

default:
    @just --list

# Run the whole network locally (SQLite): anvils, TRON stand-in, indexer, three keepers, nodes, a payout (devnet/).
up:
    tools/up.sh

# Run every test: vectors, contracts (unit/fuzz/invariant), static analysis, Rust (both store backends), e2e.
test:
    tools/test-all.sh

# Install the Python test tools (SecantusDB, slither) into .venv when missing.
venv:
    tools/ensure-venv.sh

# Regenerate tests/vectors/*.json from tools/gen-vectors.mjs.
vectors:
    node tools/gen-vectors.mjs

build:
    forge build
    cargo build --workspace

test-contracts *ARGS:
    forge test {{ARGS}}

test-rust *ARGS: venv
    cargo nextest run --workspace --no-fail-fast {{ARGS}}

lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    forge fmt --check

fmt:
    cargo fmt --all
    forge fmt

# Static analysis of contracts/src with slither (configuration in slither.config.json).
slither: venv
    tools/slither.sh

# Line coverage of contracts/src (fails under 95%).
coverage:
    tools/coverage.sh

# Gas snapshot of the contract tests (.gas-snapshot) and anchoring gas per session.
snapshot:
    forge snapshot --no-match-test 'testFuzz|invariant'

# Criterion benchmarks (numbers go to docs/benchmarks.md).
bench:
    cargo bench --workspace

# Indexer benchmark (release): real anchorBatch events on anvil (LUCID_BENCH_EVENTS, default 100000), backfill
# (LUCID_BENCH_BACKFILL_RUNS times, default 3, median reported)
# events/s into SQLite (RPC vs store) and into the SecantusDB test server (LUCID_BENCH_MONGO_EVENTS, default
# 5000), live latency, and load on GET /v1/sessions/{id} (LUCID_BENCH_WRK_SECS, default 10 s per run): wrk
# at saturation (installed with apt-get when missing) and oha at a fixed 20,000 req/s (oha 1.16.0 is built
# into target/tools on first use, a few minutes). Figures: docs/benchmarks.md.
bench-indexer:
    command -v wrk >/dev/null || (apt-get install -y wrk || (apt-get update && apt-get install -y wrk))
    command -v oha >/dev/null || test -x target/tools/bin/oha || cargo install oha --locked --version 1.16.0 --root target/tools
    forge build
    uptime
    PATH="$PATH:{{justfile_directory()}}/target/tools/bin" cargo test -p lucid-indexer --release --test bench -- --ignored --nocapture
    uptime

# Keeper daemon benchmark (release): POST /v1/proofs intake (proofs from `lucid-keeper simulate`,
# LUCID_BENCH_NODES x LUCID_BENCH_SLOTS, bodies of LUCID_BENCH_BODY), anchoring of
# LUCID_BENCH_SESSIONS sessions in batches of 100, gas per session. Figures: docs/benchmarks.md.
bench-keeper:
    forge build
    cargo nextest run -p lucid-keeper --release --test bench --run-ignored only --no-capture

# Payout planning benchmark (PLAN_NODES=10000, PLAN_PROOFS_PER_NODE=100): time per phase, peak RSS; docs/benchmarks.md.
bench-payouts:
    cargo bench -p lucid-payout --bench plan_period
