/** @tuna-setup/sdk/fs — The state lock. */
export { withStateLock, lockFile, type LockOptions } from './lock.js';
