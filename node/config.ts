import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { multiaddr } from '@multiformats/multiaddr';
import { DEFAULT_MAX_VALUE_BYTES } from '../src/api/index.ts';
import type { DsmPolicy, SurviveMode } from '../src/dsm/index.ts';
import { ShoalError } from '../src/errors/index.ts';
// latency.ts directly, not the PAE index: resolving flags should not load onnxruntime.
import { loadLatencyMatrix } from '../src/pae/latency.ts';
import type { LatencyMatrix } from '../src/pae/scores.ts';
import { validateAdminExposure } from './admin-exposure.ts';
import { configKey, envName, type OptionSpec, START_OPTIONS } from './options.ts';

/** The resolved settings of one daemon. */
export interface DaemonConfig {
  dataDir: string;
  httpHost: string;
  httpPort: number;
  /** `--http-request-timeout-ms`. */
  httpRequestTimeoutMs: number;
  listen: string[];
  /** No `--listen` was given (flag, env or file): the default, any free port, remembered across restarts. */
  listenIsDefault?: boolean;
  /** `--announce`: the addresses other members dial instead of `listen` (empty: the listen addresses). */
  announce: string[];
  zone: string;
  store: 'level' | 'sqlite' | 'postgres' | 's3';
  join: string[];
  clusterSecret?: string;
  /** `--admin-pub`: file with the cluster admin key id (node/admin-key.ts). */
  adminPub?: string;
  bulkTls: 'on' | 'off';
  bulkPort: number;
  adminTokenFile?: string;
  /** `--admin-port`: the admin API's own listener; undefined = it shares the data listener. */
  adminPort?: number;
  /** `--admin-host`: address of the admin listener (resolved to 127.0.0.1 when `adminPort` is set). */
  adminHost?: string;
  dataAuth: 'off' | 'on';
  rateLimitAdmin: number;
  rateLimitData: number;
  rateLimitLoopback: 'exempt' | 'limit';
  durability: 'fsync' | 'os';
  maxValueBytes: number;
  readCacheMb: number;
  capacity: number;
  /** `--storage-limit-mb`: the most the local store should hold, MiB; 0 = no limit. See {@link storageLimitBytes}. */
  storageLimitMb: number;
  replicas: number;
  antiEntropyIntervalMs: number;
  statsBucketMs: number;
  moveGraceMs: number;
  faultInjection: 'off' | 'on';
  accessStats: 'on' | 'off';
  tombstoneGraceMs: number;
  paeModel?: string;
  paeIntervalMs: number;
  /** `--dsm-policy`: the Dynamic Sharding Manager's planning policy. */
  dsmPolicy: DsmPolicy;
  /** `--dsm-interval-ms`: pause between DSM cycles, ms (an integer in [100, 86 400 000]). */
  dsmIntervalMs: number;
  /** `--survive`: what a record's replica set must survive (the planner's redundancy rule). */
  survive: SurviveMode;
  /** `--dsm-threshold`: ms of client latency a move must save over the horizon, net of its cost. */
  dsmThreshold: number;
  /** `--dsm-max-moves`: moves per cycle (an integer in [1, 100 000]). */
  dsmMaxMoves: number;
  /** `--dsm-max-mbps`: the mover's bandwidth cap, MB/s (in (0, 100 000]). */
  dsmMaxMbps: number;
  /** `--dsm-cooldown-ms`: no move back onto a holder a record left sooner than this, ms (an integer). */
  dsmCooldownMs: number;
  /** `--dsm-guard`: roll back a wave that made its records' latency worse. */
  dsmGuard: 'on' | 'off';
  /** `--dsm-guard-margin`: the fraction worse that trips the guard (in (0, 10]). */
  dsmGuardMargin: number;
  /** `--dsm-guard-window-ms`: how long the guard observes a wave's records, ms. */
  dsmGuardWindowMs: number;
  /** Parsed and validated `--latency-matrix` (zone→zone ms), if set. */
  latencyMatrix?: LatencyMatrix;
  statsGossipIntervalMs: number;
  logLevel: string;
  pgUrl?: string;
  pgTable: string;
  s3Endpoint?: string;
  s3Bucket: string;
  s3Prefix: string;
  s3Region: string;
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
}

