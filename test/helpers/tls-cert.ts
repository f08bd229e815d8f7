/**
 * A throwaway self-signed certificate for 127.0.0.1 (made with the system's openssl), for loopback
 * TLS servers; a child process trusts it through NODE_EXTRA_CA_CERTS=<certFile>.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface TestCertificate {
  key: string;
  cert: string;
  certFile: string;
}

export function selfSignedLoopbackCertificate(): TestCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'otel-agent-cert-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}
