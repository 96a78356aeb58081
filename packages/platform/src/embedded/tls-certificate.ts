import { access, chmod, chown, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { OsUser } from './os-user';

export const certificateFile = 'server.crt';
export const keyFile = 'server.key';

/**
 * Writes a self-signed certificate for `localhost` / `127.0.0.1` / `::1` into
 * the data directory on first start (kept on later starts). Generated in
 * process with the `selfsigned` package, so no `openssl` binary is needed.
 * PostgreSQL insists the key is private to the server's OS user.
 */
export async function ensureServerCertificate(dataDir: string, owner?: OsUser): Promise<string> {
  const certPath = join(dataDir, certificateFile);
  const keyPath = join(dataDir, keyFile);
  if (await exists(certPath)) return certPath;
  const pems = await localhostCertificate(10 * 365 * 24 * 3600 * 1000);
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await writeFile(certPath, pems.cert, { mode: 0o644 });
  if (owner) {
    await chown(keyPath, owner.uid, owner.gid);
    await chown(certPath, owner.uid, owner.gid);
  }
  await chmod(keyPath, 0o600);
  return certPath;
}

/**
 * A self-signed ECDSA P-256 certificate (and key) for `localhost`,
 * `127.0.0.1` and `::1`, valid for `validForMs`, generated in process.
 *
 * @example
 * ```ts
 * import { localhostCertificate } from '@keel/db';
 * const { cert, private: key } = await localhostCertificate(24 * 3600 * 1000);
 * ```
 */
export async function localhostCertificate(
  validForMs: number,
): Promise<{ cert: string; private: string }> {
  const now = new Date();
  return generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + validForMs),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
