// The metric names the shipped monitoring (docs/operators/monitoring: the Grafana dashboard and
// the Prometheus alert rules) relies on, so the suites can check a running node serves each.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/operators/monitoring');

/** Every `substrate_*` / `dsync_*` metric name in the monitoring files that starts with `prefix`. */
export function monitoredMetrics(prefix) {
  const names = new Set();
  for (const file of fs.readdirSync(DIR)) {
    const text = fs.readFileSync(path.join(DIR, file), 'utf8');
    for (const match of text.matchAll(/\b((?:substrate|dsync)_[a-z0-9_]*[a-z0-9])\b/g)) {
      if (match[1].startsWith(prefix)) names.add(match[1]);
    }
  }
  return [...names].sort();
}
