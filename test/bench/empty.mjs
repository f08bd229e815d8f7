// The app of the startup benchmark: it does nothing. On exit it reports, on stdout, when its first
// line ran (ms since the process started) and the process's peak RSS.
//
// Peak RSS from /proc/self/status (VmHWM) where there is one: getrusage's maxRSS survives exec,
// so a child spawned by a large parent (the benchmark itself, holding decoded spans) reports at
// least the parent's size at fork, which hid every setup's own figure behind the harness's.
import { readFileSync } from 'node:fs';

const firstLineMs = performance.now();

function peakRssKb() {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS;
}

process.on('exit', () => {
  process.stdout.write(JSON.stringify({ firstLineMs, maxRssKb: peakRssKb() }) + '\n');
});
