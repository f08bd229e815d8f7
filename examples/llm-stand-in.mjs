// A stand-in for an OpenAI-compatible chat API, so the demo shows AI metrics without a key.
// It speaks the real wire format: JSON, or server-sent events with a final usage chunk when the
// request asks for `stream_options.include_usage`. Answers take a few hundred milliseconds.
import http from 'node:http';

const WORDS = ['Try', ' drawing', ' the', ' triangle', ' first', ',', ' then', ' label', ' its', ' sides', '.'];

export function startLlmStandIn() {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      }
      let request;
      try {
        request = JSON.parse(body);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'invalid JSON', type: 'invalid_request_error' } }));
      }
      const model = request.model ?? 'gpt-4o-mini';
      const usage = { prompt_tokens: 40 + (body.length % 20), completion_tokens: WORDS.length, total_tokens: 40 + (body.length % 20) + WORDS.length };
      const id = `chatcmpl-demo${Date.now()}`;
      const created = Math.floor(Date.now() / 1000);
      if (!request.stream) {
        return setTimeout(
          () => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify({
                id,
                object: 'chat.completion',
                created,
                model,
                choices: [{ index: 0, message: { role: 'assistant', content: WORDS.join('') }, finish_reason: 'stop' }],
                usage,
              }),
            );
          },
          300 + Math.random() * 500,
        );
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (delta, finish = null) =>
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      let i = 0;
      const timer = setInterval(() => {
        if (i < WORDS.length) {
          res.write(chunk(i === 0 ? { role: 'assistant', content: WORDS[i] } : { content: WORDS[i] }));
          i++;
          return;
        }
        clearInterval(timer);
        res.write(chunk({}, 'stop'));
        if (request.stream_options?.include_usage)
          res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
        res.end('data: [DONE]\n\n');
      }, 40);
      res.on('close', () => clearInterval(timer)); // the client went away mid-stream
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port })));
}
