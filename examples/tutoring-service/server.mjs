// A small tutoring API, written as a service team would write it: no telemetry code at all.
// Started under `node --import @tutor/otel-agent`, it gets metrics, health and traces.
import express from 'express';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
let redis;
if (process.env.REDIS_URL) {
  const { default: Redis } = await import('ioredis');
  redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
}

await pool.query(`CREATE TABLE IF NOT EXISTS lessons (id int PRIMARY KEY, title text NOT NULL, level int NOT NULL)`);
await pool.query(`CREATE TABLE IF NOT EXISTS answers (id serial PRIMARY KEY, lesson_id int NOT NULL, student_id int NOT NULL, correct boolean NOT NULL)`);
await pool.query(`INSERT INTO lessons (id, title, level)
  SELECT n, 'Lesson ' || n, 1 + n % 5 FROM generate_series(1, 50) AS n ON CONFLICT (id) DO NOTHING`);

const app = express();
app.use(express.json());

app.get('/api/lessons/:id', async (req, res, next) => {
  try {
    const key = `lesson:${req.params.id}`;
    const cached = redis ? await redis.get(key) : null;
    if (cached) return res.json(JSON.parse(cached));
    const { rows } = await pool.query('SELECT id, title, level FROM lessons WHERE id = $1', [Number(req.params.id)]);
    if (rows.length === 0) return res.status(404).json({ error: 'no such lesson' });
    if (redis) await redis.set(key, JSON.stringify(rows[0]), 'EX', 30);
    res.json(rows[0]);
  } catch (error) {
    next(error);
  }
});

app.post('/api/lessons/:id/answers', async (req, res, next) => {
  try {
    const correct = Boolean(req.body?.correct);
    await pool.query('INSERT INTO answers (lesson_id, student_id, correct) VALUES ($1, $2, $3)', [
      Number(req.params.id),
      Number(req.body?.studentId ?? 0),
      correct,
    ]);
    res.status(201).json({ recorded: true });
  } catch (error) {
    next(error);
  }
});

app.get('/api/students/:id/progress', async (req, res, next) => {
  try {
    const { rows } = await pool.query(
      'SELECT count(*)::int AS answered, count(*) FILTER (WHERE correct)::int AS correct FROM answers WHERE student_id = $1',
      [Number(req.params.id)],
    );
    res.json(rows[0]);
  } catch (error) {
    next(error);
  }
});

// A tutor hint from an LLM (OpenAI's API, or any compatible one at OPENAI_BASE_URL), streamed.
let openai;
if (process.env.OPENAI_API_KEY) {
  const { default: OpenAI } = await import('openai');
  openai = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, maxRetries: 1 });
}

app.post('/api/lessons/:id/hint', async (req, res, next) => {
  if (!openai) return res.status(503).json({ error: 'no LLM configured' });
  try {
    const messages = [
      { role: 'system', content: 'You are a patient maths tutor. Give one short hint.' },
      { role: 'user', content: `Lesson ${Number(req.params.id)}: ${String(req.body?.question ?? 'How do I start?')}` },
    ];
    if (req.body?.stream === false) {
      const completion = await openai.chat.completions.create({ model: process.env.TUTOR_MODEL ?? 'gpt-4o-mini', messages });
      return res.json({ hint: completion.choices[0]?.message?.content ?? '' });
    }
    const stream = await openai.chat.completions.create({ model: process.env.TUTOR_MODEL ?? 'gpt-4o-mini', messages, stream: true });
    let hint = '';
    for await (const chunk of stream) hint += chunk.choices[0]?.delta?.content ?? '';
    res.json({ hint });
  } catch (error) {
    next(error);
  }
});

// A route that sometimes fails, so the error-rate panels have something to show.
app.get('/api/recommendations', (req, res) => {
  if (Math.random() < 0.2) return res.status(503).json({ error: 'recommender unavailable' });
  res.json({ next: 1 + Math.floor(Math.random() * 50) });
});

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ listening: server.address().port }) + '\n');
});

process.on('SIGTERM', () => {
  server.close(async () => {
    await pool.end().catch(() => {});
    await redis?.quit().catch(() => {});
    process.exit(0);
  });
});
