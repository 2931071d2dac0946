import { type DestinationStream, type Logger, pino } from 'pino';
import type PinoPretty from 'pino-pretty';

/**
 * The daemon's logger: one JSON object per line on stdout (for log shippers and `jq`), or, when stdout is a
 * terminal, pino-pretty's coloured lines for the person watching it. pino-pretty runs in this thread and
 * writes synchronously (no transport worker), so the last lines before an exit are never lost; it is loaded
 * only for a terminal, so a daemon under a service manager never imports it. Should it fail to load, the
 * logs stay JSON and say why.
 */
export async function createLogger(
  settings: { level: string; zone: string },
  output: { tty?: boolean; destination?: NodeJS.WritableStream } = {},
): Promise<Logger> {
  const options = { level: settings.level, base: { zone: settings.zone } };
  const json = () => (output.destination ? pino(options, output.destination as DestinationStream) : pino(options));
  if (!(output.tty ?? process.stdout.isTTY === true)) return json();
  let pretty: typeof PinoPretty;
  try {
    pretty = (await import('pino-pretty')).default;
  } catch (err) {
    const logger = json();
    logger.warn({ err }, 'pino-pretty did not load: logging JSON lines');
    return logger;
  }
  return pino(
    options,
    pretty({
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ...(output.destination ? { destination: output.destination } : {}),
    }),
  );
}