/** A setting is missing or malformed. */
export class ConfigError extends ShoalError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
    this.name = 'ConfigError';
  }
}

type Raw = string | number | string[] | undefined;

/**
 * One source's value of a setting. An empty string (`SHOAL_ADMIN_TOKEN_FILE=` in a shell, `--x ''`) is unset,
 * not a value: an empty token file name must not count as "a token is configured", nor an empty port as 0.
 */
function coerce(spec: OptionSpec, value: unknown, source: string): Raw {
  if (value === undefined || value === '') return undefined;
  const where = `${source} --${spec.flag}`;
  switch (spec.kind) {
    case 'number': {
      const n = typeof value === 'number' ? value : Number(value);
      if (!Number.isFinite(n) || n < 0)
        throw new ConfigError(`${where}: expected a non-negative number, got ${JSON.stringify(value)}`);
      return n;
    }
    case 'list':
      if (Array.isArray(value)) return value.map(String);
      return String(value)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'enum':
      if (!spec.values?.includes(String(value))) {
        throw new ConfigError(`${where}: expected one of ${spec.values?.join(', ')}, got ${JSON.stringify(value)}`);
      }
      return String(value);
    case 'json':
      // A config file may hold the JSON value itself rather than a path or a JSON string.
      return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    default:
      return String(value);
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`config file ${path} is not a JSON object: ${(err as Error).message}`);
  }
}

/**
 * Resolves `shoal start` settings from flags, `SHOAL_*` environment variables and the `--config`
 * JSON file (precedence in that order), over the defaults. Unknown flags and config keys are errors.
 */
export function resolveConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const flagOptions: Record<string, { type: 'string'; multiple?: boolean }> = { config: { type: 'string' } };
  for (const o of START_OPTIONS) flagOptions[o.flag] = { type: 'string', multiple: o.kind === 'list' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: flagOptions, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const flags = parsed.values as Record<string, string | string[] | undefined>;
  const configPath = (flags.config as string | undefined) ?? env.SHOAL_CONFIG;
  const file = configPath ? readConfigFile(configPath) : {};
  const known = new Set(START_OPTIONS.map((o) => configKey(o.flag)));
  for (const k of Object.keys(file))
    if (!known.has(k)) throw new ConfigError(`config file ${configPath}: unknown key ${JSON.stringify(k)}`);

  const out: Record<string, Raw> = {};
  for (const spec of START_OPTIONS) {
    const key = configKey(spec.flag);
    out[key] =
      coerce(spec, flags[spec.flag], 'flag') ??
      coerce(spec, env[envName(spec.flag)], `env ${envName(spec.flag)} for`) ??
      coerce(spec, file[key], 'config file key for') ??
      spec.default;
  }
  const { latencyMatrix: matrixSpec, ...resolved } = out;
  const cfg = resolved as unknown as DaemonConfig;
  // No flag, env or file gave one: the daemon may take the port of its previous run (listen-memory.ts).
  cfg.listenIsDefault = out.listen === START_OPTIONS.find((o) => o.flag === 'listen')?.default;
  for (const flag of ['listen', 'announce'] as const) checkMultiaddrs(flag, cfg[flag]);
  // Validated here so a bad matrix stops `shoal start` (exit 2) before anything is opened.
  if (typeof matrixSpec === 'string') cfg.latencyMatrix = loadLatencyMatrix(matrixSpec, '--latency-matrix');
  if (cfg.httpPort > 65535) throw new ConfigError(`--http-port ${cfg.httpPort} is not a port`);
  const t = cfg.httpRequestTimeoutMs;
  if (!Number.isInteger(t) || t < 100 || t > 86_400_000)
    throw new ConfigError(`--http-request-timeout-ms must be an integer from 100 to 86400000, got ${t}`);
  if (!Number.isInteger(cfg.bulkPort) || cfg.bulkPort > 65535)
    throw new ConfigError(`--bulk-port ${cfg.bulkPort} is not a port`);
  if (cfg.capacity <= 0) throw new ConfigError('--capacity must be positive');
  if (!Number.isSafeInteger(storageLimitBytes(cfg)))
    throw new ConfigError(`--storage-limit-mb ${cfg.storageLimitMb} is too large (at most ${MAX_STORAGE_LIMIT_MB})`);
  if (!Number.isInteger(cfg.replicas) || cfg.replicas < 1)
    throw new ConfigError('--replicas must be a positive integer');
  if (cfg.zone.length === 0) throw new ConfigError('--zone must not be empty');
  // Replication carries a record in one frame of at most 16 MiB + 64 KiB (value plus key and metadata).
  if (cfg.maxValueBytes > DEFAULT_MAX_VALUE_BYTES)
    throw new ConfigError(
      `--max-value-bytes may be at most ${DEFAULT_MAX_VALUE_BYTES} (16 MiB, the largest record replicas exchange)`,
    );
  validateDsm(cfg);
  validateAdminExposure(cfg);
  return cfg;
}

