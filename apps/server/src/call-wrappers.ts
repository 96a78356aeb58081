import type { CallWrapper } from '@keel/api';

/**
 * One wrapper from several (metrics outermost, so its timing includes the
 * span's own cost), or none.
 */
export function combineCallWrappers(
  wrappers: (CallWrapper | undefined)[],
): CallWrapper | undefined {
  const present = wrappers.filter((w): w is CallWrapper => w !== undefined);
  if (present.length <= 1) return present[0];
  return present.reduceRight<CallWrapper>(
    (inner, outer) => (call, run, outcome) => outer(call, () => inner(call, run, outcome), outcome),
    (_call, run) => run(),
  );
}
