/** Version comparison for the shared API choice (shared.ts). Pure. */

/**
 * Same major, and a later minor or patch (`1.10.1` is newer than `1.10.0`; `1.10.0` is not, nor
 * is its pre-release `1.10.0-rc.1`; `2.0.0` is another major).
 */
export function newerSameMajor(version: string, than: string): boolean {
  const [major, minor, patch] = version.split(/[.+-]/).map(Number);
  const [thanMajor, thanMinor, thanPatch] = than.split('.').map(Number);
  if (major === undefined || minor === undefined || patch === undefined || [major, minor, patch].some(Number.isNaN)) return false;
  if (major !== thanMajor) return false;
  if (minor !== thanMinor) return minor > (thanMinor ?? 0);
  return patch > (thanPatch ?? 0);
}
