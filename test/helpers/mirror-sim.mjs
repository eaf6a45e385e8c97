// Simulated mirrors on 127.0.0.1, for the selection tests and bench/select.mjs.
// Each mirror is a real HTTP server laid out like TUNA (PyPI simple pages and
// files, conda-forge repodata, PyTorch wheel pages, a registry /v2/, a
// tunasync.json), with a known latency (it waits before sending headers) and
// bandwidth (userspace pacing of every body), or one fault:
//   refused     nothing listens on the port
//   blackhole   accepts the connection, never answers
//   trickle     answers one byte a second
//   5xx         503 for every path
//   404         404 for every path
//   portal      200 text/html login page for every path (captive portal)
//   stale       its index lacks the newest release; its repodata is 10 days old
//   files-404   its index is fine but the files it links answer 404
//   bad-checksum its Miniforge installer does not match its .sha256
// and the hostile ones (test/probe/hostile.test.ts):
//   redirect     answers `redirect.status` to `redirect.to` + the path
//   bomb         a gzip bomb: ~3 MB on the wire that inflate to ~3 GB
//   endless      a 200 whose body never ends
//   headers      a response with a million header lines
//   redos        100k unclosed `<a href=x>` tags (a few KB gzipped)
//   bad-escape   its index links a file whose name is a malformed %-escape; its files 404
//   hostile      file names and sync status carrying workflow commands and
//                terminal escapes; its files 404 (so the name reaches a reason)
// `host`/`port` bind elsewhere than 127.0.0.1:random (the link lab binds each
// mirror to its own link's address); `throttle` serves the first `afterBytes`
// of every file at full speed, then `bps` (a mirror that throttles after 1–2 MiB).
// Plain JS so the benchmark runs it without a build; `node mirror-sim.mjs`
// runs it as a child process driven over IPC (start/log/stop), which keeps
// the pacing timers off the selector's event loop.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const MiB = 1024 * 1024;
const DAY = 86_400_000;
let filler;
const bytesOf = (n) => {
  if (!filler || filler.length < n) filler = Buffer.alloc(Math.max(n, 8 * MiB), 0x5a);
  return filler.subarray(0, n);
};

/**
 * @typedef {{ name: string, latencyMs?: number, bandwidthBps?: number, fault?: string,
 *   versions?: string[], project?: string, json?: boolean, artifactBytes?: number,
 *   status?: { state?: string, ageMs?: number }, redirect?: { status: number, to: string },
 *   host?: string, port?: number, throttle?: { afterBytes: number, bps: number },
 *   subdirs?: string[], missingStatus?: number }} MirrorSpec
 * @typedef {{ name: string, url: string, port: number }} SimMirror
 * @typedef {{ name: string, method: string, path: string, range?: string, userAgent?: string, authorization?: string }} SimRequest
 */

/**
 * @param {MirrorSpec[]} specs
 * @param {{ tls?: { key: string, cert: string } }} [options] serve https (for clients that refuse http)
 */
export async function startMirrors(specs, options = {}) {
  /** @type {SimRequest[]} */
  const requests = [];
  const closers = [];
  const openSockets = new Set();
  /** @type {SimMirror[]} */
  const mirrors = [];
  for (const spec of specs) {
    const { port, close } = await startOne(spec, requests, openSockets, options.tls);
    closers.push(close);
    const host = spec.host ?? '127.0.0.1';
    const scheme = options.tls ? 'https' : 'http';
    mirrors.push({ name: spec.name, url: `${scheme}://${host}${port === (options.tls ? 443 : 80) ? '' : `:${port}`}`, port });
  }
  return {
    mirrors,
    requests,
    /** @param {string} name */
    url: (name) => mirrors.find((m) => m.name === name)?.url,
    /** connections the clients have not closed yet, across every simulated mirror */
    openConnections: () => openSockets.size,
    close: async () => {
      await Promise.all(closers.map((c) => c()));
    },
  };
}

async function listen(server, spec = {}) {
  await new Promise((resolve) => server.listen(spec.port ?? 0, spec.host ?? '127.0.0.1', resolve));
  return server.address().port;
}

function trackSockets(server, openSockets) {
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    openSockets.add(s);
    s.on('close', () => {
      sockets.delete(s);
      openSockets.delete(s);
    });
  });
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

