/**
 * Tiny real torch wheels, and a loopback index that serves them the way the
 * real ones do, for installs by real pip.
 *
 * A wheel built here is a zip with a dist-info that pip installs like any
 * other. Its `torch` package reports what a real build reports —
 * `torch.__version__`, `torch.version.cuda`, `torch.cuda.get_arch_list()`
 * (empty while no GPU is available, as the real one is) and the build's arch
 * flags (`torch._C._cuda_getArchFlags()`); it "sees" the GPUs named in
 * FAKE_TORCH_DEVICES ("NVIDIA H100=9.0,…"), so a test can give it some.
 *
 * The index serves PEP 503 pages under prefixes: `/simple/<project>/` like a
 * PyPI mirror, `/whl/<variant>/<project>/` like download.pytorch.org; every
 * request is logged.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll } from 'vitest';

const BUILD = `
import base64, hashlib, json, sys, zipfile
spec = json.loads(sys.argv[1])
name, version, tag = spec["name"], spec["version"], spec["tag"]
info = f"{name}-{version}.dist-info"
meta = f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n" + "".join(f"Requires-Dist: {r}\\n" for r in spec["requires"])
files = dict(spec["files"])
files[f"{info}/METADATA"] = meta
purelib = "true" if tag.endswith("-none-any") else "false"
files[f"{info}/WHEEL"] = f"Wheel-Version: 1.0\\nGenerator: tuna-setup-test\\nRoot-Is-Purelib: {purelib}\\nTag: {tag}\\n"
record = []
with zipfile.ZipFile(spec["out"], "w") as z:
    for p, data in files.items():
        z.writestr(p, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{p},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    z.writestr(f"{info}/RECORD", "\\n".join(record) + "\\n")
`;

/** The wheel tag of this machine's python3 (`cp311-cp311-manylinux_2_28_x86_64`). */
export function localWheelTag(python = 'python3'): string {
  return execFileSync(python, ['-c', 'import sys, platform; v = "%d%d" % sys.version_info[:2]; print(f"cp{v}-cp{v}-manylinux_2_28_{platform.machine()}")'], {
    encoding: 'utf8',
  }).trim();
}

export interface Wheel {
  project: string;
  filename: string;
  bytes: Buffer;
}

function build(dir: string, name: string, version: string, tag: string, files: Record<string, string>, requires: string[] = []): Wheel {
  const filename = `${name}-${version}-${tag}.whl`;
  const out = path.join(dir, filename);
  execFileSync('python3', ['-c', BUILD, JSON.stringify({ out, name, version, tag, files, requires })]);
  return { project: name, filename, bytes: readFileSync(out) };
}

export interface FakeTorch {
  /** "2.14.0+cu130", "2.14.0" (a PyPI build) */
  version: string;
  /** torch.version.cuda; null: a CPU build */
  cuda: string | null;
  /** the build's arch flags: ["sm_75", …, "compute_120"] */
  arches?: string[];
}

/** A torch wheel that answers like the real one. */
export function torchWheel(dir: string, tag: string, t: FakeTorch): Wheel {
  return build(dir, 'torch', t.version, tag, {
    'torch/__init__.py': `__version__ = ${JSON.stringify(t.version)}\nfrom . import version, _C, cuda\n`,
    'torch/version.py': `__version__ = ${JSON.stringify(t.version)}\ncuda = ${t.cuda === null ? 'None' : JSON.stringify(t.cuda)}\n`,
    'torch/_C.py': `def _cuda_getArchFlags():\n    return ${JSON.stringify(t.cuda === null ? '' : (t.arches ?? []).join(' '))}\n`,
    'torch/cuda/__init__.py': [
      'import os',
      'from torch import version as _version, _C',
      '_devices = [d.rsplit("=", 1) for d in os.environ.get("FAKE_TORCH_DEVICES", "").split(",") if d]',
      'def is_available():\n    return bool(_devices) and _version.cuda is not None',
      'def get_arch_list():\n    return _C._cuda_getArchFlags().split() if is_available() else []',
      'def device_count():\n    return len(_devices) if is_available() else 0',
      'def get_device_name(i):\n    return _devices[i][0]',
      'def get_device_capability(i):\n    return tuple(int(x) for x in _devices[i][1].split("."))',
      '',
    ].join('\n'),
  });
}

/** torchvision pinned to its torch, as the real wheels are (`torch==2.14.0+cu130` on download.pytorch.org). */
export function torchvisionWheel(dir: string, tag: string, version: string, torch: string): Wheel {
  return build(dir, 'torchvision', version, tag, { 'torchvision/__init__.py': `__version__ = ${JSON.stringify(version)}\n` }, [`torch==${torch}`]);
}

/** A pure-Python package (a user's extra requirement). */
export function pureWheel(dir: string, name: string, version: string): Wheel {
  return build(dir, name, version, 'py3-none-any', { [`${name}/__init__.py`]: `VERSION = ${JSON.stringify(version)}\n` });
}

export interface Wheelhouse {
  url: string;
  /** "GET /simple/torch/" for every request, in order */
  log: string[];
  close(): Promise<void>;
}

/** Serves `indexes[prefix]` (wheels) as PEP 503 pages at `${prefix}/<project>/`, files under `/files/<prefix>/`. */
export async function startWheelhouse(indexes: Record<string, Wheel[]>): Promise<Wheelhouse> {
  const log: string[] = [];
  const files = new Map<string, Buffer>();
  const pages = new Map<string, string>();
  for (const [prefix, wheels] of Object.entries(indexes)) {
    const projects = new Map<string, Wheel[]>();
    for (const w of wheels) projects.set(w.project, [...(projects.get(w.project) ?? []), w]);
    for (const [project, list] of projects) {
      const links = list.map((w) => {
        const href = `/files${prefix}/${encodeURIComponent(w.filename)}`;
        files.set(href, w.bytes);
        const sha = createHash('sha256').update(w.bytes).digest('hex');
        return `<a href="${href}#sha256=${sha}" data-requires-python="&gt;=3.9">${w.filename}</a><br/>`;
      });
      pages.set(`${prefix}/${project}/`, `<!DOCTYPE html><html><body><h1>Links for ${project}</h1>\n${links.join('\n')}\n</body></html>\n`);
    }
  }
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0]!;
    log.push(`${req.method} ${url}`);
    const page = pages.get(url) ?? pages.get(`${url}/`);
    if (page) return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    const file = files.get(url);
    if (file) return res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length }).end(file);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  afterAll(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, log, close };
}
