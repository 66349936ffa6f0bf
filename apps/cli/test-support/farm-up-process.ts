import { execa, type ResultPromise } from 'execa';

/** `aoinb farm up` as a child process, for the tests that run the embedded farm through the real pipeline. */
export interface FarmUpProcess {
  child: ResultPromise<{ all: true; buffer: false; reject: false }>;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** The port of the embedded Redis, from its banner. */
  redisPort(): number;
  /** Ctrl-C, and waits for it to end. */
  stop(): Promise<void>;
}

/** Starts `bin -c configDir farm up ...args`; resolves once it says it is up, rejects with its output if it exits. */
export async function startFarmUp(bin: string, configDir: string, args: string[] = []): Promise<FarmUpProcess> {
  const child = execa(process.execPath, [bin, '-c', configDir, 'farm', 'up', ...args], {
    reject: false,
    buffer: false,
    all: true,
  });
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    child.all.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('aoinb farm is up')) resolve();
    });
    void child.once('exit', () => reject(new Error(`farm up exited:\n${seen}`)));
  });
  return {
    child,
    output: () => seen,
    redisPort: () => Number(/redis: +redis:\/\/127\.0\.0\.1:(\d+)/.exec(seen)?.[1]),
    async stop() {
      child.kill('SIGINT');
      await child;
    },
  };
}
