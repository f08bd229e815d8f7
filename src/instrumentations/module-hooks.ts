/**
 * Runs a patch function when the app loads a package, whether it is `require`d (CommonJS, through
 * require-in-the-middle) or `import`ed (ESM, through import-in-the-middle). Only the packages the
 * agent instruments go through the ESM hook: every other import runs untouched.
 *
 * The ESM hook is the in-thread `module.registerHooks` where this Node has a working one, and the
 * `module.register` loader thread (about 60 ms and 24 MB more at start) only where it does not.
 */
import * as nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';
import { Hook as ImportHook } from 'import-in-the-middle';
import { Hook as RequireHook } from 'require-in-the-middle';
import { guard } from '../lifecycle/guard';
import { log } from '../logging/logger';

export type EsmHookMode = 'in-thread' | 'loader-thread' | 'none';

/** Installs the ESM hook for exactly these package names; call once, before the app loads. */
export function installEsmHook(packages: string[]): EsmHookMode {
  if (packages.length === 0) return 'none';
  // The specifier iitm matches is what the app writes: bare names, and `node:` for builtins.
  const include = packages.flatMap((name) => (nodeModule.isBuiltin(name) ? [name, `node:${name}`] : [name]));
  try {
    const syncHooks = require('import-in-the-middle/register-hooks.mjs') as {
      supportsSyncHooks(): boolean;
      register(options: { include: string[] }): void;
    };
    if (syncHooks.supportsSyncHooks()) {
      syncHooks.register({ include });
      return 'in-thread';
    }
    nodeModule.register('import-in-the-middle/hook.mjs', pathToFileURL(__filename), { data: { include } });
    return 'loader-thread';
  } catch (error) {
    log.warn(`ESM hooks could not be installed (${String(error)}); ESM imports of ${packages.join(', ')} are not instrumented`);
    return 'none';
  }
}

/**
 * Calls `patch` once per loaded copy of a package with its CommonJS exports object (the
 * `default` export when it comes through ESM) and the package's folder, when the hook knows it.
 * The patch must be idempotent: a package imported from ESM may be seen by both hooks.
 */
export function onPackageLoad(packages: string[], where: string, patch: (exports: unknown, packageDir: string | undefined) => void): void {
  const safePatch = guard(where, patch);
  new RequireHook(packages, { internals: false }, (exports, _name, basedir) => {
    safePatch(exports, basedir);
    return exports;
  });
  new ImportHook(packages, { internals: false }, (namespace, _name, baseDir) => {
    safePatch((namespace as { default?: unknown }).default ?? namespace, typeof baseDir === 'string' ? baseDir : undefined);
  });
}

/** Marks an object as patched; returns false if it already was. */
export function claimPatch(target: object, mark: symbol): boolean {
  const record = target as Record<symbol, unknown>;
  if (record[mark]) return false;
  Object.defineProperty(record, mark, { value: true, enumerable: false });
  return true;
}
