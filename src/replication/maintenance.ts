import type { Logger } from 'pino';
import { type AntiEntropyComponents, localDigests, syncWithPeer } from './anti-entropy.ts';
import { handOff } from './handoff.ts';
import type { HintQueue } from './hints.ts';
import type { ReplicationObserver } from './observer.ts';
import { collectTombstones } from './tombstone-gc.ts';

export interface MaintenanceComponents extends AntiEntropyComponents {
  hints: HintQueue;
  logger: Logger;
  observer?: ReplicationObserver;
}

/**
 * The background repair loop, one pass at a time: replay hints to members that are up, sync with each
 * of them (anti-entropy), and hand off records this daemon no longer replicates. Runs every
 * `intervalMs`, and soon after a membership change ({@link Maintenance.kick}).
 */
export class Maintenance {
  readonly #c: MaintenanceComponents;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #ac = new AbortController();

  readonly #tombstoneGraceMs: number;

  constructor(components: MaintenanceComponents, options: { intervalMs: number; tombstoneGraceMs: number }) {
    this.#c = components;
    this.#intervalMs = options.intervalMs;
    this.#tombstoneGraceMs = options.tombstoneGraceMs;
  }

  start(): void {
    this.#ac = new AbortController();
    this.#schedule(this.#intervalMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#ac.abort();
    await this.#running?.catch(() => {});
  }

  /** Runs a pass soon (coalesces bursts of membership events). */
  kick(delayMs = 200): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#schedule(delayMs);
  }

  #schedule(ms: number): void {
    if (this.#ac.signal.aborted) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#pass().finally(() => this.#schedule(this.#again ? 50 : this.#intervalMs));
    }, ms);
    this.#timer.unref();
  }

  async #pass(): Promise<void> {
    if (this.#running) return this.#running;
    this.#again = false;
    this.#running = (async () => {
      const signal = this.#ac.signal;
      const peers = this.#c.ring.upPeers();
      const digests =
        peers.length === 0
          ? undefined
          : await localDigests(this.#c, signal).catch((err: unknown) => {
              this.#c.logger.debug({ err }, 'anti-entropy: local digests failed');
              return undefined;
            });
      for (const peer of peers) {
        if (signal.aborted) return;
        try {
          await this.#c.hints.replay(peer, signal);
          if (!digests) continue;
          const report = await syncWithPeer(this.#c, peer, digests, signal);
          if (report.pulled + report.pushed > 0) {
            this.#c.observer?.repaired(report.pulled, report.pushed);
            this.#c.logger.info(report, 'anti-entropy repaired records');
          }
        } catch (err) {
          this.#c.logger.debug({ err, peer }, 'anti-entropy with peer failed');
        }
      }
      try {
        const report = await handOff(this.#c, signal);
        if (report.foreign > 0) this.#c.logger.info(report, 'hand-off pass');
      } catch (err) {
        this.#c.logger.debug({ err }, 'hand-off pass failed');
      }
      try {
        await collectTombstones(this.#c, this.#tombstoneGraceMs, signal);
      } catch (err) {
        this.#c.logger.debug({ err }, 'tombstone collection failed');
      }
    })();
    try {
      await this.#running;
    } finally {
      this.#running = undefined;
    }
  }
}
