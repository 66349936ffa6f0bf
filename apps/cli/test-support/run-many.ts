import { Writable } from 'node:stream';
import { runCli } from '../src/run-cli.ts';

/**
 * Test-only: `node --import tsx run-many.ts '[["submit","--help"], ...]'` runs each aoinb
 * command line in turn in this one process, as main.ts runs one, each with its own piped
 * (not a terminal) stdout and stderr, and prints one JSON line per command line:
 * `{ "status", "stdout", "stderr" }`. The help tests check every command this way instead of
 * starting a process (and loading the sources) for each.
 */
function capture(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

for (const argv of JSON.parse(process.argv[2] ?? '[]') as string[][]) {
  const stdout = capture();
  const stderr = capture();
  const signal = new AbortController().signal;
  const status = await runCli(argv, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    signal,
    stopStatus: () => undefined,
  });
  process.stdout.write(`${JSON.stringify({ status, stdout: stdout.text(), stderr: stderr.text() })}\n`);
}
