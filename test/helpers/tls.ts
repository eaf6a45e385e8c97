/** A self-signed certificate for 127.0.0.1, trusted by a child process through NODE_EXTRA_CA_CERTS. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './tmp.js';

export function loopbackCert(): { key: string; cert: string; certFile: string } {
  const dir = tempDir('tuna-tls-');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/** A certificate for 127.0.0.1 that expired in 2020 (self-signed through `openssl ca`, which can set the dates). */
export function expiredLoopbackCert(): { key: string; cert: string; certFile: string } {
  const dir = tempDir('tuna-tls-expired-');
  const at = (f: string) => path.join(dir, f);
  writeFileSync(at('index.txt'), '');
  writeFileSync(at('serial'), '01\n');
  writeFileSync(
    at('ca.cnf'),
    [
      '[ca]',
      'default_ca = d',
      '[d]',
      `dir = ${dir}`,
      `database = ${at('index.txt')}`,
      `serial = ${at('serial')}`,
      `new_certs_dir = ${dir}`,
      'default_md = sha256',
      'policy = p',
      'copy_extensions = copy',
      '[p]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  execFileSync(
    'openssl',
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      at('key.pem'),
      '-out',
      at('req.csr'),
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  execFileSync(
    'openssl',
    [
      'ca',
      '-batch',
      '-config',
      at('ca.cnf'),
      '-selfsign',
      '-keyfile',
      at('key.pem'),
      '-in',
      at('req.csr'),
      '-out',
      at('cert.pem'),
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200102000000Z',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(at('key.pem'), 'utf8'), cert: readFileSync(at('cert.pem'), 'utf8'), certFile: at('cert.pem') };
}
