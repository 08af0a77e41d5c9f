/** The inference engine's public API. */
export * from './providers.ts';
export * from './session.ts';
export * from './tiling.ts';
export * from './deblur.ts';
export * from './strength.ts';
export * from './motion.ts';
