import { execa } from 'execa';

/** The pid of the gpg-agent serving the GnuPG home `home`, if one runs (never starts one). */
export async function agentPid(home: string): Promise<number | undefined> {
  const asked = await execa('gpg-connect-agent', ['--no-autostart', 'getinfo pid', '/bye'], {
    env: { GNUPGHOME: home, LC_ALL: 'C' },
    extendEnv: false,
    reject: false,
  });
  const pid = Number(/^D (\d+)$/m.exec(String(asked.stdout))?.[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Stops the agent `pid` if it still serves `home` (a home may be shared: a
 * second coordinator on the same storage, an operator's gpg): an agent that
 * was there before, or that replaced ours, is left alone.
 */
export async function stopAgent(home: string, pid: number): Promise<void> {
  if ((await agentPid(home)) !== pid) return;
  try {
    // SIGTERM: gpg-agent finishes the connections it has, removes its sockets and exits.
    process.kill(pid, 'SIGTERM');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
