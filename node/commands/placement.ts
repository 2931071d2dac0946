import { parseArgs } from 'node:util';
import { ADMIN_OPTIONS, type AdminTarget, adminRequest, adminTarget } from '../admin-client.ts';
import { reportAdminError } from './dsm.ts';

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

/**
 * Sends one admin request and prints its JSON answer; a refusal or no answer is reported as by every admin
 * client (`shoal: <CODE>: <message>` with a hint, or `shoal: cannot reach the daemon at …`), exit 1.
 */
async function call(target: AdminTarget, method: string, path: string, body?: unknown): Promise<number> {
  try {
    const answer = await adminRequest(target, method, path, { body, timeoutMs: MOVE_WAIT_MS });
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return 0;
  } catch (err) {
    return reportAdminError(err);
  }
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
