#!/usr/bin/env bash
# Checks the monitoring files: the alert rules parse and pass their unit tests (promtool), every Grafana
# query parses (as recording rules, through promtool), and the committed dashboard JSON is what the generator
# writes. Installs promtool (Debian `prometheus`) when missing, as root or with passwordless sudo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if ! command -v promtool >/dev/null; then
  sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo -n)
  echo "ops-check: installing promtool (Debian package prometheus)…" >&2
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus >&2
fi
promtool check rules docs/ops/prometheus-alerts.yml
promtool test rules docs/ops/prometheus-alerts.test.yml
python3 tools/ops/gen-grafana-dashboard.py | cmp - docs/ops/grafana-dashboard.json \
  || { echo "ops-check: docs/ops/grafana-dashboard.json is not what tools/ops/gen-grafana-dashboard.py writes" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/grafana-exprs.yml" <<'PY'
import json, re, sys
d = json.load(open("docs/ops/grafana-dashboard.json"))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
exprs += [a["expr"] for a in d["annotations"]["list"] if "expr" in a]
subst = lambda e: re.sub(r"\$__(rate_)?interval", "5m", e).replace("$indexer_job", "lucid-indexer").replace("$keeper_job", "lucid-keeper")
with open(sys.argv[1], "w") as f:
    f.write("groups:\n  - name: grafana-queries\n    rules:\n")
    for i, e in enumerate(exprs):
        f.write(f"      - record: grafana:query{i}\n        expr: {json.dumps(subst(e))}\n")
print(f"ops-check: {len(exprs)} Grafana queries")
PY
promtool check rules "$tmp/grafana-exprs.yml"
echo "ops-check: ok"
