/** The oldest Node.js Keel runs on. */
export declare const MINIMUM_NODE: string;
/** True when `version` ("24.11.0" or "v24.11.0") is at least `minimum`. */
export declare function satisfies(version: string, minimum?: string): boolean;
/** The one line an old runtime gets. */
export declare function tooOldMessage(version?: string): string;
