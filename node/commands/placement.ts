import { parseArgs } from 'node:util';
import { ADMIN_OPTIONS, type AdminTarget, adminTarget } from '../admin-client.ts';

const USAGE = `usage:
  shoal placement show <key>                      where the record lives: ring or override, holders, epoch, history
  shoal placement set <key> --replicas <id,id,..> [--reason <text>] [--force] [--allow-missing]
                                                  copy the record to these daemons, then make them its holders;
                                                  ids: peer ids or unique prefixes/suffixes (as the logs print them);
                                                  --force: fewer than R holders; --allow-missing: a key not written yet
  shoal placement reset <key> [--reason <text>]   move the record back to its ring replicas
  shoal placement list                            every override this daemon holds
options for all: [--url http://127.0.0.1:7070] [--admin-token-file <file>]
`;

/** How long a move may take before this command gives up waiting (the daemon's own deadline is shorter). */
const MOVE_WAIT_MS = 120_000;

class UsageError extends Error {}

const recordPath = (key: string) => `/admin/records/${encodeURIComponent(key)}`;

/** Sends one admin request and prints its JSON answer; a refusal prints the daemon's `code: message`. */
async function call(target: AdminTarget, method: string, path: string, body?: unknown): Promise<number> {
  const headers = { ...target.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(MOVE_WAIT_MS),
    });
  } catch (err) {
    process.stderr.write(`shoal: no answer from ${target.url}: ${(err as Error).message}\n`);
    return 1;
  }
  const text = await res.text();
  if (res.ok) {
    process.stdout.write(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    return 0;
  }
  let why = `${res.status} ${text}`;
  try {
    const e = JSON.parse(text) as { code?: string; message?: string };
    if (e.code) why = `${e.code}: ${e.message}`;
  } catch {
    // not the catalogue's JSON (a proxy, say): print it as it came
  }
  process.stderr.write(`shoal: ${method} ${path} refused by ${target.url}: ${why}\n`);
  return 1;
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...ADMIN_OPTIONS,
        replicas: { type: 'string' },
        reason: { type: 'string' },
        force: { type: 'boolean', default: false },
        'allow-missing': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function dispatch(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [action, key, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const target = adminTarget(values);
  if (action === 'list') {
    if (key !== undefined) throw new UsageError('list takes no key');
    return call(target, 'GET', '/admin/overrides');
  }
  if (action !== 'show' && action !== 'set' && action !== 'reset') {
    throw new UsageError(action === undefined ? 'missing action' : `unknown action ${JSON.stringify(action)}`);
  }
  if (key === undefined || key === '') throw new UsageError(`${action} needs a record key`);
  if (action === 'show') return call(target, 'GET', recordPath(key));
  if (action === 'reset') {
    const reason = values.reason === undefined ? '' : `?reason=${encodeURIComponent(values.reason)}`;
    return call(target, 'DELETE', `${recordPath(key)}/placement${reason}`);
  }
  const replicas = (values.replicas ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (replicas.length === 0) throw new UsageError('set needs --replicas <peer id,peer id,...>');
  return call(target, 'POST', `${recordPath(key)}/placement`, {
    replicas,
    force: values.force,
    ...(values['allow-missing'] ? { allowMissing: true } : {}),
    ...(values.reason === undefined ? {} : { reason: values.reason }),
  });
}

/** `shoal placement <show|set|reset|list>`: a record's placement through a running daemon's admin API. */
export async function run(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`shoal placement: ${err.message}\n\n${USAGE}`);
    return 2;
  }
}
