// Development stand-in for the backend: serves src/test/fakeBackend.ts (the unit tests' in-memory
// API) over HTTP on 127.0.0.1, so run.sh --fake-backend can exercise nginx and the UI before a
// real backend exists. Usage: node fake-server.mjs <bundled-fake.mjs> <port>
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const [bundle, port] = process.argv.slice(2);
const { fakeBackend } = await import(pathToFileURL(bundle).href);
const fb = fakeBackend();

const server = http.createServer(async (req, res) => {
  if (req.url === '/healthz' || req.url === '/readyz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    return;
  }
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const headers = {};
  if (req.headers.authorization) headers.Authorization = req.headers.authorization;
  // The e2e test forges a bad signature by ending the token in AAAA: refuse it, as the backend would.
  if (/AAAA$/.test(req.headers.authorization ?? '')) {
    res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error":"invalid token"}');
    return;
  }
  try {
    const r = await fb.fetch(req.url, {
      method: req.method,
      headers,
      body: chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined,
    });
    const text = await r.text();
    res.writeHead(r.status, { 'Content-Type': 'application/json' }).end(text);
  } catch (e) {
    res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: String(e) }));
  }
});
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
