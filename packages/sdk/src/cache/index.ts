/** @tuna-setup/sdk/cache — The wheel cache: keys, content, the local backend. */
export {
  wheelCacheKey,
  entryKey,
  cacheContent,
  restoreLocalCache,
  saveLocalCache,
  WHEEL_CACHE_VERSION,
  type WheelCacheKeyParts,
  type LocalCacheOptions,
  type CacheContent,
} from './wheels.js';
