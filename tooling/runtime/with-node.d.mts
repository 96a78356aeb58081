/** The variables keel-node itself reads. */
export const runtimeVariables: string[];
/** The machine's network settings turbo passes through to npm and Node in the tasks. */
export const networkVariables: string[];
/** Reads a dotenv file into `env` where `env` has no value yet; returns the names taken. */
export function loadEnvFile(file: string, env?: Record<string, string | undefined>): string[];
export function pinnedNodeVersion(): string;
export function nodeCacheDir(env?: Record<string, string | undefined>): string;
/** A dotenv file's values, for a Node without `util.parseEnv`. */
export function parseDotenv(text: string): Record<string, string>;
