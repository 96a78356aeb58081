// `pnpm db:roles`: run once by an administrator against an external server.
// Creates keel_owner, keel_app and keel_readonly, the database, and the
// default privileges. Connects with DATABASE_ADMIN_URL (a superuser or a
// role with CREATEROLE and CREATEDB); passwords from KEEL_*_PASSWORD.
import '@keel/runtime/require-node';
import { provisionDatabase } from '../embedded/local-database';
import { localDatabaseOptionsFromEnv, readToolingEnvironment } from './env';

const vars = readToolingEnvironment();
const adminUrl = vars.DATABASE_ADMIN_URL;
if (!adminUrl) {
  console.error(
    'DATABASE_ADMIN_URL is not set: point it at the server as a superuser (see README, "External PostgreSQL")',
  );
  process.exit(2);
}
const options = localDatabaseOptionsFromEnv('attach');
const missing = (
  ['KEEL_OWNER_PASSWORD', 'KEEL_APP_PASSWORD', 'KEEL_READONLY_PASSWORD'] as const
).filter((name) => !vars[name]);
if (missing.length > 0) {
  console.error(
    `set ${missing.join(', ')}: an external server never gets the development passwords`,
  );
  process.exit(2);
}
await provisionDatabase(adminUrl, options);
console.log(`roles keel_owner, keel_app, keel_readonly and database ${options.database} are ready`);
