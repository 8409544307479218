// glibc settings equivalent to what the addon applies at load (for Python these can only come
// from the environment), so a PyTorch reference can be compared both as users run it and tuned.
export const TUNED_MALLOC_ENV = { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(2 ** 30), MALLOC_ARENA_MAX: '1' };
