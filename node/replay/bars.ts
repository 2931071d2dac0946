/** `shoal replay`'s progress bars (one per phase, on stderr), for the command and `npm run demo`. */
import type cliProgress from 'cli-progress';
import { progressBar } from '../progress.ts';
import type { ReplayHooks } from './run.ts';
import { pct } from './summary.ts';

/** Progress bars, one per phase, on stderr. */
export function replayBars(): ReplayHooks & { stop(): void } {
  let bar: cliProgress.SingleBar | undefined;
  const FORMATS = {
    preload: 'preload   [{bar}] {value}/{total} keys written before the replay',
    placement: 'placement [{bar}] {value}/{total} keys: holders',
    replay: 'replay    [{bar}] {value}/{total} requests | remote-served {remote} | p50 {p50} ms | errors {errors}',
  };
  return {
    phase(name, total) {
      bar?.stop();
      bar = progressBar(FORMATS[name], { fps: 5 });
      bar.start(total, 0, { remote: '—', p50: 0, errors: 0 });
    },
    progress(done, live) {
      bar?.update(done, { remote: pct(live.remoteShare), p50: live.p50Ms, errors: live.errors });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
