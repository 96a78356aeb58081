// Prints the job queue's construction SQL for the installed pg-boss, to
// freeze into a migration (see src/queue/schema.ts).
import { queueConstructionSql } from '../src/queue/schema';

process.stdout.write(queueConstructionSql());
