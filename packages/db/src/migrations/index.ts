import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_create_set_updated_at_function';
import * as m0002 from './0002_add_citext_and_pg_trgm_extensions';
import * as m0003 from './0003_create_users';
import * as m0004 from './0004_create_sessions';
import * as m0005 from './0005_create_products';
import * as m0006 from './0006_create_orders';
import * as m0007 from './0007_create_order_items';
import * as m0008 from './0008_alter_set_updated_at_to_advance_strictly';
import * as m0009 from './0009_add_payments_and_order_expiry';
import * as m0010 from './0010_create_order_events';
import * as m0011 from './0011_create_job_queue';
import * as m0012 from './0012_create_rate_limit_counters';
import * as m0013 from './0013_alter_record_order_event_to_stop_notifying';

/**
 * Every migration, in order. Listed explicitly (not read from the folder at
 * run time) so migrations load the same under tsx, vitest and a bundle; a
 * test fails when a file in this folder is missing here.
 */
export const migrations: Record<string, Migration> = {
  '0001_create_set_updated_at_function': m0001,
  '0002_add_citext_and_pg_trgm_extensions': m0002,
  '0003_create_users': m0003,
  '0004_create_sessions': m0004,
  '0005_create_products': m0005,
  '0006_create_orders': m0006,
  '0007_create_order_items': m0007,
  '0008_alter_set_updated_at_to_advance_strictly': m0008,
  '0009_add_payments_and_order_expiry': m0009,
  '0010_create_order_events': m0010,
  '0011_create_job_queue': m0011,
  '0012_create_rate_limit_counters': m0012,
  '0013_alter_record_order_event_to_stop_notifying': m0013,
};
