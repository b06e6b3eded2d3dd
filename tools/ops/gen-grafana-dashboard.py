#!/usr/bin/env python3
# Generates docs/ops/grafana-dashboard.json (python3 tools/ops/gen-grafana-dashboard.py > docs/ops/grafana-dashboard.json).
# Metric names: docs/operations.md "Monitoring".
import json
DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
panels = []
pid = [0]
y = [0]
def nid():
    pid[0] += 1; return pid[0]
def row(title):
    panels.append({"type": "row", "title": title, "id": nid(), "collapsed": False, "gridPos": {"h": 1, "w": 24, "x": 0, "y": y[0]}, "panels": []})
    y[0] += 1
def ts(title, targets, x, w=8, h=8, unit="short", desc="", stack=False, thresholds=None):
    p = {"type": "timeseries", "title": title, "id": nid(), "datasource": DS, "description": desc,
         "gridPos": {"h": h, "w": w, "x": x, "y": y[0]},
         "fieldConfig": {"defaults": {"unit": unit, "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
              "stacking": {"mode": "normal" if stack else "none", "group": "A"}}}, "overrides": []},
         "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}, "tooltip": {"mode": "multi", "sort": "desc"}},
         "targets": [{"datasource": DS, "refId": chr(65 + i), "expr": e, "legendFormat": l} for i, (e, l) in enumerate(targets)]}
    if thresholds:
        p["fieldConfig"]["defaults"]["thresholds"] = {"mode": "absolute", "steps": [{"color": "green", "value": None}] + [{"color": c, "value": v} for v, c in thresholds]}
        p["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] = {"mode": "line"}
    panels.append(p)
def stat(title, expr, legend, x, w=6, h=4, unit="short", thresholds=None, desc="", mappings=None):
    p = {"type": "stat", "title": title, "id": nid(), "datasource": DS, "description": desc,
         "gridPos": {"h": h, "w": w, "x": x, "y": y[0]},
         "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}] + [{"color": c, "value": v} for v, c in (thresholds or [])]},
                                      "mappings": mappings or []}, "overrides": []},
         "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "background", "graphMode": "none", "textMode": "auto", "orientation": "auto"},
         "targets": [{"datasource": DS, "refId": "A", "expr": expr, "legendFormat": legend, "instant": True}]}
    panels.append(p)

I = '{job=~"$indexer_job"}'
K = '{job=~"$keeper_job"}'
def sel(base, extra=""):
    return base[:-1] + ("," + extra if extra else "") + "}"

row("Overview")
stat("Indexer lag (blocks)", f'max by (chain) (lucid_indexer_lag_blocks{I})', "{{chain}}", 0, thresholds=[(50, "orange"), (1000, "red")],
     desc="Head minus checkpoint per chain (alerts: LucidIndexerLagging > 50, LucidIndexerFarBehind > 1000).")
stat("Keepers ready", f'sum(lucid_keeper_ready{K})', "ready", 6, desc="Keepers that report ready (lucid_keeper_ready == 1).",
     thresholds=None)
stat("Unscheduled wins (24 h)", f'max(increase(lucid_keeper_unscheduled_wins_total{K}[24h]))', "unscheduled", 12, thresholds=[(1, "red")],
     desc="SPEC §4: faults; grounds for revoking ANCHORER_ROLE.")
stat("Tally mismatches (24 h)", f'sum(increase(lucid_keeper_tally_mismatch_total{K}[24h]))', "mismatch", 18, thresholds=[(1, "red")],
     desc="A keeper whose recomputed tally or params hash differs from the frozen epoch does not act in that epoch.")
y[0] += 4

row("Indexer")
ts("Lag by chain", [(f'lucid_indexer_lag_blocks{I}', "{{chain}} {{instance}}")], 0, unit="short", thresholds=[(50, "orange"), (1000, "red")])
ts("Blocks indexed / s", [(f'sum by (chain) (rate(lucid_indexer_blocks_indexed_total{I}[$__rate_interval]))', "{{chain}}")], 8, unit="ops")
ts("Events indexed / s", [(f'sum by (chain) (rate(lucid_indexer_events_indexed_total{I}[$__rate_interval]))', "{{chain}}")], 16, unit="ops")
y[0] += 8
ts("Reorgs", [(f'sum by (chain) (increase(lucid_indexer_reorgs_total{I}[$__interval]))', "{{chain}}")], 0, unit="short",
   desc="Rollbacks per interval. Frequent reorgs: raise the chain's confirmations.")
