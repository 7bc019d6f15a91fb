// Reports the gzip size of the built JS and CSS and checks dist/ against the CSP:
// index.html must carry no inline script (the policy is script-src 'self').
// Exit 1 when the JS is over budget or an inline script is found.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const JS_BUDGET = 80 * 1024;
let failed = false;

const sizes = { js: 0, css: 0 };
const raw = { js: 0, css: 0 };
for (const f of readdirSync(join(dist, 'assets'))) {
  const kind = f.endsWith('.js') ? 'js' : f.endsWith('.css') ? 'css' : null;
  if (!kind) continue;
  const buf = readFileSync(join(dist, 'assets', f));
  raw[kind] += buf.length;
  sizes[kind] += gzipSync(buf, { level: 9 }).length;
}
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.log(`bundle: JS ${kb(raw.js)} (${kb(sizes.js)} gzip), CSS ${kb(raw.css)} (${kb(sizes.css)} gzip)`);
if (sizes.js > JS_BUDGET) {
  console.error(`bundle: JS is over the ${kb(JS_BUDGET)} gzip budget`);
  failed = true;
}

const html = readFileSync(join(dist, 'index.html'), 'utf8');
const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
for (const [, attrs, body] of scripts) {
  if (!/\bsrc=/.test(attrs) || body.trim()) {
    console.error('bundle: index.html has an inline <script>, which the CSP blocks');
    failed = true;
  }
}
if (/\son[a-z]+\s*=/i.test(html) || /javascript:/i.test(html)) {
  console.error('bundle: index.html has an inline event handler or javascript: URL');
  failed = true;
}
process.exit(failed ? 1 : 0);
