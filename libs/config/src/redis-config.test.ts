import { describe, expect, it } from 'vitest';
import { useConfigFile } from '../test-support/config-file.ts';

const config = useConfigFile('aoinb-config-redis-');
const { write, problems } = config;

describe('[redis] cluster', () => {
  it('reads the seed nodes of a Redis Cluster', async () => {
    await write('[redis]\ncluster = ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"]\nprefix = "{farm}"\n');
    expect((await config.load()).farm.redis).toMatchObject({
      url: undefined,
      cluster: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000'],
      prefix: '{farm}',
    });
  });

  it('names the key of every bad cluster setting', async () => {
    const message = await problems(
      '[redis]\nurl = "redis://a:6379"\ncluster = ["redis://b:7000/2", "http://c:7000", "nonsense", 5, "rediss://d:7000"]\n',
    );
    expect(message).toMatch(/redis\.cluster: and redis\.url are exclusive/);
    expect(message).toMatch(
      /redis\.cluster\[0\]: "redis:\/\/b:7000\/2" names a database: a Redis Cluster has database 0 only/,
    );
    expect(message).toMatch(/redis\.cluster\[1\]: "http:\/\/c:7000" is not a redis:\/\/ or rediss:\/\/ URL/);
    expect(message).toMatch(/redis\.cluster\[2\]: "nonsense" is not a URL/);
    expect(message).toMatch(/redis\.cluster\[3\]: must be a string, got number 5/);
    expect(message).toMatch(/redis\.cluster: mixes redis:\/\/ and rediss:\/\//);
    expect(await problems('[redis]\ncluster = []\n')).toMatch(/redis\.cluster: must list at least one node/);
    expect(await problems('[redis]\ncluster = "redis://a:7000"\n')).toMatch(
      /redis\.cluster: must be an array of strings, got string/,
    );
  });
});
