/**
 * Which SDK releases the agent hooks. The client hooks rely on methods and call shapes that are
 * the SDKs' internals (`post`, `makeRequest`, `fetchWithTimeout`, the APIPromise), which a new
 * major may change without notice: openai 7 already passes `post` a promise of its options. So
 * only the majors tested here are hooked; a package of another major is left alone, with one
 * warning, and its calls to a known AI host are counted from fetch (http-observer.ts) instead of
 * mislabelled. Pure: no I/O.
 */
import { clip } from '../../config/reader';

/** The SDK packages (by the name in their package.json, so npm aliases count) and their tested majors. */
export const KNOWN_SDK_MAJORS: Readonly<Record<string, readonly number[]>> = {
  openai: [4, 5, 6, 7],
  '@anthropic-ai/sdk': [0, 1],
};

export type SdkVerdict = { hook: true } | { hook: false; warning: string };

/** What to do with a loaded SDK package whose package.json says `name` and `version`. */
export function sdkVerdict(name: unknown, version: unknown): SdkVerdict {
  const label = `${typeof name === 'string' ? name : '(no name)'} ${typeof version === 'string' ? version : '(no version)'}`;
  const majors = typeof name === 'string' && Object.hasOwn(KNOWN_SDK_MAJORS, name) ? KNOWN_SDK_MAJORS[name] : undefined;
  if (!majors) return { hook: false, warning: `${clip(label, 120)} is not an AI SDK the agent knows; it is not hooked` };
  const major = typeof version === 'string' ? /^v?(\d+)\.\d+/.exec(version.trim())?.[1] : undefined;
  if (major !== undefined && majors.includes(Number(major))) return { hook: true };
  return {
    hook: false,
    warning:
      `${clip(label, 120)} is a major version the agent does not know (it knows ${name as string} ${majorList(majors)}); ` +
      'its client is not hooked: calls to known AI hosts are counted from fetch, without stream_options.include_usage',
  };
}

function majorList(majors: readonly number[]): string {
  const sorted = [...majors].sort((a, b) => a - b);
  return sorted.map((m) => `${m}.x`).join(', ');
}
