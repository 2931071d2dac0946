/**
 * Prometheus metrics of the Predictive Access Engine, read from `modelInfo()` when scraped:
 *
 * | metric | type | labels | meaning |
 * |---|---|---|---|
 * | `shoal_pae_runs_total` | counter | — | forecast cycles (inference runs) completed |
 * | `shoal_pae_last_run_seconds` | gauge | — | duration of the last cycle |
 * | `shoal_pae_rows_scored` | gauge | — | (record, zone) rows the last cycle forecast |
 * | `shoal_pae_accuracy` | gauge | `zone` | measured forecast accuracy per origin zone, 1 − WAPE in [0, 1] (zones with enough evidence) |
 * | `shoal_pae_model` | gauge | `name`, `kind` | 1 for the model in use (`kind`: onnx or baseline) |
 * | `shoal_pae_model_load_seconds` | gauge | — | how long loading the configured ONNX model took at start (a failed load too; 0 without one) |
 *
 * @packageDocumentation
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ModelInfo } from '../pae/index.ts';

/** Registers the PAE metrics in `registry`; `info` is undefined while the engine starts. */
export function registerPaeMetrics(registry: Registry, info: () => ModelInfo | undefined): void {
  const registers = [registry];
  new Counter({
    name: 'shoal_pae_runs_total',
    help: 'PAE forecast cycles (inference runs) completed',
    registers,
    collect() {
      this.reset();
      this.inc(info()?.runs ?? 0);
    },
  });
  new Gauge({
    name: 'shoal_pae_last_run_seconds',
    help: 'Duration of the last PAE cycle',
    registers,
    collect() {
      this.set((info()?.lastRunMs ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'shoal_pae_rows_scored',
    help: '(record, zone) rows the last PAE cycle forecast',
    registers,
    collect() {
      this.set(info()?.rowsScored ?? 0);
    },
  });
  new Gauge({
    name: 'shoal_pae_accuracy',
    help: 'Measured forecast accuracy per origin zone (1 - WAPE, 0..1), for zones with enough evidence',
    labelNames: ['zone'] as const,
    registers,
    collect() {
      this.reset();
      for (const [zone, a] of Object.entries(info()?.accuracy.zones ?? {})) this.set({ zone }, a);
    },
  });
  new Gauge({
    name: 'shoal_pae_model',
    help: 'The forecasting model in use (1), by name and kind (onnx or baseline)',
    labelNames: ['name', 'kind'] as const,
    registers,
    collect() {
      this.reset();
      const i = info();
      if (i !== undefined) this.set({ name: i.name, kind: i.kind }, 1);
    },
  });
  new Gauge({
    name: 'shoal_pae_model_load_seconds',
    help: 'How long loading the configured ONNX model took at start (a failed load too; 0 without one)',
    registers,
    collect() {
      this.set((info()?.loadMs ?? 0) / 1000);
    },
  });
}