async function startOne(spec, requests, openSockets, tls) {
  if (spec.fault === 'refused') {
    const s = net.createServer();
    const port = await listen(s, spec);
    await new Promise((r) => s.close(r));
    return { port, close: async () => {} };
  }
  if (spec.fault === 'headers') {
    const server = net.createServer((socket) => {
      requests.push({ name: spec.name, method: '?', path: '?' });
      socket.on('error', () => {});
      socket.resume();
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n');
      const line = Buffer.from('x-flood: a\r\n'.repeat(10_000));
      let sent = 0;
      const more = () => {
        while (sent < 100 && !socket.destroyed) {
          sent += 1;
          if (!socket.write(line)) return void socket.once('drain', more);
        }
        if (!socket.destroyed) socket.end('\r\n');
      };
      more();
    });
    const close = trackSockets(server, openSockets);
    return { port: await listen(server, spec), close };
  }
  if (spec.fault === 'blackhole' || spec.fault === 'trickle') {
    const server = net.createServer((socket) => {
      requests.push({ name: spec.name, method: '?', path: '?' });
      socket.on('error', () => {});
      socket.resume(); // read (and drop) what the client sends, so its close is seen
      if (spec.fault === 'blackhole') return;
      const reply = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 100\r\n\r\n${'x'.repeat(100)}`);
      let i = 0;
      const t = setInterval(() => {
        if (i >= reply.length || socket.destroyed) return clearInterval(t);
        socket.write(reply.subarray(i, ++i));
      }, 1000);
      socket.on('close', () => clearInterval(t));
    });
    const close = trackSockets(server, openSockets);
    return { port: await listen(server, spec), close };
  }
  const handler = (req, res) => {
    requests.push({
      name: spec.name,
      method: req.method,
      path: req.url,
      range: req.headers.range,
      userAgent: req.headers['user-agent'],
      authorization: req.headers.authorization,
    });
    const timer = setTimeout(() => serve(spec, req, res), spec.latencyMs ?? 0);
    res.on('close', () => clearTimeout(timer));
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  server.keepAliveTimeout = 5000;
  const close = trackSockets(server, openSockets);
  return { port: await listen(server, spec), close };
}

function versionsOf(spec) {
  const all = spec.versions ?? ['24.0', '24.1', '24.2', '24.3'];
  return spec.fault === 'stale' ? all.slice(0, -1) : all;
}

function serve(spec, req, res) {
  const raw = (req.url ?? '/').split('?')[0];
  let path = raw;
  try {
    path = decodeURIComponent(raw);
  } catch {
    /* a malformed escape is served as not found */
  }
  const send = (status, type, body, extra = {}) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
    res.end(body);
  };
  if (spec.fault === '5xx') return send(503, 'text/html', '<html><body>503 Service Unavailable</body></html>');
  if (spec.fault === '404') return send(404, 'text/html', '<html><body>404 Not Found</body></html>');
  if (spec.fault === 'redirect') {
    res.writeHead(spec.redirect.status, { location: spec.redirect.to + (req.url ?? '/'), 'content-length': 0 });
    return void res.end();
  }
  if (spec.fault === 'bomb') {
    res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': bomb().length });
    return void res.end(bomb());
  }
  if (spec.fault === 'endless') {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.from(`[${'{"name":"pypi","status":"success"},'.repeat(2000)}`);
    const more = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', more);
    };
    return void more();
  }
  if (spec.fault === 'redos') {
    const page = gzipSync(`<html><body>${'<a href=x>'.repeat(100_000)}`);
    res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': page.length });
    return void res.end(page);
  }
  if (spec.fault === 'portal') {
    return send(
      200,
      'text/html; charset=utf-8',
      '<html><head><title>Sign in</title></head><body><form action="/login" method="post"><a href="/login?next=%2F">Sign in to continue</a><a href="/help">Help</a></form></body></html>',
    );
  }
  const project = spec.project ?? 'pip';
  const now = Date.now();
  const versions = versionsOf(spec);
  const wheel = (v) =>
    spec.fault === 'hostile'
      ? `${project}-${v}-py3-none-any%0A::set-output name=pwned::yes%0A::add-mask::x%1B[31m.whl`
      : spec.fault === 'bad-escape' && v === versions.at(-1)
        ? `${project}-${v}-py3-none-any%E0%A4%A.whl`
        : `${project}-${v}-py3-none-any.whl`;

  let m;
  if (path === `/pypi/web/simple/${project}/`) {
    const wantsJson = spec.json && /application\/vnd\.pypi\.simple\.v1\+json/.test(req.headers.accept ?? '');
    if (wantsJson) {
      const files = versions.map((v, i) => ({
        filename: wheel(v),
        url: `../../packages/${wheel(v)}`,
        hashes: { sha256: sha(wheel(v)) },
        'upload-time': new Date(now - (versions.length - i) * 7 * DAY).toISOString(),
        size: spec.artifactBytes ?? 4 * MiB,
      }));
      return send(200, 'application/vnd.pypi.simple.v1+json', JSON.stringify({ meta: { 'api-version': '1.1' }, name: project, files }));
    }
    const links = versions.map((v) => `<a href="../../packages/${wheel(v)}#sha256=${sha(wheel(v))}">${wheel(v)}</a><br/>`).join('\n');
    return send(200, 'text/html', `<!DOCTYPE html><html><body><h1>Links for ${project}</h1>\n${links}\n</body></html>`);
  }
  if ((m = /^\/pypi\/web\/packages\/(.+)$/.exec(path))) {
    if (spec.fault === 'files-404' || spec.fault === 'hostile' || spec.fault === 'bad-escape') return send(404, 'text/html', 'not found');
    return sendArtifact(spec, req, res, 'application/octet-stream', bytesOf(spec.artifactBytes ?? 4 * MiB));
  }
  if ((m = /^\/anaconda\/cloud\/conda-forge\/([\w-]+)\/repodata\.json$/.exec(path)) && m[1] !== 'noarch') {
    // the platform subdirs it carries (default: all); SJTU answers 403 for what it lacks (sjtug #360)
    if (!(spec.subdirs ?? ['linux-64', 'linux-aarch64', 'linux-ppc64le', 'osx-64', 'osx-arm64', 'win-64']).includes(m[1]))
      return send(spec.missingStatus ?? 404, 'text/html', 'not found');
    return send(200, 'application/json', JSON.stringify({ info: { subdir: m[1] }, packages: {} }));
  }
  if (path === '/anaconda/cloud/conda-forge/noarch/repodata.json') {
    const size = spec.artifactBytes ?? 4 * MiB;
    const body = Buffer.from(bytesOf(size));
    Buffer.from('{\n  "info": {\n    "subdir": "noarch"\n  },\n  "packages": {').copy(body);
    const age = spec.fault === 'stale' ? 10 * DAY : 3_600_000;
    return sendArtifact(spec, req, res, 'application/json', body, { 'last-modified': new Date(now - age).toUTCString() });
  }
  if (path === '/pytorch/whl/cpu/torch/') {
    const torch = versions.map((v) => `torch-2.${v.replace(/\D/g, '')}.0+cpu-cp311-cp311-linux_x86_64.whl`);
    const links = torch.map((f) => `<a href="/pytorch/whl/cpu/${encodeURIComponent(f)}">${f}</a><br/>`).join('\n');
    return send(200, 'text/html', `<!DOCTYPE html><html><body><h1>Links for torch</h1>\n${links}\n</body></html>`);
  }
  if (/^\/pytorch\/whl\/cpu\/torch-.+\.whl$/.test(path)) {
    if (spec.fault === 'files-404') return send(404, 'text/html', 'not found');
    return sendArtifact(spec, req, res, 'application/octet-stream', bytesOf(spec.artifactBytes ?? 4 * MiB));
  }
  if (path === '/v2/') {
    return send(401, 'application/json', '{"errors":[{"code":"UNAUTHORIZED"}]}', {
      'docker-distribution-api-version': 'registry/2.0',
      'www-authenticate': 'Bearer realm="https://auth.example/token",service="registry.example"',
    });
  }
  if (
    (m = /^\/(?:github-release\/conda-forge\/miniforge\/LatestRelease|miniforge-releases\/latest\/download)\/(Miniforge3-[\w.-]+\.sh)(\.sha256)?$/.exec(path))
  ) {
    const digest = createHash('sha256').update(FAKE_MINIFORGE).digest('hex');
    if (m[2]) return send(200, 'text/plain', `${spec.fault === 'bad-checksum' ? digest.replace(/^./, (c) => (c === '0' ? '1' : '0')) : digest}  ${m[1]}\n`);
    return send(200, 'application/x-sh', FAKE_MINIFORGE);
  }
  if ((m = /^\/micromamba-releases\/latest\/download\/(micromamba-[\w-]+)(\.sha256)?$/.exec(path))) {
    const digest = createHash('sha256').update(FAKE_MICROMAMBA).digest('hex');
    if (m[2]) return send(200, 'text/plain', `${digest}  ${m[1]}\n`);
    return send(200, 'application/octet-stream', FAKE_MICROMAMBA);
  }
  if (path === '/static/tunasync.json') {
    const st = spec.status ?? {};
    const last = Math.floor((now - (st.ageMs ?? 600_000)) / 1000);
    const state = spec.fault === 'hostile' ? 'success\n::error title=pwned::injected\u001b]0;title\u0007\r::add-mask::x' : (st.state ?? 'success');
    const job = (name) => ({ name, is_master: true, status: state, last_update_ts: last, last_ended_ts: last, upstream: 'https://pypi.org/', size: '1T' });
    return send(200, 'application/json', JSON.stringify([job('pypi'), job('anaconda'), job('pytorch-wheels')]));
  }
  return send(404, 'text/html', 'not found');
}

/** a stand-in for the Miniforge installer: `-b -u -p PREFIX` makes PREFIX/bin/conda */
export const FAKE_MINIFORGE = [
  '#!/bin/sh',
  '# tuna-setup test stand-in for a Miniforge installer',
  'while [ $# -gt 0 ]; do case "$1" in -p) P="$2"; shift;; esac; shift; done',
  'mkdir -p "$P/bin" && printf \'#!/bin/sh\\necho "conda 25.1.0 (test stand-in)"\\n\' > "$P/bin/conda" && chmod +x "$P/bin/conda"',
  '',
].join('\n');

/** a stand-in for the micromamba binary */
export const FAKE_MICROMAMBA = '#!/bin/sh\necho "micromamba 2.3.0 (test stand-in)"\n';

let bombBody;
/** 50 gzip members of 64 MiB of zeros each: ~3 MB on the wire, 3.2 GB inflated */
function bomb() {
  if (!bombBody) {
    const member = gzipSync(Buffer.alloc(64 * MiB), { level: 9 });
    bombBody = Buffer.concat(Array(50).fill(member));
  }
  return bombBody;
}

const sha = (s) => createHash('sha256').update(s).digest('hex');

/** Serves `body` (honouring a single bytes=a-b Range), paced at the mirror's bandwidth. */
function sendArtifact(spec, req, res, type, body, extra = {}) {
  let slice = body;
  let status = 200;
  const headers = { 'content-type': type, 'accept-ranges': 'bytes', ...extra };
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (range) {
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : body.length - 1, body.length - 1);
    slice = body.subarray(start, end + 1);
    status = 206;
    headers['content-range'] = `bytes ${start}-${end}/${body.length}`;
  }
  headers['content-length'] = slice.length;
  res.writeHead(status, headers);
  if (spec.throttle) {
    // a throttler: its first bytes at full speed, then a trickle (per response, like a per-connection token bucket)
    const head = slice.subarray(0, spec.throttle.afterBytes);
    if (head.length === slice.length) return void res.end(slice);
    res.write(head);
    return pace(res, slice.subarray(head.length), spec.throttle.bps);
  }
  pace(res, slice, spec.bandwidthBps ?? 0);
}

function pace(res, buf, bps) {
  if (!bps) return void res.end(buf);
  const start = performance.now();
  let sent = 0;
  const tick = () => {
    if (res.destroyed) return;
    const allowed = Math.min(buf.length, Math.floor(((performance.now() - start) / 1000) * bps));
    if (allowed > sent) {
      res.write(buf.subarray(sent, allowed));
      sent = allowed;
    }
    if (sent >= buf.length) return void res.end();
    setTimeout(tick, 5);
  };
  setTimeout(tick, 5);
}

// child-process mode: the parent sends {cmd:'start', specs} / {cmd:'log'} / {cmd:'stop'}
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/.*\//, '/')) && process.send) {
  let current;
  process.on('message', async (msg) => {
    if (msg.cmd === 'start') {
      if (current) await current.close();
      current = await startMirrors(msg.specs);
      current.requests.length = 0;
      process.send({ id: msg.id, mirrors: current.mirrors });
    } else if (msg.cmd === 'log') {
      process.send({ id: msg.id, requests: current?.requests ?? [] });
    } else if (msg.cmd === 'stop') {
      if (current) await current.close();
      current = undefined;
      process.send({ id: msg.id });
    }
  });
  process.on('disconnect', () => process.exit(0));
}
