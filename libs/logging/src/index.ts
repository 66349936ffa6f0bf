import { pino, destination, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export interface LoggerSettings {
  level?: string;
  /** Where pino writes; stderr by default so stdout stays free for command output. */
  destination?: number;
}

/**
 * Creates the one root logger of a process. Everything else receives it (or a
 * child bound to a job or worker id) as an argument; there is no global logger.
 */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env.AOINB_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
  };
  return pino(options, destination({ fd: settings.destination ?? 2, sync: true }));
}

/** A logger that drops everything: for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
