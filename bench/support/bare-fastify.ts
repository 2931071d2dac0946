// Reference server for bench:http: bare fastify routes on the daemon's paths, returning a constant
// (GET) or a small JSON acknowledgement (PUT), so the load generator does the same work for both.
import Fastify from 'fastify';

const app = Fastify();
const body = Buffer.alloc(100, 'x');
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, b, done) => done(null, b));
app.get('/v1/records/:key', async (_req, reply) => reply.type('application/octet-stream').send(body));
app.put('/v1/records/:key', async () => ({ ok: true }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
process.stdout.write('ready\n');
