// The service the benchmark loads: a read-through cache in front of PostgreSQL, as a user writes it
// (no agent code). GET /item/<n>: Redis GET; on a miss a Postgres query, then Redis SET with a TTL.
// Any other path answers 200 at once, so the scrape benchmark can make many distinct routes.
// Keys carry BENCH_KEY_PREFIX so concurrent or earlier runs never share a cache entry.
import http from 'node:http';
import pg from 'pg';
import Redis from 'ioredis';

const prefix = process.env.BENCH_KEY_PREFIX ?? `bench:${process.pid}:`;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 8 });
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
const stats = { hits: 0, misses: 0, errors: 0 };

const server = http.createServer(async (req, res) => {
  const url = req.url ?? '/';
  try {
    if (url.startsWith('/item/')) {
      const id = Number.parseInt(url.slice(6), 10) || 0;
      const key = prefix + id;
      const cached = await redis.get(key);
      if (cached !== null) {
        stats.hits++;
        return send(res, 200, cached);
      }
      stats.misses++;
      const { rows } = await pool.query('SELECT $1::int AS id, md5($1::text) AS name, now() AS at', [id % 100000]);
      const body = JSON.stringify(rows[0]);
      await redis.set(key, body, 'EX', 120);
      return send(res, 200, body);
    }
    if (url === '/__stats') return send(res, 200, JSON.stringify(stats));
    send(res, 200, '{"ok":true}');
  } catch (error) {
    stats.errors++;
    send(res, 500, JSON.stringify({ error: String(error?.message ?? error) }));
  }
});

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

redis.once('ready', () => {
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ listening: server.address().port }) + '\n');
  });
});
redis.on('error', () => {
  // Counted per request; the benchmark reports errors and non-2xx answers.
});
