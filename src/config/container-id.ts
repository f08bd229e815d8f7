/**
 * The container id from /proc/self/cgroup (cgroup v1: the last path segment holds it) or, under
 * cgroup v2, /proc/self/mountinfo (the runtime mounts the container's hostname and resolv.conf
 * from a directory named after it). Pure: the files' text in, the id or undefined out.
 */
const ID = /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?$/;
const MOUNTED_ID = /\/(?:containers|sandboxes|overlay-containers)\/([0-9a-f]{64})\//;

export function containerIdFrom(cgroup: string | undefined, mountinfo: string | undefined): string | undefined {
  for (const line of (cgroup ?? '').split('\n')) {
    const match = ID.exec(line.trim());
    if (match) return match[1];
  }
  for (const line of (mountinfo ?? '').split('\n')) {
    if (!/\/(hostname|resolv\.conf|hosts)\s/.test(line)) continue;
    const match = MOUNTED_ID.exec(line);
    if (match) return match[1];
  }
  return undefined;
}
