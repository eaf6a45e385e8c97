/**
 * A real PEP 503 index on 127.0.0.1: one tiny pure-Python wheel, built here
 * (a wheel is a zip with a dist-info), served by node:http with an access
 * log the test can assert on.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll } from 'vitest';

const BUILD_WHEEL = `
import sys, zipfile, hashlib, base64
out, name, ver = sys.argv[1:4]
files = {f"{name}/__init__.py": "VERSION = '%s'\\n" % ver,
         f"{name}-{ver}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {ver}\\n",
         f"{name}-{ver}.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: tuna-setup-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
record = []
with zipfile.ZipFile(out, "w") as z:
    for p, data in files.items():
        z.writestr(p, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{p},sha256={digest},{len(data)}")
    record.append(f"{name}-{ver}.dist-info/RECORD,,")
    z.writestr(f"{name}-{ver}.dist-info/RECORD", "\\n".join(record) + "\\n")
`;

export interface PypiServer {
  url: string; // http://127.0.0.1:PORT
  port: number;
  log: string[];
  wheel: string;
}

export async function startPypi(dir: string, project = 'tunademo', version = '1.0'): Promise<PypiServer> {
  const wheel = `${project}-${version}-py3-none-any.whl`;
  execFileSync('python3', ['-c', BUILD_WHEEL, path.join(dir, wheel), project, version]);
  const bytes = readFileSync(path.join(dir, wheel));
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
