/** Version comparison for the shared API choice (shared.ts). Pure. */

/** Same major, and at least the minimum's minor and patch (`1.10.0` >= `1.9.1`; `2.0.0` is not >= `1.10.0`). */
export function atLeastSameMajor(version: string, minimum: string): boolean {
  const [major, minor, patch] = version.split(/[.+-]/).map(Number);
  const [minMajor, minMinor, minPatch] = minimum.split('.').map(Number);
  if (major === undefined || minor === undefined || patch === undefined || [major, minor, patch].some(Number.isNaN)) return false;
  if (major !== minMajor) return false;
  if (minor !== minMinor) return minor > (minMinor ?? 0);
  return patch >= (minPatch ?? 0);
}
