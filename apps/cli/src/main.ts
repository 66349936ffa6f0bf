import { runCli } from './run-cli.ts';

/** Ctrl-C and SIGTERM abort the command, which then releases mounts and exits. */
function stopSignal(): { signal: AbortSignal; exitCode: () => number | undefined } {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.on(name, () => {
      if (received) return;
      received = name;
      process.stderr.write(`\naoinb: ${name} received, stopping and cleaning up...\n`);
      controller.abort(new Error(name));
    });
  }
  return { signal: controller.signal, exitCode: () => (received ? 128 + (received === 'SIGINT' ? 2 : 15) : undefined) };
}

const stop = stopSignal();
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: stop.signal,
  stopStatus: stop.exitCode,
});
