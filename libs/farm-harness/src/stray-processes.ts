import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** The pids of processes whose command line or environment names a path under `root`. */
async function processesUnder(root: string): Promise<number[]> {
  const prefix = `${root}/`;
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const texts = await Promise.all(
      ['cmdline', 'environ'].map((file) => readFile(`/proc/${pid}/${file}`, 'latin1').catch(() => '')),
    );
    if (texts.some((text) => text.includes(prefix))) found.push(pid);
  }
  return found;
}

/**
 * SIGKILLs what the farm's processes left behind under its folder: a SIGKILLed
 * coordinator's gpg children go on and start a gpg-agent (`GNUPGHOME` and
 * `--homedir` under the folder) after any `gpgconf --kill` had run. Repeats
 * until a look finds none, so a child started meanwhile goes too.
 */
export async function killStrayProcesses(root: string, rounds = 10): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const pids = await processesUnder(root);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
    await sleep(100);
  }
}
