import { describe, it, expect } from 'vitest';
import { MINIMUM_NODE, isSupportedNode } from '../../src/lifecycle/preflight';
import { flushWithin } from '../../src/lifecycle/shutdown';

describe('isSupportedNode', () => {
  it('the minimum is Node 22.15', () => {
    expect([...MINIMUM_NODE]).toEqual([22, 15]);
  });

  it.each(['22.15.0', '22.15.1', '22.16.0', '22.100.0', '23.0.0', '24.21.0', '25.0.0-nightly20250101', '100.0.0', '24', '22.15'])(
    '%s is supported',
    (version) => {
      expect(isSupportedNode(version)).toBe(true);
    },
  );

  it.each(['22.14.0', '22.14.99', '22.9.0', '22.1.0', '22.0.0', '22', '21.99.0', '20.20.2', '18.19.0', '0.10.48', '', 'abc', 'x.y.z'])(
    '%j is not supported',
    (version) => {
      expect(isSupportedNode(version)).toBe(false);
    },
  );

  it('compares minors as numbers, not text', () => {
    // "9" > "15" as text; 9 < 15 as numbers.
    expect(isSupportedNode('22.9.0')).toBe(false);
    expect(isSupportedNode('22.150.0')).toBe(true);
  });

  it('accepts the Node running these tests only if it meets the minimum', () => {
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    expect(isSupportedNode(process.versions.node)).toBe(major > 22 || (major === 22 && minor >= 15));
  });
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('flushWithin', () => {
  it('resolves at once with no flushers', async () => {
    const started = performance.now();
    await expect(flushWithin([], 10_000)).resolves.toBe(true);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('resolves when every flusher finished, well before the deadline', async () => {
    const done: string[] = [];
    const started = performance.now();
    await flushWithin(
      [
        async () => {
          await sleep(30);
          done.push('traces');
        },
        async () => {
          await sleep(60);
          done.push('metrics');
        },
      ],
      5000,
    );
    const elapsed = performance.now() - started;
    expect(done.sort()).toEqual(['metrics', 'traces']);
    expect(elapsed).toBeGreaterThanOrEqual(55);
    expect(elapsed).toBeLessThan(2000);
  });

  it('starts all flushers at once, not one after another', async () => {
    let running = 0;
    let maxRunning = 0;
    const flusher = async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(20);
      running--;
    };
    await flushWithin([flusher, flusher, flusher], 5000);
    expect(maxRunning).toBe(3);
  });

  it('resolves by the deadline when a flusher never settles', async () => {
    let otherDone = false;
    const started = performance.now();
    const completed = await flushWithin(
      [
        () => new Promise<void>(() => {}),
        () => {
          otherDone = true;
          return Promise.resolve();
        },
      ],
      150,
    );
    expect(completed).toBe(false);
    const elapsed = performance.now() - started;
    expect(otherDone).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1500);
  });

  it('resolves (does not reject) when a flusher rejects, after the others finish', async () => {
    let slowDone = false;
    const started = performance.now();
    await expect(
      flushWithin(
        [
          () => Promise.reject(new Error('exporter unreachable')),
          async () => {
            await sleep(40);
            slowDone = true;
          },
        ],
        5000,
      ),
    ).resolves.toBe(true);
    expect(slowDone).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('resolves quickly when every flusher rejects', async () => {
    const started = performance.now();
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a flusher rejecting with a non-Error is part of the case
    await flushWithin([() => Promise.reject(new Error('a')), () => Promise.reject('b')], 5000);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('resolves with a deadline of 0', async () => {
    await expect(flushWithin([() => new Promise<void>(() => {})], 0)).resolves.toBe(false);
  });
});
