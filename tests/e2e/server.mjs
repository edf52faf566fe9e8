// The static file server of the end-to-end tests: the repository root at /, the wasm package at /pkg/ (GitHub Pages
// serves the same files). Environment: LAUEKIT_PKG_DIR (directory served at /pkg/, default <repo>/pkg).

import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PKG_DIR = path.resolve(process.env.LAUEKIT_PKG_DIR || path.join(ROOT, 'pkg'));

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.det': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.ts': 'text/plain; charset=utf-8',
};

/** Starts the server on a free port of 127.0.0.1; resolves to the http.Server. */
export function startServer() {
  const server = http.createServer(async (req, res) => {
    try {
      const rel = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
      const inPkg = rel === '/pkg' || rel.startsWith('/pkg/');
      const base = inPkg ? PKG_DIR : ROOT;
      const file = inPkg ? path.join(PKG_DIR, rel.slice('/pkg'.length)) : path.join(ROOT, rel);
      if (file !== base && !file.startsWith(base + path.sep)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      const stat = await fs.stat(file).catch(() => null);
      if (!stat || !stat.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${rel}`);
        return;
      }
      const body = await fs.readFile(file);
      res.writeHead(200, {
        'content-type': MIME[path.extname(file).toLowerCase()] || 'application/octet-stream',
        'content-length': body.length,
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/**
 * Whether a failed request of the page is the one known benign report: Chromium now and then (about one run in five
 * under load) reports the page's single download of the wasm package as `net::ERR_ABORTED` although the page
 * compiled the module from it and started (www/lib/wasm.js compiles while downloading; the cause was not found). The
 * tests assert that the page works, so that report alone is not counted as a page error; any other failed request is.
 */
export function benignAbort(req) {
  return req.failure()?.errorText === 'net::ERR_ABORTED' && /\/pkg\/(gpu\/)?lauekit_bg\.wasm$/.test(new URL(req.url()).pathname);
}
