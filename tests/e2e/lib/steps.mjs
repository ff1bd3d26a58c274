// Steps of an end-to-end suite that depend on each other.

import { it } from 'node:test';

/**
 * `step(name, timeoutMs, fn)` registers a test that is skipped (reported as skipped; the run
 * still fails) once an earlier step failed; a failing step calls `onFailure()` (e.g. dump the
 * nodes' logs) before it rethrows. `failed()` says whether a step failed, e.g. to keep the temp
 * dir in `after`.
 */
export function sequentialSteps(onFailure) {
  let brokenAt = null;
  const step = (name, timeoutMs, fn) =>
    it(name, { timeout: timeoutMs }, async (t) => {
      if (brokenAt) {
        t.skip(`an earlier step failed: ${brokenAt}`);
        return;
      }
      try {
        await fn(t);
      } catch (e) {
        brokenAt = name;
        onFailure();
        throw e;
      }
    });
  return { step, failed: () => brokenAt !== null };
}
