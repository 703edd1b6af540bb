/**
 * setupFiles of the e2e project: every e2e file refuses to run unless PID 1
 * is systemd (the sandbox host), so `npx vitest run --project e2e` on the
 * bare machine fails at once instead of touching it.
 */
import { inSandbox } from './helpers.js';

inSandbox();
