/**
 * A real PEP 503 index on 127.0.0.1: one tiny pure-Python wheel, built here
 * (wheelhouse.ts: a wheel is a zip with a dist-info), served by node:http with an access
 * log the test can assert on.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll } from 'vitest';
import { pureWheel } from './wheelhouse.js';

export interface PypiServer {
  url: string; // http://127.0.0.1:PORT
  port: number;
  log: string[];
  wheel: string;
}

export async function startPypi(dir: string, project = 'tunademo', version = '1.0'): Promise<PypiServer> {
  const { filename: wheel, bytes } = pureWheel(dir, project, version);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const log: string[] = [];
  const server = http.createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    if (req.url === `/simple/${project}/`) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!DOCTYPE html><html><body><a href="/packages/${wheel}#sha256=${sha}">${wheel}</a></body></html>`);
    } else if (req.url === `/packages/${wheel}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      res.end(bytes);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, log, wheel };
}

/** An environment where pip reads only the user config under `home`: no PIP_* variables, no site configs but /etc's. */
export function isolatedPipEnv(home: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PIP_')));
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    XDG_CONFIG_DIRS: path.join(home, 'no-site-config'),
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
  };
}
