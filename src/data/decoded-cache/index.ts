// The persistent decoded-image cache: what the rest of Histoscope uses of src/data/decoded-cache/.
export { DecodedCache, DEFAULT_MAX_BYTES, type DecodedCacheOptions, type DecodedCacheStats, type DecodeSpec, type Decoder } from './decoded-cache';
export { DECODE_CACHE_ENV, decodedCacheDir, sharedDecodedCache, type DecodeCacheSetting, type SharedCacheOptions } from './shared-cache';
export { warmDecodedCache, type WarmOptions, type WarmResult } from './warm-cache';
