import { execFileSync } from 'node:child_process';

/**
 * Why `commit` cannot serve as the previous release in the clone at
 * `repository`, or null when it can: it must be a full commit id, present in
 * the history (a shallow clone lacks it) and an ancestor of HEAD.
 */
export function previousReleaseProblem(repository: string, commit: string): string | null {
  const where = `the previous release ${commit} (apps/server/test/previous-release.json)`;
  if (!/^[0-9a-f]{40}$/.test(commit))
    return `previous-release.json: "commit" must be a full 40-hex commit id, not "${commit}"`;
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: repository, encoding: 'utf8', stdio: 'pipe' }).trim();
  let shallow: boolean;
  try {
    shallow = git('rev-parse', '--is-shallow-repository') === 'true';
  } catch {
    return `${where} cannot be read: ${repository} is not a git clone (the test builds that release from the history)`;
  }
  try {
    git('cat-file', '-e', `${commit}^{commit}`);
  } catch {
    return `${where} is not in this clone's history${
      shallow
        ? ': this is a shallow clone; fetch the history (git fetch --unshallow) or clone without --depth'
        : ': fetch it, or correct previous-release.json'
    }`;
  }
  try {
    git('merge-base', '--is-ancestor', commit, 'HEAD');
  } catch {
    return `${where} is not an ancestor of HEAD: name a release this branch grew from`;
  }
  return null;
}