ts("RPC errors / s by kind", [(f'sum by (chain, kind) (rate(lucid_indexer_rpc_errors_total{I}[$__rate_interval]))', "{{chain}} {{kind}}")], 8, unit="ops", stack=True)
ts("API latency", [
    (f'histogram_quantile(0.5, sum by (le) (rate(lucid_indexer_http_request_duration_seconds_bucket{I}[$__rate_interval])))', "p50"),
    (f'histogram_quantile(0.99, sum by (le) (rate(lucid_indexer_http_request_duration_seconds_bucket{I}[$__rate_interval])))', "p99"),
    (f'sum(rate(lucid_indexer_http_request_duration_seconds_count{I}[$__rate_interval]))', "requests/s (right axis)"),
], 16, unit="s")
panels[-1]["fieldConfig"]["overrides"] = [{"matcher": {"id": "byName", "options": "requests/s (right axis)"},
    "properties": [{"id": "unit", "value": "reqps"}, {"id": "custom.axisPlacement", "value": "right"}]}]
y[0] += 8

row("Keepers")
ts("Ready", [(f'lucid_keeper_ready{K}', "{{instance}}")], 0, unit="bool")
ts("On-system head age", [(f'lucid_keeper_chain_head_age_seconds{K}', "{{instance}}")], 8, unit="s", thresholds=[(120, "red")],
   desc="Seconds since the latest on-system block, by the keeper's wall clock. Above one slot (120 s) the keeper stops acting.")
ts("Slots anchored per hour by role", [(f'sum by (role) (increase(lucid_keeper_slots_anchored_total{K}[1h]))', "{{role}}")], 16, unit="short", stack=True,
   desc="primary: the planned primary anchored; fallback: a fallback after SLOT_TIMEOUT_MS; any: no_eligible_leader slots.")
y[0] += 8
ts("Transactions by state", [(f'sum by (state) (lucid_keeper_tx_state{K})', "{{state}}")], 0, unit="short", stack=True,
   desc="Outbox: queued → signed → broadcast → included → confirmed, or failed/cancelled.")
ts("Failed transactions", [(f'sum by (instance) (increase(lucid_keeper_tx_failed_total{K}[$__interval]))', "{{instance}}")], 8, unit="short")
ts("Task proofs / s by outcome", [(f'sum by (outcome) (rate(lucid_keeper_proofs_total{K}[$__rate_interval]))', "{{outcome}}")], 16, unit="ops", stack=True)
y[0] += 8
ts("Unscheduled wins", [(f'max(increase(lucid_keeper_unscheduled_wins_total{K}[$__interval]))', "unscheduled")], 0, w=12, unit="short", thresholds=[(1, "red")])
ts("Tally mismatches", [(f'sum by (instance) (increase(lucid_keeper_tally_mismatch_total{K}[$__interval]))', "{{instance}}")], 12, w=12, unit="short", thresholds=[(1, "red")])
y[0] += 8

def jobvar(name, label, default):
    return {"name": name, "label": label, "type": "query", "datasource": DS, "query": {"query": "label_values(up, job)", "refId": "jobs"},
            "definition": "label_values(up, job)", "regex": "", "includeAll": False, "multi": True, "refresh": 1,
            "current": {"selected": True, "text": [default], "value": [default]}, "options": [], "hide": 0, "sort": 1}

dash = {
    "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "description": "Prometheus scraping the Lucid daemons", "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus"}],
    "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.0.0"},
                   {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
                   {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
                   {"type": "panel", "id": "stat", "name": "Stat", "version": ""}],
    "title": "Lucid network", "uid": "lucid-network", "description": "Lucid indexer and keepers (metrics: docs/operations.md \"Monitoring\").",
    "tags": ["lucid"], "timezone": "utc", "editable": True, "graphTooltip": 1, "refresh": "30s", "schemaVersion": 39, "version": 1,
    "time": {"from": "now-6h", "to": "now"}, "timepicker": {},
    "templating": {"list": [jobvar("indexer_job", "Indexer job", "lucid-indexer"), jobvar("keeper_job", "Keeper job", "lucid-keeper")]},
    "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
                              "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"},
                             {"datasource": DS, "enable": True, "iconColor": "orange", "name": "Reorgs",
                              "expr": f'changes(lucid_indexer_reorgs_total{I}[2m]) > 0', "step": "60s", "titleFormat": "reorg on {{chain}}", "textFormat": ""}]},
    "links": [],
    "panels": panels,
}
print(json.dumps(dash, indent=2))