/** Every `--listen` / `--announce` value must be a multiaddr (libp2p would fail later, less clearly). */
function checkMultiaddrs(flag: string, values: readonly string[]): void {
  for (const v of values) {
    try {
      if (multiaddr(v).toString() !== '/') continue;
    } catch (err) {
      throw new ConfigError(`--${flag} ${JSON.stringify(v)} is not a multiaddr: ${(err as Error).message}`);
    }
    throw new ConfigError(`--${flag} ${JSON.stringify(v)} is not a multiaddr: it has no address`);
  }
}

/** Largest `--storage-limit-mb`: its bytes stay a safe integer (8 PiB). */
const MAX_STORAGE_LIMIT_MB = 2 ** 33 - 1;

/** `--storage-limit-mb` in bytes (whole bytes; 0 = no limit). */
export function storageLimitBytes(cfg: Pick<DaemonConfig, 'storageLimitMb'>): number {
  return cfg.storageLimitMb > MAX_STORAGE_LIMIT_MB
    ? Number.POSITIVE_INFINITY
    : Math.floor(cfg.storageLimitMb * 1024 * 1024);
}

/** The DSM's numeric settings (the enums are checked by {@link coerce}; `--dsm-threshold` is any number ≥ 0). */
function validateDsm(cfg: DaemonConfig): void {
  const integerIn = (flag: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max)
      throw new ConfigError(`--${flag} must be an integer from ${min} to ${max}, got ${v}`);
  };
  integerIn('dsm-interval-ms', cfg.dsmIntervalMs, 100, 86_400_000);
  integerIn('dsm-max-moves', cfg.dsmMaxMoves, 1, 100_000);
  // At most a year: a record that moved stays put at most that long (and the sum with a timestamp stays exact).
  integerIn('dsm-cooldown-ms', cfg.dsmCooldownMs, 0, 31_536_000_000);
  integerIn('dsm-guard-window-ms', cfg.dsmGuardWindowMs, 100, 86_400_000);
  if (!(cfg.dsmGuardMargin > 0 && cfg.dsmGuardMargin <= 10))
    throw new ConfigError(`--dsm-guard-margin must be more than 0 and at most 10, got ${cfg.dsmGuardMargin}`);
  if (cfg.dsmMaxMbps <= 0 || cfg.dsmMaxMbps > 100_000)
    throw new ConfigError(
      `--dsm-max-mbps must be more than 0 and at most 100000 (use --dsm-policy off to stop moves), got ${cfg.dsmMaxMbps}`,
    );
}
