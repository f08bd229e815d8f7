/**
 * alertmanager.yml with the real amtool and a real Alertmanager 0.25.
 *
 * Static: amtool check-config, no inline secret, every *_file secret has a template in
 * monitoring/secrets/, and `amtool config routes test` for every severity.
 * Live: the shipped route tree and inhibit rules run in Alertmanagers on 127.0.0.1 whose receivers
 * are all replaced by webhooks to this test (one path per receiver), with short group timers.
 * Alerts posted to the API must arrive grouped by alertname and service, at the receiver of their
 * severity; ServiceDown must suppress the other alerts of its service; a critical alert its own
 * warning; a silence its alert; and the maintenance interval must mute warnings only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ALERTMANAGER_CONFIG,
  MONITORING,
  Proc,
  WebhookSink,
  describeWithTools,
  freePort,
  getJson,
  postJson,
  readYaml,
  run,
  sleep,
  start,
  tempDir,
  testAlertmanagerConfig as testOverlay,
  tools,
  waitFor,
  waitReady,
} from './helpers';

const CONFIG = ALERTMANAGER_CONFIG;

interface Alert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

const alert = (labels: Record<string, string>): Alert => ({
  labels,
  annotations: { summary: `${labels.alertname} on ${labels.service}`, description: 'posted by the test', runbook_url: 'https://runbook.example/x' },
});

describeWithTools('alertmanager.yml (amtool)', ['amtool', 'yamlParser'], () => {
  it('amtool check-config accepts it', () => {
    const res = run(tools().amtool!, ['check-config', CONFIG]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/SUCCESS/);
    expect(res.stdout).toMatch(/2 inhibit rules/);
  });

  it('holds no inline secret: passwords, Slack URLs and tokens are *_file references with a template in secrets/', () => {
    const config = readYaml(CONFIG);
    const forbidden =
      /^(smtp_auth_password|smtp_auth_secret|auth_password|auth_secret|slack_api_url|api_url|api_key|routing_key|service_key|credentials|password|bot_token|token)$/;
    const files: string[] = [];
    const walk = (node: unknown, where: string) => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}[${i}]`));
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          expect(forbidden.test(k), `inline secret field ${where}.${k}`).toBe(false);
          if (k.endsWith('_file') && typeof v === 'string') files.push(v);
          walk(v, `${where}.${k}`);
        }
      } else if (typeof node === 'string') {
        expect(node, `${where} embeds credentials in a URL`).not.toMatch(/:\/\/[^/\s]+:[^/\s]+@/);
        expect(node, `${where} is a Slack hook URL`).not.toMatch(/hooks\.slack\.com/);
      }
    };
    walk(config, 'config');
    expect(config.global.smtp_auth_password_file).toBeDefined();
    expect(config.global.slack_api_url_file).toBeDefined();
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      expect(file.startsWith('/etc/alertmanager/secrets/'), `${file} is in the mounted secrets dir`).toBe(true);
      const template = path.join(MONITORING, 'secrets', `${path.basename(file)}.example`);
      expect(fs.existsSync(template), `${template} exists`).toBe(true);
    }
    const compose = readYaml(path.join(MONITORING, 'docker-compose.monitoring.yml'));
    expect(compose.services.alertmanager.volumes).toContain('./secrets:/etc/alertmanager/secrets:ro');
  });

  it('has email, Slack and webhook receivers, groups by alertname and service, and mutes warnings in maintenance', () => {
    const config = readYaml(CONFIG);
    const kinds = new Set(config.receivers.flatMap((r: any) => Object.keys(r).filter((k) => k.endsWith('_configs'))));
    expect([...kinds].sort()).toEqual(['email_configs', 'slack_configs', 'webhook_configs']);
    expect(config.route.group_by).toEqual(['alertname', 'service']);
    const warning = config.route.routes.find((r: any) => r.matchers?.includes('severity="warning"'));
    expect(warning.mute_time_intervals).toEqual(['maintenance']);
    const critical = config.route.routes.find((r: any) => r.matchers?.includes('severity="critical"'));
    expect(critical.mute_time_intervals).toBeUndefined();
    const maintenance = config.time_intervals.find((t: any) => t.name === 'maintenance');
    expect(maintenance.time_intervals[0]).toMatchObject({ weekdays: ['saturday'], location: 'UTC' });
  });

  // `amtool config routes test` resolves a label set to receivers without a running Alertmanager.
  const cases: Array<[string[], string]> = [
    [['alertname=ServiceDown', 'service=auth-service', 'severity=critical'], 'oncall-critical'],
    [['alertname=HighErrorRate', 'service=auth-service', 'severity=critical'], 'oncall-critical'],
    [['alertname=PostgresDown', 'service=postgres', 'severity=critical'], 'oncall-critical'],
    [['alertname=HighResponseTime', 'service=auth-service', 'severity=warning'], 'slack-warnings'],
    [['alertname=LowCacheHitRate', 'service=tutor-service', 'severity=warning'], 'slack-warnings'],
    [['alertname=AgentScrapeFailing', 'service=auth-service', 'severity=warning'], 'slack-warnings'],
    [['alertname=Watchdog'], 'team-email'],
    [['alertname=Custom', 'severity=info'], 'team-email'],
  ];
  for (const [labels, receiver] of cases) {
    it(`routes ${labels.join(' ')} to ${receiver}`, () => {
      const res = run(tools().amtool!, ['config', 'routes', 'test', `--config.file=${CONFIG}`, `--verify.receivers=${receiver}`, ...labels]);
      expect(res.code, res.stdout + res.stderr).toBe(0);
      expect(res.stdout.trim()).toBe(receiver);
    });
  }

  it('amtool config routes test fails on a wrong receiver (so the checks above can fail)', () => {
    const res = run(tools().amtool!, ['config', 'routes', 'test', `--config.file=${CONFIG}`, '--verify.receivers=team-email', 'severity=critical']);
    expect(res.code).not.toBe(0);
  });
});

describeWithTools('alertmanager.yml in a running Alertmanager', ['alertmanager', 'yamlParser'], () => {
  const sink = new WebhookSink();
  const procs: Proc[] = [];
  const dirs: string[] = [];
  let normal = ''; // base URL of the Alertmanager whose maintenance window is never
  let inMaintenance = ''; // base URL of the one whose maintenance window is always

  async function startAlertmanager(name: string, config: object): Promise<string> {
    const dir = tempDir(`am-${name}`);
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, 'alertmanager.yml'), JSON.stringify(config, null, 2));
    const port = await freePort();
    const proc = start(name, tools().alertmanager!, [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=info',
    ]);
    procs.push(proc);
    const url = `http://127.0.0.1:${port}`;
    await waitReady(proc, `${url}/-/ready`);
    return url;
  }

  beforeAll(async () => {
    await sink.start();
    [normal, inMaintenance] = await Promise.all([
      startAlertmanager('alertmanager-normal', testOverlay(sink, 'never')),
      startAlertmanager('alertmanager-maintenance', testOverlay(sink, 'always')),
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await sink.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const arrived = (path: string, labels: Record<string, string>) =>
    sink.firing().filter((a) => a.path === path && Object.entries(labels).every(([k, v]) => a.labels[k] === v));

  it('groups by alertname and service, routes by severity, inhibits and silences, live', async () => {
    // a silence, as an operator would set it, before the alert it covers arrives
    const silence = await postJson<{ silenceID: string }>(`${normal}/api/v2/silences`, {
      matchers: [
        { name: 'alertname', value: 'HighResponseTime', isRegex: false, isEqual: true },
        { name: 'service', value: 'silenced-svc', isRegex: false, isEqual: true },
      ],
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'test',
      comment: 'planned work on silenced-svc',
    });
    expect(silence.silenceID).toBeTruthy();

    await postJson(`${normal}/api/v2/alerts`, [
      // grouping: two instances of one service form one notification, another service its own
      alert({ alertname: 'HighResponseTime', service: 'svc-a', instance: 'a-1:9464', severity: 'warning' }),
      alert({ alertname: 'HighResponseTime', service: 'svc-a', instance: 'a-2:9464', severity: 'warning' }),
      alert({ alertname: 'HighResponseTime', service: 'svc-b', instance: 'b-1:9464', severity: 'warning' }),
      // ServiceDown inhibits the other alerts of its service, not those of other services
      alert({ alertname: 'ServiceDown', service: 'svc-down', severity: 'critical' }),
      alert({ alertname: 'HighErrorRate', service: 'svc-down', severity: 'critical' }),
      alert({ alertname: 'HighResponseTime', service: 'svc-down', severity: 'warning' }),
      // critical inhibits the warning of the same alert and target only
      alert({ alertname: 'PostgresConnectionsHigh', service: 'postgres', instance: 'pg-1:9187', severity: 'critical' }),
      alert({ alertname: 'PostgresConnectionsHigh', service: 'postgres', instance: 'pg-1:9187', severity: 'warning' }),
      alert({ alertname: 'PostgresConnectionsHigh', service: 'postgres', instance: 'pg-2:9187', severity: 'warning' }),
      // silenced
      alert({ alertname: 'HighResponseTime', service: 'silenced-svc', instance: 's-1:9464', severity: 'warning' }),
      // no severity: the default receiver
      alert({ alertname: 'Watchdog', service: 'monitoring' }),
    ]);

    const expected: Array<[string, Record<string, string>]> = [
      ['/hook/slack-warnings', { alertname: 'HighResponseTime', service: 'svc-a', instance: 'a-1:9464' }],
      ['/hook/slack-warnings', { alertname: 'HighResponseTime', service: 'svc-a', instance: 'a-2:9464' }],
      ['/hook/slack-warnings', { alertname: 'HighResponseTime', service: 'svc-b' }],
      ['/hook/oncall-critical', { alertname: 'ServiceDown', service: 'svc-down' }],
      ['/hook/oncall-critical', { alertname: 'PostgresConnectionsHigh', instance: 'pg-1:9187', severity: 'critical' }],
      ['/hook/slack-warnings', { alertname: 'PostgresConnectionsHigh', instance: 'pg-2:9187', severity: 'warning' }],
      ['/hook/team-email', { alertname: 'Watchdog' }],
    ];
    await waitFor('every expected notification', () => (expected.every(([p, l]) => arrived(p, l).length > 0) ? true : undefined), 60_000);
    // anything suppressed would have been flushed with its group by now; give it two more group intervals
    await sleep(5_000);

    // grouping: svc-a's two alerts came in one notification grouped by alertname and service
    const svcA = sink.notifications.filter((n) => n.groupLabels.service === 'svc-a');
    expect(svcA).toHaveLength(1);
    expect(svcA[0].groupLabels).toEqual({ alertname: 'HighResponseTime', service: 'svc-a' });
    expect(svcA[0].alerts.map((a) => a.labels.instance).sort()).toEqual(['a-1:9464', 'a-2:9464']);
    expect(svcA[0].receiver).toBe('slack-warnings');
    expect(sink.notifications.filter((n) => n.groupLabels.service === 'svc-b')).toHaveLength(1);
    // annotations travel with the alert
    expect(arrived('/hook/oncall-critical', { alertname: 'ServiceDown' })[0].annotations.runbook_url).toBe('https://runbook.example/x');

    // never delivered: inhibited by ServiceDown, by the critical variant, or silenced
    expect(arrived('/hook/oncall-critical', { alertname: 'HighErrorRate', service: 'svc-down' })).toEqual([]);
    expect(sink.firing().filter((a) => a.labels.service === 'svc-down' && a.labels.alertname !== 'ServiceDown')).toEqual([]);
    expect(
      sink
        .firing()
        .filter((a) => a.labels.alertname === 'PostgresConnectionsHigh' && a.labels.instance === 'pg-1:9187' && a.labels.severity === 'warning'),
    ).toEqual([]);
    expect(sink.firing().filter((a) => a.labels.service === 'silenced-svc')).toEqual([]);

    // and Alertmanager says why
    const alerts = await getJson<Array<{ labels: Record<string, string>; status: { state: string; inhibitedBy: string[]; silencedBy: string[] } }>>(
      `${normal}/api/v2/alerts`,
    );
    const find = (l: Record<string, string>) => alerts.find((a) => Object.entries(l).every(([k, v]) => a.labels[k] === v))!;
    expect(find({ alertname: 'HighErrorRate', service: 'svc-down' }).status).toMatchObject({ state: 'suppressed', inhibitedBy: [expect.any(String)] });
    expect(find({ alertname: 'HighResponseTime', service: 'svc-down' }).status.inhibitedBy).toHaveLength(1);
    expect(find({ alertname: 'ServiceDown', service: 'svc-down' }).status.state).toBe('active');
    expect(find({ alertname: 'PostgresConnectionsHigh', instance: 'pg-1:9187', severity: 'warning' }).status.inhibitedBy).toHaveLength(1);
    expect(find({ alertname: 'PostgresConnectionsHigh', instance: 'pg-2:9187', severity: 'warning' }).status.state).toBe('active');
    expect(find({ alertname: 'HighResponseTime', service: 'silenced-svc' }).status).toMatchObject({
      state: 'suppressed',
      silencedBy: [silence.silenceID],
    });
  });

  it('mutes warnings during the maintenance interval but still delivers critical alerts', async () => {
    const before = sink.notifications.length;
    await postJson(`${inMaintenance}/api/v2/alerts`, [
      alert({ alertname: 'HighResponseTime', service: 'maint-svc', instance: 'm-1:9464', severity: 'warning' }),
      alert({ alertname: 'RedisDown', service: 'maint-redis', instance: 'redis-exporter:9121', severity: 'critical' }),
    ]);
    await waitFor('the critical alert during maintenance', () =>
      sink.firing().some((a) => a.labels.service === 'maint-redis' && a.path === '/hook/oncall-critical') ? true : undefined,
    );
    await sleep(5_000);
    expect(sink.notifications.length).toBeGreaterThan(before);
    expect(sink.firing().filter((a) => a.labels.service === 'maint-svc')).toEqual([]);
    // the muted warning is still an active alert, visible in the UI and the API
    const alerts = await getJson<Array<{ labels: Record<string, string> }>>(`${inMaintenance}/api/v2/alerts?filter=service%3D%22maint-svc%22`);
    expect(alerts).toHaveLength(1);
  });
});
