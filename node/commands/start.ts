import { pino } from 'pino';
import { resolveConfig } from '../config.ts';
import { startDaemon } from '../daemon.ts';
import { optionsTable } from '../options.ts';

const STOP_TIMEOUT_MS = 15_000;

/** `shoal start [flags]`: runs a daemon until SIGTERM or SIGINT, then stops gracefully. */
export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      `usage: shoal start [--config file.json] [flags]\n\n${optionsTable('text')}\n\nEvery flag is also SHOAL_<NAME> in the environment and a camelCase key in the config file.\n`,
    );
    return 0;
  }
  const cfg = resolveConfig(argv);
  const logger = pino({ level: cfg.logLevel, base: { zone: cfg.zone } });
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(cfg, logger);
  } catch (err) {
    logger.flush();
    throw err;
  }
  logger.info(
    { url: daemon.url, dataDir: cfg.dataDir, store: cfg.store, durability: cfg.durability },
    'shoal daemon ready',
  );
  process.stderr.write(
    `shoal listening on ${daemon.url} (data ${cfg.dataDir}, store ${cfg.store}, zone ${cfg.zone})\n`,
  );
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'stopping');
      const timer = setTimeout(() => {
        logger.error('graceful stop timed out');
        resolve(1);
      }, STOP_TIMEOUT_MS);
      daemon.stop().then(
        () => {
          clearTimeout(timer);
          logger.info('stopped');
          resolve(0);
        },
        (err: unknown) => {
          clearTimeout(timer);
          logger.error({ err }, 'stop failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
