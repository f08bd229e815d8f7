// One GET on a fresh connection, timed from the request to the last byte of the body.
import http from 'node:http';

export function get(url, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.get(url, { agent: false }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: response.statusCode, text: body.toString('utf8'), bytes: body.length, ms: performance.now() - started });
      });
      response.on('error', reject);
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`GET ${new URL(url).pathname} timed out after ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/** Sample lines of a Prometheus text exposition (not comments, not blank). */
export function sampleLines(text) {
  let count = 0;
  for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#')) count++;
  return count;
}
