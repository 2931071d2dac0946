/**
 * The CLI's progress bars (cli-progress): one look for every long step (`stats import`, `pae train`, `shoal
 * replay`, `npm run demo`). They draw on stderr, so `--json` output on stdout stays clean; on a stream that is
 * not a terminal cli-progress draws nothing (its `noTTYOutput` is off), so logs and tests see no bar noise.
 */
import cliProgress from 'cli-progress';

/** A bar on stderr with `format` (cli-progress placeholders: `{bar}`, `{value}`, `{total}`, payload names). */
export function progressBar(format: string, options: { fps?: number } = {}): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    { format, stream: process.stderr, ...(options.fps ? { fps: options.fps } : {}) },
    cliProgress.Presets.shades_classic,
  );
}
