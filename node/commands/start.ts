import { resolveConfig } from '../config.ts';
import { type Daemon, startDaemon } from '../daemon.ts';
import { createLogger } from '../logger.ts';
import { missingNodeFlags } from '../node-flags.ts';
import { optionsTable } from '../options.ts';
import { watchParent } from '../parent-watch.ts';

const STOP_TIMEOUT_MS = 15_000;

/** `shoal start [flags]`: runs a daemon until SIGTERM or SIGINT (or until it left the cluster), then stops gracefully. */
export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      `usage: shoal start [--config file.json] [flags]\n\n${optionsTable('text')}\n\nEvery flag is also SHOAL_<NAME> in the environment and a camelCase key in the config file.\n`,
    );
    return 0;
  }
  const cfg = resolveConfig(argv);
  const logger = await createLogger({ level: cfg.logLevel, zone: cfg.zone });
  const missing = missingNodeFlags();
  if (missing.length > 0) {
    logger.warn(
      { missing },
      'started without the recommended Node flags (README "Node flags"): expect lower throughput',
    );
  }
  let daemon: Daemon | undefined;
  let resolveExit!: (code: number) => void;
  const exit = new Promise<number>((r) => {
    resolveExit = r;
  });
  let stopping = false;
  // Handlers go in before start-up, so a signal during start-up still stops the daemon cleanly.
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      resolveExit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      logger.error('graceful stop timed out');
      resolveExit(1);
    }, STOP_TIMEOUT_MS);
    const stopped = daemon ? daemon.stop() : Promise.resolve();
    stopped.then(
      () => {
        clearTimeout(timer);
        logger.info('stopped');
        resolveExit(0);
      },
      (err: unknown) => {
        clearTimeout(timer);
        logger.error({ err }, 'stop failed');
        resolveExit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Started by `npm start` or `npx shoal start`: stop with npm (see node/parent-watch.ts).
  const unwatch = watchParent((parent) => {
    logger.warn({ parent }, 'the npm process that started this daemon is gone');
    stop('parent exited');
  });
  void exit.then(unwatch);
  daemon = await startDaemon(cfg, logger);
  if (stopping) {
    await daemon.stop();
    return exit;
  }
  logger.info(
    { url: daemon.url, adminUrl: daemon.adminUrl, dataDir: cfg.dataDir, store: cfg.store, durability: cfg.durability },
    'shoal daemon ready',
  );
  process.stderr.write(
    `shoal listening on ${daemon.url}${daemon.adminUrl === daemon.url ? '' : `, admin API on ${daemon.adminUrl}`} (data ${cfg.dataDir}, store ${cfg.store}, zone ${cfg.zone})\n`,
  );
  daemon.done.then(() => {
    logger.info('left the cluster; exiting');
    resolveExit(0);
  });
  return exit;
}
