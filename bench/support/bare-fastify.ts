// Reference server for bench:http: a bare fastify route returning a constant.
import Fastify from 'fastify';

const app = Fastify();
const body = Buffer.alloc(100, 'x');
app.get('/const', async (_req, reply) => reply.type('application/octet-stream').send(body));
app.put('/const', async () => ({ ok: true }));
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, b, done) => done(null, b));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
process.stdout.write('ready\n');
