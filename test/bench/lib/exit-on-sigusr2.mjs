// Preloaded by profile.mjs in front of the agent: SIGUSR2 ends the app through process.exit, so
// that `--cpu-prof` writes its profile (a process killed by a signal writes none).
process.on('SIGUSR2', () => process.exit(0));
