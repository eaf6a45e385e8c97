/**
 * Name lookups that end when the operation's deadline does, and leave
 * nothing behind. Node's default `dns.lookup` is getaddrinfo on the libuv
 * thread pool: it cannot be cancelled, so a resolver that never answers keeps
 * the process alive for resolv.conf's timeout × attempts (5–15 s) after the
 * answer was given. Here a lookup is:
 *
 * 1. an IP literal or `localhost` — answered at once;
 * 2. a name in /etc/hosts (read once, at most 1 MiB) — answered from there;
 * 3. otherwise a c-ares query (A and AAAA) on a `dns.Resolver` of its own,
 *    cancelled when the signal aborts, so no query outlives the deadline;
 * 4. only when DNS gives no address without timing out (not found, no data,
 *    refused, server failure), getaddrinfo is asked too, for the other NSS
 *    sources (mDNS, nss-myhostname); it is raced against the deadline (it
 *    cannot be cancelled: on that path alone a lookup may outlive it).
 *
 * A and AAAA are asked at once; once one family has addresses the other gets
 * AAAA_GRACE_MS more, so a resolver that drops AAAA queries costs 50 ms, not
 * its timeouts.
 *
 * The function has net.connect's `lookup` signature, so undici's connector
 * takes it as `connect.lookup`.
 */
import { lookup as systemLookup, Resolver, type LookupAddress } from 'node:dns';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

type Callback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type LookupFunction = (hostname: string, options: { family?: number | string; all?: boolean }, callback: Callback) => void;

let hosts: Map<string, LookupAddress[]> | undefined;

/** /etc/hosts as name → addresses (first mention first). */
function parseHosts(text: string): Map<string, LookupAddress[]> {
  const out = new Map<string, LookupAddress[]>();
  for (const raw of text.split('\n')) {
    const [address, ...names] = raw.replace(/#.*/, '').trim().split(/\s+/);
    const family = address ? isIP(address) : 0;
    if (!family) continue;
    for (const name of names) {
      const key = name.toLowerCase();
      out.set(key, [...(out.get(key) ?? []), { address: address!, family }]);
    }
  }
  return out;
}

function hostsFile(): Map<string, LookupAddress[]> {
  if (!hosts) {
    try {
      const text = readFileSync('/etc/hosts', 'utf8');
      hosts = parseHosts(text.length > 1024 * 1024 ? '' : text);
    } catch {
      hosts = new Map();
    }
  }
  return hosts;
}

const AAAA_GRACE_MS = 50;
const LOCALHOST: LookupAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];
/** answers from DNS that the name does not exist there (worth asking the other NSS sources) */
const NOT_IN_DNS = new Set(['ENOTFOUND', 'ENODATA', 'ENOTIMP', 'EREFUSED', 'ECONNREFUSED', 'ESERVFAIL', 'EBADRESP', 'EFORMERR', 'ENONAME']);

function dnsError(code: string, hostname: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(code === 'ETIMEOUT' ? `DNS: no answer for ${hostname}` : `DNS: ${hostname} not found (${code})`);
  e.code = code;
  return e;
}

/** A lookup bounded by `signal`: once it aborts, pending queries are cancelled and the lookup fails with ETIMEOUT. */
export function deadlineLookup(signal: AbortSignal): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family ?? 0);
    let done = false;
    let resolver: Resolver | undefined;
    let grace: NodeJS.Timeout | undefined;
    const answer = (err: NodeJS.ErrnoException | null, list: LookupAddress[]) => {
      if (done) return;
      done = true;
      clearTimeout(grace);
      signal.removeEventListener('abort', onAbort);
      const wanted = list.filter((a) => !family || a.family === family);
      if (err || wanted.length === 0) return callback(err ?? dnsError('ENOTFOUND', hostname), options.all ? [] : '', 0);
      if (options.all) callback(null, wanted);
      else callback(null, wanted[0]!.address, wanted[0]!.family);
    };
    const onAbort = () => {
      resolver?.cancel();
      answer(dnsError('ETIMEOUT', hostname), []);
    };
    const name = hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const ip = isIP(name);
    if (ip) return answer(null, [{ address: name, family: ip }]);
    if (name === 'localhost' || name.endsWith('.localhost')) return answer(null, LOCALHOST);
    const fromHosts = hostsFile().get(name);
    if (fromHosts) return answer(null, fromHosts);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });

    resolver = new Resolver({ tries: 2, timeout: 2_000 });
    const found = new Map<4 | 6, { list: LookupAddress[]; code?: string }>();
    const settle = () => {
      if (done) return;
      const list = [...(found.get(4)?.list ?? []), ...(found.get(6)?.list ?? [])];
      const all = (family ? 1 : 2) === found.size;
      if (list.length && !all && !grace) {
        grace = setTimeout(() => {
          resolver?.cancel();
          answer(null, [...(found.get(4)?.list ?? []), ...(found.get(6)?.list ?? [])]);
        }, AAAA_GRACE_MS);
        return;
      }
      if (!all) return;
      clearTimeout(grace);
      if (list.length) return answer(null, list);
      const code = found.get(4)?.code ?? found.get(6)?.code ?? 'ENOTFOUND';
      if (!NOT_IN_DNS.has(code)) return answer(dnsError(code, hostname), []);
      // not in DNS: the other name services may know it (raced with the deadline by onAbort)
      systemLookup(name, { all: true, ...(family ? { family } : {}) }, (err, addresses) =>
        answer(err ? dnsError(err.code ?? 'ENOTFOUND', hostname) : null, err ? [] : addresses),
      );
    };
    const query = (fn: 'resolve4' | 'resolve6', fam: 4 | 6) => {
      if (family && family !== fam) return;
      resolver![fn](name, (err, addresses) => {
        found.set(fam, err ? { list: [], code: err.code ?? 'ENOTFOUND' } : { list: addresses.map((address) => ({ address, family: fam })) });
        settle();
      });
    };
    query('resolve4', 4);
    query('resolve6', 6);
  };
}
