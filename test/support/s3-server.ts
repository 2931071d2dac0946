/**
 * A local S3-compatible server for tests and benchmarks: s3rver in a child process on 127.0.0.1, on a
 * free port, over a temporary directory that is removed on stop. Never a remote endpoint.
 *
 * Why a child process: s3rver 3.7 needs `--openssl-legacy-provider` on Node 24 (its ListObjectsV2
 * continuation tokens use a legacy cipher), and vitest runs tests in workers that cannot take that flag.
 *
 * s3rver differs from S3 in two ways the store contract depends on; the child fixes both before
 * starting it, so the double behaves like S3:
 * - listings walk the directory tree in file-name order, so the key `K/x` (directory `K`) comes before
 *   the key `K` (file `K._S3rver_object`), while S3 lists keys in UTF-8 byte order: the child sorts
 *   directory entries by the object key they stand for;
 * - a PUT writes the object file in place, so parallel PUTs of one key can interleave their bytes,
 *   while S3 PUTs are atomic: the child writes to a temporary file and renames, one PUT per key at a time.
 *
 * The same file is the child's entry point (`node --openssl-legacy-provider s3-server.ts <dir>`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export interface S3TestServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Stops the child and removes its directory. */
  stop(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

/** Starts s3rver in a child process; buckets are created by the stores (`createBucket`) or listed here. */
export async function startS3Server(buckets: string[] = []): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'shoal-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', SELF, directory, ...buckets], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let port: number;
  try {
    port = await readPort(child);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        child.stdout?.off('data', onData);
        const port = Number((JSON.parse(line) as { port: number }).port);
        if (Number.isInteger(port) && port > 0) resolve(port);
        else reject(new Error(`s3rver child printed ${line}`));
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`s3rver child exited with ${code} before listening`)));
    child.once('error', reject);
  });
}

// ---- child side -------------------------------------------------------------------------------

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;
interface PutInput {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}
interface FilesystemStoreProto {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: PutInput): Promise<{ size: number; md5: string }>;
}

/** The object key a directory entry stands for: files carry `._S3rver_<resource>`, directories a `/`. */
function entryKey(name: string): string {
  const at = name.indexOf('._S3rver_');
  return at === -1 ? `${name}/` : name.slice(0, at);
}

async function serve(directory: string, buckets: string[]): Promise<void> {
  const s3Require = createRequire(createRequire(import.meta.url).resolve('s3rver'));
  const fsx = s3Require('fs-extra') as { readdirSync: (...args: unknown[]) => unknown };
  const readdirSync = fsx.readdirSync;
  fsx.readdirSync = (...args: unknown[]) => {
    const list = readdirSync(...args);
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) return list;
    return (list as string[]).sort((a, b) => {
      const ka = entryKey(a);
      const kb = entryKey(b);
      return ka < kb ? -1 : ka > kb ? 1 : a < b ? -1 : a > b ? 1 : 0;
    });
  };
  const proto = (s3Require('./stores/filesystem') as { prototype: FilesystemStoreProto }).prototype;
  const tails = new Map<string, Promise<unknown>>();
  proto.putObject = async function putObject(object) {
    const content = Buffer.isBuffer(object.content) ? object.content : await collect(object.content);
    const md5 = createHash('md5').update(content).digest('hex');
    const path = this.getResourcePath(object.bucket, object.key, 'object');
    const run = async () => {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, content);
      await rename(tmp, path);
      await this.putMetadata(object.bucket, object.key, object.metadata, md5);
      return { size: content.length, md5 };
    };
    const result = (tails.get(path) ?? Promise.resolve()).then(run, run);
    const tail = result.catch(() => {});
    tails.set(path, tail);
    void tail.then(() => {
      if (tails.get(path) === tail) tails.delete(path);
    });
    return result;
  };
  const S3rver = s3Require('./s3rver') as S3rverClass;
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  const stop = () => {
    void server.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  // The parent's end of stdin closes when the parent dies: no orphaned servers.
  process.stdin.once('end', stop);
  process.stdin.resume();
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

if (process.argv[1] === SELF) {
  const [directory, ...buckets] = process.argv.slice(2);
  serve(directory, buckets).catch((err: unknown) => {
    process.stderr.write(`s3rver child failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
