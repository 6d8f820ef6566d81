export {
  type Child,
  type ChildOptions,
  type ChildResult,
  DEFAULT_KILL_GRACE_MS,
  liveChildren,
  type OutputTarget,
  runChild,
  startChild,
} from "./children.js";
export {
  handleInterrupts,
  type InterruptOptions,
  type Interrupts,
  TERMINATION_SIGNALS,
} from "./interrupts.js";
export { acquireLock, type Lock, type LockHolder, type LockOptions, lockPathFor } from "./lock.js";
export { bootId, groupExists, identityOf, isRunning, type ProcessIdentity, readStat } from "./proc.js";
export { WATCHDOG_GRACE_MS, watchdogPid } from "./watchdog.js";
