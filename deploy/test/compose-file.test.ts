import { access, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '@aoinb/config';
import { deployDir, exampleConfigDir, inCheckout, installRoot, repoRoot } from './deploy-paths.ts';

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  command?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  privileged?: boolean;
  ports?: string[];
  environment?: Record<string, string>;
  [key: string]: unknown;
}

interface ComposeFile {
  name: string;
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

/** Service keys this file may use (a subset of the Compose specification's). */
const serviceKeys = new Set([
  'build',
  'image',
  'command',
  'volumes',
  'depends_on',
  'privileged',
  'ports',
  'environment',
  'healthcheck',
  'restart',
  'stop_signal',
  'stop_grace_period',
]);
const exists = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );

describe('docker-compose.yml', async () => {
  const compose = parse(await readFile(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as ComposeFile;
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('wires Redis, the coordinator, a privileged worker, Prometheus and Grafana', () => {
    expect(Object.keys(compose).sort()).toEqual(['name', 'services', 'volumes', 'x-aoinb-image']);
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['redis', 'coordinator', 'coordinator-2', 'worker', 'prometheus', 'grafana']),
    );
    expect(compose.services.worker?.privileged).toBe(true);
    for (const [name, service] of Object.entries(compose.services)) {
      for (const key of Object.keys(service)) expect(serviceKeys.has(key), `services.${name}.${key}`).toBe(true);
      expect(service.image, `services.${name}.image`).toBeTruthy();
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(compose.services[dep], `services.${name}.depends_on ${dep}`).toBeDefined();
    }
  });

  it('mounts files that exist and volumes it declares', async () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const [source, target] = volume.split(':') as [string, string];
        expect(target, `services.${name}.volumes ${volume}`).toMatch(/^\//);
        if (source.startsWith('./'))
          expect(await exists(path.join(repoRoot, source)), `services.${name}.volumes ${source}`).toBe(true);
        else expect(compose.volumes, `services.${name}.volumes ${source}`).toHaveProperty(source);
      }
    }
  });

  it('runs a second coordinator on the same config, Redis and storage volume, on a port of its own', async () => {
    const [first, second] = [compose.services.coordinator!, compose.services['coordinator-2']!];
    expect(second.command).toEqual(first.command);
    expect(second.volumes).toEqual(first.volumes);
    expect(second.depends_on).toEqual(first.depends_on);
    expect(second.healthcheck).toEqual(first.healthcheck);
    // Both mount the volume that holds storage_dir at the same place: one storage folder for both.
    const dir = await exampleConfigDir(path.join(repoRoot, 'deploy/compose/coordinator.toml'), [
      'maintainer.token',
      'worker.token',
      'reader.token',
      'redis.password',
    ]);
    dirs.push(dir);
    const storage = (await loadConfig(dir)).farm.coordinator.storageDir;
    const data = second.volumes?.find((v) => v.startsWith('coordinator-data:'))?.split(':')[1];
    expect(data && storage.startsWith(`${data}/`), `${storage} inside the shared volume`).toBe(true);
    const hostPort = (s: ComposeService): string | undefined => s.ports?.[0]?.split(':')[0];
    expect(hostPort(second)).not.toBe(hostPort(first));
    // The nginx example names both coordinators as upstream servers.
    expect(await readFile(path.join(deployDir, 'nginx/aoinb-coordinators.conf'), 'utf8')).toMatch(
      /upstream aoinb_coordinators \{[^}]*server [^;]+;[^}]*server [^;]+;/,
    );
  });

  it('builds the aoinb image from deploy/Dockerfile, which installs every workspace package', async () => {
    const build = compose.services.coordinator?.build;
    expect(build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
    const dockerfile = await readFile(path.join(repoRoot, build!.dockerfile), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    // Copies from the build context must exist in the tree; `COPY --from=STAGE` ones come from a stage it names.
    const copies = [...dockerfile.matchAll(/^COPY\s+(?!--from=)(.+)\s+\S+$/gm)].flatMap((m) =>
      (m[1] as string).split(/\s+/),
    );
    for (const source of copies) expect(await exists(path.join(repoRoot, source)), `COPY ${source}`).toBe(true);
    for (const [, stage] of dockerfile.matchAll(/^COPY\s+--from=(\S+)/gm))
      expect(dockerfile, `stage ${stage}`).toMatch(new RegExp(`^FROM \\S+ AS ${stage}$`, 'm'));
    // The image serves the dashboard: its built files come from the stage that built them.
    expect(dockerfile).toMatch(/^COPY --from=build \S+\/apps\/dashboard\/dist /m);
    for (const group of ['apps', 'libs']) {
      for (const pkg of await readdir(path.join(repoRoot, group))) {
        if (await exists(path.join(repoRoot, group, pkg, 'package.json')))
          expect(copies, `deploy/Dockerfile copies ${group}/${pkg}/package.json`).toContain(
            `${group}/${pkg}/package.json`,
          );
      }
    }
    // Commands run from WORKDIR /opt/aoinb: their entry points exist in the tree.
    expect(dockerfile).toContain(`WORKDIR ${installRoot}`);
    for (const service of Object.values(compose.services).filter((s) => s.build)) {
      const command = service.command ?? [];
      const main = command.find((c) => c.endsWith('.js') || c.endsWith('.ts') || c.endsWith('.sh'));
      if (!main) continue;
      // An app's build (apps/X/dist/main.js, made by `npm run build` in the build stage) comes from that stage.
      const built = /^apps\/([a-z-]+)\/dist\/main\.js$/.exec(main);
      if (built) {
        expect(dockerfile).toContain(`COPY --from=build ${installRoot}/apps/${built[1]}/dist ./apps/${built[1]}/dist`);
        expect(await exists(path.join(repoRoot, 'apps', built[1]!, 'src/main.ts')), main).toBe(true);
      } else expect(await exists(inCheckout(main.startsWith('/') ? main : `${installRoot}/${main}`)!), main).toBe(true);
    }
  });

  it.each([
    ['coordinator', 'deploy/compose/coordinator.toml'],
    ['worker', 'deploy/compose/worker.toml'],
  ])('gives the %s a config that loads (%s)', async (service, file) => {
    const volumes = compose.services[service]?.volumes ?? [];
    expect(volumes).toContain(`./${file}:/etc/aoinb/config.toml:ro`);
    expect(volumes).toContain('aoinb-secrets:/etc/aoinb/secrets:ro');
    const dir = await exampleConfigDir(path.join(repoRoot, file), [
      'maintainer.token',
      'worker.token',
      'reader.token',
      'redis.password',
    ]);
    dirs.push(dir);
    const config = await loadConfig(dir);
    expect(config.farm.redis.url).toBe('redis://redis:6379/0');
    expect(config.farm.redis.password).toBe('dummy-secret-for-tests');
    if (service === 'worker') {
      expect(config.farm.worker.coordinatorUrl).toBe('http://coordinator:8460');
      // Prometheus scrapes what the worker listens on.
      const targets = await readFile(path.join(deployDir, 'compose/targets/workers.yml'), 'utf8');
      expect(targets).toContain(`worker:${config.farm.worker.metricsListen?.port}`);
    }
  });

  it('makes its secrets once, never overwriting them, readable only where they are mounted', async () => {
    const root = path.join(await exampleConfigDir(path.join(deployDir, 'config/worker.toml'), []), 'volumes');
    dirs.push(path.dirname(root));
    const script = path.join(deployDir, 'compose/init-secrets.sh');
    await execa('sh', [script], { env: { SECRETS_ROOT: root } });
    const token = await readFile(path.join(root, 'aoinb/maintainer.token'), 'utf8');
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    await execa('sh', [script], { env: { SECRETS_ROOT: root } });
    expect(await readFile(path.join(root, 'aoinb/maintainer.token'), 'utf8')).toBe(token);
    expect((await stat(path.join(root, 'aoinb/worker.token'))).mode & 0o777).toBe(0o600);
    expect(await readFile(path.join(root, 'prometheus/aoinb-reader.token'), 'utf8')).toBe(
      await readFile(path.join(root, 'aoinb/reader.token'), 'utf8'),
    );
    expect(await readFile(path.join(root, 'redis/redis-auth.conf'), 'utf8')).toBe(
      `requirepass ${await readFile(path.join(root, 'aoinb/redis.password'), 'utf8')}\n`,
    );
    // Each secret file the services read is one the script makes.
    const prom = compose.services.prometheus?.volumes ?? [];
    expect(prom).toContain('prometheus-secrets:/etc/prometheus/secrets:ro');
    expect(compose.services.grafana?.environment?.GF_SECURITY_ADMIN_PASSWORD__FILE).toBe(
      '/run/secrets/grafana/admin.password',
    );
    expect(await exists(path.join(root, 'grafana/admin.password'))).toBe(true);
  });

  it('provisions Grafana with the Prometheus datasource and the dashboards folder it mounts', async () => {
    const grafana = compose.services.grafana!;
    const datasources = parse(
      await readFile(path.join(deployDir, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
    ) as { apiVersion: number; datasources: Array<{ type: string; url: string; uid: string }> };
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', url: '$AOINB_PROMETHEUS_URL' });
    expect(grafana.environment?.AOINB_PROMETHEUS_URL).toBe('http://prometheus:9090');
    const providers = parse(
      await readFile(path.join(deployDir, 'grafana/provisioning/dashboards/aoinb.yml'), 'utf8'),
    ) as { apiVersion: number; providers: Array<{ type: string; options: { path: string } }> };
    expect(providers.providers[0]?.type).toBe('file');
    expect(grafana.volumes).toContain(`./deploy/grafana/dashboards:${providers.providers[0]?.options.path}:ro`);
    expect(grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(
      `${providers.providers[0]?.options.path}/aoinb-farm.json`,
    );
  });
});

describe('deploy/config examples', () => {
  it.each(['coordinator.toml', 'worker.toml'])('%s loads with the real config loader', async (file) => {
    const dir = await exampleConfigDir(path.join(deployDir, 'config', file), [
      'maintainer.token',
      'worker.token',
      'reader.token',
      'admin.token',
      'redis.password',
    ]);
    try {
      const config = await loadConfig(dir);
      const text = await readFile(path.join(deployDir, 'config', file), 'utf8');
      // No secret is ever written in the examples: every secret comes from a file.
      expect(text).not.toMatch(/^\s*(token|password)\s*=/m);
      expect(text).not.toMatch(/redis:\/\/[^@\s"]*:[^@\s"]*@/);
      if (file === 'coordinator.toml')
        expect(config.farm.tokens.map((t) => t.role).sort()).toEqual(['admin', 'maintainer', 'reader', 'worker']);
      else expect(config.farm.worker.metricsListen).toEqual({ host: '0.0.0.0', port: 9464 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
