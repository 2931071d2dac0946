import type { Logger } from 'pino';
import type { DsmCluster, DsmDemand, DsmMover } from './controller.ts';
import type { DsmObserver, GuardEvent, GuardStatus } from './index.ts';
import { placementCostMs } from './locality.ts';

/** A wave the guard will judge: its moved records' old and new holders. */
export interface GuardedWave {
  readonly wave: string;
  readonly at: number;
  readonly moves: ReadonlyArray<{ key: string; from: readonly string[]; to: readonly string[] }>;
}

export interface WaveGuardComponents {
  logger: Logger;
  cluster: DsmCluster;
  demand: DsmDemand;
  mover: DsmMover;
  observer?: DsmObserver;
  /** Pauses the DSM (a harmful wave stops the loop until an operator resumes it). */
  pause: () => void;
}

export interface WaveGuardOptions {
  enabled?: boolean;
  /** How much worse, as a fraction of the old placement's cost, trips the guard. Default 0.2. */
  margin?: number;
  /** How long a wave's records are observed before the judgement, ms. Default 300 000. */
  windowMs?: number;
  /** The cost difference must also exceed this (the planner's threshold), ms. */
  thresholdMs: number;
  defaultLatencyMs: number;
}

/**
 * The guard of the DSM's waves: `windowMs` after a wave it costs the demand observed since (the
 * planner's locality model) on the wave's new holders and on the old ones, for the same demand. A wave
 * worse by more than `margin` (and the threshold) was harmful — a forecast that pointed the wrong way —
 * so the guard pauses the DSM and rolls the wave back. Comparing both placements on the same demand
 * keeps a shift of demand after the wave from reading as harm.
 */
export class WaveGuard {
  readonly #c: WaveGuardComponents;
  readonly #o: WaveGuardOptions;
  readonly #pending: GuardedWave[] = [];
  readonly #events: GuardEvent[] = [];

  constructor(components: WaveGuardComponents, options: WaveGuardOptions) {
    this.#c = components;
    this.#o = options;
  }

  watch(wave: GuardedWave): void {
    this.#pending.push(wave);
  }

  status(): GuardStatus {
    return {
      enabled: this.#o.enabled ?? true,
      margin: this.#o.margin ?? 0.2,
      windowMs: this.#o.windowMs ?? 300_000,
      pending: this.#pending.length,
      events: [...this.#events].reverse(),
    };
  }

  /** Judges every wave whose window has passed at `now`; rolls a harmful one back. */
  async judge(now: number, signal?: AbortSignal): Promise<void> {
    const { enabled, margin, windowMs } = this.status();
    while (this.#pending.length > 0 && this.#pending[0].at + windowMs <= now) {
      const g = this.#pending.shift()!;
      if (!enabled) continue;
      const observed = this.#c.demand.observed(
        now - g.at,
        g.moves.map((m) => m.key),
      );
      const zoneOf = new Map(this.#c.cluster.members().map((m) => [m.id, m.zone]));
      const zones = (ids: readonly string[]) => ids.map((id) => zoneOf.get(id) ?? '?');
      const latency = this.#c.cluster.latency();
      let costNewMs = 0;
      let costOldMs = 0;
      for (const m of g.moves) {
        const d = observed.get(m.key) ?? [];
        costNewMs += placementCostMs(zones(m.to), d, latency, this.#o.defaultLatencyMs);
        costOldMs += placementCostMs(zones(m.from), d, latency, this.#o.defaultLatencyMs);
      }
      const harmful = costNewMs > costOldMs * (1 + margin) && costNewMs - costOldMs > this.#o.thresholdMs;
      let rollbackId: string | undefined;
      if (harmful) {
        this.#c.pause();
        rollbackId = (await this.#c.mover.rollback(g.wave, { signal })).rollbackId;
        this.#c.logger.warn(
          { wave: g.wave, costNewMs, costOldMs, rollbackId },
          'dsm: guard rolled a harmful wave back',
        );
      }
      const event: GuardEvent = {
        wave: g.wave,
        at: now,
        records: g.moves.length,
        costNewMs,
        costOldMs,
        rolledBack: harmful,
        rollbackId,
      };
      this.#events.push(event);
      if (this.#events.length > 50) this.#events.shift();
      this.#c.observer?.onGuard?.(event);
    }
  }
}
