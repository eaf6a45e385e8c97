// The link lab: mirrors behind real links, at the packet level. Two network
// namespaces of our own — `<prefix>-c` (the client) and `<prefix>-m` (the
// mirrors) — joined by one pair of TUN devices per link; router.c holds every
// packet for the link's one-way delay (RTT/2 each way: netem is absent here),
// `tc htb` on the mirror side caps the link's rate, the mirror's kernel runs
// cubic (the common real congestion control), and no TCP metrics are cached
// between connections. Each link gets a mirror server (test/helpers/mirror-sim.mjs,
// no userspace pacing: the link is the bottleneck) bound to its own address
// 10.77.<i>.2:80, which exists only inside the namespaces. A link may drop
// every packet (a black hole that never answers a SYN).
//
// Needs root, iproute2 (ip, tc), nsenter and a C compiler; `labMissing()` says
// what is absent. Everything is torn down by `stop()` (and on exit).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const HERE = import.meta.dirname;
const SIM = path.resolve(HERE, '../../test/helpers/mirror-sim.mjs');

const has = (bin) => {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Why the lab cannot run here, or undefined. */
export function labMissing() {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, TUN devices)';
  const absent = ['ip', 'tc', 'nsenter', 'cc'].filter((b) => !has(b));
  if (absent.length) return `needs ${absent.join(', ')} (apt-get install iproute2 util-linux gcc libc6-dev)`;
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  return undefined;
}

/** router.c, compiled once per source version into the temp dir */
function routerBinary() {
  const src = path.join(HERE, 'router.c');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), 'tuna-setup-lab');
  const bin = path.join(dir, `router-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('cc', ['-O2', '-Wall', '-o', bin, src], { stdio: 'inherit' });
  }
  return bin;
}

/**
 * cubic as the namespaces' congestion control. A new namespace may only pick
 * from the host's tcp_allowed_congestion_control; when cubic is not in it, it
 * is allowed for the moment of the setting and the host's list put back.
 */
function setCubic(namespaces) {
  const key = '/proc/sys/net/ipv4/tcp_allowed_congestion_control';
  const allowed = readFileSync(key, 'utf8').trim();
  const add = !allowed.split(/\s+/).includes('cubic');
  if (add) writeFileSync(key, `${allowed} cubic`);
  try {
    for (const ns of namespaces) run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.tcp_congestion_control=cubic']);
  } finally {
    if (add) writeFileSync(key, allowed);
  }
}

const run = (cmd, args, input) => execFileSync(cmd, args, { input, stdio: ['pipe', 'ignore', 'pipe'] });

/**
 * @typedef {{ name: string, rttMs: number, mbit: number, drop?: boolean,
 *   server?: Record<string, unknown> }} LinkSpec
 *   server: extra mirror-sim spec fields (fault, throttle, artifactBytes, …)
 */

/** @param {LinkSpec[]} links */
export async function startLab(links, { prefix = 'tsl', artifactBytes = 48 * 1024 * 1024 } = {}) {
  const why = labMissing();
  if (why) throw new Error(`the link lab cannot run: ${why}`);
  if (links.length > 60) throw new Error('at most 60 links');
  const router = routerBinary();
  const C = `${prefix}-c`;
  const M = `${prefix}-m`;
  const nsPath = (ns) => `/run/netns/${ns}`;
  for (const ns of [C, M]) {
    try {
      run('ip', ['netns', 'del', ns]);
    } catch {
      /* not there */
    }
    run('ip', ['netns', 'add', ns]);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.tcp_no_metrics_save=1']);
  }
  setCubic([C, M]);

  const children = [];
  const stop = async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const ns of [C, M]) {
      try {
        run('ip', ['netns', 'del', ns]);
      } catch {
        /* gone */
      }
    }
  };
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
  try {
    const r = spawn(router, [nsPath(C), nsPath(M), ...links.map((l, i) => `c${i},m${i},${Math.round(l.rttMs * 500)},${l.drop ? 1 : 0}`)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(r);
    await new Promise((resolve, reject) => {
      r.stdout.once('data', (d) => (String(d).startsWith('ready') ? resolve() : reject(new Error(`router: ${d}`))));
      r.once('exit', (code) => reject(new Error(`router exited ${code}`)));
    });
    const ipC = [];
    const ipM = [];
    const tcM = [];
    links.forEach((l, i) => {
      ipC.push(`addr add 10.77.${i}.1 peer 10.77.${i}.2 dev c${i}`, `link set c${i} up mtu 1500 txqueuelen 1000`);
      ipM.push(`addr add 10.77.${i}.2 peer 10.77.${i}.1 dev m${i}`, `link set m${i} up mtu 1500 txqueuelen 1000`);
      tcM.push(
        `qdisc add dev m${i} root handle 1: htb default 10`,
        `class add dev m${i} parent 1: classid 1:10 htb rate ${l.mbit}mbit burst 15k cburst 15k`,
        `qdisc add dev m${i} parent 1:10 handle 10: pfifo limit 1000`,
      );
    });
    run('ip', ['-n', C, '-batch', '-'], `${ipC.join('\n')}\n`);
    run('ip', ['-n', M, '-batch', '-'], `${ipM.join('\n')}\n`);
    run('tc', ['-n', M, '-batch', '-'], `${tcM.join('\n')}\n`);

    // the mirrors, inside the mirrors' namespace, driven over IPC
    const sim = spawn('nsenter', [`--net=${nsPath(M)}`, process.execPath, SIM], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(sim);
    const call = (msg) =>
      new Promise((resolve) => {
        const onMessage = (m) => {
          if (m.id === msg.id) {
            sim.off('message', onMessage);
            resolve(m);
          }
        };
        sim.on('message', onMessage);
        sim.send(msg);
      });
    const served = links.map((l, i) => ({ name: l.name, host: `10.77.${i}.2`, port: 80, artifactBytes, ...(l.server ?? {}) }));
    await call({ cmd: 'start', id: 1, specs: served });
    return {
      /** name → http://10.77.<i>.2 */
      urls: Object.fromEntries(links.map((l, i) => [l.name, `http://10.77.${i}.2`])),
      clientNs: nsPath(C),
      /** argv run inside the client's namespace */
      clientArgv: (argv) => ['nsenter', `--net=${nsPath(C)}`, ...argv],
      stop: async () => {
        try {
          await call({ cmd: 'stop', id: 2 });
        } catch {
          /* gone */
        }
        await stop();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
