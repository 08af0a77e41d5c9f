/**
 * What both shells send with the renderer's files: their content types and the security headers (Electron's
 * neurmap-app:// protocol in main.ts, the local bridge's HTTP in bridge/server.ts). Plain functions, no Electron.
 */
import { ASSET_SCHEME } from './window-options.ts';

/** Content types of the files the shells serve (the built renderer). */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export function mimeOf(file: string): string {
  const i = file.lastIndexOf('.');
  return (i >= 0 && TYPES[file.slice(i).toLowerCase()]) || 'application/octet-stream';
}

/**
 * The Content-Security-Policy of the renderer. No inline or remote script, no eval, no plugins, no frames,
 * no form posts; images only from the app, the asset scheme (or the bridge's own origin) and blobs made
 * by the renderer (canvas exports).
 */
export function contentSecurityPolicy(shell: 'electron' | 'browser'): string {
  const self = "'self'";
  const images = shell === 'electron' ? `${self} ${ASSET_SCHEME}: blob: data:` : `${self} blob: data:`;
  const connect = shell === 'electron' ? `${self} ${ASSET_SCHEME}:` : self;
  return [
    `default-src 'none'`,
    `script-src ${self}`,
    `style-src ${self}`,
    `img-src ${images}`,
    `font-src ${self}`,
    `connect-src ${connect}`,
    `media-src 'none'`,
    `object-src 'none'`,
    `frame-src 'none'`,
    `child-src 'none'`,
    `worker-src ${self}`,
    `frame-ancestors 'none'`,
    `form-action 'none'`,
    `base-uri 'none'`,
  ].join('; ');
}

/** Headers of every answer the bridge sends (its API, events and assets as well as its pages). */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Headers sent with every page and script of the renderer, in both shells. */
export function securityHeaders(shell: 'electron' | 'browser'): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(shell),
    ...BASE_HEADERS,
    'Cross-Origin-Opener-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), bluetooth=()',
  };
}
