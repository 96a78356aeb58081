import type { Migration } from 'kysely';
import * as m0001 from './0001_create_set_updated_at_function';

/**
 * Every migration, in order. Listed explicitly (not read from the folder at
 * run time) so migrations load the same under tsx, vitest and a bundle; a
 * test fails when a file in this folder is missing here.
 */
export const migrations: Record<string, Migration> = {
  '0001_create_set_updated_at_function': m0001,
};
