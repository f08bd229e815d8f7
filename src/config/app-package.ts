/**
 * The app's own package.json (name and version), found upward from the main script, then from the
 * working directory. Supplies the default service name and version.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AppPackage } from './env';

export function readAppPackage(mainScript: string | undefined = process.argv[1], cwd: string = process.cwd()): AppPackage {
  const starts = [mainScript ? path.dirname(path.resolve(cwd, mainScript)) : undefined, cwd].filter((d): d is string => !!d);
  for (const start of starts) {
    let dir = start;
    for (let depth = 0; depth < 12; depth++) {
      try {
        const parsed = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
        if (typeof parsed.name === 'string' || typeof parsed.version === 'string') {
          return {
            name: typeof parsed.name === 'string' ? parsed.name : undefined,
            version: typeof parsed.version === 'string' ? parsed.version : undefined,
          };
        }
      } catch {
        // no package.json here, or not JSON: keep walking up
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return {};
}
