/** electron-builder.yml covers every native module the app loads, the models and the icons. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const root = path.resolve(import.meta.dirname, '..', '..');
// js-yaml comes with electron-builder (a devDependency), which is what reads this file.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(s: string): unknown };

interface BuilderConfig {
  appId?: string;
  files?: string[];
  asarUnpack?: string[];
  extraResources?: Array<{ from: string; to: string; filter?: string[] }>;
  linux?: { target?: string[]; icon?: string };
  win?: { target?: string[]; icon?: string };
  mac?: { target?: string[]; icon?: string };
  directories?: { buildResources?: string };
}

const config = yaml.load(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

/** Is `file` (a path inside the app, like node_modules/sharp/lib/x.node) matched by an asarUnpack glob? */
function unpacked(file: string): boolean {
  return (config.asarUnpack ?? []).some((glob) => {
    const re = new RegExp(
      '^' +
        glob
          .split('**')
          .map((part) => part.split('*').map((s) => s.replace(/[.+^${}()|[\]\\?]/g, '\\$&')).join('[^/]*'))
          .join('.*') +
        '$',
    );
    return re.test(file);
  });
}

/** Packages the main-process code imports (statically or dynamically), by scanning src-main. */
function importedPackages(): Set<string> {
  const out = new Set<string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const src = fs.readFileSync(p, 'utf8');
        for (const m of src.matchAll(/(?:from\s+|import\(\s*|require\(\s*|resolve\(\s*|pkg:\s*)['"]((?:@[\w.-]+\/)?[\w.-]+)/g)) {
          if (!m[1].startsWith('node:') && !m[1].startsWith('.')) out.add(m[1]);
        }
      }
    }
  };
  walk(path.join(root, 'src-main'));
  return out;
}

/** Native (.node) and wasm files in an installed package, at most `limit` of them. */
function nativeFiles(pkgDir: string, limit = 50): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 6 || found.length >= limit) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== 'node_modules' && e.name !== 'src') walk(p, depth + 1);
      else if (/\.(node|wasm)$/.test(e.name)) found.push(p);
    }
  };
  walk(pkgDir, 0);
  return found;
}

const REQUIRED_NATIVE = [
  'onnxruntime-node',
  'sharp',
  '@img/sharp-linux-x64',
  'libheif-js',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
];

test('the known native and wasm modules are unpacked from asar', () => {
  for (const name of REQUIRED_NATIVE) {
    assert.ok(unpacked(`node_modules/${name}/lib/binding.node`), `${name} must be in asarUnpack`);
  }
});

test('every installed package the app imports that ships .node or .wasm files is unpacked', () => {
  const pkgs = importedPackages();
  assert.ok(pkgs.has('onnxruntime-node') && pkgs.has('sharp'), 'the scan finds the engine imports');
  const checked: string[] = [];
  for (const name of pkgs) {
    if (name === 'electron' || name === 'vite' || name === 'tsx') continue;
    const dir = path.join(root, 'node_modules', name);
    if (!fs.existsSync(dir)) continue;
    for (const f of nativeFiles(dir)) {
      const rel = path.relative(root, f).split(path.sep).join('/');
      assert.ok(unpacked(rel), `${rel} (loaded through ${name}) must be unpacked from asar`);
      checked.push(rel);
    }
    // sharp's binaries live in platform packages (@img/sharp-<os>-<arch>, @img/sharp-libvips-…).
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { optionalDependencies?: Record<string, string> };
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) {
      if (/^@img\//.test(dep)) assert.ok(unpacked(`node_modules/${dep}/lib/x.node`), `${dep} must be unpacked`);
    }
  }
  assert.ok(checked.some((f) => f.startsWith('node_modules/onnxruntime-node/')), 'onnxruntime-node binaries were checked');
});

test('libheif and tfjs wasm binaries are present and unpacked', () => {
  for (const name of ['libheif-js', '@tensorflow/tfjs-backend-wasm']) {
    const files = nativeFiles(path.join(root, 'node_modules', name)).filter((f) => f.endsWith('.wasm'));
    if (name === '@tensorflow/tfjs-backend-wasm') assert.ok(files.length > 0, `${name} ships wasm`);
    for (const f of files) assert.ok(unpacked(path.relative(root, f).split(path.sep).join('/')), f);
  }
});

test('the models ship as extra resources', () => {
  const models = (config.extraResources ?? []).find((r) => r.from === 'models');
  assert.ok(models, 'models/ is in extraResources');
  assert.equal(models.to, 'models');
  assert.ok(models.filter?.includes('*.onnx'), 'the .onnx files are included');
});

test('targets, app id, entry point and files', () => {
  assert.match(config.appId ?? '', /^[a-z]+(\.[a-z0-9-]+)+$/);
  assert.deepEqual(config.linux?.target, ['AppImage', 'deb']);
  assert.deepEqual(config.win?.target, ['nsis']);
  assert.deepEqual(config.mac?.target, ['dmg']);
  assert.equal(pkg.main, 'dist/main/main.js');
  assert.ok(config.files?.includes('dist/**'), 'dist/ (renderer, main, preload) is packaged');
});

function pngSize(file: string): [number, number] {
  const b = fs.readFileSync(file);
  assert.equal(b.subarray(1, 4).toString('ascii'), 'PNG', `${file} is a PNG`);
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

test('icons exist in resources/icons at the sizes their names say', () => {
  const dir = path.join(root, 'resources', 'icons');
  for (const s of [16, 32, 48, 64, 128, 256, 512]) {
    const f = path.join(dir, `${s}x${s}.png`);
    assert.ok(fs.existsSync(f), `${s}x${s}.png`);
    assert.deepEqual(pngSize(f), [s, s]);
  }
  for (const icon of [config.linux?.icon, config.win?.icon, config.mac?.icon]) {
    assert.ok(icon && fs.existsSync(path.join(root, icon)), `icon ${icon} exists`);
  }
  const [w] = pngSize(path.join(root, config.win!.icon!));
  assert.ok(w >= 256, 'Windows and macOS need an icon of at least 256 px');
});
