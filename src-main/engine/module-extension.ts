/**
 * '.ts' when running from source (tsx), '.js' when compiled: for modules loaded by URL (workers, factories, the
 * engine host). Its own module so that asking costs no heavy imports.
 */
export function moduleExtension(): string {
  return import.meta.url.endsWith('.ts') ? '.ts' : '.js';
}
