// Hostile input against the orders procedures and health.check, over raw
// HTTP: the property in ./hostile-input/inputs.ts, with this file's own
// database and app (./hostile-input/setup.ts).
import { describeHostileInput } from './hostile-input/inputs';

describeHostileInput('orders');
