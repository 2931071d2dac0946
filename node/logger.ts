import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

/**
 * The daemon's logger: one JSON object per line on stdout (for log shippers and `jq`), or, when stdout is a
 * terminal, pino-pretty's coloured lines for the person watching it. pino-pretty runs in this thread and
 * writes synchronously (no transport worker), so the last lines before an exit are never lost; it is only
 * ever on for a terminal, where its cost does not matter.
 */
export function createLogger(
  settings: { level: string; zone: string },
  output: { tty?: boolean; destination?: NodeJS.WritableStream } = {},
): Logger {
  const options = { level: settings.level, base: { zone: settings.zone } };
  const tty = output.tty ?? process.stdout.isTTY === true;
  if (!tty) return output.destination ? pino(options, output.destination as DestinationStream) : pino(options);
  return pino(
    options,
    pretty({
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ...(output.destination ? { destination: output.destination } : {}),
    }),
  );
}
