export * from './card.ts';
export * from './registry.ts';
