/** @tuna-setup/sdk/fs — The state lock; bounded reads of files users hand us. */
export { withStateLock, lockFile, type LockOptions } from './lock.js';
export { readFileBounded } from './read.js';
