/**
 * The Authorization header values that open /metrics and /health. A credential comes from its
 * variable or from a file (a mounted secret); a file that cannot be read locks the endpoints
 * (nothing matches) rather than leaving them open.
 */
import { readFileSync } from 'node:fs';
import type { AgentConfig, CredentialSource } from '../config/types';
import { describeError, log } from '../logging/logger';

/** Returns undefined when no credential is configured (open endpoints), else the accepted headers. */
export function acceptedAuthorizations(auth: AgentConfig['auth']): string[] | undefined {
  const bearer = read(auth.bearer, 'TUTOR_OTEL_AUTH_TOKEN_FILE');
  const basic = read(auth.basic, 'TUTOR_OTEL_AUTH_BASIC_FILE');
  if (bearer === undefined && basic === undefined) return undefined;
  const accepted: string[] = [];
  if (bearer) accepted.push(`Bearer ${bearer}`);
  if (basic) accepted.push(`Basic ${Buffer.from(basic).toString('base64')}`);
  return accepted;
}

/** undefined: not configured; '': configured but unusable (locks); else the secret. */
function read(source: CredentialSource, fileVariable: string): string | undefined {
  if (source.value) return source.value;
  if (!source.file) return undefined;
  try {
    const secret = readFileSync(source.file, 'utf8').trim();
    if (secret) return secret;
    throw new Error('the file is empty');
  } catch (error) {
    log.warn(`${fileVariable} cannot be read (${describeError(error)}); /metrics and /health answer 401 until it is fixed`);
    return '';
  }
}
