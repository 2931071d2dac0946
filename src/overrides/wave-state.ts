import type { Scope } from '../layout/index.ts';
import type { MigrationOrigin } from './migrations.ts';
import type { MovePlan, MoveStepKind, WavePlan } from './plan.ts';
import type { Receipt } from './receipts.ts';
import type { WaveRecord } from './wave-log.ts';

/** The mutable state of one running wave. */
export class WaveState {
  readonly failed = new Map<string, string>();
  readonly epochs = new Map<Scope, { number: number; hash: string }>();
  /** Receipts of the new holders, by signer (the release step sends them to the old holders). */
  readonly receipts = new Map<string, Receipt[]>();
  /** The checksum each record had when the copy step verified its receipts (its metadata at move time). */
  readonly checksums = new Map<string, string>();
  /** Size of each record's newest copy, as the copy step found it (the plan's size is an estimate, or 0 for manual moves). */
  readonly sizes = new Map<string, number>();
  /** What every new holder signed for in the copy step (the catch-up ships only what differs). */
  readonly held = new Map<string, string>();
  distributed = { acked: 0, of: 0 };
  published = 0;
  /** Wall time of each step that ran, ms (logged with `wave: done`). */
  readonly stepMs: Partial<Record<MoveStepKind, number>> = {};

  readonly plan: WavePlan;
  readonly origin: MigrationOrigin;
  readonly startedAt: number;
  readonly gains: Readonly<Record<string, number>>;

  constructor(plan: WavePlan, origin: MigrationOrigin, startedAt: number, gains: Readonly<Record<string, number>>) {
    this.plan = plan;
    this.origin = origin;
    this.startedAt = startedAt;
    this.gains = gains;
  }

  live(): MovePlan[] {
    return this.plan.moves.filter((m) => !this.failed.has(m.key));
  }

  committed(): MovePlan[] {
    return this.live().filter((m) => this.epochs.has(m.scope));
  }

  record(step: MoveStepKind): WaveRecord {
    const failed = Object.fromEntries(this.failed);
    return {
      id: this.plan.id,
      origin: this.origin,
      startedAt: this.startedAt,
      step,
      moves: this.plan.moves,
      failed,
      gains: this.gains,
    };
  }
}
