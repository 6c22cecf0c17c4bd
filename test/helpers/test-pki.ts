/**
 * Certificates that are wrong on purpose, made with Debian's openssl: a CA
 * that is not the gateway's, server certificates for another host or
 * already expired, client certificates from a foreign CA.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCa {
  certFile: string;
  keyFile: string;
}

export interface TestCertificate {
  certFile: string;
  keyFile: string;
}

function config(dir: string): string {
  const file = join(dir, 'test-openssl.cnf');
  writeFileSync(file, '[req]\ndistinguished_name = dn\n[dn]\n');
  return file;
}

export async function makeTestCa(dir: string, name: string): Promise<TestCa> {
  const certFile = join(dir, `${name}-ca.pem`);
  const keyFile = join(dir, `${name}-ca-key.pem`);
  await run('openssl', [
    'req', '-x509', '-config', config(dir), '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', `/CN=${name} test CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { certFile, keyFile };
}

/**
 * A certificate from `ca` for `cn` with the given SAN entries (`DNS:x`, `IP:y`) and usage,
 * valid for `days` (negative: expired that many days ago).
 */
export async function makeTestCertificate(
  dir: string,
  ca: TestCa,
  o: { cn: string; san: string[]; usage: 'serverAuth' | 'clientAuth'; days: number },
): Promise<TestCertificate> {
  const base = join(dir, `${o.cn}-${o.usage}-${o.days}`);
  const keyFile = `${base}-key.pem`;
  const certFile = `${base}.pem`;
  const csr = `${base}.csr`;
  const ext = `${base}.ext`;
  writeFileSync(ext, `subjectAltName=${o.san.join(',')}\nextendedKeyUsage=${o.usage}\nbasicConstraints=critical,CA:FALSE\n`);
  await run('openssl', ['req', '-new', '-config', config(dir), '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${o.cn}`]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(Date.now()), '-days', String(o.days), '-extfile', ext, '-out', certFile]);
  return { certFile, keyFile };
}
