import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-config-notify-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const head = 'work_dir = "/w"\narch = "amd64"\n';

describe('[[notify.webhook]]', () => {
  it('reads webhooks with their secret from a file, all events by default', async () => {
    await writeFile(path.join(dir, 'hook.secret'), 's3cret\n');
    await writeFile(path.join(dir, 'bot.token'), '123:abc\n');
    await writeFile(
      path.join(dir, 'config.toml'),
      `${head}[coordinator]\ngrafana_url = "https://grafana.example/d/aoinb"\n` +
        '[[notify.webhook]]\nname = "ci"\nurl = "https://hooks.example/aoinb/"\nsecret_file = "hook.secret"\nevents = ["group_finished"]\n' +
        '[[notify.webhook]]\nformat = "telegram"\nsecret_file = "bot.token"\nchat_id = "-100123"\n',
    );
    const config = await loadConfig(dir);
    expect(config.farm.coordinator.grafanaUrl).toBe('https://grafana.example/d/aoinb');
    expect(config.notify.webhooks).toEqual([
      {
        name: 'ci',
        format: 'json',
        url: 'https://hooks.example/aoinb',
        events: ['group_finished'],
        secret: 's3cret',
        chatId: undefined,
        attempts: 8,
        timeoutSeconds: 10,
      },
      {
        name: 'webhook-2',
        format: 'telegram',
        url: 'https://api.telegram.org',
        events: ['task_finished', 'group_finished', 'builder_offline'],
        secret: '123:abc',
        chatId: '-100123',
        attempts: 8,
        timeoutSeconds: 10,
      },
    ]);
  });

  it('reports every bad key by its path, and refuses a secret written inline', async () => {
    await writeFile(
      path.join(dir, 'config.toml'),
      `${head}[[notify.webhook]]\nurl = "ftp://x"\nevents = ["task_done"]\nsecret = "inline"\nretries = 3\n` +
        '[[notify.webhook]]\nname = "webhook-1"\nurl = "http://a"\nsecret_file = "missing.secret"\n[[notify.webhook]]\nformat = "telegram"\n',
    );
    const error = await loadConfig(dir).then(
      () => undefined,
      (e: Error) => e,
    );
    const message = error?.message ?? '';
    expect(message).toMatch(/notify\.webhook\[0\]\.url: "ftp:\/\/x" is not valid: an http\(s\) URL/);
    expect(message).toMatch(/notify\.webhook\[0\]\.events\[0\]: "task_done" is not an event/);
    expect(message).toMatch(/notify\.webhook\[0\]\.secret: secrets are never written in config\.toml/);
    expect(message).toMatch(/notify\.webhook\[0\]\.retries: is not a known key/);
    expect(message).toMatch(/notify\.webhook\[1\]\.secret_file: cannot read .*missing\.secret/);
    expect(message).toMatch(/notify\.webhook\[1\]\.name: "webhook-1" is used by another webhook/);
    expect(message).toMatch(/notify\.webhook\[2\]\.secret_file: is required for format = "telegram"/);
    expect(message).toMatch(/notify\.webhook\[2\]\.chat_id: is required/);
  });
});
