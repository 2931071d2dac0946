/**
 * Every setting of `shoal start`: its flag, its `SHOAL_<NAME>` environment variable and its key in
 * the `--config` JSON file are derived from one name here. Precedence: flag > environment > config
 * file > default.
 */
export interface OptionSpec {
  /** Flag name without dashes; env var is SHOAL_ + upper snake case; config key is camelCase. */
  flag: string;
  /** `json`: a string (file path or inline JSON); in the config file also the JSON value itself. */
  kind: 'string' | 'number' | 'list' | 'enum' | 'json';
  values?: readonly string[];
  default?: string | number | string[];
  description: string;
}

export const START_OPTIONS: readonly OptionSpec[] = [
  {
    flag: 'data-dir',
    kind: 'string',
    default: './data',
    description: 'Directory of the local store, peer key and state.',
  },
  { flag: 'http-host', kind: 'string', default: '127.0.0.1', description: 'Address the HTTP API listens on.' },
  { flag: 'http-port', kind: 'number', default: 7070, description: 'Port of the HTTP API (0: any free port).' },
  {
    flag: 'http-request-timeout-ms',
    kind: 'number',
    default: 180_000,
    description:
      'Longest an HTTP request may take to arrive (headers and body), ms: a client that stalls mid-upload is cut off.',
  },
  {
    flag: 'listen',
    kind: 'list',
    default: ['/ip4/127.0.0.1/tcp/0'],
    description:
      'libp2p multiaddr(s) to listen on (repeatable). By default loopback on any free port the first time, then the same port on every restart (remembered in the data directory, unless another process took it), so a daemon keeps its multiaddr.',
  },
  {
    flag: 'announce',
    kind: 'list',
    default: [],
    description:
      'libp2p multiaddr(s) the other members dial instead of the listen addresses (repeatable; libp2p addresses.announce): behind NAT, in a container, or a DNS name such as /dns4/db1.example.net/tcp/8070.',
  },
  {
    flag: 'zone',
    kind: 'string',
    default: 'local',
    description: 'Failure/latency zone of this daemon (region or datacenter).',
  },
  {
    flag: 'store',
    kind: 'enum',
    values: ['level', 'sqlite', 'postgres', 's3'],
    default: 'level',
    description: 'Storage backend.',
  },
  { flag: 'join', kind: 'list', default: [], description: 'Multiaddr of a cluster member to join (repeatable).' },
  {
    flag: 'cluster-secret',
    kind: 'string',
    description: 'File with the cluster secret (`shoal init-cluster`); only holders can connect.',
  },
  {
    flag: 'admin-pub',
    kind: 'string',
    description:
      'File with the cluster admin key id, whose signed orders may revoke member keys (`shoal revoke`); default: `<cluster-secret>.admin.pub`, which `shoal init-cluster` writes, when it exists.',
  },
  {
    flag: 'bulk-tls',
    kind: 'enum',
    values: ['on', 'off'],
    default: 'on',
    description:
      'Bulk transfers (hand-off, hints, repair) on a TLS-PSK side channel (native AES-GCM) negotiated over libp2p; off: on libp2p streams (slower).',
  },
  {
    flag: 'bulk-port',
    kind: 'number',
    default: 0,
    description: 'TCP port of the bulk side channel, on the `--listen` hosts (0: any free port).',
  },
  {
    flag: 'admin-token-file',
    kind: 'string',
    description: 'File with the admin bearer token; without it /admin/* answers only on loopback.',
  },
  {
    flag: 'admin-port',
    kind: 'number',
    description:
      'Port of a listener of its own for the admin API, /metrics and /dashboard (0: any free port); the data listener then answers 404 for them. Default: they share the data listener.',
  },
  {
    flag: 'admin-host',
    kind: 'string',
    description:
      'Address of the admin listener (with --admin-port; default 127.0.0.1); beyond loopback only with --admin-token-file.',
  },
  {
    flag: 'data-auth',
    kind: 'enum',
    values: ['off', 'on'],
    default: 'off',
    description: 'on: the data API (/v1/*) needs the admin bearer token too (needs --admin-token-file).',
  },
  {
    flag: 'rate-limit-admin',
    kind: 'number',
    default: 100,
    description:
      'Admin requests per second per client IP before 429 RATE_LIMITED (0: no limit); far above what the CLI, the dashboard (a few per 2 s) or a scraper send, low enough to slow token guessing.',
  },
  {
    flag: 'rate-limit-data',
    kind: 'number',
    default: 0,
    description:
      'Data requests per second per client IP before 429 RATE_LIMITED (0: no limit, no cost per request); off by default: a few application servers send all the load, so any per-IP number would throttle them or never bite.',
  },
  {
    flag: 'rate-limit-loopback',
    kind: 'enum',
    values: ['exempt', 'limit'],
    default: 'exempt',
    description:
      "exempt: loopback clients (this host's tools, tests, benchmarks; every client behind a local proxy, which should limit per client itself) are never rate-limited; limit: they are too.",
  },
  {
    flag: 'durability',
    kind: 'enum',
    values: ['fsync', 'os'],
    default: 'fsync',
    description:
      'fsync: a write is acknowledged after it is on disk; os: after the OS has it (faster, lost on power failure).',
  },
  {
    flag: 'max-value-bytes',
    kind: 'number',
    default: 16 * 1024 * 1024,
    description: 'Largest record value accepted (at most 16 MiB).',
  },
  {
    flag: 'read-cache-mb',
    kind: 'number',
    default: 64,
    description: 'Memory for decoded hot records served by local reads, MiB (0: off).',
  },
  { flag: 'capacity', kind: 'number', default: 1, description: 'Relative capacity weight of this daemon on the ring.' },
  {
    flag: 'storage-limit-mb',
    kind: 'number',
    default: 0,
    description:
      'Most the local store should hold, MiB (0: no limit); announced to the cluster: the DSM moves no record into a daemon at its limit and sheds records from one over it.',
  },
  {
    flag: 'replicas',
    kind: 'number',
    default: 3,
    description: 'Copies of every record (R); the same on every daemon of a cluster.',
  },
  {
    flag: 'anti-entropy-interval-ms',
    kind: 'number',
    default: 30_000,
    description: 'Pause between background repair passes (hints, anti-entropy, hand-off).',
  },
  {
    flag: 'stats-bucket-ms',
    kind: 'number',
    default: 60_000,
    description: 'Width of the access-statistics time buckets (must divide an hour).',
  },
  {
    flag: 'stats-gossip-interval-ms',
    kind: 'number',
    default: 15_000,
    description: 'Pause between access-statistics summaries gossiped to the cluster.',
  },
  {
    flag: 'tombstone-grace-ms',
    kind: 'number',
    default: 21_600_000,
    description:
      'Age after which a delete tombstone held by every replica is collected (longer than hint lifetime + repair cycle).',
  },
  {
    flag: 'pae-model',
    kind: 'string',
    description:
      'ONNX forecasting model (default: the shipped models/default.onnx; a bad model falls back to the best baseline).',
  },
  {
    flag: 'pae-interval-ms',
    kind: 'number',
    default: 60_000,
    description: 'Pause between Predictive Access Engine cycles.',
  },
  {
    flag: 'dsm-policy',
    kind: 'enum',
    values: ['off', 'reactive', 'proactive', 'hybrid'],
    default: 'hybrid',
    description:
      'Dynamic Sharding Manager policy: off (never moves), reactive (observed accesses), proactive (PAE forecast), hybrid (both, weighted by forecast accuracy).',
  },
  {
    flag: 'dsm-interval-ms',
    kind: 'number',
    default: 60_000,
    description: 'Pause between DSM cycles (plan, then move as one wave); 100 ms to 1 day.',
  },
  {
    flag: 'survive',
    kind: 'enum',
    values: ['zone', 'node'],
    default: 'zone',
    description:
      "Failure a record's replicas must survive: zone (never a majority in one zone) or node (a majority may sit in the zone of demand, never all).",
  },
  {
    flag: 'dsm-threshold',
    kind: 'number',
    default: 200,
    description: 'Client latency (ms) a move must save over the forecast horizon, net of its cost, to be made.',
  },
  {
    flag: 'dsm-max-moves',
    kind: 'number',
    default: 256,
    description: 'Most moves per DSM cycle (1 to 100000).',
  },
  {
    flag: 'dsm-max-mbps',
    kind: 'number',
    default: 50,
    description: "Bandwidth cap of the DSM's mover, MB/s (more than 0, at most 100000).",
  },
  {
    flag: 'dsm-cooldown-ms',
    kind: 'number',
    default: 3_600_000,
    description:
      'A record the DSM moved is not moved back onto a holder it left sooner than this (unless the gain is large).',
  },
  {
    flag: 'dsm-guard',
    kind: 'enum',
    values: ['on', 'off'],
    default: 'on',
    description:
      "Guard: after each DSM wave, if its records' new placement serves the demand observed since worse than the old one would have (by the margin), pause the DSM and roll the wave back.",
  },
  {
    flag: 'dsm-guard-margin',
    kind: 'number',
    default: 0.2,
    description:
      "How much worse (a fraction of the old placement's latency cost) a wave may make its records before the guard rolls it back.",
  },
  {
    flag: 'dsm-guard-window-ms',
    kind: 'number',
    default: 300000,
    description: 'How long after a wave the guard observes its records before judging it.',
  },
  {
    flag: 'latency-matrix',
    kind: 'json',
    description:
      'Zone-to-zone client latency in ms for PAE migration scores: a JSON file or inline JSON `{"eu": {"us": 80}}` (default: measured ping RTTs from this zone, else 100 ms across zones).',
  },
  {
    flag: 'access-stats',
    kind: 'enum',
    values: ['on', 'off'],
    default: 'on',
    description: 'Record per-record access statistics (needed by the PAE); off only to measure their cost.',
  },
  {
    flag: 'move-grace-ms',
    kind: 'number',
    default: 60000,
    description:
      "How long a moved record's old copy stays after the new holders' signed receipts arrive, before it is dropped.",
  },
  {
    flag: 'fault-injection',
    kind: 'enum',
    values: ['off', 'on'],
    default: 'off',
    description: 'Tests and benchmarks only: enables /admin/faults (partitions, emulated zone latency).',
  },
  {
    flag: 'log-level',
    kind: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    description: 'Log level (pino: JSON lines on stdout, or pino-pretty lines when stdout is a terminal).',
  },
  { flag: 'pg-url', kind: 'string', description: 'PostgreSQL connection string (store postgres).' },
  {
    flag: 'pg-table',
    kind: 'string',
    default: 'shoal_records',
    description: 'PostgreSQL table of this daemon (store postgres; one per daemon).',
  },
  { flag: 's3-endpoint', kind: 'string', description: 'S3 endpoint URL (store s3).' },
  { flag: 's3-bucket', kind: 'string', default: 'shoal', description: 'S3 bucket (store s3).' },
  {
    flag: 's3-prefix',
    kind: 'string',
    default: 'shoal/',
    description: 'Object key prefix of this daemon (store s3; one per daemon).',
  },
  { flag: 's3-region', kind: 'string', default: 'us-east-1', description: 'S3 region (store s3).' },
  { flag: 's3-access-key-id', kind: 'string', description: 'S3 access key id (store s3; default: the AWS SDK chain).' },
  { flag: 's3-secret-access-key', kind: 'string', description: 'S3 secret access key (store s3).' },
];

export const envName = (flag: string) => `SHOAL_${flag.replace(/-/g, '_').toUpperCase()}`;
export const configKey = (flag: string) => flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** The options as a markdown table (README) or as `--help` text. */
export function optionsTable(format: 'markdown' | 'text'): string {
  if (format === 'markdown') {
    const rows = START_OPTIONS.map(
      (o) =>
        `| \`--${o.flag}\` | \`${envName(o.flag)}\` | \`${configKey(o.flag)}\` | ${fmtDefault(o)} | ${o.description} |`,
    );
    return ['| flag | env | config key | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
  }
  return START_OPTIONS.map(
    (o) => `  --${o.flag.padEnd(22)} ${o.description}${o.default !== undefined ? ` (default ${fmtDefault(o)})` : ''}`,
  ).join('\n');
}

function fmtDefault(o: OptionSpec): string {
  if (o.default === undefined) return '—';
  return Array.isArray(o.default) ? o.default.join(', ') || '—' : String(o.default);
}
