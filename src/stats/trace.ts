/**
 * Streaming reader of access traces in shoal's common CSV format (`../shared/traces/README.md`):
 *
 * ```
 * ts_ms,key,op,origin,size
 * ```
 *
 * - The first line is a header naming the five columns (any order; extra columns are ignored).
 * - `ts_ms` is a finite number >= 0 (milliseconds), `op` is `r` or `w`, `key` and `origin` are non-empty,
 *   `size` is an integer >= 0 (empty means 0). Fields may be double-quoted (RFC 4180, `""` escapes a quote).
 * - A file whose name ends in `.gz` is gunzipped while streaming. Nothing is held in memory beyond one line.
 * - A malformed row rejects the iteration with a {@link TraceFormatError} naming its 1-based line number.
 *   Blank lines are skipped. Rows need not be sorted; consumers that need order sort themselves.
 *
 * Origin → zone rule (documented, explicit): by default one zone per origin value (identity). A mapping file
 * is JSON `{ "<origin>": "<zone>", ..., "*": "<default zone>" }`; an origin missing from the file maps to the
 * `"*"` entry when present, else to itself.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ShoalError, throwIfAborted } from '../errors/index.ts';

/** One access of a trace. */
export interface TraceRow {
  /** Milliseconds since the Unix epoch (or since trace start). */
  tsMs: number;
  key: string;
  op: 'r' | 'w';
  origin: string;
  /** Bytes; 0 when unknown. */
  size: number;
  /** 1-based line number in the file (the header is line 1). */
  line: number;
}

/** A trace row (or the header) is malformed. `code` is `TRACE_FORMAT` (HTTP 400). */
export class TraceFormatError extends ShoalError {
  readonly line: number;
  constructor(line: number, message: string) {
    super('TRACE_FORMAT', `trace line ${line}: ${message}`);
    this.name = 'TraceFormatError';
    this.line = line;
  }
}

/** Options of {@link readTrace}. */
export interface ReadTraceOptions {
  signal?: AbortSignal;
}

const COLUMNS = ['ts_ms', 'key', 'op', 'origin', 'size'] as const;

/** Splits one CSV line; handles double-quoted fields. Returns undefined on an unterminated quote. */
export function splitCsvLine(line: string): string[] | undefined {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let i = 0;
  let quoted = false;
  while (i < line.length) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
    i++;
  }
  if (quoted) return undefined;
  out.push(cur);
  return out;
}

/** Parses the header line into the column indices of ts_ms, key, op, origin, size. */
function parseHeader(line: string): number[] {
  const names = (splitCsvLine(line.replace(/^\uFEFF/, '')) ?? []).map((s) => s.trim().toLowerCase());
  return COLUMNS.map((c) => {
    const idx = names.indexOf(c);
    if (idx < 0) throw new TraceFormatError(1, `header must name columns ${COLUMNS.join(',')}; got "${line}"`);
    return idx;
  });
}

/** Parses one data line; throws {@link TraceFormatError} on any malformed field. */
export function parseTraceLine(text: string, lineNo: number, idx: readonly number[]): TraceRow {
  const f = splitCsvLine(text);
  if (f === undefined) throw new TraceFormatError(lineNo, 'unterminated quoted field');
  const need = Math.max(...idx) + 1;
  if (f.length < need) throw new TraceFormatError(lineNo, `expected at least ${need} fields, got ${f.length}`);
  const tsText = f[idx[0]].trim();
  const tsMs = Number(tsText);
  if (tsText === '' || !Number.isFinite(tsMs) || tsMs < 0) {
    throw new TraceFormatError(lineNo, `ts_ms must be a finite number >= 0, got "${tsText}"`);
  }
  const key = f[idx[1]];
  if (key === '') throw new TraceFormatError(lineNo, 'key is empty');
  const op = f[idx[2]].trim();
  if (op !== 'r' && op !== 'w') throw new TraceFormatError(lineNo, `op must be "r" or "w", got "${op}"`);
  const origin = f[idx[3]].trim();
  if (origin === '') throw new TraceFormatError(lineNo, 'origin is empty');
  const sizeText = f[idx[4]].trim();
  const size = sizeText === '' ? 0 : Number(sizeText);
  if (!Number.isInteger(size) || size < 0) {
    throw new TraceFormatError(lineNo, `size must be an integer >= 0, got "${sizeText}"`);
  }
  return { tsMs, key, op, origin, size, line: lineNo };
}

/**
 * Streams the rows of a trace file (`.gz` is gunzipped). Rejects with {@link TraceFormatError} on the first
 * malformed row, and with an ABORTED ShoalError when `signal` aborts.
 */
export async function* readTrace(path: string, options: ReadTraceOptions = {}): AsyncGenerator<TraceRow> {
  const { signal } = options;
  throwIfAborted(signal);
  const file = createReadStream(path);
  const input: Readable = path.endsWith('.gz') ? file.pipe(createGunzip()) : file;
  if (path.endsWith('.gz')) file.on('error', (err) => input.destroy(err));
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let idx: number[] | undefined;
  try {
    for await (const raw of rl) {
      lineNo++;
      if ((lineNo & 1023) === 0) throwIfAborted(signal);
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (idx === undefined) {
        idx = parseHeader(text);
        continue;
      }
      if (text.trim() === '') continue;
      yield parseTraceLine(text, lineNo, idx);
    }
    throwIfAborted(signal);
    if (idx === undefined) throw new TraceFormatError(1, 'empty trace: missing header');
  } finally {
    rl.close();
    input.destroy();
    file.destroy();
  }
}

/** Maps an origin value to a zone. */
export type ZoneMapper = (origin: string) => string;

/** The default rule: one zone per origin value. */
export const identityZone: ZoneMapper = (origin) => origin;

/** Builds a mapper from a parsed mapping object (`"*"` = default for unmapped origins, else identity). */
export function zoneMapperFrom(mapping: Record<string, string>): ZoneMapper {
  const table = new Map(Object.entries(mapping));
  const fallback = table.get('*');
  table.delete('*');
  return (origin) => table.get(origin) ?? fallback ?? origin;
}

/** Thrown when a zone mapping file is not a JSON object of strings. */
export class ZoneMappingError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG_INVALID', message, options);
    this.name = 'ZoneMappingError';
  }
}

/** Loads a mapping file (see the module doc) and returns its {@link ZoneMapper}. */
export async function loadZoneMapping(path: string, options: { signal?: AbortSignal } = {}): Promise<ZoneMapper> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, { encoding: 'utf8', signal: options.signal }));
  } catch (err) {
    throwIfAborted(options.signal);
    throw new ZoneMappingError(`zone mapping ${path}: cannot read JSON (${(err as Error).message})`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ZoneMappingError(`zone mapping ${path}: expected a JSON object {"origin": "zone"}`);
  }
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string' || v === '') {
      throw new ZoneMappingError(`zone mapping ${path}: value of "${k}" must be a non-empty string`);
    }
  }
  return zoneMapperFrom(parsed as Record<string, string>);
}
