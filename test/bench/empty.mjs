// The app of the startup benchmark: it does nothing. On exit it reports, on stdout, when its first
// line ran (ms since the process started) and the process's peak RSS.
const firstLineMs = performance.now();
process.on('exit', () => {
  process.stdout.write(JSON.stringify({ firstLineMs, maxRssKb: process.resourceUsage().maxRSS }) + '\n');
});
