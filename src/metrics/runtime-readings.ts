/**
 * Pure parsing for the runtime metrics (runtime-metrics.ts does the reading): the texts of
 * /proc and cgroup files, V8's heap space names, and the per-type counts of live handles.
 */

/**
 * The cgroup memory limit in bytes, or undefined when there is none. cgroup v2 says `max` for no
 * limit; v1 says a number near 2^63.
 */
export function parseCgroupMemoryLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  if (value === '' || value === 'max') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 2 ** 60) return undefined;
  return n;
}

export interface ProcStatusMemory {
  /** `VmSize`: the virtual memory size, in bytes. */
  virtual?: number;
  /** `VmData`: the data segment (the process heap), in bytes. */
  data?: number;
}

/** The memory fields of /proc/self/status, whose values are in kB (1024 bytes). */
export function parseProcStatus(text: string): ProcStatusMemory {
  const kB = (field: string): number | undefined => {
    const match = new RegExp(`^${field}:\\s*(\\d+)\\s*kB\\s*$`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  return { virtual: kB('VmSize'), data: kB('VmData') };
}

/** The soft limit on open files from /proc/self/limits (`unlimited` gives undefined). */
export function parseMaxOpenFiles(text: string): number | undefined {
  const match = /^Max open files\s+(\d+)\s/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The `space` label of a V8 heap space, as prom-client writes it: `old_space` is `old`. */
export function heapSpaceLabel(spaceName: string): string {
  return spaceName.endsWith('_space') ? spaceName.slice(0, -'_space'.length) : spaceName;
}

/** How many of each name a list holds, in first-seen order. */
export function countByName(names: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/** The class name of each live handle or request, as prom-client groups them; objects without a constructor are skipped. */
export function constructorNames(objects: readonly unknown[]): string[] {
  const names: string[] = [];
  for (const object of objects) {
    const name = (object as { constructor?: { name?: unknown } } | null | undefined)?.constructor?.name;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}
